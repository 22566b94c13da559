# SPDX-License-Identifier: GPL-2.0-only
#
# make check-qemu: the built xe and the sample consumer loaded into Debian's
# own kernel under qemu (TCG), from a busybox initramfs made by the test
# (tests/qemu/run.sh). Reuses build/<kernel>/xe.ko while it is newer than
# the sources, else builds it with `make module`.

QEMU_KVER ?= $(lastword $(TEST_KERNELS))
QEMU_OTHER_KVER ?= $(firstword $(TEST_KERNELS))
QEMU_XE := $(BUILD)/$(QEMU_KVER)/xe.ko

CHECKS += check-qemu
HELP_LINES += "make check-qemu               built xe + sample consumer loaded into Debian 12 kernel in qemu"

.PHONY: check-qemu

check-qemu: $(QEMU_XE)
	QEMU_KVER=$(QEMU_KVER) QEMU_OTHER_KVER=$(QEMU_OTHER_KVER) XE_KO=$(QEMU_XE) \
		tests/qemu/run.sh

$(QEMU_XE): $(wildcard $(filter-out src/samples/%,$(shell git ls-files src)))
	$(MAKE) module KVER=$(QEMU_KVER)
