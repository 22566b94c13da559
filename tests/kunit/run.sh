#!/bin/bash
# make check-kunit: the project's KUnit suites inside the patched xe, run in
# a KUnit test kernel under qemu (TCG), with lockdep and KASAN watching.
#
#  1. build or reuse the test kernel              (build-kernel.sh)
#  2. build the patched xe and xe_test.ko against it (make -C src module),
#     the feature's files with GCOV_PROFILE
#  3. a busybox initramfs: the modules and their dependencies, an /init that
#     loads them (KUnit runs a module's suites when it loads), dumps the gcov
#     data on the second serial port and reboots
#  4. boot it; the console goes to build/kunit/console.log
#  5. judge: failed cases, splats, missing suites or cases; coverage
#
# Environment: TEST_CACHE, KUNIT_JOBS, KUNIT_FLAVOUR (see kunit-lib.sh; a
#   kernel without gcov reports no coverage);
#   KUNIT_TIMEOUT=SECONDS     limit of the qemu run (default 900)
#   KUNIT_MEM=SIZE            guest memory (default 2G)
#   KUNIT_STRESS_RUNS=N       runs in a row of the stress case (default 1)
#   COVERAGE_MIN=PERCENT      least line coverage of the feature (default 90)
#   KUNIT_BOOT_ARGS=ARGS      more kernel command line (kunit.filter_glob=...)
# Exit: 0 all passed, 1 anything failed.
# tests/kunit/bench.sh sources this file for its functions (main runs only
# when the file is executed).
set -euo pipefail

TEST_NAME=kunit
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/kunit/kunit-lib.sh
. "$TOP/tests/kunit/kunit-lib.sh"

OUT=$TOP/build/kunit$KUNIT_SUFFIX
RUN=$TEST_CACHE/kunit-run$KUNIT_SUFFIX
KUNIT_TIMEOUT=${KUNIT_TIMEOUT:-900}
KUNIT_MEM=${KUNIT_MEM:-2G}
KUNIT_STRESS_RUNS=${KUNIT_STRESS_RUNS:-1}
KUNIT_BOOT_ARGS=${KUNIT_BOOT_ARGS:-}
PROVIDER=$TOP/src/scripts/xe-vm-export-source
# Where the provider keeps xe bases and work trees for the test kernel.
XE_CACHE=$TEST_CACHE/kunit-xe$KUNIT_SUFFIX

# --- 1. the kernel ------------------------------------------------------------

build_kernel() {
	KCACHE=$("$KUNIT_DIR/build-kernel.sh")
	KVER=$(kunit_kernel_release "$KCACHE/obj")
	MODDIR=$KCACHE/modules/$KVER
}

# --- 2. the module under test ---------------------------------------------------

# feature_sources - the feature's own units, whose coverage is reported.
# The trace unit is left out: it is the tracepoint boilerplate
# CREATE_TRACE_POINTS generates, not the feature's logic.
feature_sources() {
	local f
	for f in "$TOP"/src/kernel/xe_vm_export*.c; do
		[ -f "$f" ] || continue
		case $f in *_trace.c) continue ;; esac
		basename "$f"
	done
}

# build_xe - the patched xe and its KUnit test module (xe's own mock
# suites and the project's) against the test kernel, as DKMS would build
# it, the feature's files with gcov when the kernel has it; sets XE_KO,
# XE_TEST_KO and XE_WORK (the build tree).
build_xe() {
	local out=$XE_CACHE/out/$KVER gcov=() f
	[ -x "$PROVIDER" ] || die "no source provider at $PROVIDER: nothing to build xe with"
	if kunit_has_config "$KCACHE/obj" GCOV_KERNEL; then
		for f in $(feature_sources); do
			gcov+=("GCOV_PROFILE_${f%.c}.o=y")
		done
	fi
	rm -rf "$out"
	run_logged "$OUT/xe-build.log" "building the patched xe for $KVER (gcov: ${gcov[*]:-none})" \
		nice -n 10 make -C "$TOP/src" -j"$KUNIT_JOBS" KVER="$KVER" OUT="$out" \
		MODULES_DIR="$KCACHE/modules" CACHE="$XE_CACHE" module "${gcov[@]}"
	XE_KO=$out/xe.ko
	XE_TEST_KO=$out/xe_test.ko
	XE_WORK=$(XE_VM_EXPORT_MODULES_DIR="$KCACHE/modules" XE_VM_EXPORT_CACHE="$XE_CACHE" \
		"$PROVIDER" workdir "$KVER")/drivers/gpu/drm/xe
	[ -f "$XE_TEST_KO" ] || die "the xe build made no tests/xe_test.ko (is DRM_XE_KUNIT_TEST=m seen by the build?)"
}

# --- 3. the initramfs -------------------------------------------------------------

