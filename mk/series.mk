# SPDX-License-Identifier: GPL-2.0-only
#
# The kernel series after 6.12 (src/patches/7.*), built for Debian's own
# kernels of the series in an isolated Debian 13 + trixie-backports root
# (tests/series/run.sh): provider, build and provenance, sparse/W=1 and
# checkpatch of that series, the sample consumer. Per push: the newest 7.2
# kernel. `make check-series-full` (part of `make check-full`): every 7.x
# series with a hook series.

SERIES_7 := $(filter 7.%,$(SERIES))

# The Debian 13 root comes from tests/packaging/root.sh's suite support
# (root_create NAME trixie backports, root_kernels); until that is on the
# branch, check-series stays out of `make check` and says why when run.
SERIES_ROOT_READY := $(shell grep -qs '^root_kernels()' tests/packaging/root.sh && echo yes)
ifeq ($(SERIES_ROOT_READY),yes)
CHECKS += check-series
endif
HELP_LINES += "make check-series             7.2: provider, build, provenance, sparse/W=1, checkpatch (Debian 13 root)"
HELP_LINES += "make check-series-full        the same for every 7.x series ($(SERIES_7))"

.PHONY: check-series check-series-full
HEAVY_CHECKS += check-series-full

check-series:
	tests/series/run.sh

check-series-full:
	XE_SERIES="$(SERIES_7)" tests/series/run.sh
