#!/bin/bash
# bench.sh - packaging figures (make bench): package install to module
# ready for one kernel (DKMS, a full xe build), kernel upgrade build, package
# upgrade rebuild per kernel (from the provider's cache), rpm install for two
# kernels, kmod-deb install (goal: module ready in 10 s or less).
# The figures come from the lifecycle test, which is run unless
# BENCH_REUSE=1 and it has run already.
set -euo pipefail

TEST_NAME=bench-packaging
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

TIMINGS=$TEST_CACHE/packaging/timings

figure() { # LABEL TEXT [DIVISOR]
	local t
	t=$(awk -v l="$1" -v d="${3:-1}" '$1 == l { printf "%.1f", $2 / d }' "$TIMINGS")
	printf '  %-48s %8s s\n' "$2" "${t:-n/a}"
}

main() {
	if [ -z "${BENCH_REUSE:-}" ] || [ ! -s "$TIMINGS" ]; then
		"$(dirname "$0")/run.sh" lifecycle
	fi
	echo "packaging benchmarks (isolated Debian 12 root, $(nproc) cores):"
	figure install-dkms-one-kernel "deb install -> module ready, 1 kernel (DKMS)"
	figure kernel-upgrade-build "kernel upgrade -> module ready (headers hook)"
	figure package-upgrade-two-kernels "package upgrade rebuild, per kernel" 2
	figure rpm-install-two-kernels "rpm install, per kernel (cached trees)" 2
	figure kmod-deb-install "kmod-deb install -> module ready"
	local kmod
	kmod=$(awk '$1 == "kmod-deb-install" { print $2 }' "$TIMINGS")
	[ -n "$kmod" ] && awk -v t="$kmod" 'BEGIN { exit !(t <= 10) }' &&
		echo "  kmod-deb goal (<= 10 s): met" || echo "  kmod-deb goal (<= 10 s): NOT met"
}

main "$@"
