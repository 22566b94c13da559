# SPDX-License-Identifier: GPL-2.0-only
#
# The kernel series after 6.12 (src/patches/7.*), built for Debian's own
# kernels of the series in an isolated Debian 13 + trixie-backports root
# (tests/series/run.sh): provider, build and provenance, sparse/W=1 and
# checkpatch of that series, the sample consumer, Debian's kernel booted in
# qemu with ours and the sample consumer loaded. `make check-series`: the
# newest 7.2 kernel; `make check-series-full`: every 7.x series with a hook
# series. `make check-kunit-series`: check-kunit's suites on a KUnit test
# kernel built from linux-source-7.2 (tests/series/kunit.sh; XE_SERIES=7.3
# for the other). They belong to `make check-full`, not `make check`: a cold 7.x
# root and build add about a quarter of an hour, which a cold `make check`
# on two cores cannot take within its budget (README: what runs where).

SERIES_7 := $(filter 7.%,$(SERIES))

HELP_LINES += "make check-series             7.2: provider, build, provenance, sparse/W=1, checkpatch (Debian 13 root)"
HELP_LINES += "make check-series-full        the same for every 7.x series ($(SERIES_7))"
HELP_LINES += "make check-kunit-series       check-kunit on a test kernel from linux-source-7.2 (KASAN, lockdep)"

.PHONY: check-series check-series-full check-kunit-series
HEAVY_CHECKS += check-series-full check-kunit-series

check-series:
	tests/series/run.sh

# Through check-series, so that make check-full runs that target too.
check-series-full:
	$(MAKE) check-series XE_SERIES="$(SERIES_7)"

check-kunit-series:
	XE_TEST_CCACHE=0 tests/series/kunit.sh
