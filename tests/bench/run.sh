#!/bin/bash
# make bench: the figures of the DKMS build on this machine, measured, not
# asserted. Per test kernel: the provider's time (fresh extraction, cached),
# the full build time, the installed module's size (stripped and xz'd as DKMS
# installs it) against the in-tree xe.ko.xz, and the rebuild time after a
# change of the project's files only (the package-upgrade case). Then the
# other areas' bench scripts, when present.
#
# BENCH_QUICK=1 (make check-full's run): the newest kernel only, one boot of
# the KUnit bench, the packaging figures of the lifecycle that already ran.
set -euo pipefail

TEST_NAME=bench
# Build times are the figures: no compiler cache (tests/lib.sh), which would
# serve a second run's "full build" from the first.
export XE_TEST_CCACHE=0
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SOURCE_TREE=$TOP/src
WORK=$TOP/build/bench
read -r -a KERNELS <<<"$(test_kernels 2)"
if [ -n "${BENCH_QUICK:-}" ]; then
	KERNELS=("${KERNELS[-1]}")
	export KUNIT_BENCH_RUNS=${KUNIT_BENCH_RUNS:-1} BENCH_REUSE=${BENCH_REUSE:-1}
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }

# source_for KERNEL - an explicit source line for kernels whose
# linux-source is not the installed one (the provider test downloads it).
# src/Makefile takes the cache and sources on its command line only (the
# package's builds ignore the environment): build_in passes them there.
source_for() {
	local ver tarball

	ver=$(apt-cache show "linux-headers-$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	tarball=$TEST_CACHE/linux-source-$ver.tar.xz
	[ "$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null)" = "$ver" ] && return 0
	[ -f "$tarball" ] || die "no source for $1: run 'make check-provider' first (it downloads $tarball)"
	echo "$1 $tarball" >>"$XE_VM_EXPORT_SOURCES"
}

# build_in TREE KERNEL OUT - src/Makefile's build step in TREE, with this
# bench's provider cache and sources.
build_in() {
	make -C "$1" KVER="$2" OUT="$3" CACHE="$XE_VM_EXPORT_CACHE" \
		SOURCES="$XE_VM_EXPORT_SOURCES" build
}

# intree_size KERNEL - bytes of the kernel's own xe.ko.xz.
intree_size() {
	stat -c %s "/lib/modules/$1/kernel/drivers/gpu/drm/xe/xe.ko.xz"
}

bench_kernel() {
	local k=$1 t0 t1 ko size intree copy

	export XE_VM_EXPORT_CACHE=$WORK/$k/cache XE_VM_EXPORT_SOURCES=$WORK/$k/sources.conf
	rm -rf "${WORK:?}/$k"
	mkdir -p "$WORK/$k"
	: >"$XE_VM_EXPORT_SOURCES"
	source_for "$k"
	t0=$(now_ms)
	"$SOURCE_TREE/scripts/xe-vm-export-source" prepare "$k" >/dev/null 2>"$WORK/$k/prepare.log"
	t1=$(now_ms)
	echo "$k  provider, fresh extraction:       $(secs $((t1 - t0)))"
	t0=$(now_ms)
	"$SOURCE_TREE/scripts/xe-vm-export-source" prepare "$k" >/dev/null 2>>"$WORK/$k/prepare.log"
	t1=$(now_ms)
	echo "$k  provider, cached:                 $(secs $((t1 - t0)))"
	t0=$(now_ms)
	run_logged "$WORK/$k/build.log" "full build for $k" \
		build_in "$SOURCE_TREE" "$k" "$WORK/$k/out" >/dev/null 2>&1
	t1=$(now_ms)
	echo "$k  full build (prepared tree):       $(secs $((t1 - t0)))"
	ko=$WORK/$k/out/xe.ko
	echo "$k  unstripped module:                $(stat -c %s "$ko") bytes"
	cp "$ko" "$WORK/$k/installed.ko"
	strip -g "$WORK/$k/installed.ko"
	xz -f "$WORK/$k/installed.ko"
	size=$(stat -c %s "$WORK/$k/installed.ko.xz")
	intree=$(intree_size "$k")
	echo "$k  installed module (strip -g, xz):  $size bytes; in-tree xe.ko.xz $intree bytes; ratio $(awk -v a="$size" -v b="$intree" 'BEGIN { printf "%.3f", a / b }') (goal <= 1.050)"
	# The package-upgrade case: a new version whose own files changed.
	copy=$WORK/$k/tree
	cp -r "$SOURCE_TREE" "$copy"
	cp "$TOP/META" "$copy/"
	echo "/* bench: a project-only change */" >>"$copy/kernel/xe_vm_export_info.c"
	t0=$(now_ms)
	"$copy/scripts/xe-vm-export-source" prepare "$k" >/dev/null 2>>"$WORK/$k/prepare.log"
	build_in "$copy" "$k" "$WORK/$k/out2" >"$WORK/$k/rebuild.log" 2>&1
	t1=$(now_ms)
	echo "$k  rebuild after a project-only change: $(secs $((t1 - t0))) (goal <= 30 s)"
	rm -rf "$WORK/$k/cache/build" "$copy"
}

main() {
	local k other

	echo "bench on $(nproc) cores, $(date -u +%Y-%m-%d)"
	for k in "${KERNELS[@]}"; do
		bench_kernel "$k"
	done
	for other in "$TOP"/tests/*/bench.sh; do
		[ -x "$other" ] || continue
		echo "--- $other"
		"$other"
	done
}

main "$@"
