#!/bin/bash
# bench.sh - packaging figures (make bench), per suite (Debian 12, 13):
# package install to module ready for two kernels (DKMS, two full xe builds),
# dist-upgrade build, package upgrade rebuild per kernel (from the provider's
# cache), rpm install for two kernels, kmod-deb install (goal: module ready
# in 10 s or less).
# The figures come from the lifecycle test, which is run unless
# BENCH_REUSE=1 and it has run already.
set -euo pipefail

TEST_NAME=bench-packaging
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

TIMINGS=$TEST_CACHE/packaging/timings

figure() { # LABEL TEXT [DIVISOR-LABEL | DIVISOR]
	local t d=${3:-1}
	[[ $d =~ ^[0-9]+$ ]] || d=$(awk -v l="$SUITE/$d" '$1 == l { print $2 }' "$TIMINGS")
	t=$(awk -v l="$SUITE/$1" -v d="${d:-1}" '$1 == l { printf "%.1f", $2 / d }' "$TIMINGS")
	[ -z "$t" ] || printf '  %-48s %8s s\n' "$2" "$t"
}

suite_figures() {
	SUITE=$1
	echo "packaging benchmarks (isolated $SUITE root, $(nproc) cores):"
	figure total "whole lifecycle in the root"
	figure install-dkms-two-kernels "deb install -> module ready, per kernel (DKMS)" 2
	figure dist-upgrade-build "dist-upgrade -> module ready for the new kernel"
	figure package-upgrade "package upgrade rebuild, per kernel" package-upgrade-kernels
	figure rpm-install-two-kernels "rpm install, per kernel (cached trees)" 2
	figure make-install "make install (make deb + install + one build)"
	figure kmod-deb-install "kmod-deb install -> module ready"
}

main() {
	if [ -z "${BENCH_REUSE:-}" ] || [ ! -s "$TIMINGS" ]; then
		"$(dirname "$0")/run.sh" lifecycle
	fi
	local kmod suite
	for suite in bookworm trixie; do
		suite_figures "$suite"
	done
	kmod=$(awk '$1 == "bookworm/kmod-deb-install" { print $2 }' "$TIMINGS")
	[ -n "$kmod" ] && awk -v t="$kmod" 'BEGIN { exit !(t <= 10) }' &&
		echo "  kmod-deb goal (<= 10 s): met" || echo "  kmod-deb goal (<= 10 s): NOT met"
}

main "$@"
