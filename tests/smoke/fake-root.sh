#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fake-root.sh ROOT - a minimal system root with the DKMS state that
# xe-vm-export-verify reads, for the smoke tests when the packaging tests'
# lifecycle root is not there. Real data where it matters: the xe modules
# are the host's in-tree Debian modules (ours is one of them with the
# provenance fields added to its .modinfo, as the DKMS build adds them), the
# DKMS tree is read by the real dkms, depmod indexes the modules, and the
# skip reasons come from the real source provider.
#
#   K_OURS  the older of tests/lib.sh's two test kernels (chosen from the
#           archive when the test runs): DKMS installed ours
#           (updates/dkms/xe.ko.xz)
#   K_SKIP  the newer one: headers, no xe source for it: skipped
#   K_OLD   a 6.1 release name: headers only, series refused (no xe
#           before 6.8)
#
# Needs: the host's /lib/modules/<6.12 kernel>/kernel/drivers/gpu/drm/xe,
# objcopy (binutils), xz, depmod. Exit 77 when the host lacks the modules.

set -euo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
export TEST_NAME=fake-root

readonly ROOT=${1:?usage: fake-root.sh ROOT}
read -r -a KERNELS <<<"$(test_kernels 2)"
[ ${#KERNELS[@]} -eq 2 ] || {
	log "needs two test kernels, the archive offers ${KERNELS[*]}"
	exit 77
}
readonly K_OURS=${KERNELS[0]} K_SKIP=${KERNELS[1]}
readonly K_OLD=6.1.0-28-amd64
readonly ARCH=x86_64
VERSION=$(sed -n 's/^Version:[[:space:]]*//p' "$TOP/META")
readonly VERSION
readonly IN_TREE=kernel/drivers/gpu/drm/xe/xe.ko.xz

host_module() {
	local k

	for k in "$1" "$K_OURS" "$K_SKIP"; do
		if [ -f "/lib/modules/$k/$IN_TREE" ]; then
			echo "/lib/modules/$k/$IN_TREE"
			return
		fi
	done
	return 1
}

# kernel_dir KVER - modules dir with the in-tree xe and a headers stub that
# passes the provider's "headers installed" check.
kernel_dir() {
	local kver=$1 d="$ROOT/lib/modules/$1" src f

	mkdir -p "$d/build" "$(dirname "$d/$IN_TREE")"
	echo "# headers stub of $kver for the smoke tests" >"$d/build/Makefile"
	src=$(host_module "$kver")
	cp "$src" "$d/$IN_TREE"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "/lib/modules/$kver/$f" ] && cp "/lib/modules/$kver/$f" "$d/"
	done
	true
}

# ours KVER OUT - the in-tree xe of KVER with our provenance fields added.
ours() {
	local kver=$1 out=$2 tmp

	tmp=$(mktemp -d)
	xz -dc "$ROOT/lib/modules/$kver/$IN_TREE" >"$tmp/xe.ko"
	objcopy -O binary --only-section=.modinfo "$tmp/xe.ko" "$tmp/modinfo"
	printf '%s\0' "version=$VERSION" "srcversion=5A0C0FFEE0DDBA11FACADE0" \
		"xe_vm_export_series=6.12 fa1ce0ffee123456" \
		"xe_vm_export_base=linux-source-6.12 ${kver%%+*}-1~deb12u1" \
		"xe_vm_export_base_sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
		"xe_vm_export_provider=linux-source" >>"$tmp/modinfo"
	objcopy --update-section .modinfo="$tmp/modinfo" "$tmp/xe.ko" "$tmp/ours.ko"
	xz -c --check=crc32 "$tmp/ours.ko" >"$out"
	rm -rf "$tmp"
}

main() {
	local dkms="$ROOT/var/lib/dkms/xe-vm-export" srcdir="$ROOT/usr/src/xe-vm-export-$VERSION"

	host_module "$K_OURS" >/dev/null || {
		log "no in-tree xe module of a 6.12 kernel on this host"
		exit 77
	}
	rm -rf "$ROOT"
	mkdir -p "$ROOT"
	kernel_dir "$K_OURS"
	kernel_dir "$K_SKIP"
	mkdir -p "$ROOT/lib/modules/$K_OLD/build"
	echo "# headers stub of $K_OLD" >"$ROOT/lib/modules/$K_OLD/build/Makefile"

	# The DKMS source tree, as the package installs it: the provider, the
	# hook series and META, plus a dkms.conf that names the module.
	mkdir -p "$srcdir/scripts" "$srcdir/patches"
	cp "$TOP/src/scripts/xe-vm-export-source" "$srcdir/scripts/"
	cp -r "$TOP/src/patches/." "$srcdir/patches/"
	cp "$TOP/META" "$srcdir/"
	cat >"$srcdir/dkms.conf" <<-EOF
		PACKAGE_NAME="xe-vm-export"
		PACKAGE_VERSION="$VERSION"
		BUILT_MODULE_NAME[0]="xe"
		DEST_MODULE_LOCATION[0]="/updates/dkms"
	EOF

	# DKMS's own state for "installed on $K_OURS".
	mkdir -p "$dkms/$VERSION/$K_OURS/$ARCH/module" "$dkms/$VERSION/$K_OURS/$ARCH/log"
	ln -s "../../../../../usr/src/xe-vm-export-$VERSION" "$dkms/$VERSION/source"
	ours "$K_OURS" "$dkms/$VERSION/$K_OURS/$ARCH/module/xe.ko.xz"
	ln -s "$VERSION/$K_OURS/$ARCH" "$dkms/kernel-$K_OURS-$ARCH"
	mkdir -p "$ROOT/lib/modules/$K_OURS/updates/dkms"
	cp "$dkms/$VERSION/$K_OURS/$ARCH/module/xe.ko.xz" "$ROOT/lib/modules/$K_OURS/updates/dkms/"

	depmod -b "$ROOT" "$K_OURS"
	depmod -b "$ROOT" "$K_SKIP"
	log "fake root ready: $ROOT"
}

main "$@"
