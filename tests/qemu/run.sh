#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/qemu/run.sh - `make check-qemu`: the built xe and the sample consumer
# loaded into Debian's own kernel, booted in qemu (TCG) from a busybox
# initramfs made here.
#
# Checks, one line each: the kernel's own xe loads with no device (control);
# `modprobe xe` resolves to updates/dkms and loads the built file (same
# srcversion and provenance); the sample consumer loads, its namespaced
# imports resolve, both unload; the kernel log is clean; a module built for
# another kernel is refused, for the right reason; the initramfs made by the
# package's initramfs handling holds and loads the patched xe.
#
# Environment (all optional):
#   QEMU_KVER        guest kernel (default: the newest of tests/lib.sh's
#                    test_kernels, chosen from the archive)
#   QEMU_OTHER_KVER  kernel the refused probe is built for (default: the
#                    newest older 6.12 kernel of the archive whose
#                    module_layout CRC differs from the guest's)
#   XE_KO            the xe to test (default build/$QEMU_KVER/xe.ko)
#   AUX_KO           the sample consumer (default: built here from
#                    src/samples/xe_vm_export_aux against $XE_KO's symbols)
#   PKG_ROOT         what the packaging test leaves of its root after the
#                    package is installed: boot/initrd.img-$QEMU_KVER and
#                    lib/modules/$QEMU_KVER/updates/dkms/xe.ko* (see
#                    tests/qemu/README.md); default $TEST_CACHE/packaging/qemu,
#                    else a kept root under $TEST_CACHE/packaging/roots/
#   QEMU_TIMEOUT     seconds per boot (default 120)
#   QEMU_CHROOT      a root holding the headers of QEMU_KVER and
#                    QEMU_OTHER_KVER, whose compiler builds the probes (the
#                    Debian 13 root of tests/series/run.sh for 7.x kernels);
#                    then no headers are installed on the host, and
#                    QEMU_OTHER_KVER is the caller's choice
#   QEMU_IMAGE_PACKAGES, QEMU_DEBS
#                    the packages making up the kernel image and a directory
#                    where they were downloaded (tests/qemu/lib-qemu.sh)
#
# Exit: 0 all checks passed, 1 a check failed or the setup broke. A check
# that cannot run here (no package initramfs, no kernel to refuse) is a
# skip: counted and named in the summary line, never a pass.
# Guest logs stay under build/qemu/ when something failed.

set -euo pipefail

TEST_NAME=check-qemu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/qemu/lib-qemu.sh
. "$TOP/tests/qemu/lib-qemu.sh"

KVER=${QEMU_KVER:-$(test_kernels | awk '{ print $NF }')}
OTHER_KVER=${QEMU_OTHER_KVER:-}
XE_KO=${XE_KO:-$TOP/build/$KVER/xe.ko}
AUX_KO=${AUX_KO:-}
AUX_SRC=$TOP/src/samples/xe_vm_export_aux
PKG_ROOT=${PKG_ROOT:-}
TIMEOUT=${QEMU_TIMEOUT:-120}
OUT=$TOP/build/qemu
QCACHE=$TEST_CACHE/qemu
# Kernel log lines that fail the run (the taint of an unsigned out-of-tree
# module is expected and reported instead).
BAD_DMESG='WARNING:|BUG:|Oops|cut here|Call Trace|lockdep|circular locking|Unknown symbol|disagrees about version|but does not import|kernel panic|Invalid module format'
INTREE_XE=kernel/drivers/gpu/drm/xe/xe.ko
# Taint bits expected from our modules: O (out-of-tree), E (unsigned).
TAINT_OK=$((4096 | 8192))

# --- the modules under test -------------------------------------------------

# stage_xe DIR - the built xe as DKMS installs it (STRIP: debug info removed;
# .modinfo, hence srcversion and provenance, unchanged).
stage_xe() {
	mkdir -p "$1"
	strip --strip-debug -o "$1/xe.ko" "$XE_KO"
}

