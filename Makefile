# xe-vm-export developer entry point. `make help` lists the targets.
#
# Everything the DKMS build does at install time is done here by the same
# programs (src/scripts/xe-vm-export-source, src/Makefile), with the cache
# pointed into build/ so nothing is written outside the repository. That
# cache is passed to src/Makefile on its command line, never exported: the
# package installed by `make install` keeps its state in /var/lib.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

meta = $(shell sed -n 's/^$(1):[[:space:]]*//p' META)
NAME := $(call meta,Name)
VERSION := $(call meta,Version)
SERIES := $(call meta,Series)

TOP := $(CURDIR)
BUILD := $(TOP)/build
DIST := $(TOP)/dist
TEST_CACHE ?= /var/cache/xe-vm-export-tests
export TEST_CACHE

# Where `make module` keeps extracted bases and per-kernel work trees.
MODULE_CACHE := $(BUILD)/cache

# Default kernel: the running one when it has headers and is supported,
# else the newest installed supported kernel.
KVER ?= $(shell src/scripts/xe-vm-export-source default-kernel 2>/dev/null)

# Checks run by `make check`, in order; the mk/ fragments append theirs.
CHECKS := check-provider check-static
# Heavier layers, run by `make check-full` after `make check` (README).
HEAVY_CHECKS :=

.PHONY: help install module dist check check-full bench report-reset $(CHECKS) $(HEAVY_CHECKS)

# The checks share dist/, build/ and the isolated roots of TEST_CACHE, and
# each uses both cores already: they run one after the other, in the order
# of CHECKS, also under `make -j` (which the builds inside them still use).
.NOTPARALLEL:

help:
	@echo "xe-vm-export $(VERSION): Intel xe with VM export, as a DKMS package"
	@echo
	@echo "  sudo make install             build the .debs and install them (DKMS builds every kernel)"
	@echo "  make module [KVER=<kernel>]   build xe.ko for one kernel -> build/<kernel>/xe.ko"
	@echo "                                (default kernel: $(or $(KVER),none found))"
	@echo "  make dist                     DKMS source tarball -> dist/$(NAME)-$(VERSION).tar.gz"
	@echo "  make check                    the tests CI runs (README's test command; installs test deps)"
	@echo "  make check-full               make check, then the heavier layers: $(HEAVY_CHECKS)"
	@echo "  make bench                    build time, module size, provider time"
	@echo "  make help                     this text"
	@printf '  %s\n' $(HELP_LINES)
	@echo
	@echo "  Variables: KVER=<kernel release>, TEST_CACHE=<dir> (now $(TEST_CACHE))"

install:
	mk/install.sh

module:
	@test -n "$(KVER)" || { echo "make module: no supported kernel with headers found; pass KVER=<release>" >&2; exit 2; }
	$(MAKE) -C src KVER=$(KVER) OUT=$(BUILD)/$(KVER) CACHE=$(MODULE_CACHE) module

DIST_FILES = $(shell git ls-files src tests/smoke) dkms.conf META
dist: $(DIST)/$(NAME)-$(VERSION).tar.gz
$(DIST)/$(NAME)-$(VERSION).tar.gz: $(DIST_FILES)
	tests/make-dist.sh "$@"

# The test areas' and packaging's fragments: each appends its check to
# CHECKS, so they are read before `check` expands it (and after `help`, which
# stays the default goal).
-include $(sort $(wildcard mk/*.mk))

# build/report: one line per test (checks passed, failed, skipped with
# why, seconds, compiler cache hits), written by each test's summary
# (tests/lib.sh); make check starts it afresh and prints it at the end.
REPORT := $(BUILD)/report

report-reset:
	@mkdir -p $(BUILD) && rm -f $(REPORT)

check: report-reset $(CHECKS)
	@. tests/lib.sh && report_print $(REPORT)
	@echo "make check: all checks passed ($(CHECKS)); report: $(REPORT)"

check-full: check $(HEAVY_CHECKS)
	@. tests/lib.sh && report_print $(REPORT)
	@echo "make check-full: all checks passed ($(CHECKS) $(HEAVY_CHECKS)); report: $(REPORT)"

check-static:
	tests/static/run.sh

check-provider:
	tests/provider/run.sh

bench:
	tests/bench/run.sh

