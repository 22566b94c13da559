#!/xeq/bin/sh
# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the qemu guest of `make check-qemu` (busybox ash, kmod's modprobe).
#
# It only reports facts; the host (tests/qemu/run.sh) decides what passes.
# Each fact is one console line "XEQ key=value"; the kernel log follows
# between "XEQ dmesg-begin" and "XEQ dmesg-end", then the guest powers off.
#
# What it does is set by /xeq/conf (shell variables, written by the host):
#   KVER      kernel release whose /lib/modules tree is used
#   CONTROL   in-tree xe path below /lib/modules/$KVER to insmod and remove
#             after the real test (empty: no control)
#   AUX       module name of the sample consumer (empty: none)
#   PROBES    "label:path ..." modules to insmod and remove, one by one
# The kernel command line's xeq_mode= chooses a load-fallback scenario
# instead of the cycle above (the package's `install xe` rule and its
# xe-vm-export-load are in the image): fallback-sig (booted with
# module.sig_enforce=1: ours, unsigned, is rejected as under Secure Boot),
# fallback-corrupt (ours truncated here first), fallback-none (as -sig, with
# the kernel's own xe deleted here first); secureboot (tests/secureboot:
# booted through shim and grub under Secure Boot: the lockdown and the
# kernel's key lists, fallback-sig with ours signed by a key that is not
# enrolled, then ours signed by the enrolled MOK, /root/xe-enrolled.ko).

PATH=/sbin:/usr/sbin:/xeq/bin:/bin:/usr/bin
export PATH

# Busybox's shell runs its own applets for bare names, so kmod's tools are
# called through their paths: the modprobe of a real system, not busybox's.
# They are all links to the kmod binary that /sbin/modprobe is (an
# initramfs-tools initramfs has no modinfo of its own).
find_kmod() {
	KMOD=/xeq/kmod
	mkdir -p "$KMOD"
	for d in /sbin /usr/sbin /bin /usr/bin; do
		if "$d/modprobe" -V 2>/dev/null | grep -q kmod; then
			kmod=$(readlink -f "$d/modprobe")
			for t in modprobe modinfo insmod rmmod; do
				ln -sf "$kmod" "$KMOD/$t"
			done
			return 0
		fi
	done
}
modprobe() { "$KMOD/modprobe" "$@"; }
modinfo() { "$KMOD/modinfo" "$@"; }
insmod() { "$KMOD/insmod" "$@"; }
rmmod() { "$KMOD/rmmod" "$@"; }

say() {
	echo "XEQ $*"
}

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

mount_pseudo() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
}

# module_state KEY NAME - initstate, version, srcversion, taint and users of
# the loaded module NAME, reported as KEY.*.
module_state() {
	m=/sys/module/$2
	say "$1.initstate=$(cat "$m/initstate" 2>/dev/null || echo absent)"
	say "$1.version=$(cat "$m/version" 2>/dev/null)"
	say "$1.srcversion=$(cat "$m/srcversion" 2>/dev/null)"
	say "$1.taint=$(cat "$m/taint" 2>/dev/null)"
	say "$1.refcnt=$(cat "$m/refcnt" 2>/dev/null)"
}

# file_facts KEY NAME - what modprobe would load for NAME and that file's
# identity, as the guest's own modules.dep resolves it, reported as KEY.*.
file_facts() {
	# --ignore-install: the file behind the package's `install xe` rule.
	say "$1.resolves=$(modprobe --ignore-install --show-depends "$2" 2>&1 | tail -n 1)"
	info=$(modinfo "$2" 2>/dev/null)
	for f in srcversion version vermagic xe_vm_export_series \
		xe_vm_export_base xe_vm_export_base_sha256 xe_vm_export_provider; do
		say "$1.file.$f=$(echo "$info" | sed -n "s/^$f: *//p" | head -n 1)"
	done
}

# control XE_PATH - the kernel's own xe, loaded by path: the baseline that
# tells a problem of ours from a problem of the setup. Its dependencies are
# still loaded when ours was unloaded with modprobe -r: loaded again here.
control() {
	f=/lib/modules/$KVER/$1
	# shellcheck disable=SC2046 # the dependency list is meant to split
	modprobe -a $(modinfo -F depends "$f" | tr , ' ')
	insmod "$f"
	say "control.load=$?"
	module_state control xe
	rmmod xe
	say "control.unload=$?"
}

xe_cycle() {
	say "xe.rule=$(modprobe -c | grep -c '^install xe ')"
	file_facts xe xe
	say "xe.modprobe_uptime=$(uptime_s)"
	modprobe xe
	say "xe.load=$?"
	say "xe.loaded_uptime=$(uptime_s)"
	module_state xe xe
	[ -n "$AUX" ] && aux_cycle "$AUX"
	modprobe -r xe
	say "xe.unload=$?"
	say "xe.after_unload=$(cat /sys/module/xe/initstate 2>/dev/null || echo absent)"
}

