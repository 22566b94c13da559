#!/bin/bash
# coverage.sh DUMP COVDIR SOURCE... - line coverage of SOURCEs from the gcov
# data the guest dumped.
#
# DUMP is what the guest's /init wrote to its second serial port: for each
# .gcda under /sys/kernel/debug/gcov, a line "==> PATH" (PATH is the object's
# path on the build host, where its .gcno still lies) and the file in base64.
# Writes COVDIR/*.gcov and prints, per SOURCE, its line coverage and the
# lines no test ran, then "total: P% (E of N lines)" last.
#
# Environment: COVERAGE_MIN=PERCENT, the least total line coverage that
# passes (default 90; integer).
# Exit: 0 reported and at least COVERAGE_MIN, 1 no data for some SOURCE or
# the total below COVERAGE_MIN.
set -euo pipefail

TEST_NAME=kunit-coverage
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# split_dump DUMP DIR - one DIR/N.b64 per dumped file, DIR/index maps N to
# the host path.
split_dump() {
	tr -d '\r' <"$1" | awk -v dir="$2" '
		/^==> / { if (out) close(out); n += 0; out = dir "/" n ".b64"
			  print n "\t" substr($0, 5) > (dir "/index"); n++; next }
		out { print > out }'
}

# decode DIR - each dumped .gcda next to a copy of its .gcno in DIR.
decode() {
	local dir=$1 n path stem
	[ -f "$dir/index" ] || return 0
	while IFS=$'\t' read -r n path; do
		stem=$(basename "$path" .gcda)
		base64 -d "$dir/$n.b64" >"$dir/$stem.gcda"
		cp "${path%.gcda}.gcno" "$dir/$stem.gcno" ||
			log "no $stem.gcno next to $path: was the module rebuilt after the run?"
	done <"$dir/index"
}

# ranges - "3,7-9" from line numbers on stdin, one per line.
ranges() {
	awk 'function flush() { if (s == "") return
			out = out (out == "" ? "" : ",") (s == p ? s : s "-" p) }
		{ if (s != "" && $1 == p + 1) { p = $1; next }
		  flush(); s = $1; p = $1 }
		END { flush(); print out }'
}

# report SOURCE - print SOURCE's coverage; add to the totals. gcov runs in
# COVDIR, with SOURCE linked there: since 6.13 kbuild compiles an external
# module from its own directory and the .gcno names the source relative to
# it (6.12's names it by its absolute path).
report() {
	local src=$1 stem gcov_file exec total
	stem=$(basename "$src" .c)
	ln -sfn "$src" "$COVDIR/$stem.c"
	if [ ! -f "$COVDIR/$stem.gcda" ]; then
		# A unit without functions (module info only) leaves no .gcda.
		if cp "${src%.c}.gcno" "$COVDIR/" 2>/dev/null &&
			(cd "$COVDIR" && gcov -n -o "$COVDIR" "$src" 2>&1) | grep -q 'No executable lines'; then
			printf '%s: no executable lines\n' "$stem.c"
			return 0
		fi
		printf '%s: no coverage data (not built with GCOV_PROFILE, or not loaded)\n' "$stem.c"
		MISSING=$((MISSING + 1))
		return 0
	fi
	(cd "$COVDIR" && gcov -o "$COVDIR" "$src" >"$COVDIR/$stem.gcov.log" 2>&1) ||
		die "gcov failed on $src: see $COVDIR/$stem.gcov.log"
	gcov_file=$COVDIR/$stem.c.gcov
	exec=$(grep -cE '^ *[0-9]+\*?:' "$gcov_file" || true)
	total=$((exec + $(grep -cE '^ *#####:' "$gcov_file" || true)))
	EXEC=$((EXEC + exec))
	TOTAL=$((TOTAL + total))
	printf '%s: %s%% of %d lines' "$stem.c" "$(percent "$exec" "$total")" "$total"
	if [ "$exec" -lt "$total" ]; then
		printf '; not run: lines %s' "$(sed -n 's/^ *#####: *\([0-9]*\):.*/\1/p' "$gcov_file" | ranges)"
	fi
	printf '\n'
}

# percent PART WHOLE - PART/WHOLE in percent with one decimal.
percent() {
	awk -v p="$1" -v w="$2" 'BEGIN { printf "%.1f", w ? 100 * p / w : 0 }'
}

main() {
	[ $# -ge 3 ] || die "usage: coverage.sh DUMP COVDIR SOURCE..."
	local dump=$1 src
	COVDIR=$2
	shift 2
	rm -rf "$COVDIR"
	mkdir -p "$COVDIR"
	[ -s "$dump" ] && split_dump "$dump" "$COVDIR"
	decode "$COVDIR"
	EXEC=0 TOTAL=0 MISSING=0
	COVERAGE_MIN=${COVERAGE_MIN:-90}
	case $COVERAGE_MIN in '' | *[!0-9]*) die "COVERAGE_MIN must be an integer percent" ;; esac
	for src in "$@"; do
		report "$src"
	done
	printf 'total: %s%% (%d of %d lines)\n' "$(percent "$EXEC" "$TOTAL")" "$EXEC" "$TOTAL"
	[ "$MISSING" -eq 0 ] || return 1
	if [ $((EXEC * 100)) -lt $((COVERAGE_MIN * TOTAL)) ] || [ "$TOTAL" -eq 0 ]; then
		log "line coverage $(percent "$EXEC" "$TOTAL")% is below the required ${COVERAGE_MIN}%"
		return 1
	fi
}

main "$@"
