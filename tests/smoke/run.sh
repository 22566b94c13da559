#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-smoke: the IGT-format test binary's protocol, the verify
# command against an isolated root (table, JSON, JUnit, usage errors), and
# the autopkgtest. Nothing is installed on the host but test tools.
#
# The isolated root: the packaging tests' lifecycle root when there is one
# ($XE_VM_EXPORT_LIFECYCLE_ROOT, a root with xe-vm-export in its DKMS tree),
# else a minimal root made by fake-root.sh under $TEST_CACHE/smoke.

set -euo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
export TEST_NAME=smoke

readonly HERE=$TOP/tests/smoke
readonly WORK=$TEST_CACHE/smoke
readonly BIN=$WORK/build/xe_vm_export
readonly VERIFY=$TOP/src/tools/xe-vm-export-verify
readonly XSD=$HERE/junit.xsd
# The patterns igt_runner's result parser accepts (runner/output_strings.h).
readonly RE_START='^Starting subtest: [A-Za-z0-9_-]+$'
readonly RE_RESULT='^Subtest ([A-Za-z0-9_-]+): (SUCCESS|FAIL|SKIP|CRASH|TIMEOUT)( \([0-9]+\.[0-9]+s\))?$'

# has_xe_device - this host has a render node bound to xe.
has_xe_device() {
	local d

	for d in /sys/class/drm/renderD*/device/driver; do
		[ -e "$d" ] && [ "$(basename "$(readlink -f "$d")")" = xe ] && return 0
	done
	return 1
}

# both CMD1... -- CMD2... [-- CMD3...] - every command succeeds.
both() {
	local cmd=()

	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then
			"${cmd[@]}" || return 1
			cmd=()
		else
			cmd+=("$1")
		fi
		shift
	done
	"${cmd[@]}"
}

# not CMD... - CMD fails.
not() {
	! "$@"
}

# re_match STRING ERE
re_match() {
	[[ $1 =~ $2 ]]
}

# man_clean PAGE - man renders PAGE without a warning.
man_clean() {
	[ -z "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null)" ]
}

# run_rc VAR CMD... - run CMD, its exit status into VAR, never failing.
run_rc() {
	local -n _rc=$1
	shift
	_rc=0
	"$@" || _rc=$?
}

test_protocol() {
	local out rc names n lines starts results

	run_rc rc "$BIN" --list-subtests >"$WORK/list" 2>"$WORK/list.err"
	check "--list-subtests exits 0" [ "$rc" -eq 0 ]
	names=$(cat "$WORK/list")
	n=$(wc -l <"$WORK/list")
	check "--list-subtests prints names only (one a line)" \
		both not grep -Evq '^[a-z0-9-]+$' "$WORK/list" -- [ ! -s "$WORK/list.err" ]
	for out in basic export-twice re-export-after-close cloexec invalid-vm-id bad-pad \
		bad-pad2 bad-reserved-0 bad-reserved-1 bad-fd destroy-while-exported \
		destroy-after-close close-drm-fd-first feature-detect aux-import \
		aux-destroy-while-registered aux-import-other-process; do
		grep -qx -- "$out" <<<"$names" || fail "subtest $out listed"
	done
	check "every subtest of the issue is listed ($n)" [ "$n" -ge 17 ]

	run_rc rc "$BIN" --run-subtest no-such-subtest
	check "unknown subtest exits 79" [ "$rc" -eq 79 ]
	run_rc rc "$BIN" --no-such-option 2>/dev/null
	check "unknown option exits 79" [ "$rc" -eq 79 ]
	run_rc rc "$BIN" --describe >"$WORK/describe"
	check "--describe documents every subtest" \
		both [ "$rc" -eq 0 ] -- [ "$(grep -c '^SUB [a-z0-9-]*: ..*' "$WORK/describe")" -eq "$n" ]

	run_rc rc "$BIN" >"$WORK/all.out" 2>"$WORK/all.err"
	starts=$(grep -Ec "$RE_START" "$WORK/all.out" || true)
	results=$(grep -Ec "$RE_RESULT" "$WORK/all.out" || true)
	check "a full run prints one start and one parsable result line per subtest" \
		both [ "$starts" -eq "$n" ] -- [ "$results" -eq "$n" ]
	lines=$(grep -E "$RE_RESULT" "$WORK/all.out" | sed -E "s/$RE_RESULT/\\1/")
	check "result lines name the subtests in listed order" [ "$lines" = "$names" ]
	if has_xe_device; then
		log "an xe device is present: the no-device checks do not apply"
		check "full run exits 0, 77 or 98" re_match "$rc" '^(0|77|98)$'
	else
		check "no xe device: full run exits 77" [ "$rc" -eq 77 ]
		check "no xe device: every subtest SKIP" \
			[ "$(grep -Ec '^Subtest [a-z0-9-]+: SKIP \([0-9]+\.[0-9]{3}s\)$' "$WORK/all.out")" -eq "$n" ]
		run_rc rc "$BIN" --run-subtest basic >"$WORK/one.out"
		check "--run-subtest basic runs exactly it, SKIP, exit 77" \
			both [ "$rc" -eq 77 ] -- [ "$(grep -Ec "$RE_RESULT" "$WORK/one.out")" -eq 1 ] -- \
			grep -qx 'Subtest basic: SKIP ([0-9.]*s)' "$WORK/one.out"
		run_rc rc "$BIN" --run-subtest 'bad-*' >"$WORK/glob.out"
		check "--run-subtest glob bad-* runs the 5 bad-field subtests" \
			[ "$(grep -Ec '^Subtest bad-[a-z0-9-]+: SKIP' "$WORK/glob.out")" -eq 5 ]
	fi
}

