#!/bin/bash
# build-kmod-rpm.sh KVER KO OUTDIR [SIGN_KEY SIGN_CERT] - the rpm twin of
# build-kmod-deb.sh, for dnf-based fleets: kmod-xe-vm-export-KVER with the
# module prepared by debian/pkgtools/prepare-module.sh, and the meta package
# kmod-xe-vm-export that requires it (see kmod.spec.in). The licence files
# are COPYING and COPYING.module (the kernel source the module was built
# from; KERNEL_SOURCE as for build-kmod-deb.sh).
set -euo pipefail

RPM_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$RPM_DIR")
TEST_NAME=kmod-rpm
export TEST_NAME
# shellcheck source=tests/lib.sh
. "$TOP/tests/lib.sh"

meta() {
	sed -n "s/^$1:[[:space:]]*//p" "$TOP/META"
}

main() {
	[ $# -eq 3 ] || [ $# -eq 5 ] ||
		{ echo "usage: ${0##*/} KVER KO OUTDIR [SIGN_KEY SIGN_CERT]" >&2; exit 2; }
	local kver=$1 ko=$2 out f ksrc
	mkdir -p "$3"
	out=$(cd "$3" && pwd)
	need_packages rpm
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	mkdir -p "$WORK"/{SOURCES,SPECS,RPMS,BUILD,stage}
	"$TOP/debian/pkgtools/prepare-module.sh" "$kver" "$ko" "$WORK/stage" "${@:4}"
	# rpm systems keep modules under /usr/lib/modules.
	mv "$WORK/stage/lib" "$WORK/SOURCES/lib"
	cp "$TOP/COPYING" "$WORK/SOURCES/COPYING"
	"$TOP/debian/pkgtools/build-kmod-deb.sh" --copyright "$kver" "$ko" >"$WORK/SOURCES/COPYING.module"
	ksrc=$(sed -n 's/^ Its source: the Debian source package \(.*\)$/\1/p' "$WORK/SOURCES/COPYING.module")
	sed -e "s|@NAME@|$(meta Name)|g" -e "s|@VERSION@|$(meta Version)|g" \
		-e "s|@RELEASE@|$(meta Release)|g" -e "s|@KVER@|$kver|g" \
		-e "s|@KREL@|${kver//-/_}|g" -e "s|@KSRC@|${ksrc:-an unnamed kernel source}|g" \
		-e "s|@DATE@|$(date -u -d "@$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || echo 0)" '+%a %b %d %Y')|g" \
		"$RPM_DIR/kmod.spec.in" >"$WORK/SPECS/kmod.spec"
	run_logged "$TOP/build/pkg/logs/kmod-rpm.log" "rpmbuild kmod for $kver" \
		rpmbuild --nodeps -bb --define "_topdir $WORK" --target "$(uname -m)" \
		"$WORK/SPECS/kmod.spec"
	# stdout: the module package; the meta package in the progress line.
	for f in "$WORK"/RPMS/*/*.rpm; do
		cp "$f" "$out"/
		case ${f##*/} in
		"kmod-$(meta Name)-$kver-"*) echo "$out/${f##*/}" ;;
		*) log "meta package: $out/${f##*/}" ;;
		esac
	done
}

main "$@"
