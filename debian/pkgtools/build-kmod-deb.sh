#!/bin/bash
# build-kmod-deb.sh KVER KO OUTDIR [SIGN_KEY SIGN_CERT] - the prebuilt module
# packages of one kernel ABI, for hosts without a compiler (fleets):
#
#   xe-vm-export-modules-KVER     KO as /lib/modules/KVER/updates/xe-vm-export/
#                                 xe.ko[.xz]; depmod, and the initramfs when it
#                                 holds xe (and not this very one yet), are
#                                 refreshed on install/removal.
#   xe-vm-export-modules-FLAVOUR  metapackage (FLAVOUR: amd64, cloud-amd64...)
#                                 depending on the package above. Built for the
#                                 ABI that linux-image-SERIES-FLAVOUR points to,
#                                 it moves with the kernel: `apt upgrade` that
#                                 brings a new kernel ABI brings its module.
#                                 It Breaks the kernel metapackages
#                                 (linux-image-SERIES-FLAVOUR and
#                                 linux-image-FLAVOUR) newer than the kernel
#                                 it was built for (Debian gives a kernel
#                                 metapackage the version of the image it
#                                 points to): apt holds them back, and no host
#                                 moves to a kernel ABI whose module package
#                                 is not published yet.
#
# Both get the version VERSION+KPKGVER-RELEASE (META's version, the kernel
# package's version with '-' as '.', META's release), so that a rebuild of
# one project version for a newer kernel sorts above the previous one, and a
# new project version above every build of the old one.
#
# The packages are made the Debian way from a generated source directory:
# debian/control + changelog + copyright, dpkg-gencontrol (Installed-Size,
# Built-Using the kernel source the module was compiled from), dpkg-deb.
#
# KO is prepared (stripped, signed, compressed) by prepare-module.sh. The
# module package's path is printed on stdout, the metapackage's next to it
# in the progress line on stderr.
#
# The module package conflicts with xe-vm-export-dkms (and provides
# xe-vm-export-modules): a host uses prebuilt modules or DKMS, not both, so
# that exactly one xe.ko sits in updates/ for each kernel. Its name ends in
# -modules-KVER, which apt's kernel autoremoval protection (NeverAutoRemove
# "^.*-modules-KVER$") keeps for the running and newest kernels.
#
# build-kmod-deb.sh --copyright KVER KO prints the module package's copyright
# file (build-kmod-rpm.sh ships it as COPYING.module).
#
# KERNEL_SOURCE (optional): "<Debian source package> <version>" of the
# kernel source the module was built from, when it is not that of KVER's
# headers (dpkg -S /lib/modules/KVER/build).
set -euo pipefail

DEBIAN_DIR=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(dirname "$DEBIAN_DIR")
TEST_NAME=kmod-deb
export TEST_NAME
# shellcheck source=tests/lib.sh
. "$TOP/tests/lib.sh"

meta() {
	sed -n "s/^$1:[[:space:]]*//p" "$TOP/META"
}

maintainer() {
	sed -n 's/^Maintainer:[[:space:]]*//p' "$DEBIAN_DIR/control"
}

# kernel_source - "<source package> <version>" of the kernel KVER's headers
# come from (the source the xe base is taken from), KERNEL_SOURCE if given.
kernel_source() {
	local build pkg
	if [ -n "${KERNEL_SOURCE:-}" ]; then
		echo "$KERNEL_SOURCE"
		return 0
	fi
	build=$(readlink -f "/lib/modules/$KVER/build" 2>/dev/null) ||
		die "no headers for $KVER; or say KERNEL_SOURCE='linux <version>'"
	pkg=$(dpkg-query -S "$build" 2>/dev/null | sed -n '1s/:[[:space:]].*//p')
	[ -n "$pkg" ] || die "dpkg knows no package of $build; say KERNEL_SOURCE='linux <version>'"
	dpkg-query -W -f='${source:Package} ${source:Version}' "${pkg%%,*}"
}

# flavour - "amd64" of "6.12.117+deb12-amd64", "cloud-amd64" of
# "6.12.117+deb12-cloud-amd64": what follows the ABI part.
flavour() {
	local re='^[0-9]+\.[0-9]+(\.[0-9]+)?(\+[a-z0-9.]+)?(-[0-9]+)?-(.+)$'
	[[ $KVER =~ $re ]] || die "$KVER: cannot tell its flavour"
	echo "${BASH_REMATCH[4]}"
}

series() {
	echo "$KVER" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/'
}