# lifecycle_root - the packaging tests' root, when it has our DKMS state.
lifecycle_root() {
	local r=${XE_VM_EXPORT_LIFECYCLE_ROOT:-}

	[ -n "$r" ] && [ -d "$r/var/lib/dkms/xe-vm-export" ] && echo "$r"
}

test_verify_usage() {
	local rc

	check "verify is shellcheck clean" shellcheck -x "$VERIFY" "$HERE/run.sh" \
		"$HERE/fake-root.sh" "$TOP/debian/tests/smoke"
	run_rc rc "$VERIFY" --help >"$WORK/help"
	check "verify --help exits 0 with usage" both [ "$rc" -eq 0 ] -- grep -q '^Usage:' "$WORK/help"
	run_rc rc "$VERIFY" --bogus >/dev/null 2>"$WORK/bad.err"
	check "verify --bogus exits 2 with usage on stderr" \
		both [ "$rc" -eq 2 ] -- grep -q '^Usage:' "$WORK/bad.err"
	run_rc rc "$VERIFY" --json >/dev/null 2>&1
	check "verify --json without a file exits 2" [ "$rc" -eq 2 ]
	run_rc rc "$VERIFY" --root /nonexistent >/dev/null 2>&1
	check "verify --root of a missing directory exits 2" [ "$rc" -eq 2 ]
	check "man page renders without warnings" man_clean "$TOP/src/tools/xe-vm-export-verify.8"
}

# row KERNEL - the verify table's line of KERNEL.
row() {
	grep -E "^$(printf '%s' "$1" | sed 's/[.+]/\\&/g') " "$WORK/verify.out"
}

test_verify_root() {
	local root=$1 rc
	export XE_VM_EXPORT_RUNNING_KERNEL=6.12.113+deb12-amd64
	export XE_VM_EXPORT_SYSFS=$WORK/sysfs

	# No xe loaded: exit 77, the table right.
	rm -rf "$XE_VM_EXPORT_SYSFS"
	mkdir -p "$XE_VM_EXPORT_SYSFS"
	run_rc rc "$VERIFY" --root "$root" --json "$WORK/verify.json" \
		--junit "$WORK/verify.xml" >"$WORK/verify.out" 2>"$WORK/verify.err"
	cat "$WORK/verify.out"
	check "verify of the root exits 77 (nothing to test, nothing failed)" [ "$rc" -eq 77 ]
	check "6.12.113: installed, modprobe loads ours, provenance shown" \
		re_match "$(row 6.12.113+deb12-amd64)" ' installed +ours +0\.1\.0 series 6\.12 .*base linux-source-6\.12 6\.12\.113'
	check "6.12.117: skipped with the provider's reason, in-tree xe" \
		re_match "$(row 6.12.117+deb12-amd64)" ' skipped +in-tree +no xe source for .*; to fix: '
	check "6.1: skipped, series refused" \
		re_match "$(row 6.1.0-28-amd64)" ' skipped +none +xe first appeared in Linux 6\.8'
	check "JSON is valid (python3 -m json.tool)" \
		python3 -m json.tool "$WORK/verify.json" "$WORK/verify.pretty.json"
	check "JSON has the provenance of ours" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k={x["kernel"]: x for x in d["kernels"]}; o=k["6.12.113+deb12-amd64"]; assert o["module"]=="ours" and o["provenance"]["xe_vm_export_base"].startswith("linux-source-6.12") and d["exit_code"]==77' "$WORK/verify.json"
	check "JUnit validates against the JUnit schema (xmllint)" \
		xmllint --noout --schema "$XSD" "$WORK/verify.xml"

	# Our xe loaded (same srcversion as the installed module): running passes.
	mkdir -p "$XE_VM_EXPORT_SYSFS/module/xe"
	modinfo -b "$root" -k "$XE_VM_EXPORT_RUNNING_KERNEL" -F srcversion xe \
		>"$XE_VM_EXPORT_SYSFS/module/xe/srcversion" 2>/dev/null || true
	run_rc rc "$VERIFY" --root "$root" -q --json - >"$WORK/verify-ours.json" 2>/dev/null
	check "loaded xe is ours: running check passes, exit 77 (no device)" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["running"]["status"]=="pass" and d["running"]["loaded"]=="ours"' "$WORK/verify-ours.json"

	# The in-tree xe is loaded while ours is installed: fail, say what to do.
	echo 0123456789ABCDEF0123456 >"$XE_VM_EXPORT_SYSFS/module/xe/srcversion"
	run_rc rc "$VERIFY" --root "$root" --junit "$WORK/verify-stale.xml" >"$WORK/verify-stale.out" 2>&1
	check "loaded xe not ours: exit 1, advice to reboot or reload" \
		both [ "$rc" -eq 1 ] -- grep -q 'reboot, or when nothing uses the GPU' "$WORK/verify-stale.out"
	check "JUnit with a failure validates too" \
		xmllint --noout --schema "$XSD" "$WORK/verify-stale.xml"
	unset XE_VM_EXPORT_RUNNING_KERNEL XE_VM_EXPORT_SYSFS
}

