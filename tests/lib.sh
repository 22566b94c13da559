# shellcheck shell=bash
# Shared helpers of the project's test scripts. Source it; it sets nothing
# but functions and the variables documented here.
#
#   TEST_CACHE  downloads, isolated roots and test kernels live here, outside
#               the repository (default /var/cache/xe-vm-export-tests).
#   TOP         the repository's top directory.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_CACHE=${TEST_CACHE:-/var/cache/xe-vm-export-tests}
export TOP TEST_CACHE

# log MSG... - progress line on stderr, prefixed with the calling test's name.
log() {
	printf '[%s] %s\n' "${TEST_NAME:-test}" "$*" >&2
}

# die MSG... - report and exit 1.
die() {
	printf '[%s] error: %s\n' "${TEST_NAME:-test}" "$*" >&2
	exit 1
}

# apt_update_waiting - apt-get update; apt waits for dpkg's lock
# (DPkg::Lock::Timeout) but not for that of the lists, which another apt-get
# update may hold: retried for up to 10 minutes.
apt_update_waiting() {
	local i out
	for ((i = 0; i < 60; i++)); do
		out=$(apt-get -o DPkg::Lock::Timeout=600 update -qq 2>&1) && return 0
		grep -q 'Could not get lock' <<<"$out" || { printf '%s\n' "$out" >&2; return 1; }
		sleep 10
	done
	printf '%s\n' "$out" >&2
	return 1
}

# need_packages PKG... - apt-get install what is missing (tests' own needs,
# never the product). Runs apt-get update once per call when something is
# missing.
need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing test dependencies: ${missing[*]}"
	# Another apt (a test of another area, an admin) may hold dpkg's lock:
	# wait for it rather than fail.
	apt_update_waiting
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# run_logged LOG DESC CMD... - run CMD with its output in LOG, print one
# progress line, and on failure the last 30 lines and where the log is.
run_logged() {
	local logf=$1 desc=$2 start rc=0
	shift 2
	mkdir -p "$(dirname "$logf")"
	log "$desc (log: $logf)"
	start=$(date +%s)
	"$@" >"$logf" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		log "FAILED ($rc): $desc; last lines of $logf:"
		tail -n 30 "$logf" >&2
		return "$rc"
	fi
	log "done in $(($(date +%s) - start)) s: $desc"
}

# Test result bookkeeping: ok/fail print one line per check; summary prints
# "N passed, M failed" and returns non-zero when anything failed.
PASSED=0
FAILED=0
ok() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$*"
}
fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s\n' "$*"
}
# check DESC CMD... - ok or fail depending on CMD's exit status.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}
# summary - the test's last line: "N passed, M failed" (and "K skipped
# (why...)" when something was skipped); returns non-zero when anything
# failed. Floors first (summary_floors): no check passed, or a skip the
# allow-list does not expect, is a failure. The line goes to the report too.
summary() {
	local why=''

	summary_floors
	[ "$SKIPPED" -eq 0 ] || why=", $SKIPPED skipped ($(printf '%s; ' "${SKIP_WHY[@]}" | sed 's/; $//'))"
	printf '%s: %d passed, %d failed%s\n' "${TEST_NAME:-test}" "$PASSED" "$FAILED" "$why"
	report_line
	[ "$FAILED" -eq 0 ]
}

# Skips are counted apart from passes: skip WHAT WHY prints one line, and
# summary_with_skips, for the layers that can skip, says how many checks
# could not run here and why.
SKIPPED=0
SKIP_WHY=()
skip() {
	SKIPPED=$((SKIPPED + 1))
	SKIP_WHY+=("$1: $2")
	printf 'SKIP %s (%s)\n' "$1" "$2"
}
summary_with_skips() {
	local why=''

	summary_floors
	[ "$SKIPPED" -eq 0 ] || why=" ($(printf '%s; ' "${SKIP_WHY[@]}" | sed 's/; $//'))"
	printf '%s: %d passed, %d failed, %d skipped%s\n' "${TEST_NAME:-test}" "$PASSED" "$FAILED" \
		"$SKIPPED" "$why"
	report_line
	[ "$FAILED" -eq 0 ]
}

# Expected skips: tests/skips.allow, one "TEST_NAME<tab>ERE" a line, the ERE
# matching the whole "WHAT: WHY" of a skip. A skip no line expects fails:
# what the archive cannot feed today is listed there, with why; anything
# else that stops running is seen.
SKIPS_ALLOW=$TOP/tests/skips.allow
skip_expected() { # "WHAT: WHY"
	local name re
	while IFS=$'\t' read -r name re; do
		case $name in '' | '#'*) continue ;; esac
		[ "$name" = "${TEST_NAME:-test}" ] || continue
		grep -qxE -- "$re" <<<"$1" && return 0
	done <"$SKIPS_ALLOW"
	return 1
}