# stage_modules ROOT - the test kernel's modules with xe replaced by the one
# under test; writes ROOT/modules.load, the load order of xe and xe_test
# with their dependencies.
stage_modules() {
	local root=$1 lib=$1/lib/modules/$KVER m
	mkdir -p "$lib"
	cp -a "$MODDIR/kernel" "$MODDIR"/modules.order "$MODDIR"/modules.builtin* "$lib/"
	rm -rf "$lib/kernel/drivers/gpu/drm/xe"
	mkdir -p "$lib/updates"
	for m in "$XE_KO" "$XE_TEST_KO"; do
		strip --strip-debug -o "$lib/updates/$(basename "$m")" "$m"
	done
	depmod -b "$root" "$KVER"
	for m in xe xe_test; do
		modprobe -d "$root" -S "$KVER" --show-depends "$m"
	done | awk -v root="$root" '$1 == "insmod" && !seen[$2]++ {
		print substr($2, length(root) + 1) }' >"$root/modules.load"
	grep -q '/xe_test\.ko$' "$root/modules.load" ||
		die "xe_test.ko is not in the load list: $(tr '\n' ' ' <"$root/modules.load")"
}

# write_init ROOT - the guest's /init.
write_init() {
	cat >"$1/init" <<'EOF'
#!/bin/sh
# /init of the KUnit test initramfs (written by tests/kunit/run.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debug /sys/kernel/debug
echo "xe-kunit: init"
# KUnit runs the suites of a module while insmod loads it.
while read -r m; do
	args=
	# the project's suite is part of xe.ko (included by xe_vm_export.c)
	case $m in */xe.ko) args="xe_vm_export_stress_runs=$(cat /stress_runs)" ;; esac
	echo "xe-kunit: insmod $m $args"
	# shellcheck disable=SC2086 # args is a list of module parameters
	insmod "$m" $args || echo "xe-kunit: insmod $m failed ($?)"
done </modules.load
echo "xe-kunit: modules loaded"
# gcov data out on ttyS1, away from the console's printk traffic.
stty -F /dev/ttyS1 raw -echo
find /sys/kernel/debug/gcov -name '*.gcda' | while read -r f; do
	echo "==> ${f#/sys/kernel/debug/gcov}"
	base64 <"$f"
done >/dev/ttyS1
echo "xe-kunit: gcov files: $(find /sys/kernel/debug/gcov -name '*.gcda' | wc -l)"
echo "xe-kunit: done"
reboot -f
EOF
	chmod 755 "$1/init"
}

# make_initramfs - RUN/initramfs.cpio.gz from busybox, modules and /init.
make_initramfs() {
	local root=$RUN/root
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	stage_modules "$root"
	echo "$KUNIT_STRESS_RUNS" >"$root/stress_runs"
	write_init "$root"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$RUN/initramfs.cpio.gz"
}

# --- 4. the boot --------------------------------------------------------------------

boot() {
	rm -f "$OUT/console.log" "$OUT/gcov.dump"
	timeout -k 10 "$KUNIT_TIMEOUT" qemu-system-x86_64 \
		-accel tcg -smp 2 -m "$KUNIT_MEM" -nographic -no-reboot -monitor none \
		-kernel "$KCACHE/obj/arch/x86/boot/bzImage" -initrd "$RUN/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 kunit.stats_enabled=2${KUNIT_BOOT_ARGS:+ $KUNIT_BOOT_ARGS}" \
		-serial "file:$OUT/console.log" -serial "file:$OUT/gcov.dump"
}

# --- 5. judging --------------------------------------------------------------------

