#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/secureboot/run.sh - `make check-secureboot`: Debian's signed boot
# chain under Secure Boot in qemu (TCG): OVMF's Secure Boot firmware with
# Microsoft's keys enrolled (ovmf's OVMF_CODE_4M.ms.fd / OVMF_VARS_4M.ms.fd),
# shim-signed, grub-efi-amd64-signed and Debian's signed kernel, which then
# enforces module signatures (lockdown "integrity"). Nothing is installed:
# the packages are downloaded and unpacked into the test cache.
#
# A Machine Owner Key is enrolled without a person at the console: the
# certificate is written as MokList into the copy of the variable store the
# guest boots with (tests/secureboot/mok-vars.py), which is what MokManager
# does once `mokutil --import` is confirmed at the next boot. shim passes it
# to the kernel (MokListRT), which puts it in its .machine keyring.
#
# One boot checks, one line each: Secure Boot on, lockdown integrity, the
# MOK in the kernel's keyring; ours signed by a key that is NOT enrolled is
# rejected ("Key was rejected by service") and the kernel's own xe loads
# instead, through the package's install rule, with the line naming
# `mokutil --import`; ours signed by the enrolled MOK then loads (its
# version and srcversion in /sys/module/xe).
#
# Environment: QEMU_KVER (default: the newest test kernel), XE_KO (default
# build/$QEMU_KVER/xe.ko), SB_TIMEOUT seconds for the boot (default 600).
# Exit: 0 all checks passed, 1 a check failed or the setup broke.
set -euo pipefail

TEST_NAME=check-secureboot
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/qemu/lib-qemu.sh
. "$TOP/tests/qemu/lib-qemu.sh"

KVER=${QEMU_KVER:-$(test_kernels | awk '{ print $NF }')}
XE_KO=${XE_KO:-$TOP/build/$KVER/xe.ko}
TIMEOUT=${SB_TIMEOUT:-600}
OUT=$TOP/build/secureboot
QCACHE=$TEST_CACHE/qemu
SB=$TEST_CACHE/secureboot
FW=$SB/root/usr/share/OVMF
INTREE_XE=kernel/drivers/gpu/drm/xe/xe.ko
ENROLLED_CN="xe-vm-export test MOK enrolled"
OTHER_CN="xe-vm-export test key not enrolled"

# fetch_boot_chain - ovmf, shim-signed and grub-efi-amd64-signed unpacked
# into the cache once (their maintainer scripts would install a boot
# loader: they are never installed).
fetch_boot_chain() {
	local pkg deb
	[ -f "$SB/root/.unpacked" ] && return 0
	mkdir -p "$SB/debs"
	rm -rf "$SB/root"
	for pkg in ovmf shim-signed grub-efi-amd64-signed; do
		deb=$(find "$SB/debs" -name "${pkg}_*.deb" | sort -V | tail -n 1)
		if [ -z "$deb" ]; then
			(cd "$SB/debs" && apt-get download "$pkg") >>"$OUT/logs/download.log" 2>&1 ||
				(apt-get update -qq && cd "$SB/debs" && apt-get download "$pkg") >>"$OUT/logs/download.log" 2>&1 ||
				die "apt-get download $pkg failed (log: $OUT/logs/download.log)"
			deb=$(find "$SB/debs" -name "${pkg}_*.deb" | sort -V | tail -n 1)
		fi
		dpkg-deb -x "$deb" "$SB/root"
		log "unpacked $(basename "$deb")"
	done
	touch "$SB/root/.unpacked"
}

# make_key NAME CN - a signing key and its DER certificate, as DKMS makes
# its MOK (RSA 2048, code signing).
make_key() {
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 36500 -sha256 \
		-subj "/CN=$2/" -addext "extendedKeyUsage=codeSigning" \
		-keyout "$OUT/$1.key" -outform DER -out "$OUT/$1.der" 2>>"$OUT/logs/keys.log"
}

# signed_xe KEY OUT - ours, stripped as DKMS installs it, signed by KEY with
# the kernel's own sign-file.
signed_xe() {
	strip --strip-debug -o "$2" "$XE_KO"
	"/lib/modules/$KVER/build/scripts/sign-file" sha256 "$OUT/$1.key" "$OUT/$1.der" "$2"
}