write_source() {
	local src=$1 ksrc_name=${KSRC%% *} ksrc_ver=${KSRC#* }
	mkdir -p "$src/debian"
	cat >"$src/debian/control" <<-EOT
	Source: $(meta Name)-modules
	Section: kernel
	Priority: optional
	Maintainer: $(maintainer)
	Standards-Version: 4.6.2
	Rules-Requires-Root: no

	Package: $PACKAGE
	Architecture: $ARCH
	Depends: linux-image-$KVER | linux-image-$KVER-unsigned, $(meta Name)-tools (>= $(meta Version))
	Provides: $(meta Name)-modules
	Conflicts: $(meta Name)-dkms
	Built-Using: $ksrc_name (= $ksrc_ver)
	Description: Intel xe GPU driver with VM export, prebuilt for $KVER
	 The Intel xe DRM driver with the VM export interface of xe-vm-export,
	 compiled for one kernel ABI only: $KVER.
	 .
	 For hosts that install prebuilt modules instead of building them with
	 DKMS (xe-vm-export-dkms, which this package conflicts with). Install
	 $(meta Name)-modules-$FLAVOUR to follow the kernel's ABI.

	Package: $META_PACKAGE
	Architecture: $ARCH
	Depends: $PACKAGE (= \${binary:Version})
	Conflicts: $(meta Name)-dkms
	Breaks: linux-image-$(series)-$FLAVOUR (>> $ksrc_ver), linux-image-$FLAVOUR (>> $ksrc_ver)
	Description: Intel xe GPU driver with VM export for the $FLAVOUR kernel (meta)
	 This metapackage depends on the prebuilt xe-vm-export module package of
	 the kernel ABI that linux-image-$(series)-$FLAVOUR points to, now
	 $KVER.
	 .
	 When the kernel moves to a new ABI, the new version of this package
	 brings the matching module package with it, so that the new kernel
	 boots with xe-vm-export's xe. Until that version is published, this
	 one holds the kernel metapackages back (Breaks: newer versions of
	 them), so that no host boots a kernel without this module.
	EOT
	printf '%s (%s) unstable; urgency=medium\n\n  * Prebuilt for %s (%s %s).\n\n -- %s  %s\n' \
		"$(meta Name)-modules" "$DEB_VERSION" "$KVER" "$ksrc_name" "$ksrc_ver" "$(maintainer)" \
		"$(date -u -R -d "@$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || echo 0)")" \
		>"$src/debian/changelog"
	write_copyright >"$src/debian/copyright"
}

# write_copyright - the project's copyright, and what this binary package
# holds besides: compiled xe and i915 code of the named kernel source.
write_copyright() {
	local ksrc_name=${KSRC%% *} ksrc_ver=${KSRC#* } base
	base=$(modinfo -F xe_vm_export_base "$KO_PLAIN" 2>/dev/null || true)
	# DEP-5: the last matching Files paragraph wins, so the module's comes
	# after the project's, before the stand-alone License paragraphs.
	awk '/^License: / && blank { exit } { blank = ($0 == "") } 1' "$DEBIAN_DIR/copyright"
	cat <<-EOT
	Files: lib/modules/$KVER/updates/$(meta Name)/*
	Copyright: 2014-2024 Intel Corporation
	           2026 The xe-vm-export authors
	License: GPL-2.0-only
	Comment:
	 This binary package holds xe.ko, compiled from the xe driver
	 (drivers/gpu/drm/xe) and the i915 display code it shares
	 (drivers/gpu/drm/i915) of the Linux kernel source $ksrc_name $ksrc_ver,
	 with xe-vm-export $(meta Version)'s files and hook patches. The kernel
	 files are under GPL-2.0 or MIT, as their own SPDX lines say; the module,
	 linked against the GPL-2.0-only kernel, is distributed under
	 GPL-2.0-only.${base:+
	 Base recorded in the module: $base.}
	 .
	 Its source: the Debian source package $ksrc_name $ksrc_ver
	 ("apt-get source $ksrc_name=$ksrc_ver", or
	 https://snapshot.debian.org/package/$ksrc_name/$ksrc_ver/), and
	 xe-vm-export $(meta Version) (package xe-vm-export-dkms, whose source
	 is installed in /usr/src/xe-vm-export-$(meta Version)/).

	EOT
	awk '/^License: / && blank { go = 1 } go { print } { blank = ($0 == "") }' \
		"$DEBIAN_DIR/copyright"
}

write_scripts() {
	local dir=$1 s
	for s in postinst postrm; do
		cat >"$dir/DEBIAN/$s" <<-EOT
		#!/bin/sh
		set -e
		initrd=/boot/initrd.img-$KVER
		ours=/lib/modules/$KVER/updates/$(meta Name)

		# unpacked KO - the module KO, decompressed, on stdout.
		unpacked() {
		    case "\$1" in
		    *.xz) xz -dc "\$1" ;;
		    *.zst) zstd -qdc "\$1" ;;
		    *) cat "\$1" ;;
		    esac
		}

		# holds_ours - the initramfs already holds this very module: the
		# kernel's own postinst, run after this package was unpacked (as in
		# the dist-upgrade that brings both), made it so. initramfs-tools
		# may have decompressed it: the modules are compared decompressed.
		# Any doubt is "no".
		holds_ours() {
		    tmp=\$(mktemp -d) || return 1
		    held=1
		    if unmkinitramfs "\$initrd" "\$tmp/root" 2>/dev/null &&
		        unpacked "\$(ls "\$ours"/xe.ko*)" >"\$tmp/ours.ko" 2>/dev/null; then
		        find "\$tmp/root" -path "*/modules/$KVER/updates/$(meta Name)/xe.ko*" >"\$tmp/list"
		        while read -r g; do
		            unpacked "\$g" 2>/dev/null | cmp -s "\$tmp/ours.ko" - && held=0
		        done <"\$tmp/list"
		    fi
		    rm -rf "\$tmp"
		    return \$held
		}

		# modprobe finds the module through depmod; an initramfs that
		# holds xe is rebuilt so that the boot loads the right one.
		case "\$1" in
		configure | remove)
		    if [ -d /lib/modules/$KVER/kernel ]; then
		        depmod -a "$KVER"
		    fi
		    if [ -f "\$initrd" ] && command -v update-initramfs >/dev/null &&
		        lsinitramfs "\$initrd" | grep -q '/xe\.ko'; then
		        if [ "\$1" = configure ] && holds_ours; then
		            echo "$(meta Name): \$initrd already holds this xe"
		        else
		            update-initramfs -u -k "$KVER"
		        fi
		    fi
		    ;;
		esac
		exit 0
		EOT
		chmod 0755 "$dir/DEBIAN/$s"
	done
}