# project_tests - the project's test files (src/kernel/tests/*.c) as the
# build tree has them: what was built, even if src/ changed since.
project_tests() {
	local f
	for f in "$TOP"/src/kernel/tests/*.c; do
		[ -f "$f" ] && cat "$XE_WORK/tests/$(basename "$f")"
	done
	return 0
}

# project_suites - the suite names the project's test files declare.
project_suites() {
	project_tests |
		sed -n 's/^[[:space:]]*\.name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' | sort -u
}

# expected_cases - their KUNIT_CASE* entries: the cases the project's
# suites must report (parameters not expanded).
expected_cases() {
	project_tests | grep -v '^[[:space:]]*#[[:space:]]*define' |
		grep -cE '\<KUNIT_CASE[A-Z_]*\(' || true
}

# splats - lines of the console log that a checker or a crash printed.
splats() {
	sed 's/\r$//' "$OUT/console.log" | grep -E \
		'(BUG|WARNING|INFO): |UBSAN: |Oops|general protection fault|kernel BUG at|Kernel panic|DEBUG_LOCKS_WARN_ON|turning off the locking correctness validator|Call Trace:' ||
		true
}

# judge - fail on anything wrong; the KTAP totals go last.
judge() {
	local rec=$OUT/ktap.tsv s n want got missing=() splat
	awk -f "$KUNIT_DIR/ktap.awk" "$OUT/console.log" >"$rec"

	grep -q '^xe-kunit: done' <(tr -d '\r' <"$OUT/console.log") ||
		fail "the guest did not finish its run (crash, panic or timeout)"

	awk -F'\t' '$1 == "notok" { print "  " $2 "." $3 }' "$rec" >"$OUT/failed.txt"
	if [ -s "$OUT/failed.txt" ]; then
		fail "$(wc -l <"$OUT/failed.txt") KUnit case(s) failed:"
		cat "$OUT/failed.txt"
	else
		ok "no KUnit case failed"
	fi

	while IFS= read -r s; do
		grep -qP "^cases\t\Q$s\E\t" "$rec" || missing+=("$s")
	done < <(awk -F'\t' '$1 == "start" { print $2 }' "$rec")
	if [ ${#missing[@]} -gt 0 ]; then
		fail "suite(s) started but never finished: ${missing[*]}"
	fi

	splat=$(splats)
	if [ -n "$splat" ]; then
		fail "the kernel log has $(wc -l <<<"$splat") splat line(s) (lockdep/KASAN/WARN/BUG):"
		head -n 20 <<<"$splat"
	else
		ok "no lockdep, KASAN, WARN or BUG splat in the log"
	fi

	# A skipped case is not a passed one: only passes count.
	want=$(expected_cases)
	got=0
	missing=()
	for s in $(project_suites); do
		n=$(awk -F'\t' -v s="$s" '$1 == "cases" && $2 == s { p += $3; f = 1 }
			END { if (f) print p }' "$rec")
		if [ -z "$n" ]; then missing+=("$s"); else got=$((got + n)); fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		fail "project suite(s) with no results: ${missing[*]}"
	fi
	if [ "$want" -eq 0 ]; then
		fail "no KUNIT_CASE found in the project's test files as built ($XE_WORK/tests, from src/kernel/tests/*.c): zero cases declared is not a pass"
	elif [ "$got" -lt "$want" ]; then
		fail "project suites passed $got case(s), src/kernel/tests/*.c declare $want (skipped cases do not pass)"
	else
		ok "project suites passed $got case(s) of $want declared"
	fi
	PROJECT_CASES="$got/$want"
}

# coverage - line coverage of the feature's files from the guest's data.
coverage() {
	local srcs=() f
	if ! kunit_has_config "$KCACHE/obj" GCOV_KERNEL; then
		COVERAGE="n/a (the $KUNIT_FLAVOUR test kernel has no gcov)"
		return 0
	fi
	for f in $(feature_sources); do
		srcs+=("$XE_WORK/$f")
	done
	if [ ${#srcs[@]} -eq 0 ]; then
		COVERAGE="n/a (no src/kernel/xe_vm_export*.c)"
		return 0
	fi
	if "$KUNIT_DIR/coverage.sh" "$OUT/gcov.dump" "$OUT/coverage" "${srcs[@]}" >"$OUT/coverage.txt"; then
		ok "line coverage of ${#srcs[@]} feature file(s) at least ${COVERAGE_MIN:-90}%"
	else
		fail "line coverage of the feature's files below ${COVERAGE_MIN:-90}%, or data missing"
	fi
	sed 's/^/  /' "$OUT/coverage.txt"
	COVERAGE="$(tail -n 1 "$OUT/coverage.txt" | sed 's/^total: //') (required ${COVERAGE_MIN:-90}%; per file: $OUT/coverage.txt)"
}

# totals - the KTAP totals over all suites, the last thing printed.
totals() {
	awk -F'\t' -v cov="$COVERAGE" -v proj="$PROJECT_CASES" '
		$1 == "cases" { suites++; cases += $6 }
		$1 == "totals" { p += $3; f += $4; s += $5; t += $6 }
		END { printf "KTAP totals: %d suites, %d cases (%d with parameters): pass %d, fail %d, skip %d; project cases %s; coverage %s\n",
			suites, cases, t, p, f, s, proj, cov }' "$OUT/ktap.tsv"
}

main() {
	local start rc=0 status=0
	start=$(date +%s)
	need_packages qemu-system-x86 busybox-static cpio kmod gcc
	mkdir -p "$OUT" "$RUN"
	# One run at a time: runs share build/kunit and the initramfs.
	exec 8>"$RUN/lock"
	flock -n 8 || {
		log "waiting for another check-kunit run to finish"
		flock 8
	}
	log "phase 1/5: $KUNIT_FLAVOUR test kernel"
	build_kernel
	log "phase 2/5: the patched xe for $KVER"
	build_xe
	log "phase 3/5: initramfs"
	make_initramfs
	log "phase 4/5: booting $KVER in qemu (TCG, timeout ${KUNIT_TIMEOUT}s; log: $OUT/console.log)"
	boot || rc=$?
	case $rc in
	0) ;;
	124 | 137) fail "qemu timed out after ${KUNIT_TIMEOUT}s" ;;
	*) fail "qemu exited with $rc" ;;
	esac
	log "phase 5/5: results ($(($(date +%s) - start)) s so far)"
	judge
	coverage
	if [ "$FAILED" -gt 0 ]; then
		log "last lines of $OUT/console.log:"
		tr -d '\r' <"$OUT/console.log" | tail -n 40 >&2
		log "full log: $OUT/console.log"
	fi
	summary || status=1
	totals
	return "$status"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
