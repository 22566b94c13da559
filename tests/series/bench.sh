#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Part of `make bench`: per 7.x series, in the Debian 13 root of
# tests/series/run.sh, the provider's time (fresh extraction, cached), the
# full build time and the installed module's size against the in-tree
# xe.ko.xz of the same kernel. The 6.12 figures are tests/bench/run.sh's.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
if ! grep -qs '^root_kernels()' "$top/tests/packaging/root.sh"; then
	echo "7.x series: not measured (tests/packaging/root.sh has no Debian 13 roots yet)"
	exit 0
fi
series=$(sed -n 's/^Series:[[:space:]]*//p' "$top/META" | tr ' ' '\n' | grep '^7\.' | tr '\n' ' ')
# A cold build, so the time is the full one.
rm -rf "$top"/build/cache/build/7.*
XE_SERIES=$series XE_SERIES_BENCH=1 XE_SERIES_QEMU=0 "$top/tests/series/run.sh" |
	grep -E 'ms\)|bytes|full build|took|^FAIL'