# summary_floors - every count has a floor: a test that passed no check at
# all (nothing found to test, no kernel, no host) fails, and so does a skip
# that tests/skips.allow does not expect.
summary_floors() {
	local s
	[ "$PASSED" -gt 0 ] || fail "no check passed: a test that counted zero checks proves nothing"
	for s in "${SKIP_WHY[@]}"; do
		skip_expected "$s" ||
			fail "unexpected skip, not in tests/skips.allow for ${TEST_NAME:-test}: $s"
	done
	return 0
}

# count_floor WHAT N [MIN] - fail unless N (cases, hosts, kernels found) is
# at least MIN (default 1), else one ok line; for the counts a test
# relies on, so that zero found is never "all passed".
count_floor() {
	local what=$1 n=$2 min=${3:-1}
	if [ "$n" -ge "$min" ]; then
		ok "$what: $n (at least $min)"
	else
		fail "$what: $n, at least $min expected"
	fi
}

# test_kernels [COUNT [SERIES [APT_CACHE...]]] - the test kernels, chosen
# from what the archive offers now, never pinned: the COUNT (default 2)
# newest <SERIES>.N+debNN-amd64 kernels (SERIES default: META's first) whose
# linux-source-<SERIES> of exactly the headers' version the archive has,
# printed oldest first on one line. APT_CACHE (default apt-cache) asks
# another root, e.g. `test_kernels 2 6.12 in_root apt-cache`. When fewer
# qualify it says so and prints those; none is an error.
test_kernels() {
	local count=${1:-2} series=${2:-} sources abi version found=()
	[ -n "$series" ] || series=$(sed -n 's/^Series:[[:space:]]*//p' "$TOP/META" | awk '{ print $1 }')
	shift $(($# > 2 ? 2 : $#))
	[ $# -gt 0 ] || set -- apt-cache
	sources=$("$@" madison "linux-source-$series" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')
	while read -r abi; do
		version=$("$@" madison "linux-headers-$abi" | awk -F'|' 'NR == 1 { gsub(/ /, "", $2); print $2 }')
		grep -qxF -- "$version" <<<"$sources" || continue
		found=("$abi" "${found[@]}")
		[ ${#found[@]} -lt "$count" ] || break
	done < <("$@" search --names-only "^linux-headers-${series//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64\$" |
		awk '{ sub(/^linux-headers-/, "", $1); print $1 }' | sort -rV)
	[ ${#found[@]} -gt 0 ] ||
		die "no linux-headers-$series.*-amd64 with a linux-source-$series of the same version in the archive"
	[ ${#found[@]} -eq "$count" ] ||
		log "only ${#found[@]} kernel(s) of Linux $series with the linux-source of the same version in the archive: testing with ${found[*]}"
	echo "${found[*]}"
}

# sparse_w1 WHAT KVER WORK LOG [WRAPPER...] - the project's objects rebuilt
# in the prepared xe tree WORK against KVER's build tree with sparse (C=2
# checks even up-to-date objects) and W=1, the make run through WRAPPER
# (e.g. in_root) when given; any diagnostic that names one of the project's
# files fails. WHAT prefixes the result lines ("" or "7.2: ").
sparse_w1() {
	local what=$1 kver=$2 work=$3 log=$4 objs=() f
	shift 4

	for f in "$TOP"/src/kernel/*.c; do
		objs+=("$(basename "${f%.c}").o")
	done
	mkdir -p "$(dirname "$log")"
	if ! "$@" make -C "/lib/modules/$kver/build" M="$work/drivers/gpu/drm/xe" C=2 W=1 \
		"${objs[@]}" >"$log" 2>&1; then
		fail "${what}sparse/W=1 build of ${objs[*]} against $kver (log: $log)"
		tail -n 20 "$log"
		return 0
	fi
	if grep -E "(warning|error):" "$log" | grep -E 'xe_vm_export[a-z_]*\.[ch]' >"$log.own"; then
		fail "${what}sparse/W=1 diagnostics in the project's files: $(head -n 5 "$log.own")"
	else
		ok "${what}sparse and W=1 clean against $kver: ${objs[*]}"
	fi
}

# --- compiler cache -------------------------------------------------------
# Every compile of the tests goes through ccache (Debian's kernel headers
# call it themselves with DEBIAN_KERNEL_USE_CCACHE=1; ccache's compiler
# links first in PATH for the rest), with one cache in
# TEST_CACHE per Debian suite: the host's builds and those of DKMS in the
# roots (root.sh mounts it, in_root passes the same settings), so the same
# xe of the same kernel, source and build path is compiled once per run.
# Builds still go through dkms and make as a user's do. XE_TEST_CCACHE=0
# turns it off.

# ccache_dir SUITE - the cache of SUITE's compilers.
ccache_dir() {
	echo "$TEST_CACHE/ccache/$1"
}

# ccache_host_suite - the host's suite (its compilers' cache), from os-release.
ccache_host_suite() {
	sed -n 's/^VERSION_CODENAME=//p' /etc/os-release
}

ccache_setup() {
	if [ "${XE_TEST_CCACHE:-1}" = 0 ]; then
		# Off also for compiles through an inherited PATH.
		export CCACHE_DISABLE=1
		return 0
	fi
	[ "$(id -u)" = 0 ] || command -v ccache >/dev/null || return 0
	need_packages ccache
	CCACHE_DIR=$(ccache_dir "$(ccache_host_suite)")
	mkdir -p "$CCACHE_DIR"
	# 8 GB: a cold run's xe builds (about 0.2 GB each with debug info).
	CCACHE_MAXSIZE=8G
	# Debian's kernel headers' own switch (.kernelvariables: CC = ccache
	# x86_64-linux-gnu-gcc-N), which needs no compiler link in PATH.
	DEBIAN_KERNEL_USE_CCACHE=1
	export CCACHE_DIR CCACHE_MAXSIZE DEBIAN_KERNEL_USE_CCACHE
	case ":$PATH:" in
	*:/usr/lib/ccache:*) ;;
	*) export PATH=/usr/lib/ccache:$PATH ;;
	esac
}

# ccache_counts [DIR] - "hits misses" of a cache so far (0 0 when none).
ccache_counts() {
	local dir=${1:-${CCACHE_DIR:-}}
	if [ -z "$dir" ] || [ ! -d "$dir" ] || ! command -v ccache >/dev/null; then
		echo 0 0
		return 0
	fi
	CCACHE_DIR=$dir ccache --print-stats 2>/dev/null | awk -F'\t' '
		$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { h += $2 }
		$1 == "cache_miss" { m += $2 }
		END { print h + 0, m + 0 }'
}

# ccache_all_counts - "hits misses" summed over every suite's cache.
ccache_all_counts() {
	local d h m th=0 tm=0
	for d in "$TEST_CACHE"/ccache/*/; do
		[ -d "$d" ] || continue
		read -r h m <<<"$(ccache_counts "$d")"
		th=$((th + h)) tm=$((tm + m))
	done
	echo "$th $tm"
}

# --- the report -----------------------------------------------------------
# Each test's summary appends one line to build/report (make check empties
# it first): test, checks passed and failed, skips with reasons, seconds
# since the test started, the compiles it sent through ccache and their
# hits. REPORT= names another file.
REPORT=${REPORT:-$TOP/build/report}
REPORT_T0=$(date +%s)
REPORT_CCACHE0=$(ccache_all_counts)

# report_line - this test's line (tab-separated; report_print aligns).
report_line() {
	local h0 m0 h1 m1 hits total why='-'
	read -r h0 m0 <<<"$REPORT_CCACHE0"
	read -r h1 m1 <<<"$(ccache_all_counts)"
	hits=$((h1 - h0)) total=$((h1 - h0 + m1 - m0))
	[ "$SKIPPED" -eq 0 ] || why=$(printf '%s; ' "${SKIP_WHY[@]}" | sed 's/; $//')
	mkdir -p "$(dirname "$REPORT")"
	printf '%s\t%d\t%d\t%d\t%d\t%s\t%s\n' "${TEST_NAME:-test}" "$PASSED" "$FAILED" \
		"$SKIPPED" "$(($(date +%s) - REPORT_T0))" \
		"$([ "$total" -eq 0 ] && echo - || echo "$hits/$total ($((100 * hits / total))%)")" \
		"$why" >>"$REPORT"
}

# report_print [FILE] - the report as a table.
report_print() {
	local f=${1:-$REPORT}
	[ -s "$f" ] || return 0
	printf '%-18s %6s %6s %6s %7s  %-20s %s\n' test passed failed skipped seconds 'ccache hits' 'skips (why)'
	awk -F'\t' '{ printf "%-18s %6d %6d %6d %7d  %-20s %s\n", $1, $2, $3, $4, $5, $6, $7 }' "$f"
	awk -F'\t' '{ p += $2; f += $3; s += $4; t += $5 }
		END { printf "%-18s %6d %6d %6d %7d\n", "total", p, f, s, t }' "$f"
}

ccache_setup