# build_aux - the sample consumer built as its README says a third-party
# driver builds, against the built xe's Module.symvers; prints the .ko path.
build_aux() {
	local dir=$OUT/aux symvers
	symvers=$(dirname "$XE_KO")/Module.symvers
	if fresh "$dir/xe_vm_export_aux.ko" "$AUX_SRC"/* "$TOP"/src/include/drm/* "$symvers"; then
		echo "$dir/xe_vm_export_aux.ko"
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -pr "$AUX_SRC"/. "$dir/"
	run_logged "$OUT/logs/aux.log" "sample consumer for $KVER" \
		make -C "$dir" KVER="$KVER" XE_VM_EXPORT_INCLUDE="$TOP/src/include" \
		XE_VM_EXPORT_SYMVERS="$symvers" || return 1
	find "$dir" -maxdepth 1 -name '*.ko' | head -n 1
}

# --- checks -------------------------------------------------------------------

check_booted() {
	local log=$1 what=$2
	if [ -n "$(fact "$log" end)" ] && [ "$(fact "$log" kernel)" = "$KVER" ]; then
		ok "$what: guest booted $KVER and ran the test ($(fact "$log" modprobe))"
	else
		fail "$what: guest did not finish (log: $log)"
		return 1
	fi
}

check_control() {
	local log=$1
	if [ "$(fact "$log" control.load)" = 0 ] &&
		[ "$(fact "$log" control.initstate)" = live ] &&
		[ "$(fact "$log" control.unload)" = 0 ]; then
		ok "control: the kernel's own xe loads with no device and unloads"
	else
		fail "control: the kernel's own xe: load=$(fact "$log" control.load) unload=$(fact "$log" control.unload)"
	fi
}

# timing LOG - where the guest's boot-to-loaded time went.
timing() {
	awk -v i="$(fact "$1" init)" -v m="$(fact "$1" xe.modprobe_uptime)" \
		-v l="$(fact "$1" xe.loaded_uptime)" 'BEGIN {
		printf "guest uptime %.2f s: kernel to /init %.2f s, modprobe xe %.2f s", l, i, l - m }'
}

# check_ours LOG WHAT KO - modprobe xe resolved to updates/dkms and the
# loaded module is KO: same srcversion, same version, same provenance.
check_ours() {
	local log=$1 what=$2 ko=$3 f want got bad=
	check "$what: modprobe xe resolves to $(fact "$log" xe.resolves | awk '{ print $2 }') (want updates/dkms)" \
		grep -q "updates/dkms/xe.ko" <<<"$(fact "$log" xe.resolves)"
	if [ "$(fact "$log" xe.load)" = 0 ] && [ "$(fact "$log" xe.initstate)" = live ]; then
		ok "$what: modprobe xe loads; boot to loaded $(fact_time "$log" xe.loaded_uptime) s from qemu start ($(timing "$log"))"
	else
		fail "$what: modprobe xe: exit $(fact "$log" xe.load), initstate $(fact "$log" xe.initstate)"
	fi
	want=$(modinfo -F srcversion "$ko")
	check "$what: loaded xe srcversion $(fact "$log" xe.srcversion) = built file's ($want)" \
		test -n "$want" -a "$(fact "$log" xe.srcversion)" = "$want"
	want=$(modinfo -F version "$ko")
	check "$what: loaded xe version '$(fact "$log" xe.version)' = built file's" \
		test -n "$want" -a "$(fact "$log" xe.version)" = "$want"
	for f in xe_vm_export_series xe_vm_export_base xe_vm_export_base_sha256 xe_vm_export_provider; do
		want=$(modinfo -F "$f" "$ko" | head -n 1)
		got=$(fact "$log" "xe.file.$f")
		[ -n "$want" ] && [ "$got" = "$want" ] || bad+=" $f('$got' vs '$want')"
	done
	check "$what: provenance of the resolved xe = built file's${bad:+:$bad} (base $(fact "$log" xe.file.xe_vm_export_base))" \
		test -z "$bad"
}

# check_aux LOG - the sample consumer loads, holds a reference on xe (its
# imports resolved to xe's namespaced exports), and unloads.
check_aux() {
	local log=$1 ns refcnt
	ns=$(modinfo -F import_ns "$AUX_KO" | sort -u | paste -sd ' ')
	refcnt=$(fact "$log" aux.xe_refcnt)
	if [ "$(fact "$log" aux.load)" = 0 ] && [ "$(fact "$log" aux.initstate)" = live ] &&
		[ "${refcnt:-0}" -gt 0 ]; then
		ok "sample consumer loads from $(fact "$log" aux.resolves | awk '{ print $2 }'); imports of namespace ${ns:-none} resolved to xe (xe refcnt $refcnt)"
	else
		fail "sample consumer: modprobe exit $(fact "$log" aux.load), initstate $(fact "$log" aux.initstate), xe refcnt ${refcnt:-?}"
	fi
	check "sample consumer unloads" \
		test "$(fact "$log" aux.unload)" = 0 -a "$(fact "$log" aux.after_unload)" = absent
}

check_unload() {
	check "$1: xe unloads" test "$(fact "$2" xe.load)" = 0 -a \
		"$(fact "$2" xe.unload)" = 0 -a "$(fact "$2" xe.after_unload)" = absent
}

# check_dmesg LOG WHAT - no bad line before the probes' marker; the taint.
check_dmesg() {
	local log=$1 what=$2 bad taint
	guest_dmesg "$log" >"$log.dmesg"
	bad=$(sed '/xeq: probes/,$d' "$log.dmesg" | grep -E "$BAD_DMESG" || true)
	if [ -z "$bad" ]; then
		ok "$what: kernel log has no WARN/BUG/lockdep/Unknown symbol/version disagreement"
	else
		fail "$what: kernel log:"
		printf '     %s\n' "$bad" | head -n 20
	fi
	taint=$(fact "$log" taint.modules)
	check "$what: taint $taint = only the expected out-of-tree/unsigned bits (xe: '$(fact "$log" xe.taint)')" \
		test -n "$taint" -a $((taint & ~TAINT_OK)) -eq 0
}

# module_layout_crc KERNEL - the CRC modversions compares first: a module
# whose CRC differs from the running kernel's is refused.
module_layout_crc() {
	awk '$2 == "module_layout" { print $1 }' "$(headers_dir "$1")/Module.symvers" 2>/dev/null
}

# choose_other_kernel - the newest 6.12 kernel older than KVER whose
# module_layout CRC differs from KVER's (Debian's stable updates often keep
# the CRC, and then the kernel rightly takes the module): the refusal check
# needs a kernel that must refuse. Installs the candidates' headers (test
# dependencies) until one differs.
choose_other_kernel() {
	local series own k
	series=$(series_of_kernel "$KVER")
	own=$(module_layout_crc "$KVER")
	while read -r k; do
		need_packages "linux-headers-$k"
		[ "$(module_layout_crc "$k")" != "$own" ] && { echo "$k"; return 0; }
	done < <(apt-cache search --names-only "^linux-headers-${series//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64\$" |
		awk '{ sub(/^linux-headers-/, "", $1); print $1 }' | sort -rV |
		awk -v k="$KVER" 'seen { print } $0 == k { seen = 1 }')
	return 1
}

# other_in_chroot - the caller's OTHER_KVER, kept when its module_layout CRC
# differs from KVER's (else no kernel would refuse the probe).
other_in_chroot() {
	[ -n "$OTHER_KVER" ] || return 0
	[ "$(module_layout_crc "$OTHER_KVER")" != "$(module_layout_crc "$KVER")" ] && return 0
	log "$OTHER_KVER has the module_layout CRC of $KVER (or neither has one, as 7.x): no refusal to test with it"
	OTHER_KVER=''
}

series_of_kernel() {
	echo "$1" | cut -d. -f1-2
}

# check_probes LOG - the probe built for the guest kernel loads; the one
# built for OTHER_KVER is refused, with the kernel saying why.
check_probes() {
	local log=$1 reason
	check "probe module built for $KVER loads (control)" \
		test "$(fact "$log" probe.own.load)" = 0
	if [ -z "$OTHER_KVER" ]; then
		skip "refusal of a module built for another kernel" \
			"no older kernel of the archive has another module_layout CRC than $KVER"
		return 0
	fi
	reason=$(sed -n '/xeq: probes/,$p' "$log.dmesg" |
		grep -E -m 1 'xe_qemu_probe: (disagrees about version of symbol|version magic)' |
		sed 's/^\[[^]]*\] //' || true)
	if [ "$(fact "$log" probe.other.load)" != 0 ] && [ -n "$reason" ]; then
		ok "module built for $OTHER_KVER refused: $reason"
	else
		fail "module built for $OTHER_KVER: insmod exit $(fact "$log" probe.other.load), reason '${reason:-none in dmesg}'"
	fi
}

# --- the boots ------------------------------------------------------------------

# boot_own - our initramfs: the image's modules for xe, the built xe in
# updates/dkms, the sample consumer, the probes.
boot_own() {
	local root=$OUT/initramfs aux_name='' mods log=$OUT/guest.log control=''
	local probe_own probe_other probes names=(xe)
	probe_own=$(build_probe "$KVER")
	probe_other=''
	[ -z "$OTHER_KVER" ] || probe_other=$(build_probe "$OTHER_KVER")
	rm -rf "$root"
	install_busybox "$root"
	install_kmod "$root"
	if [ -f "$XE_KO" ]; then
		stage_xe "$root/lib/modules/$KVER/updates/dkms"
		mapfile -t -O 1 names < <(depends_of "$XE_KO")
		control=$INTREE_XE
		install_load_rule "$root"
	fi
	if [ -n "$AUX_KO" ]; then
		cp "$AUX_KO" "$root/lib/modules/$KVER/updates/dkms/"
		aux_name=$(basename "$AUX_KO" .ko)
		mapfile -t -O "${#names[@]}" names < <(depends_of "$AUX_KO")
	fi
	mapfile -t mods < <(closure "${names[@]}")
	install_modules "$root" "${mods[@]}"
	mkdir -p "$root/root"
	cp "$probe_own" "$root/root/probe-own.ko"
	probes="own:/root/probe-own.ko"
	if [ -n "$probe_other" ]; then
		cp "$probe_other" "$root/root/probe-other.ko"
		probes="$probes other:/root/probe-other.ko"
	fi
	write_guest "$root" "$control" "$aux_name" "$probes"
	run_logged "$OUT/logs/depmod-initramfs.log" "depmod of the initramfs" \
		depmod -b "$root" -e -E "$(headers_dir "$KVER")/Module.symvers" "$KVER"
	if [ ! -s "$OUT/logs/depmod-initramfs.log" ]; then
		ok "depmod: every symbol of the initramfs modules resolves, CRCs agree (${#mods[@]} image modules)"
	else
		fail "depmod of the initramfs (log: $OUT/logs/depmod-initramfs.log):"
		head -n 5 "$OUT/logs/depmod-initramfs.log" | sed 's/^/     /'
	fi
	make_cpio "$root" "$OUT/initramfs.cpio"
	log "booting $KVER in qemu (TCG) with $(du -h "$OUT/initramfs.cpio" | cut -f1) initramfs"
	boot "$log" "$OUT/initramfs.cpio" || log "qemu exited with $?"
	check_booted "$log" own || return 0
	if [ -f "$XE_KO" ]; then
		check_control "$log"
		check_ours "$log" own "$XE_KO"
		check "own: modprobe xe went through the package's install rule ($(fact "$log" xe.rule) rule), no fallback line" \
			test "$(fact "$log" xe.rule)" = 1 -a -z "$(fallback_line "$log")"
	else
		fail "built xe: $XE_KO missing (make module KVER=$KVER)"
		check "in-tree xe loads with no device" test "$(fact "$log" xe.load)" = 0
	fi
	if [ -n "$AUX_KO" ]; then check_aux "$log"; fi
	check_unload own "$log"
	check_dmesg "$log" own
	check_probes "$log"
	log "wall time of the boot: $(tail -n 1 "$log" | cut -d' ' -f1) s"
}

# fallback_line LOG - the load fallback's line in the guest's kernel log.
fallback_line() {
	guest_dmesg "$1" | sed -n 's/^\[[^]]*\] //; /^xe-vm-export: xe of /p' | head -n 1
}

# check_fallback LOG MODE REASON - MODE's boot: the kernel's own xe loaded
# instead of ours (none with MODE fallback-none), with the option given to
# modprobe; the line names REASON (an extended regex) and its fix.
check_fallback() {
	local log=$1 mode=$2 reason=$3 line intree=/lib/modules/$KVER/$INTREE_XE
	line=$(fallback_line "$log")
	check "$mode: the package's install rule is in effect ($(fact "$log" xe.rule))" \
		test "$(fact "$log" xe.rule)" = 1
	check "$mode: ours refused: '$(fact "$log" fallback.reason)' (want /$reason/)" \
		grep -Eq "$reason" <<<"$(fact "$log" fallback.reason)"
	if [ "$mode" = fallback-none ]; then
		check "$mode: modprobe xe fails, nothing loaded (exit $(fact "$log" xe.load), $(fact "$log" xe.initstate))" \
			test "$(fact "$log" xe.load)" != 0 -a "$(fact "$log" xe.initstate)" = absent
		check "$mode: state file says none loaded ($(fact "$log" fallback.loaded))" \
			test "$(fact "$log" fallback.loaded)" = none
		check "$mode: kernel log line: ${line:-none}" \
			grep -qF "did not load ($(fact "$log" fallback.reason)) and $KVER has no xe of its own: no xe is loaded; to use ours, " <<<"$line"
		return 0
	fi
	check "$mode: modprobe xe exits 0, xe live (exit $(fact "$log" xe.load), $(fact "$log" xe.initstate))" \
		test "$(fact "$log" xe.load)" = 0 -a "$(fact "$log" xe.initstate)" = live
	check "$mode: the loaded xe is the kernel's own (no version: '$(fact "$log" xe.version)', taint '$(fact "$log" xe.taint)'; ours is $(modinfo -F version "$XE_KO"))" \
		test -z "$(fact "$log" xe.version)" -a -z "$(fact "$log" xe.taint)" -a -n "$(modinfo -F version "$XE_KO")"
	check "$mode: state file names it ($(fact "$log" fallback.loaded))" \
		test "$(fact "$log" fallback.loaded)" = "$intree"
	check "$mode: it got modprobe's option guc_log_level=5 (got '$(fact "$log" xe.option)')" \
		test "$(fact "$log" xe.option)" = 5
	check "$mode: kernel log line: ${line:-none}" \
		grep -qF "did not load ($(fact "$log" fallback.reason)); loaded the kernel's own xe ($intree) instead, without VM export; to use ours, " <<<"$line"
	if [ "$mode" = fallback-sig ]; then
		check "$mode: the fix is the MOK enrolment of DKMS's key" \
			grep -q "mokutil --import /var/lib/dkms/mok.pub" <<<"$line"
	fi
	check "$mode: modprobe -r xe unloads it" \
		test "$(fact "$log" xe.unload)" = 0 -a "$(fact "$log" xe.after_unload)" = absent
}

# boot_fallback MODE REASON [PARAMS] - boot_own's initramfs in a load
# fallback scenario (guest-init.sh's xeq_mode).
boot_fallback() {
	local mode=$1 reason=$2 params=${3:-} log=$OUT/guest-$1.log
	[ -f "$XE_KO" ] && [ -f "$OUT/initramfs.cpio" ] || return 0
	log "booting $KVER: $mode${params:+ ($params)}"
	boot "$log" "$OUT/initramfs.cpio" "xeq_mode=$mode${params:+ $params}" || log "qemu exited with $?"
	check_booted "$log" "$mode" || return 0
	check_fallback "$log" "$mode" "$reason"
	guest_dmesg "$log" >"$log.dmesg"
	log "$mode: wall time of the boot: $(tail -n 1 "$log" | cut -d' ' -f1) s"
}

# check_firmware - xe-vm-export-firmware (the package's firmware check, for
# verify) on a root made here from the built xe's firmware list: all
# present; one hidden from /lib/firmware; an initramfs holding xe without
# another one. --all: every platform, whatever device this host has.
check_firmware() {
	local root=$OUT/fwroot tool=$TOP/debian/scripts/xe-vm-export-firmware
	local names n hide gone out rc=0
	mapfile -t names < <(modinfo -F firmware "$XE_KO" | sort -u)
	if [ ${#names[@]} -lt 2 ]; then
		fail "firmware: the built xe requests ${#names[@]} files"
		return 0
	fi
	hide=${names[0]} gone=${names[1]}
	rm -rf "$root"
	for n in "${names[@]}"; do
		install -D /dev/null "$root/lib/firmware/$n"
	done
	out=$("$tool" --all --root "$root" --module "$XE_KO" "$KVER") || rc=$?
	check "firmware: all ${#names[@]} files the built xe requests present: exit $rc, $(tail -n 1 <<<"$out")" \
		test "$rc" -eq 0 -a "$(grep -c '^present ' <<<"$out")" -eq "${#names[@]}"
	rm "$root/lib/firmware/$hide"
	rc=0
	out=$("$tool" --all --root "$root" --module "$XE_KO" "$KVER") || rc=$?
	check "firmware: $hide hidden: exit $rc, '$(grep '^missing ' <<<"$out" | paste -sd ' ')'" \
		test "$rc" -eq 1 -a "$(grep '^missing ' <<<"$out")" = "missing $hide"
	install -D /dev/null "$root/lib/firmware/$hide"
	mkdir -p "$root/img/lib/modules/$KVER/updates/dkms" "$root/boot"
	: >"$root/img/lib/modules/$KVER/updates/dkms/xe.ko"
	mkdir -p "$root/img/usr/lib"
	cp -r "$root/lib/firmware" "$root/img/usr/lib/"
	rm "$root/img/usr/lib/firmware/$gone"
	make_cpio "$root/img" "$root/boot/initrd.img-$KVER"
	rc=0
	out=$("$tool" --all --root "$root" --module "$XE_KO" "$KVER") || rc=$?
	check "firmware: the initramfs holds xe but not $gone: exit $rc, '$(grep '^not-in-initramfs ' <<<"$out" | paste -sd ' ')'" \
		test "$rc" -eq 1 -a "$(grep -v '^present ' <<<"$out" | head -n 1)" = "not-in-initramfs $gone"
}

# find_pkg_root - PKG_ROOT, else the packaging test's export for us, else a
# root it kept (KEEP_ROOT=1) that holds an initramfs and an installed xe.
find_pkg_root() {
	local d
	for d in ${PKG_ROOT:+"$PKG_ROOT"} "$TEST_CACHE/packaging/qemu" \
		"$TEST_CACHE"/packaging/roots/*; do
		if [ -f "$d/boot/initrd.img-$KVER" ] &&
			[ -d "$d/lib/modules/$KVER/updates/dkms" ]; then
			PKG_ROOT=$d
			return 0
		fi
	done
	PKG_ROOT=${PKG_ROOT:-$TEST_CACHE/packaging/qemu}
}

# pkg_xe - the xe the package installed in PKG_ROOT.
pkg_xe() {
	local dir=$PKG_ROOT/lib/modules/$KVER/updates/dkms
	[ -d "$dir" ] || return 0
	find "$dir" -name 'xe.ko*' | head -n 1
}

# boot_package - the packaging test's own initramfs for KVER, with our /init
# appended as a second archive (the kernel unpacks both, ours last, so our
# /init replaces initramfs-tools' one; modules and modprobe are the package
# initramfs's own).
boot_package() {
	local initrd root=$OUT/overlay
	local log=$OUT/guest-package.log ko
	find_pkg_root
	initrd=$PKG_ROOT/boot/initrd.img-$KVER
	ko=$(pkg_xe)
	if [ ! -f "$initrd" ] || [ -z "$ko" ]; then
		skip "boot of the package's initramfs" \
			"no $initrd or its updates/dkms/xe.ko* in $PKG_ROOT (made by make check-packages' Debian 12 lifecycle)"
		return 0
	fi
	rm -rf "$root"
	mkdir -p "$root"
	write_guest "$root" "" "" ""
	# The initramfs's own modprobe is used: only the shell comes from here.
	install_busybox "$root"
	make_cpio "$root" "$OUT/overlay.cpio"
	decompress_initrd "$initrd" "$OUT/initrd-package.img"
	cat "$OUT/overlay.cpio" >>"$OUT/initrd-package.img"
	log "booting $KVER with the package's initramfs"
	boot "$log" "$OUT/initrd-package.img" || log "qemu exited with $?"
	check_booted "$log" package || return 0
	if grep -q 'not found' <<<"$(fact "$log" xe.resolves)"; then
		fail "package initramfs: holds no xe ($(fact "$log" xe.resolves))"
		return 0
	fi
	check_ours "$log" package "$ko"
	check_unload package "$log"
	check_dmesg "$log" package
}

main() {
	local start=$SECONDS
	need_packages qemu-system-x86 busybox-static cpio kmod xz-utils zstd binutils
	if [ -n "${QEMU_CHROOT:-}" ]; then
		other_in_chroot
	elif [ -z "$OTHER_KVER" ]; then
		need_packages "linux-headers-$KVER"
		OTHER_KVER=$(choose_other_kernel) || OTHER_KVER=''
	else
		need_packages "linux-headers-$KVER" "linux-headers-$OTHER_KVER"
	fi
	[ -z "$OTHER_KVER" ] ||
		log "refusal check: a module built for $OTHER_KVER (module_layout $(module_layout_crc "$OTHER_KVER"), guest $(module_layout_crc "$KVER"))"
	mkdir -p "$OUT/logs" "$QCACHE"
	rm -f "$OUT"/guest*.log*
	fetch_image
	if [ -z "$AUX_KO" ] && [ -f "$XE_KO" ] && [ -d "$AUX_SRC" ]; then
		if AUX_KO=$(build_aux) && [ -n "$AUX_KO" ]; then
			ok "sample consumer builds against the built xe's Module.symvers"
		else
			fail "sample consumer does not build against $(dirname "$XE_KO")/Module.symvers (log: $OUT/logs/aux.log)"
			AUX_KO=''
		fi
	fi
	boot_own
	boot_fallback fallback-sig 'Key was rejected by service' module.sig_enforce=1
	boot_fallback fallback-corrupt 'Exec format error|Invalid'
	boot_fallback fallback-none 'Key was rejected by service' module.sig_enforce=1
	boot_package
	[ ! -f "$XE_KO" ] || check_firmware
	log "done in $((SECONDS - start)) s"
	if summary_with_skips; then
		rm -f "$OUT"/guest*.log*
		return 0
	fi
	log "guest logs kept: $(echo "$OUT"/guest*.log)"
	return 1
}

main "$@"
