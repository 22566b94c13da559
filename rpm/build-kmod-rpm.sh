#!/bin/bash
# build-kmod-rpm.sh KVER KO OUTDIR [SIGN_KEY SIGN_CERT] - the rpm twin of
# build-kmod-deb.sh: kmod-xe-vm-export-KVER with the module prepared by
# debian/pkgtools/prepare-module.sh, for dnf-based fleets.
set -euo pipefail

RPM_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$RPM_DIR")
TEST_NAME=kmod-rpm
export TEST_NAME
# shellcheck source=SCRIPTDIR/../tests/lib.sh
. "$TOP/tests/lib.sh"

meta() {
	sed -n "s/^$1:[[:space:]]*//p" "$TOP/META"
}

main() {
	[ $# -eq 3 ] || [ $# -eq 5 ] ||
		{ echo "usage: ${0##*/} KVER KO OUTDIR [SIGN_KEY SIGN_CERT]" >&2; exit 2; }
	local kver=$1 ko=$2 out f
	mkdir -p "$3"
	out=$(cd "$3" && pwd)
	need_packages rpm
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	mkdir -p "$WORK"/{SOURCES,SPECS,RPMS,BUILD,stage}
	"$TOP/debian/pkgtools/prepare-module.sh" "$kver" "$ko" "$WORK/stage" "${@:4}"
	# rpm systems keep modules under /usr/lib/modules.
	mv "$WORK/stage/lib" "$WORK/SOURCES/lib"
	sed -e "s|@NAME@|$(meta Name)|g" -e "s|@VERSION@|$(meta Version)|g" \
		-e "s|@RELEASE@|$(meta Release)|g" -e "s|@KVER@|$kver|g" \
		-e "s|@DATE@|$(date -u -d "@$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || echo 0)" '+%a %b %d %Y')|g" \
		"$RPM_DIR/kmod.spec.in" >"$WORK/SPECS/kmod.spec"
	run_logged "$TOP/build/pkg/logs/kmod-rpm.log" "rpmbuild kmod for $kver" \
		rpmbuild --nodeps -bb --define "_topdir $WORK" --target "$(uname -m)" \
		"$WORK/SPECS/kmod.spec"
	for f in "$WORK"/RPMS/*/*.rpm; do
		cp "$f" "$out"/
		echo "$out/${f##*/}"
	done
}

main "$@"
