#!/bin/sh
# kernel-install plugin of xe-vm-export-dkms, installed as
# /usr/lib/kernel/install.d/45-xe-vm-export.install ($1: add or remove,
# $2: the kernel's release). It sorts after dkms's 40-dkms.install (which
# leaves xe alone: dkms.conf has no AUTOINSTALL) and before dracut's
# 50-dracut.install, so the initramfs made next holds the new xe.
# Never fails, and never exits 77 (kernel-install's "stop here").
helper=/usr/libexec/xe-vm-export/xe-vm-export-dkms
[ -x "$helper" ] && [ -n "${2:-}" ] || exit 0
case "$1" in
add) "$helper" build "$2" || true ;;
remove) "$helper" prune "$2" || true ;;
esac
exit 0
