#!/bin/bash
# tests/targets/run.sh - `make check-targets` (part of make check-full):
# every target `make help` lists runs at least once in make check or make
# check-full. COVERED names where each one runs; a target that make help
# lists and COVERED does not is a failure (a new target nobody runs). The
# ones no other check runs run here: make help, make kmod-deb and make
# kmod-rpm (on check-qemu's module), make bench (BENCH_QUICK: one kernel,
# one boot of the KUnit bench; figures printed, not asserted) and make
# bench-kunit (one boot, its kernel built by make bench).
set -euo pipefail

TEST_NAME=check-targets
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

LOGS=$TOP/build/targets
declare -A COVERED=(
	[install]="check-packages: lifecycle make-install, in a fresh root"
	[module]="check-qemu, check-fleet"
	[dist]="check-packages (make deb)"
	[check]="CI (.ci/run)"
	[check-full]="itself"
	[bench]="check-targets"
	[help]="check-targets"
	[repo]="check-fleet"
	[check-fleet]="CI (.ci/run), check-full"
	[check-kunit]="check"
	[bench-kunit]="check-targets"
	[deb]="check-packages"
	[rpm]="check-packages"
	[kmod-deb]="check-targets"
	[kmod-rpm]="check-targets"
	[check-packages]="check"
	[check-packages-trixie]="check-full"
	[check-qemu]="check"
	[check-series]="check-full (check-series-full runs it)"
	[check-series-full]="check-full"
	[check-kunit-series]="check-full"
	[check-smoke]="check"
	[check-targets]="check-full"
	[check-secureboot]="check"
)

# help_targets - the targets make help lists, one a line.
help_targets() {
	make -s -C "$TOP" help | sed -n 's/^  \(sudo \)\{0,1\}make \([a-z0-9-]*\).*/\2/p'
}

check_help() {
	local t targets
	targets=$(help_targets)
	count_floor "targets listed by make help" "$(wc -l <<<"$targets")" 10
	for t in $targets; do
		if [ -n "${COVERED[$t]:-}" ]; then
			ok "make $t runs in: ${COVERED[$t]}"
		else
			fail "make $t is listed by make help but no check runs it (add it to a check and to COVERED)"
		fi
	done
}

# check_kmod KVER - make kmod-deb and make kmod-rpm on KVER's module.
check_kmod() {
	local k=$1 ko=$TOP/build/$1/xe.ko dist=$LOGS/dist
	[ -f "$ko" ] || run_logged "$LOGS/module.log" "make module KVER=$k" make -C "$TOP" module KVER="$k"
	rm -rf "$dist"
	if run_logged "$LOGS/kmod-deb.log" "make kmod-deb KVER=$k" \
		make -C "$TOP" kmod-deb KVER="$k" KO="$ko" DIST="$dist"; then
		check "make kmod-deb: a module package for $k" \
			test -n "$(compgen -G "$dist/*-modules-${k}_*.deb")"
	else
		fail "make kmod-deb KVER=$k"
	fi
	if run_logged "$LOGS/kmod-rpm.log" "make kmod-rpm KVER=$k" \
		make -C "$TOP" kmod-rpm KVER="$k" KO="$ko" DIST="$dist"; then
		check "make kmod-rpm: a module rpm for $k" \
			test -n "$(find "$dist" -name "kmod-*$k*.rpm" -print -quit)"
	else
		fail "make kmod-rpm KVER=$k"
	fi
}

check_bench() {
	if run_logged "$LOGS/bench.log" "make bench BENCH_QUICK=1" \
		make -C "$TOP" bench BENCH_QUICK=1; then
		check "make bench: build, size and provider figures printed" \
			grep -q 'full build (prepared tree):' "$LOGS/bench.log"
		grep -E ' s$| s \(| bytes|ratio|median' "$LOGS/bench.log" || true
	else
		fail "make bench BENCH_QUICK=1 (log: $LOGS/bench.log)"
	fi
	if run_logged "$LOGS/bench-kunit.log" "make bench-kunit KUNIT_BENCH_RUNS=1" \
		make -C "$TOP" bench-kunit KUNIT_BENCH_RUNS=1; then
		ok "make bench-kunit (one boot; figures in $LOGS/bench-kunit.log)"
	else
		fail "make bench-kunit (log: $LOGS/bench-kunit.log)"
	fi
}

main() {
	local kvers=()
	mkdir -p "$LOGS"
	check_help
	read -r -a kvers <<<"$(test_kernels 2)"
	check_kmod "${kvers[-1]}"
	check_bench
	summary
}

main "$@"
