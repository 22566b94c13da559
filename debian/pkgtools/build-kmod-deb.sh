#!/bin/bash
# build-kmod-deb.sh KVER KO OUTDIR [SIGN_KEY SIGN_CERT] - a prebuilt module
# package for one kernel: xe-vm-export-modules-KVER, holding KO as
# /lib/modules/KVER/updates/xe-vm-export/xe.ko[.xz], for hosts without a
# compiler (fleets). Installs in seconds: depmod, and the initramfs when it
# holds xe.
#
# KO is prepared (stripped, signed, compressed) by prepare-module.sh.
#
# It conflicts with xe-vm-export-dkms (and provides xe-vm-export-modules):
# a host uses prebuilt modules or DKMS, not both, so that exactly one xe.ko
# sits in updates/ for each kernel.
set -euo pipefail

DEBIAN_DIR=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(dirname "$DEBIAN_DIR")
TEST_NAME=kmod-deb
# shellcheck source=SCRIPTDIR/../../tests/lib.sh
. "$TOP/tests/lib.sh"

meta() {
	sed -n "s/^$1:[[:space:]]*//p" "$TOP/META"
}

write_scripts() {
	local s
	for s in postinst postrm; do
		cat >"$STAGE/DEBIAN/$s" <<-EOT
		#!/bin/sh
		set -e
		# modprobe finds the module through depmod; an initramfs that
		# holds xe is rebuilt so that the boot loads the right one.
		case "\$1" in
		configure | remove)
		    if [ -d /lib/modules/$KVER/kernel ]; then
		        depmod -a "$KVER"
		    fi
		    if [ -f /boot/initrd.img-$KVER ] && command -v update-initramfs >/dev/null &&
		        lsinitramfs /boot/initrd.img-$KVER | grep -q '/xe\.ko'; then
		        update-initramfs -u -k "$KVER"
		    fi
		    ;;
		esac
		exit 0
		EOT
		chmod 0755 "$STAGE/DEBIAN/$s"
	done
}

write_control() {
	local size
	size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
	cat >"$STAGE/DEBIAN/control" <<-EOT
	Package: $PACKAGE
	Source: $(meta Name)
	Version: $(meta Version)-$(meta Release)
	Architecture: $(dpkg --print-architecture)
	Maintainer: $(sed -n 's/^Maintainer:[[:space:]]*//p' "$DEBIAN_DIR/control")
	Installed-Size: $size
	Depends: linux-image-$KVER
	Provides: xe-vm-export-modules
	Conflicts: xe-vm-export-dkms
	Section: kernel
	Priority: optional
	Description: Intel xe GPU driver with VM export, prebuilt for $KVER
	 xe with VM export, built for one kernel only:
	 $KVER.
	 For hosts that install prebuilt modules instead of building them with
	 DKMS (xe-vm-export-dkms, which this package conflicts with).
	EOT
}

write_docs() {
	local doc=$STAGE/usr/share/doc/$PACKAGE
	mkdir -p "$doc"
	cp "$DEBIAN_DIR/copyright" "$doc/copyright"
	mkdir -p "$STAGE/usr/share/lintian/overrides"
	{
		echo "# Not uploaded to Debian: no ITP bug to close."
		echo "$PACKAGE: initial-upload-closes-no-bugs"
	} >"$STAGE/usr/share/lintian/overrides/$PACKAGE"
	printf '%s (%s-%s) unstable; urgency=medium\n\n  * Prebuilt for %s.\n\n -- %s  %s\n' \
		"$PACKAGE" "$(meta Version)" "$(meta Release)" "$KVER" \
		"$(sed -n 's/^Maintainer:[[:space:]]*//p' "$DEBIAN_DIR/control")" \
		"$(date -u -R -d "@$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || echo 0)")" |
		gzip -9n >"$doc/changelog.Debian.gz"
}

main() {
	[ $# -eq 3 ] || [ $# -eq 5 ] ||
		{ echo "usage: ${0##*/} KVER KO OUTDIR [SIGN_KEY SIGN_CERT]" >&2; exit 2; }
	KVER=$1 KO=$2
	local sign=("${@:4}")
	mkdir -p "$3"
	OUT=$(cd "$3" && pwd)
	PACKAGE=$(meta Name)-modules-$KVER
	STAGE=$(mktemp -d)
	trap 'rm -rf "$STAGE"' EXIT
	chmod 0755 "$STAGE"
	mkdir -p "$STAGE/DEBIAN"
	"$DEBIAN_DIR/pkgtools/prepare-module.sh" "$KVER" "$KO" "$STAGE" "${sign[@]}"
	write_docs
	write_scripts
	write_control
	(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
		xargs -0 md5sum >DEBIAN/md5sums)
	local deb
	deb=$OUT/${PACKAGE}_$(meta Version)-$(meta Release)_$(dpkg --print-architecture).deb
	dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$deb" >/dev/null
	echo "$deb"
}

main "$@"