# fallback_cycle MODE - `modprobe xe` with an option, through the package's
# rule, when ours cannot load; what got loaded, the option it got, and the
# helper's state file; then `modprobe -r xe`.
FALLBACK_OPTION=guc_log_level=5
fallback_cycle() {
	ours=/lib/modules/$KVER/updates/dkms/xe.ko
	case $1 in
	fallback-corrupt)
		head -c 65536 "$ours" >/tmp/xe.ko && cat /tmp/xe.ko >"$ours"
		;;
	fallback-none)
		rm -f "/lib/modules/$KVER/kernel/drivers/gpu/drm/xe/xe.ko"
		;;
	esac
	say "xe.rule=$(modprobe -c | grep -c '^install xe ')"
	file_facts xe xe
	modprobe xe "$FALLBACK_OPTION" 2>/tmp/modprobe.err
	say "xe.load=$?"
	say "xe.stderr=$(tail -n 1 /tmp/modprobe.err)"
	module_state xe xe
	say "xe.option=$(cat "/sys/module/xe/parameters/${FALLBACK_OPTION%%=*}" 2>/dev/null)"
	while read -r line; do
		say "fallback.$line"
	done </run/xe-vm-export/fallback
	modprobe -r xe
	say "xe.unload=$?"
	say "xe.after_unload=$(cat /sys/module/xe/initstate 2>/dev/null || echo absent)"
}

# secureboot_cycle - what the Secure Boot test asks: the lockdown state,
# the machine, platform and secondary keyrings and every key (the host
# runs xe-vm-export-verify against them);
# ours signed by an unenrolled key falls back; ours signed by the enrolled
# MOK loads (facts mok.*).
secureboot_cycle() {
	mkdir -p /sys/kernel/security
	mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
	say "sb.lockdown=$(cat /sys/kernel/security/lockdown 2>/dev/null)"
	grep -E 'keyring +\.(machine|platform|secondary_trusted_keys):| asymmetri ' /proc/keys |
		while read -r line; do
			say "sb.key=$line"
		done
	fallback_cycle fallback-sig
	cat /root/xe-enrolled.ko >"/lib/modules/$KVER/updates/dkms/xe.ko"
	say "mok.signer=$(modinfo -F signer xe)"
	modprobe xe 2>/tmp/modprobe.err
	say "mok.load=$?"
	say "mok.stderr=$(tail -n 1 /tmp/modprobe.err)"
	module_state mok xe
	say "mok.fallback=$(tr '\n' ' ' </run/xe-vm-export/fallback 2>/dev/null)"
}

aux_cycle() {
	file_facts aux "$1"
	modprobe "$1"
	say "aux.load=$?"
	module_state aux "$1"
	say "aux.xe_refcnt=$(cat /sys/module/xe/refcnt 2>/dev/null)"
	modprobe -r "$1"
	say "aux.unload=$?"
	say "aux.after_unload=$(cat "/sys/module/$1/initstate" 2>/dev/null || echo absent)"
}

probe() {
	label=${1%%:*}
	path=${1#*:}
	insmod "$path" 2>/dev/null
	say "probe.$label.load=$?"
	rmmod xe_qemu_probe 2>/dev/null
}

main() {
	mount_pseudo
	say "init=$(uptime_s)"
	# shellcheck source=/dev/null
	. /xeq/conf
	find_kmod
	say "kernel=$(uname -r)"
	say "modprobe=$kmod: $(modprobe -V 2>&1 | head -n 1)"
	say "taint.start=$(cat /proc/sys/kernel/tainted)"
	mode=$(sed -n 's/.*xeq_mode=\([^ ]*\).*/\1/p' /proc/cmdline)
	if [ -n "$mode" ]; then
		say "mode=$mode"
		if [ "$mode" = secureboot ]; then
			secureboot_cycle
		else
			fallback_cycle "$mode"
		fi
		PROBES=''
	else
		# Ours first, so that xe.loaded_uptime is the boot-to-loaded time.
		xe_cycle
		[ -n "$CONTROL" ] && control "$CONTROL"
	fi
	say "taint.modules=$(cat /proc/sys/kernel/tainted)"
	# Everything the kernel logs after this line is about the probes, which
	# are meant to be refused.
	echo "xeq: probes" >/dev/kmsg
	for p in $PROBES; do
		probe "$p"
	done
	say "dmesg-begin"
	dmesg
	say "dmesg-end"
	say "end=$(uptime_s)"
	poweroff -f
}

main
