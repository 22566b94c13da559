# SPDX-License-Identifier: GPL-2.0-only
#
# make check-secureboot: OVMF Secure Boot (Microsoft keys) -> Debian's signed
# shim, grub and kernel under qemu (TCG), a MOK enrolled through the
# variable store: ours signed by a key that is not enrolled falls back to
# the kernel's own xe with the mokutil line, ours signed by the MOK loads
# (tests/secureboot/run.sh). Builds build/<kernel>/xe.ko as check-qemu
# does. Part of `make check` (per push): the boot takes about a minute
# under TCG, 73-87 s for the whole check.

HELP_LINES += "make check-secureboot         Secure Boot boot chain in qemu: MOK-signed xe loads, unenrolled falls back"

CHECKS += check-secureboot

.PHONY: check-secureboot

check-secureboot:
	$(QEMU_BUILT_XE) && \
	QEMU_KVER=$$kver XE_KO=$$xe tests/secureboot/run.sh
