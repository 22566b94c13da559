# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Helpers of tests/qemu/run.sh: the Debian kernel image unpacked into the
# test cache, the guest's initramfs, the boot, and reading what the guest
# reported. Source after tests/lib.sh; uses KVER, OUT, QCACHE and TIMEOUT.

# The image package users run (the signed one), unpacked, never installed.
# Debian 13's backports kernels (7.x) split it: linux-image-<abi> is empty
# and depends on linux-base-, linux-binary- (the signed image) and
# linux-modules-<abi>; QEMU_IMAGE_PACKAGES then names those.
image_root() {
	echo "$QCACHE/root-$KVER"
}

image_packages() {
	echo "${QEMU_IMAGE_PACKAGES:-linux-image-$KVER}"
}

# find_deb PKG - the newest downloaded PKG_*.deb in the cache, or in
# QEMU_DEBS (where a caller with another archive downloaded it).
find_deb() {
	find "$QCACHE/debs" ${QEMU_DEBS:+"$QEMU_DEBS"} -maxdepth 1 -name "${1}_*.deb" |
		sort -V | tail -n 1
}

download_image() {
	mkdir -p "$QCACHE/debs"
	(cd "$QCACHE/debs" && apt-get download "$1") ||
		(apt-get update -qq && cd "$QCACHE/debs" && apt-get download "$1")
}

# fetch_image - download and unpack the image's packages into the cache
# once, with the modules.dep the postinst would have made.
fetch_image() {
	local root pkg deb debs=()
	root=$(image_root)
	[ -f "$root/.unpacked" ] && return 0
	# The directory exists before find runs: on a cold cache a failing
	# find inside $(...) would end the test silently under pipefail.
	mkdir -p "$QCACHE/debs"
	for pkg in $(image_packages); do
		deb=$(find_deb "$pkg")
		if [ -z "$deb" ]; then
			run_logged "$OUT/logs/download.log" "downloading $pkg" download_image "$pkg"
			deb=$(find_deb "$pkg")
		fi
		[ -n "$deb" ] || die "$pkg: no package downloaded"
		debs+=("$deb")
	done
	rm -rf "$root"
	for deb in "${debs[@]}"; do
		run_logged "$OUT/logs/unpack.log" "unpacking $(basename "$deb")" \
			dpkg-deb -x "$deb" "$root"
	done
	merged_usr_links "$root"
	run_logged "$OUT/logs/depmod-image.log" "depmod of the unpacked image" \
		depmod -b "$root" -F "$root/boot/System.map-$KVER" "$KVER"
	touch "$root/.unpacked"
}