# stage_docs PKGDIR PACKAGE - copyright, changelog, lintian overrides.
stage_docs() {
	local dir=$1 pkg=$2 doc=$1/usr/share/doc/$2
	mkdir -p "$doc" "$dir/usr/share/lintian/overrides"
	cp "$SRC/debian/copyright" "$doc/copyright"
	gzip -9nc "$SRC/debian/changelog" >"$doc/changelog.Debian.gz"
	{
		echo "# Not uploaded to Debian: no ITP bug to close."
		echo "$pkg: initial-upload-closes-no-bugs"
		echo "# The kernel release is part of the name and the version, by design."
		echo "$pkg: package-has-long-file-name"
	} >"$dir/usr/share/lintian/overrides/$pkg"
}

# build_package PACKAGE PKGDIR - control file, md5sums, the .deb.
build_package() {
	local pkg=$1 dir=$2 deb
	(cd "$SRC" && dpkg-gencontrol -p"$pkg" -P"$dir" -T"$SRC/debian/substvars")
	(cd "$dir" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0 md5sum >DEBIAN/md5sums)
	deb=$OUT/${pkg}_${DEB_VERSION}_$ARCH.deb
	dpkg-deb --root-owner-group -Zxz --build "$dir" "$deb" >/dev/null
	echo "$deb"
}

# copyright_only KVER KO - print the module package's copyright (for the
# rpm's COPYING.module).
copyright_only() {
	KVER=$1 KO=$2
	local work
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: $work is local
	trap "rm -rf '$work'" EXIT
	KSRC=$(kernel_source)
	KO_PLAIN=$work/xe.ko
	unpack_module
	write_copyright
}

unpack_module() {
	case $KO in
	*.xz) xz -dc "$KO" >"$KO_PLAIN" ;;
	*.zst) zstd -qdc "$KO" >"$KO_PLAIN" ;;
	*) cp "$KO" "$KO_PLAIN" ;;
	esac
}

main() {
	if [ "${1:-}" = --copyright ] && [ $# -eq 3 ]; then
		copyright_only "$2" "$3"
		return
	fi
	[ $# -eq 3 ] || [ $# -eq 5 ] ||
		{ echo "usage: ${0##*/} KVER KO OUTDIR [SIGN_KEY SIGN_CERT]" >&2; exit 2; }
	KVER=$1 KO=$2
	local sign=("${@:4}") work mod meta_dir
	[ -f "$KO" ] || die "$KO: no such module (make module KVER=$KVER, or KO=...)"
	mkdir -p "$3"
	OUT=$(cd "$3" && pwd)
	ARCH=$(dpkg --print-architecture)
	KSRC=$(kernel_source)
	FLAVOUR=$(flavour)
	PACKAGE=$(meta Name)-modules-$KVER
	META_PACKAGE=$(meta Name)-modules-$FLAVOUR
	DEB_VERSION=$(meta Version)+$(echo "${KSRC#* }" | tr -- '-:' '..')-$(meta Release)
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: $work is local
	trap "rm -rf '$work'" EXIT
	SRC=$work/src mod=$work/mod meta_dir=$work/meta
	mkdir -p "$mod/DEBIAN" "$meta_dir/DEBIAN"
	chmod 0755 "$mod" "$meta_dir"
	KO_PLAIN=$work/xe.ko
	unpack_module
	write_source "$SRC"
	"$DEBIAN_DIR/pkgtools/prepare-module.sh" "$KVER" "$KO" "$mod" "${sign[@]}"
	stage_docs "$mod" "$PACKAGE"
	stage_docs "$meta_dir" "$META_PACKAGE"
	write_scripts "$mod"
	build_package "$PACKAGE" "$mod"
	log "metapackage: $(build_package "$META_PACKAGE" "$meta_dir")"
}

main "$@"
