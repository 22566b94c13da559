#!/bin/bash
# prepare-module.sh KVER KO DESTDIR [SIGN_KEY SIGN_CERT] - put xe.ko for one
# kernel at DESTDIR/lib/modules/KVER/updates/xe-vm-export/, as the prebuilt
# module packages (kmod-deb, kmod-rpm) ship it.
#
# KO may be a plain or compressed module (make module's, or one DKMS built)
# and must be built for KVER (vermagic). An unsigned one is stripped of debug
# info; with SIGN_KEY and SIGN_CERT it is then signed with the kernel's
# sign-file. It is xz-compressed when KVER's modules are
# (CONFIG_MODULE_COMPRESS_XZ in its headers' .config).
#
# A module that would ship unsigned is refused unless SIGN=none is in the
# environment: on a host booted with Secure Boot the kernel rejects it, and
# the host runs the kernel's own xe (xe-vm-export-load falls back to it).
# Sign with the key the fleet enrolled as MOK, or say SIGN=none explicitly.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
TEST_NAME=prepare-module
export TEST_NAME
# shellcheck source=SCRIPTDIR/../../tests/lib.sh
. "$TOP/tests/lib.sh"

is_signed() {
	tail -c 28 "$1" | grep -q '~Module signature appended~'
}

# sign_file - the kernel's own sign-file: from its headers, else kbuild's.
sign_file() {
	local f
	for f in "/lib/modules/$KVER/build/scripts/sign-file" \
		/usr/lib/linux-kbuild-*/scripts/sign-file; do
		[ -x "$f" ] && { echo "$f"; return 0; }
	done
	die "no sign-file for $KVER (install its headers)"
}

# prepare_module - KO as it will be installed, under $STAGE.
prepare_module() {
	local ko=$STAGE/xe.ko dir=$STAGE/lib/modules/$KVER/updates/xe-vm-export
	case $KO in
	*.xz) xz -dc "$KO" >"$ko" ;;
	*.zst) zstd -qdc "$KO" >"$ko" ;;
	*.gz) gzip -dc "$KO" >"$ko" ;;
	*) cp "$KO" "$ko" ;;
	esac
	modinfo -F vermagic "$ko" | grep -q "^$KVER " ||
		die "$KO is not built for $KVER (vermagic: $(modinfo -F vermagic "$ko"))"
	if [ -z "$SIGN_KEY" ] && ! is_signed "$ko" && [ "${SIGN:-}" != none ]; then
		rm -f "$ko"
		die "refusing to package an unsigned xe for $KVER: Secure Boot hosts reject it and keep the kernel's own xe; give SIGN_KEY and SIGN_CERT (the key the fleet enrolled with mokutil --import), or SIGN=none to build it unsigned"
	fi
	# Stripping an already signed module would drop its signature.
	is_signed "$ko" || strip --strip-debug "$ko"
	if [ -n "$SIGN_KEY" ]; then
		is_signed "$ko" && die "$KO is signed already; give an unsigned one to sign"
		"$(sign_file)" sha256 "$SIGN_KEY" "$SIGN_CERT" "$ko"
	fi
	mkdir -p "$dir"
	if grep -qs '^CONFIG_MODULE_COMPRESS_XZ=y' "/lib/modules/$KVER/build/.config"; then
		xz --check=crc32 --lzma2=dict=1MiB -c "$ko" >"$dir/xe.ko.xz"
	else
		cp "$ko" "$dir/xe.ko"
	fi
	rm "$ko"
}

main() {
	[ $# -eq 3 ] || [ $# -eq 5 ] ||
		{ echo "usage: ${0##*/} KVER KO DESTDIR [SIGN_KEY SIGN_CERT]" >&2; exit 2; }
	KVER=$1 KO=$2 STAGE=$3 SIGN_KEY=${4:-} SIGN_CERT=${5:-}
	[ -f "$KO" ] || die "$KO: no such module (make module KVER=$KVER, or KO=...)"
	prepare_module
}

main "$@"
