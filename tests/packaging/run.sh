#!/bin/bash
# run.sh [STAGE...] - the packaging tests (make check-packages). Builds the
# packages once (make deb, make rpm, and a higher version of the deb for the
# upgrade), then runs the stages, by default all:
#   lint       lintian, rpmlint, shellcheck
#   piuparts   piuparts on the .debs
#   lifecycle  install, kernel upgrade, package upgrade, remove, rpm, purge,
#              kmod-deb, in an isolated Debian 12 root
# Nothing is installed on the host but the test tools.
set -euo pipefail

TEST_NAME=packaging
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

HERE=$TOP/tests/packaging
PKG=$TOP/build/pkg

meta() {
	sed -n "s/^$1:[[:space:]]*//p" "$TOP/META"
}

build_packages() {
	run_logged "$PKG/logs/make-deb.log" "make deb" make -C "$TOP" deb
	run_logged "$PKG/logs/make-rpm.log" "make rpm" make -C "$TOP" rpm
}

# build_upgrade - the same tree as version <Version>.1: the dist tarball with
# META and dkms.conf bumped, built into $PKG/upgrade.
build_upgrade() {
	local name version up tmp
	name=$(meta Name) version=$(meta Version)
	up=$version.1
	tmp=$(mktemp -d)
	tar -C "$tmp" -xzf "$TOP/dist/$name-$version.tar.gz"
	mv "$tmp/$name-$version" "$tmp/$name-$up"
	sed -i "s/^Version:.*/Version:\t$up/" "$tmp/$name-$up/META"
	sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$up\"/" "$tmp/$name-$up/dkms.conf"
	tar -C "$tmp" --owner=0 --group=0 --sort=name -czf "$tmp/$name-$up.tar.gz" "$name-$up"
	rm -rf "$PKG/upgrade"
	DEB_WORK=$PKG/deb-upgrade run_logged "$PKG/logs/make-deb-upgrade.log" \
		"deb of version $up (package upgrade)" \
		"$TOP/debian/pkgtools/build-deb.sh" "$tmp/$name-$up.tar.gz" "$PKG/upgrade"
	rm -rf "$tmp"
}

stage() { # NAME CMD...
	local name=$1
	shift
	log "=== $name"
	if "$@"; then
		STAGES_OK+=("$name")
	else
		STAGES_FAILED+=("$name")
	fi
}

main() {
	local stages=("$@") s debs
	[ ${#stages[@]} -gt 0 ] || stages=(lint piuparts lifecycle)
	STAGES_OK=() STAGES_FAILED=()
	mkdir -p "$PKG/logs"
	build_packages
	debs=("$TOP/dist/$(meta Name)"-{dkms,dev}_"$(meta Version)-$(meta Release)"_all.deb)
	for s in "${stages[@]}"; do
		case $s in
		lint) stage lint "$HERE/lint.sh" "$PKG/deb" "$PKG/rpm" ;;
		piuparts) stage piuparts "$HERE/piuparts.sh" "${debs[@]}" ;;
		lifecycle)
			build_upgrade
			stage lifecycle "$HERE/lifecycle.sh" "$PKG/deb" "$PKG/upgrade" "$PKG/rpm/RPMS/noarch"
			;;
		*) die "unknown stage $s (lint, piuparts, lifecycle)" ;;
		esac
	done
	log "stages passed: ${STAGES_OK[*]:-none}; failed: ${STAGES_FAILED[*]:-none}"
	[ ${#STAGES_FAILED[@]} -eq 0 ]
}

main "$@"
