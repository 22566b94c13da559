#!/bin/bash
# run.sh [STAGE...] - the packaging tests (make check-packages). Builds the
# packages once (make deb, make rpm, and a higher version of the deb for the
# upgrade), then runs the stages, by default all:
#   lint       lintian, rpmlint, shellcheck
#   piuparts   piuparts on the .debs
#   lifecycle  the package's life (lifecycle.sh) in an isolated root of each
#              suite of $PACKAGES_SUITES (default: bookworm trixie, i.e.
#              Debian 12 and Debian 13 with trixie-backports); lifecycle:SUITE
#              runs one suite
# At the end it prints the matrix suite x step -> pass/fail/skip, with the
# seconds of each step. Nothing is installed on the host but the test tools.
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
	sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$up\"/" "$tmp/$name-$up/dkms.conf" \
		"$tmp/$name-$up/samples/xe_vm_export_aux/dkms.conf"
	tar -C "$tmp" --owner=0 --group=0 --sort=name -czf "$tmp/$name-$up.tar.gz" "$name-$up"
	rm -rf "$PKG/upgrade"
	DEB_WORK=$PKG/deb-upgrade run_logged "$PKG/logs/make-deb-upgrade.log" \
		"deb of version $up (package upgrade)" \
		"$TOP/debian/pkgtools/build-deb.sh" "$tmp/$name-$up.tar.gz" "$PKG/upgrade"
	rm -rf "$tmp"
}

# print_matrix SUITE... - suite x step -> result (seconds), from the files
# lifecycle.sh writes.
print_matrix() {
	local suite dir=$TEST_CACHE/packaging/matrix
	echo "check-packages lifecycle matrix (result, seconds):"
	for suite in "$@"; do
		if [ ! -s "$dir/$suite" ]; then
			printf '  %-9s (no result: the root could not be made or no kernels chosen)\n' "$suite"
			continue
		fi
		awk -v s="$suite" '{ printf "  %-9s %-14s %-5s %5d s\n", s, $1, $2, $3 }' "$dir/$suite"
	done
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
	local stages=("$@") s debs suite suites=()
	[ ${#stages[@]} -gt 0 ] || stages=(lint piuparts lifecycle)
	STAGES_OK=() STAGES_FAILED=() MATRIX_SUITES=()
	mkdir -p "$PKG/logs"
	build_packages
	debs=("$TOP/dist/$(meta Name)"-{dkms,dev,tools}_"$(meta Version)-$(meta Release)"_all.deb)
	for s in "${stages[@]}"; do
		case $s in
		lint) stage lint "$HERE/lint.sh" "$PKG/deb" "$PKG/rpm" ;;
		piuparts) stage piuparts "$HERE/piuparts.sh" "${debs[@]}" ;;
		lifecycle | lifecycle:*)
			build_upgrade
			if [ "$s" = lifecycle ]; then
				read -ra suites <<<"${PACKAGES_SUITES:-bookworm trixie}"
			else
				suites=("${s#lifecycle:}")
			fi
			for suite in "${suites[@]}"; do
				rm -f "$TEST_CACHE/packaging/matrix/$suite"
				stage "lifecycle:$suite" "$HERE/lifecycle.sh" "$suite" "$PKG/deb" \
					"$PKG/upgrade" "$PKG/rpm/RPMS/noarch"
				MATRIX_SUITES+=("$suite")
			done
			;;
		*) die "unknown stage $s (lint, piuparts, lifecycle, lifecycle:SUITE)" ;;
		esac
	done
	[ ${#MATRIX_SUITES[@]} -eq 0 ] || print_matrix "${MATRIX_SUITES[@]}"
	log "stages passed: ${STAGES_OK[*]:-none}; failed: ${STAGES_FAILED[*]:-none}"
	[ ${#STAGES_FAILED[@]} -eq 0 ]
}

main "$@"