# make_initramfs - the guest: busybox, kmod, ours signed by the key that is
# not enrolled where DKMS puts it, the same signed by the MOK in /root, the
# kernel's own xe and their dependencies, the package's install rule.
make_initramfs() {
	local root=$OUT/initramfs names=(xe) mods
	rm -rf "$root"
	install_busybox "$root"
	install_kmod "$root"
	mkdir -p "$root/lib/modules/$KVER/updates/dkms" "$root/root"
	signed_xe other "$root/lib/modules/$KVER/updates/dkms/xe.ko"
	signed_xe enrolled "$root/root/xe-enrolled.ko"
	mapfile -t -O 1 names < <(depends_of "$XE_KO")
	mapfile -t mods < <(closure "${names[@]}")
	install_modules "$root" "${mods[@]}"
	install_load_rule "$root"
	write_guest "$root" "$INTREE_XE" "" ""
	depmod -b "$root" "$KVER"
	make_cpio "$root" "$OUT/initramfs.cpio"
}

# make_esp - the EFI system partition as a directory (qemu's vvfat shows it
# as a FAT disk): shim as the removable-media loader, grub beside it (shim
# loads grubx64.efi from its own directory), grub.cfg (the signed grub
# reads $cmdpath/grub.cfg), the signed kernel and the initramfs.
make_esp() {
	local esp=$OUT/esp
	rm -rf "$esp"
	mkdir -p "$esp/EFI/BOOT"
	cp "$SB/root/usr/lib/shim/shimx64.efi.signed" "$esp/EFI/BOOT/BOOTX64.EFI"
	cp "$SB/root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$esp/EFI/BOOT/grubx64.efi"
	cp "$(image_root)/boot/vmlinuz-$KVER" "$esp/EFI/BOOT/vmlinuz"
	cp "$OUT/initramfs.cpio" "$esp/EFI/BOOT/initrd"
	cat >"$esp/EFI/BOOT/grub.cfg" <<-EOF
		set timeout=0
		linux \$cmdpath/vmlinuz console=ttyS0 panic=-1 quiet $CMDLINE_FAST xeq_mode=secureboot
		initrd \$cmdpath/initrd
		boot
	EOF
}

# boot_sb LOG - OVMF (SMM, secure flash) with the MOK-enrolled variables.
boot_sb() {
	local log=$1 start line t
	start=${EPOCHREALTIME/./}
	timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -machine q35,smm=on -m 1024 -smp 1 \
		-global driver=cfi.pflash01,property=secure,value=on \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$FW/OVMF_CODE_4M.ms.fd" \
		-drive "if=pflash,format=raw,unit=1,file=$OUT/vars.fd" \
		-drive "if=virtio,format=raw,readonly=on,file=fat:$OUT/esp" \
		-nodefaults -display none -no-reboot -serial stdio </dev/null 2>&1 |
		while IFS= read -r line; do
			t=$((${EPOCHREALTIME/./} - start))
			# The firmware's screen control leaves carriage returns
			# at the start of lines too.
			printf '%d.%03d %s\n' $((t / 1000000)) $((t / 1000 % 1000)) "${line//$'\r'/}"
		done >"$log"
	return "${PIPESTATUS[0]}"
}

check_boot() {
	local log=$1 dmesg=$1.dmesg
	guest_dmesg "$log" >"$dmesg"
	if [ -z "$(fact "$log" end)" ] || [ "$(fact "$log" kernel)" != "$KVER" ]; then
		fail "the guest did not boot $KVER through shim and grub (log: $log)"
		return 1
	fi
	ok "shim, grub and $KVER booted under Secure Boot in $(fact_time "$log" init) s from qemu start"
	check "Secure Boot on: '$(grep -m1 -o 'Secure boot enabled' "$dmesg" || echo none)'" \
		grep -q 'Secure boot enabled' "$dmesg"
	check "lockdown: $(fact "$log" sb.lockdown) (integrity enforced)" \
		grep -q '\[integrity\]' <<<"$(fact "$log" sb.lockdown)"
	check "the MOK is in the kernel's keys: $(grep -m1 "XEQ sb.key=.*$ENROLLED_CN" "$log" | sed 's/.*sb.key=//' | awk '{ $1 = $1 } 1')" \
		grep -q "XEQ sb.key=.*$ENROLLED_CN" "$log"
	check "the kernel loaded it from shim's MokListRT into its .machine keyring: $(grep -m1 "Loaded X.509 cert '$ENROLLED_CN" "$dmesg" | sed 's/^\[[^]]*\] //'); $(grep -o 'keyring *\.machine: [0-9]*' "$log" | awk '{ $1 = $1 } 1')" \
		test -n "$(grep "Loaded X.509 cert '$ENROLLED_CN" "$dmesg")" \
		-a -n "$(grep 'XEQ sb.key=.*keyring *\.machine: [1-9]' "$log")"
	check "the key that is not enrolled is in no keyring" \
		test -z "$(grep "$OTHER_CN" "$dmesg" "$log" || true)"
}