# merged_usr_links ROOT - Debian 13's 7.x packages install below
# /usr/lib/modules/<abi> only, vmlinuz and System.map included: the links
# of a merged-/usr system and the /boot names of the older packages.
merged_usr_links() {
	local root=$1 f
	[ -d "$root/usr/lib/modules/$KVER" ] || return 0
	[ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
	mkdir -p "$root/boot"
	for f in vmlinuz System.map config; do
		[ ! -e "$root/usr/lib/modules/$KVER/$f" ] ||
			ln -sfn "../usr/lib/modules/$KVER/$f" "$root/boot/$f-$KVER"
	done
}

# headers_dir KERNEL - KERNEL's headers (its /lib/modules/KERNEL/build), on
# the host or, with QEMU_CHROOT, in that root (whose compiler builds for
# KERNEL: a Debian 13 root for 7.x kernels).
headers_dir() {
	local d=/lib/modules/$1/build
	[ -z "${QEMU_CHROOT:-}" ] || d=$QEMU_CHROOT$(chroot "$QEMU_CHROOT" readlink -f "$d")
	echo "$d"
}

# kbuild ARGS... - make for an external module, in QEMU_CHROOT when set
# (the paths of the build directories are the same inside and out).
kbuild() {
	if [ -n "${QEMU_CHROOT:-}" ]; then
		chroot "$QEMU_CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 make "$@"
	else
		make "$@"
	fi
}

# fresh TARGET FILE... - TARGET exists and is newer than every FILE (kbuild
# takes seconds even to find nothing to do).
fresh() {
	local target=$1 f
	shift
	[ -f "$target" ] || return 1
	for f in "$@"; do
		[ "$target" -nt "$f" ] || return 1
	done
}

# build_probe KERNEL - the do-nothing probe module built against KERNEL's
# headers; prints the .ko path.
build_probe() {
	local kernel=$1 dir=$OUT/probe-$1
	if fresh "$dir/xe_qemu_probe.ko" "$TOP"/tests/qemu/probe/* \
		"$(headers_dir "$kernel")/Module.symvers"; then
		echo "$dir/xe_qemu_probe.ko"
		return 0
	fi
	mkdir -p "$dir"
	cp -p "$TOP"/tests/qemu/probe/* "$dir/"
	run_logged "$OUT/logs/probe-$kernel.log" "probe module for $kernel" \
		kbuild -C "/lib/modules/$kernel/build" M="$dir" modules
	echo "$dir/xe_qemu_probe.ko"
}

# closure NAME... - paths (below /lib/modules/$KVER) of the image's modules
# NAME and everything they depend on, from the image's modules.dep, which
# lists dependencies transitively.
closure() {
	awk -v want=" $* " '
		{
			sub(/:$/, "", $1)
			n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n)
			gsub(/-/, "_", n)
			if (index(want, " " n " ") == 0) next
			for (i = 1; i <= NF; i++) print $i
		}' "$(image_root)/lib/modules/$KVER/modules.dep" | sort -u
}

# depends_of KO - the module names KO depends on, one a line.
depends_of() {
	modinfo -F depends "$1" | tr ',' '\n' | sed '/^$/d'
}

# install_busybox ROOT - busybox and the applets the guest uses, in /xeq/bin.
install_busybox() {
	local root=$1 a
	mkdir -p "$root/xeq/bin"
	cp /bin/busybox "$root/xeq/bin/"
	for a in sh mount cat cut echo tr head tail dmesg poweroff uname grep sed \
		readlink ln mkdir; do
		ln -sf busybox "$root/xeq/bin/$a"
	done
}

# install_kmod ROOT - kmod as /sbin/modprobe and friends (the modprobe of a
# real system, not busybox's), with the shared libraries it needs.
install_kmod() {
	local root=$1 a lib
	mkdir -p "$root/xeq/bin" "$root/sbin"
	cp /usr/bin/kmod "$root/xeq/bin/kmod"
	for a in modprobe insmod rmmod lsmod modinfo depmod; do
		ln -sf ../xeq/bin/kmod "$root/sbin/$a"
	done
	for lib in $(ldd /usr/bin/kmod | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$root"
	done
}

# install_load_rule ROOT - the package's load fallback where the package
# puts it: the modprobe.d `install xe` rule and xe-vm-export-load, with the
# /bin/sh that kmod runs install commands with.
install_load_rule() {
	local root=$1
	install -D -m 0755 "$TOP/debian/scripts/xe-vm-export-load" \
		"$root/usr/lib/xe-vm-export/xe-vm-export-load"
	install -D -m 0644 "$TOP/debian/modprobe.d/xe-vm-export.conf" \
		"$root/lib/modprobe.d/xe-vm-export.conf"
	mkdir -p "$root/bin"
	ln -sf ../xeq/bin/busybox "$root/bin/sh"
}

# write_guest ROOT CONTROL AUX PROBES - the guest's /init and its /xeq/conf.
write_guest() {
	local root=$1
	mkdir -p "$root/xeq" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
	install -m 0755 "$TOP/tests/qemu/guest-init.sh" "$root/init"
	printf 'KVER=%q\nCONTROL=%q\nAUX=%q\nPROBES=%q\n' \
		"$KVER" "$2" "$3" "$4" >"$root/xeq/conf"
}

# install_modules ROOT PATH... - copy image modules (paths below
# /lib/modules/$KVER) and the files depmod needs. The modules are
# decompressed: xz in the guest's userspace costs seconds per module in TCG
# and tells nothing about ours.
install_modules() {
	local root=$1 img f
	shift
	img=$(image_root)/lib/modules/$KVER
	mkdir -p "$root/lib/modules/$KVER"
	for f in "$@" modules.builtin modules.builtin.modinfo modules.order; do
		(cd "$img" && cp --parents "$f" "$root/lib/modules/$KVER/")
	done
	find "$root/lib/modules/$KVER" -name '*.ko.xz' -exec xz -d {} +
}

# make_cpio ROOT IMAGE - an uncompressed newc archive (qemu loads it from
# memory; compressing would only cost time).
make_cpio() {
	(cd "$1" && find . -print0 | cpio --null -o -H newc --quiet) >"$2"
}

# The crypto self-tests cost seconds in TCG; the guest runs nothing untrusted.
CMDLINE_FAST="cryptomgr.notests mitigations=off"

# decompress_initrd IN OUT - IN as one uncompressed cpio stream. The kernel
# does not find an archive appended after a zstd one ("invalid magic at
# start of compressed archive"), so the package's initramfs is unpacked
# before ours is appended.
decompress_initrd() {
	case $(od -An -tx1 -N4 "$1" | tr -d ' ') in
	28b52ffd) zstd -q -dc "$1" >"$2" ;;
	1f8b*) gzip -dc "$1" >"$2" ;;
	fd377a58) xz -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# boot LOG INITRD [PARAMS] - boot the image's kernel with INITRD in TCG,
# PARAMS added to its command line; every console line of LOG is prefixed
# with the seconds since qemu started.
boot() {
	local log=$1 initrd=$2 params=${3:-} start line t
	start=${EPOCHREALTIME/./}
	timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 1024 -smp 1 \
		-nodefaults -display none -no-reboot -serial stdio \
		-kernel "$(image_root)/boot/vmlinuz-$KVER" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet $CMDLINE_FAST${params:+ $params}" </dev/null 2>&1 |
		while IFS= read -r line; do
			t=$((${EPOCHREALTIME/./} - start))
			printf '%d.%03d %s\n' $((t / 1000000)) $((t / 1000 % 1000)) "${line%$'\r'}"
		done >"$log"
	return "${PIPESTATUS[0]}"
}

# fact LOG KEY - the value the guest reported for KEY ("XEQ KEY=value").
fact() {
	awk -v k="XEQ $2=" '{ sub(/^[0-9.]+ /, "") }
		index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$1"
}

# fact_time LOG KEY - host seconds since qemu started when KEY was reported.
fact_time() {
	awk -v k="XEQ $2=" '{ t = $1; sub(/^[0-9.]+ /, "") }
		index($0, k) == 1 { print t; exit }' "$1"
}

# guest_dmesg LOG - the kernel log the guest printed.
guest_dmesg() {
	awk '{ sub(/^[0-9.]+ /, "") } /^XEQ dmesg-end/ { p = 0 } p { print } /^XEQ dmesg-begin/ { p = 1 }' "$1"
}
