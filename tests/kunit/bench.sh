#!/bin/bash
# Part of `make bench` (tests/bench/run.sh runs every tests/*/bench.sh): the
# cost of the VM export ioctl path. The KUnit case xe_vm_export.bench (in
# src/kernel/tests/xe_vm_export_test.c) times cycles of export (the ioctl),
# import+put and release (close of the export fd) against a bare anonymous
# inode created and released (the baseline of the cost goal, <= 1.3x) and
# against the same behind an fd, which any fd-returning ioctl pays, in
# interleaved rounds, keeping each one's fastest round. It runs here in the bench test kernel (KUNIT_FLAVOUR=bench:
# kunit.config + bench.config, no KASAN, lockdep, gcov or KCSAN; cached apart
# from check-kunit's kernel), booted KUNIT_BENCH_RUNS times in qemu (TCG)
# with only that case selected. Prints every run's figures, then the median
# and spread of the ratio and, when the median is above the goal, the
# per-step breakdown.
#
# A benchmark: the goal is reported, not asserted. It fails when the case
# fails, a run crashes or prints no figures.
#
# Environment: TEST_CACHE, KUNIT_JOBS (kunit-lib.sh), KUNIT_TIMEOUT (run.sh);
#   KUNIT_BENCH_RUNS=N     boots of the bench case (default 5)
# Exit: 0 figures reported, 1 anything failed.
set -euo pipefail

export KUNIT_FLAVOUR=bench
KUNIT_BOOT_ARGS=kunit.filter_glob=xe_vm_export.bench
# shellcheck source=tests/kunit/run.sh
. "$(dirname "$0")/run.sh"
TEST_NAME=kunit-bench
KUNIT_TIMEOUT=${KUNIT_TIMEOUT:-300}
KUNIT_BENCH_RUNS=${KUNIT_BENCH_RUNS:-5}
# The cost goal of the issue, against the bare anonymous inode.
GOAL=1.3

# figures LOG - the bench case's per-cycle line of a console log as
# "baseline with_fd total export import release" (ns), nothing if absent.
figures() {
	local n='\([0-9][0-9]*\) ns'
	sed 's/\r$//' "$1" |
		sed -n "s/.*# bench: per cycle: baseline $n, with an fd $n; export+import+release $n: export $n, import+put $n, release $n\$/\\1 \\2 \\3 \\4 \\5 \\6/p" |
		tail -n 1
}

# case_passed LOG - the bench case, and only it, passed.
case_passed() {
	awk -f "$KUNIT_DIR/ktap.awk" "$1" >"$OUT/ktap.tsv"
	grep -qP '^cases\txe_vm_export\t1\t0\t0\t1$' "$OUT/ktap.tsv"
}

# bench_run N - boot once, judge, append the figures to $OUT/figures.
bench_run() {
	local n=$1 rc=0 log=$OUT/console.$1.log f splat
	boot || rc=$?
	cp "$OUT/console.log" "$log"
	[ "$rc" -eq 0 ] || die "run $n: qemu exited with $rc (log: $log)"
	grep -q '^xe-kunit: done' <(tr -d '\r' <"$log") ||
		die "run $n: the guest did not finish (log: $log)"
	case_passed "$log" || {
		tr -d '\r' <"$log" | grep -E 'bench|not ok|# ' | tail -n 20 >&2
		die "run $n: the bench case did not pass alone (log: $log)"
	}
	splat=$(splats)
	[ -z "$splat" ] || {
		head -n 20 <<<"$splat" >&2
		die "run $n: the kernel log has a splat (log: $log)"
	}
	f=$(figures "$log")
	[ -n "$f" ] || die "run $n: the bench case printed no figures (log: $log)"
	echo "$n $f" >>"$OUT/figures"
}

# report - every run, then median and spread, the breakdown if above goal.
report() {
	awk -v goal="$GOAL" '
		function median(a, n,    i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{
			n++
			r[n] = $4 / $2; rf[n] = $4 / $3
			b[n] = $2; bf[n] = $3; e[n] = $5; i[n] = $6; l[n] = $7
			printf "run %d: baseline %d ns, with an fd %d ns; export+import+release %d ns (export %d, import+put %d, release %d) per cycle; cost %.2fx the baseline (%.2fx the fd baseline)\n",
				$1, $2, $3, $4, $5, $6, $7, r[n], rf[n]
			if (n == 1 || r[n] < lo) lo = r[n]
			if (n == 1 || r[n] > hi) hi = r[n]
		}
		END {
			m = median(r, n)
			printf "ioctl path cost over %d runs: median %.2fx the anon-inode baseline (spread %.2f-%.2f), %.2fx the fd baseline; goal <= %.1fx: %s\n",
				n, m, lo, hi, median(rf, n), goal, m <= goal ? "met" : "NOT met"
			if (m > goal) {
				be = median(b, n); fe = median(bf, n)
				printf "breakdown (medians, ns per cycle): baseline %d, with an fd %d (+%d for the fd); export %d, import+put %d, release %d\n",
					be, fe, fe - be, median(e, n), median(i, n), median(l, n)
			}
		}' "$OUT/figures"
}

bench_main() {
	local n start
	start=$(date +%s)
	need_packages qemu-system-x86 busybox-static cpio kmod gcc
	mkdir -p "$OUT" "$RUN"
	exec 8>"$RUN/lock"
	flock 8
	log "the bench test kernel"
	build_kernel
	log "the patched xe for $KVER"
	build_xe
	make_initramfs
	: >"$OUT/figures"
	for n in $(seq 1 "$KUNIT_BENCH_RUNS"); do
		log "run $n/$KUNIT_BENCH_RUNS: booting $KVER in qemu (TCG) for xe_vm_export.bench"
		bench_run "$n"
	done
	echo "KUnit bench case, $KVER (no checkers), qemu TCG on $(nproc) host cores; logs in $OUT"
	report
	log "done in $(($(date +%s) - start)) s"
}

bench_main "$@"