check_unenrolled() {
	local log=$1 line intree=/lib/modules/$KVER/$INTREE_XE
	line=$(guest_dmesg "$log" | sed -n 's/^\[[^]]*\] //; /^xe-vm-export: xe of /p' | head -n 1)
	check "not enrolled: ours refused: '$(fact "$log" fallback.reason)'" \
		test "$(fact "$log" fallback.reason)" = "Key was rejected by service"
	check "not enrolled: modprobe xe exits 0 with the kernel's own xe live (no version '$(fact "$log" xe.version)', taint '$(fact "$log" xe.taint)')" \
		test "$(fact "$log" xe.load)" = 0 -a "$(fact "$log" xe.initstate)" = live \
		-a -z "$(fact "$log" xe.version)" -a -z "$(fact "$log" xe.taint)" \
		-a "$(fact "$log" fallback.loaded)" = "$intree"
	check "not enrolled: the line says mokutil --import and the reboot: ${line:-none}" \
		grep -q "'mokutil --import /var/lib/dkms/mok.pub', reboot" <<<"$line"
	check "not enrolled: the kernel's own xe unloads" \
		test "$(fact "$log" xe.unload)" = 0 -a "$(fact "$log" xe.after_unload)" = absent
}

check_enrolled() {
	local log=$1 want
	want=$(modinfo -F version "$XE_KO")
	check "enrolled: ours (signer '$(fact "$log" mok.signer)') loads: exit $(fact "$log" mok.load), $(fact "$log" mok.initstate)" \
		test "$(fact "$log" mok.load)" = 0 -a "$(fact "$log" mok.initstate)" = live \
		-a "$(fact "$log" mok.signer)" = "$ENROLLED_CN"
	check "enrolled: the loaded xe is ours (version '$(fact "$log" mok.version)', srcversion $(fact "$log" mok.srcversion)), no fallback" \
		test -n "$want" -a "$(fact "$log" mok.version)" = "$want" \
		-a "$(fact "$log" mok.srcversion)" = "$(modinfo -F srcversion "$XE_KO")" \
		-a -z "$(fact "$log" mok.fallback)"
	check "enrolled: taint '$(fact "$log" mok.taint)' is out-of-tree only (the signature verified: no E)" \
		test "$(fact "$log" mok.taint)" = O
}

