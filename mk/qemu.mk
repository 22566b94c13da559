# SPDX-License-Identifier: GPL-2.0-only
#
# make check-qemu: the built xe and the sample consumer loaded into Debian's
# own kernel under qemu (TCG), from a busybox initramfs made by the test
# (tests/qemu/run.sh). Reuses build/<kernel>/xe.ko while it is newer than
# the sources, else builds it with `make module`. The kernels are chosen when
# the check runs, from what the archive offers (tests/lib.sh test_kernels):
# the newest is the guest; the other kernel of the refused probe is the
# newest older one whose module_layout CRC differs (tests/qemu/run.sh);
# QEMU_KVER= and QEMU_OTHER_KVER= choose others.

QEMU_KVER ?=
QEMU_OTHER_KVER ?=

CHECKS += check-qemu
HELP_LINES += "make check-qemu               built xe + sample consumer loaded into Debian 12 kernel in qemu"

.PHONY: check-qemu

# QEMU_BUILT_XE: the shell the qemu checks (check-qemu, check-secureboot)
# start with: the guest kernel in $kver (QEMU_KVER=, else the newest test
# kernel), its xe in $xe, built by `make module` when older than the sources.
QEMU_BUILT_XE = read -r -a kvers <<<"$$(. tests/lib.sh && test_kernels 2)" && \
	kver=$(or $(QEMU_KVER),$${kvers[-1]}) && \
	xe=$(BUILD)/$$kver/xe.ko && \
	if [ ! -f "$$xe" ] || [ -n "$$(find src -path src/samples -prune -o -newer "$$xe" -type f -print -quit)" ]; then \
		$(MAKE) module KVER=$$kver; fi

check-qemu:
	$(QEMU_BUILT_XE) && \
	QEMU_KVER=$$kver QEMU_OTHER_KVER=$(QEMU_OTHER_KVER) XE_KO=$$xe \
		tests/qemu/run.sh
