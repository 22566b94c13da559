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
	apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
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
summary() {
	printf '%s: %d passed, %d failed\n' "${TEST_NAME:-test}" "$PASSED" "$FAILED"
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

	[ "$SKIPPED" -eq 0 ] || why=" ($(printf '%s; ' "${SKIP_WHY[@]}" | sed 's/; $//'))"
	printf '%s: %d passed, %d failed, %d skipped%s\n' "${TEST_NAME:-test}" "$PASSED" "$FAILED" \
		"$SKIPPED" "$why"
	[ "$FAILED" -eq 0 ]
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