# The autopkgtest script itself, with the verify command pointed at the
# isolated root (it must end SKIP here: exit 77).
test_autopkgtest_script() {
	local root=$1 rc bin=$WORK/apt-bin

	mkdir -p "$bin" "$WORK/artifacts"
	cat >"$bin/xe-vm-export-verify" <<-EOF
		#!/bin/sh
		exec "$VERIFY" --root "$root" "\$@"
	EOF
	chmod +x "$bin/xe-vm-export-verify"
	run_rc rc env PATH="$bin:$PATH" XE_VM_EXPORT_TESTS_DIR="$(dirname "$BIN")" \
		AUTOPKGTEST_ARTIFACTS="$WORK/artifacts" "$TOP/debian/tests/smoke" \
		>"$WORK/autopkgtest-script.out" 2>&1
	check "debian/tests/smoke ends SKIP (77) without an xe device" [ "$rc" -eq 77 ]
	check "debian/tests/control: needs-root, skippable" \
		grep -Eq '^Restrictions:.*needs-root.*skippable' "$TOP/debian/tests/control"
}

# autopkgtest's own runner (virt-chroot) on an unpacked copy of the
# packaging tests' Debian 12 root, with the built .debs and source package.
# The copy's kernel headers links are removed: this run is about the tests
# package, and DKMS builds are the lifecycle test's business.
test_autopkgtest_runner() {
	local tarball dsc debs=() p rc root=$WORK/autopkgtest-root

	tarball=$(find "$TEST_CACHE/packaging" -maxdepth 1 -name 'debian12-root-*.tar' \
		-printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n1 | cut -d' ' -f2-)
	dsc=$(find "$TOP/build/pkg/deb" -maxdepth 1 -name '*.dsc' 2>/dev/null | head -n1)
	for p in dkms dev tests; do
		debs+=("$(find "$TOP/dist" -maxdepth 1 -name "xe-vm-export-${p}_*.deb" | sort -V | tail -n1)")
	done
	if [ -z "$tarball" ] || [ -z "$dsc" ] || printf '%s\n' "${debs[@]}" | grep -qx ''; then
		fail "autopkgtest runner: needs make deb's packages and the packaging root (run make check-packages)"
		return 0
	fi
	need_packages autopkgtest
	rm -rf "$root"
	mkdir -p "$root"
	tar -xf "$tarball" -C "$root"
	rm -f "$root"/lib/modules/*/build
	# virt-chroot mounts nothing; dkms and bash need /proc and /dev.
	# shellcheck disable=SC2064 # expand now: the path is fixed
	trap "umount -l '$root/dev' '$root/proc' 2>/dev/null || true" EXIT
	mount -t proc proc "$root/proc"
	mount --bind /dev "$root/dev"
	rm -rf "$WORK/autopkgtest"
	run_rc rc autopkgtest --output-dir "$WORK/autopkgtest" --setup-commands='apt-get update -q' \
		"${debs[@]}" "$dsc" -- chroot "$root" >"$WORK/autopkgtest.log" 2>&1
	umount -l "$root/dev" "$root/proc" 2>/dev/null || true
	trap - EXIT
	# autopkgtest: 0 all passed, 2 some skipped, 8 all skipped; its
	# summary says which for the one test.
	check "autopkgtest runner: exit $rc (0, 2 or 8; log $WORK/autopkgtest.log)" \
		re_match "$rc" '^(0|2|8)$'
	check "autopkgtest runner: smoke $(awk '$1 == "smoke" { print $2 }' "$WORK/autopkgtest/summary" 2>/dev/null) (PASS, or SKIP on 77 without an xe device)" \
		grep -Eq '^smoke +(PASS|SKIP exit status 77)' "$WORK/autopkgtest/summary"
	rm -rf "$root"
}

main() {
	local root

	need_packages libdrm-dev pkg-config gcc make libxml2-utils python3 shellcheck \
		kmod binutils xz-utils dkms man-db
	mkdir -p "$WORK"
	run_logged "$WORK/build.log" "building xe_vm_export" \
		make -C "$HERE" O="$WORK/build" TOP="$TOP"

	test_protocol
	test_verify_usage
	if root=$(lifecycle_root); then
		log "verify against the packaging tests' lifecycle root $root"
	else
		root=$WORK/root
		run_logged "$WORK/fake-root.log" "making a minimal isolated root" \
			"$HERE/fake-root.sh" "$root"
	fi
	test_verify_root "$root"
	test_autopkgtest_script "$root"
	test_autopkgtest_runner
	summary
}

main "$@"
