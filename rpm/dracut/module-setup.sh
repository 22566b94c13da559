#!/bin/bash
# dracut module of xe-vm-export (90xe-vm-export): dracut copies
# /usr/lib/modprobe.d, hence the `install xe` rule, into the initramfs; the
# rule's helper goes with it, with the kmod tools it calls, and the
# kernel's own xe with its dependencies, so that a boot whose xe is loaded
# from the initramfs falls back to it when ours cannot load.
# Called by dracut, which sets $kernel and provides inst_* and instmods.

check() {
	return 0
}

depends() {
	return 0
}

installkernel() {
	local f
	for f in "/lib/modules/${kernel:?}/kernel/drivers/gpu/drm/xe/xe.ko"*; do
		[ -f "$f" ] || continue
		inst_simple "$f"
		# shellcheck disable=SC2046 # the dependency list is meant to split
		hostonly='' instmods $(modinfo -F depends "$f" | tr ',' ' ')
	done
}

install() {
	inst_simple /usr/lib/xe-vm-export/xe-vm-export-load
	inst_multiple -o modprobe modinfo insmod uname
}