# verify_on_guest LOG LABEL KO - xe-vm-export-verify (this tree's) on a root
# with ours as KO (one of the two the guest loaded) where DKMS puts it, DKMS's
# certificate being the enrolled MOK, the load fallback installed and the
# kernel's own xe in its place (the guest's); against
# what the booted guest showed: /proc/keys (every key it printed), its
# lockdown, Secure Boot as its kernel said ("Secure boot enabled": the
# SecureBoot variable's value 1). Writes $OUT/verify-LABEL.{out,json}.
verify_on_guest() {
	local log=$1 label=$2 ko=$3 d=$OUT/verify-$2 sb='\x00'
	rm -rf "$d"
	mkdir -p "$d/proc" "$d/sys/firmware/efi/efivars" "$d/sys/kernel/security" \
		"$d/root/lib/modules/$KVER/updates/dkms" "$d/root/var/lib/dkms" \
		"$d/root/usr/src/xe-vm-export-$(modinfo -F version "$XE_KO")"
	sed -n 's/^[0-9.]* XEQ sb\.key=//p' "$log" >"$d/proc/keys"
	fact "$log" sb.lockdown >"$d/sys/kernel/security/lockdown"
	grep -q 'Secure boot enabled' "$log.dmesg" && sb='\x01'
	printf '\x06\x00\x00\x00%b' "$sb" \
		>"$d/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0f5e5e5b8c0"
	cp "$ko" "$d/root/lib/modules/$KVER/updates/dkms/xe.ko"
	mkdir -p "$d/root/lib/modules/$KVER/${INTREE_XE%/*}"
	cp "$OUT/initramfs/lib/modules/$KVER/$INTREE_XE" "$d/root/lib/modules/$KVER/$INTREE_XE"
	cp "$OUT/enrolled.der" "$d/root/var/lib/dkms/mok.pub"
	install_load_rule "$d/root"
	depmod -b "$d/root" "$KVER" 2>/dev/null
	XE_VM_EXPORT_SYSFS=$d/sys XE_VM_EXPORT_PROC=$d/proc XE_VM_EXPORT_RUNNING_KERNEL=$KVER \
		"$TOP/src/tools/xe-vm-export-verify" --root "$d/root" --no-smoke \
		--json "$OUT/verify-$label.json" >"$OUT/verify-$label.out" 2>&1 || true
}

# boot_of JSON - the Secure Boot state, lockdown, and KVER's boot report.
boot_of() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
k = [x for x in d["kernels"] if x["kernel"] == sys.argv[2]][0]["boot"]
c = [x["status"] for x in d["checks"] if x["class"] == "boot" and x["name"] == sys.argv[2]]
print(d["boot"]["secure_boot"], d["boot"]["lockdown"], k["signer_trusted"], k["next_boot"], c[0] if c else "none", k["fix"])' "$1" "$KVER"
}

# check_verify LOG - verify says what the guest did: the enrolled MOK's
# module trusted, ours at the next boot; the other key's not trusted, the
# fallback at the next boot, and the command that enrolls DKMS's key.
check_verify() {
	local log=$1 got
	verify_on_guest "$log" enrolled "$OUT/initramfs/root/xe-enrolled.ko"
	got=$(boot_of "$OUT/verify-enrolled.json" 2>&1) || true
	check "verify, the guest's keys, ours signed by the enrolled MOK: Secure Boot on, signer trusted, next boot ours ($got)" \
		grep -qx 'enabled integrity yes ours pass ' <<<"$got"
	verify_on_guest "$log" other "$OUT/initramfs/lib/modules/$KVER/updates/dkms/xe.ko"
	got=$(boot_of "$OUT/verify-other.json" 2>&1) || true
	check "verify, the guest's keys, ours signed by the key not enrolled: signer not trusted, next boot the fallback, fails with the enroll command ($got)" \
		grep -qx "enabled integrity no fallback fail enroll the key DKMS signs with: 'mokutil --import /var/lib/dkms/mok.pub', reboot and confirm it in MokManager" <<<"$got"
}

main() {
	local start=$SECONDS log
	need_packages qemu-system-x86 busybox-static cpio kmod xz-utils zstd binutils openssl \
		python3 "linux-headers-$KVER"
	[ -f "$XE_KO" ] || die "$XE_KO missing (make module KVER=$KVER)"
	rm -rf "$OUT"
	mkdir -p "$OUT/logs" "$QCACHE"
	fetch_image
	fetch_boot_chain
	make_key enrolled "$ENROLLED_CN"
	make_key other "$OTHER_CN"
	python3 "$TOP/tests/secureboot/mok-vars.py" "$FW/OVMF_VARS_4M.ms.fd" \
		"$OUT/enrolled.der" "$OUT/vars.fd"
	make_initramfs
	make_esp
	log="$OUT/guest.log"
	log "booting OVMF (Secure Boot, Microsoft keys, MOK '$ENROLLED_CN' in MokList) -> shim -> grub -> $KVER"
	boot_sb "$log" || log "qemu exited with $?"
	if check_boot "$log"; then
		check_unenrolled "$log"
		check_enrolled "$log"
		check_verify "$log"
	fi
	log "done in $((SECONDS - start)) s (boot: $(tail -n 1 "$log" | cut -d' ' -f1) s)"
	summary
}

main "$@"
