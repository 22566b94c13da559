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
readonly SCHEMA=$TOP/src/tools/xe-vm-export-verify.schema.json
# The load fallback's rule, as xe-vm-export-tools installs it.
readonly FALLBACK_RULE=lib/modprobe.d/xe-vm-export.conf
# Debian's Python, with python3-jsonschema and python3-junitparser (not
# whatever python3 comes first in PATH).
readonly PY=/usr/bin/python3
readonly OUTCOME=$WORK/build/outcome
readonly MODSIG=$TOP/tests/modsig.sh
META_VERSION=$(sed -n 's/^Version:[[:space:]]*//p' "$TOP/META")
readonly META_VERSION
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

# loaded_xe_ours - this host's loaded xe is xe-vm-export's: the module
# modprobe resolves carries our provenance and has the loaded srcversion.
loaded_xe_ours() {
	[ -r /sys/module/xe/srcversion ] &&
		[ -n "$(modinfo -F xe_vm_export_series xe 2>/dev/null)" ] &&
		[ "$(modinfo -F srcversion xe 2>/dev/null)" = "$(cat /sys/module/xe/srcversion)" ]
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

# build_tests - the test binary, and outcome (a stand-in test that ends as
# $XE_SMOKE_OUTCOME says) twice: as is, and linked to a library that is then
# removed, so that the loader cannot start it; fuse-stall (an uninterruptible
# wait for the stuck outcome).
build_tests() {
	make -C "$HERE" O="$WORK/build" TOP="$TOP"
	rm -rf "$WORK/inst"
	make -C "$HERE" O="$WORK/build" TOP="$TOP" DESTDIR="$WORK/inst" install
	cc -O2 -Wall -Wextra -Werror -o "$OUTCOME" "$HERE/outcome.c"
	cc -O2 -Wall -Wextra -Werror -o "$WORK/build/fuse-stall" "$HERE/fuse-stall.c"
	printf 'int xe_smoke_gone(void) { return 0; }\n' >"$WORK/build/gone.c"
	cc -shared -fPIC -o "$WORK/build/libxesmokegone.so" "$WORK/build/gone.c"
	cc -O2 -o "$WORK/build/outcome-nolib" "$HERE/outcome.c" -L"$WORK/build" \
		-Wl,--no-as-needed -lxesmokegone -Wl,-rpath,/nonexistent
	rm "$WORK/build/libxesmokegone.so"
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
	check "--describe documents every subtest in IGT's layout (SUB name file:line:, text)" \
		both [ "$rc" -eq 0 ] -- \
		[ "$(grep -cE '^SUB [a-z0-9-]+ xe_vm_export\.c:[0-9]+:$' "$WORK/describe")" -eq "$n" ] -- \
		[ "$(grep -A1 -E '^SUB ' "$WORK/describe" | grep -cE '^  [A-Z].{20,}')" -eq "$n" ]
	check "--list-subtests with a wildmat: '*,!aux-*,!bad-*' leaves 9" \
		[ "$("$BIN" --list-subtests --run-subtest '*,!aux-*,!bad-*' | wc -l)" -eq 9 ]

	local require=0
	# Our xe loaded on a device: VM export missing must fail the test.
	has_xe_device && loaded_xe_ours && require=1
	rm -f "$WORK/kmsg"
	run_rc rc env XE_VM_EXPORT_KMSG="$WORK/kmsg" "$BIN" --run-subtest basic >/dev/null 2>&1
	check "kmsg: a log file that does not exist is not created (open without O_CREAT)" \
		[ ! -e "$WORK/kmsg" ]
	: >"$WORK/kmsg"
	run_rc rc env XE_VM_EXPORT_KMSG="$WORK/kmsg" XE_VM_EXPORT_REQUIRE="$require" "$BIN" \
		>"$WORK/all.out" 2>"$WORK/all.err"
	check "the first line is IGT's version header (IGT-Version: $META_VERSION-...)" \
		grep -qE "^IGT-Version: $META_VERSION-xe-vm-export \(.+\) \(Linux: .+\)$" \
		<(head -n1 "$WORK/all.out")
	check "kernel log markers: executing, starting/finished per subtest, exiting" \
		both grep -qx '<6>\[IGT\] xe_vm_export: executing' "$WORK/kmsg" -- \
		[ "$(grep -cE '^<6>\[IGT\] xe_vm_export: starting subtest [a-z0-9-]+$' "$WORK/kmsg")" -eq "$n" ] -- \
		[ "$(grep -cE '^<6>\[IGT\] xe_vm_export: finished subtest [a-z0-9-]+, (SUCCESS|SKIP|FAIL)$' "$WORK/kmsg")" -eq "$n" ] -- \
		grep -qE '^<6>\[IGT\] xe_vm_export: exiting, ret=[0-9]+$' "$WORK/kmsg"
	starts=$(grep -Ec "$RE_START" "$WORK/all.out" || true)
	results=$(grep -Ec "$RE_RESULT" "$WORK/all.out" || true)
	check "a full run prints one start and one parsable result line per subtest" \
		both [ "$starts" -eq "$n" ] -- [ "$results" -eq "$n" ]
	lines=$(grep -E "$RE_RESULT" "$WORK/all.out" | sed -E "s/$RE_RESULT/\\1/")
	check "result lines name the subtests in listed order" [ "$lines" = "$names" ]
	if has_xe_device; then
		log "an xe device is present: the no-device checks do not apply"
		check "full run exits 0 or 77 (98: a subtest failed)" re_match "$rc" '^(0|77)$'
		if [ "$require" = 1 ]; then
			check "our xe is loaded: feature-detect says VM export is supported" \
				grep -qx "VM export supported by this kernel's xe" "$WORK/all.out"
		fi
		grep -q '^Subtest [a-z0-9-]*: SUCCESS' "$WORK/all.out" ||
			skip "xe_vm_export on this host's device" "every subtest skipped"
	else
		skip "xe_vm_export's $n subtests on a device" "no xe device on this host: each reported SKIP"
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
		run_rc rc "$BIN" --run-subtest '*,!aux-*' >"$WORK/neg.out"
		check "--run-subtest '*,!aux-*' runs all but the 3 aux subtests" \
			both [ "$(grep -Ec "$RE_RESULT" "$WORK/neg.out")" -eq $((n - 3)) ] -- \
			not grep -q '^Subtest aux-' "$WORK/neg.out"
		run_rc rc "$BIN" --run-subtest '!basic' >/dev/null 2>&1
		check "--run-subtest '!basic' alone selects nothing: exit 79" [ "$rc" -eq 79 ]
		run_rc rc env IGT_DEVICE=bogus "$BIN" --run-subtest basic >/dev/null 2>&1
		check "IGT_DEVICE that is no filter: exit 79" [ "$rc" -eq 79 ]
		run_rc rc "$BIN" --device pci:colour=blue --run-subtest basic >/dev/null 2>&1
		check "--device pci: with an unknown key: exit 79" [ "$rc" -eq 79 ]
		run_rc rc env IGT_DEVICE=pci:vendor=intel,card=0 "$BIN" --run-subtest basic \
			>"$WORK/igtdev.out" 2>&1
		check "IGT_DEVICE=pci:vendor=intel,card=0 selects no xe here: SKIP, exit 77" \
			both [ "$rc" -eq 77 ] -- grep -q 'device filter selects' "$WORK/igtdev.out"
		run_rc rc "$BIN" --device drm:/dev/null --run-subtest basic >"$WORK/drmdev.out" 2>&1
		check "--device drm:/dev/null: not an xe node, SKIP, exit 77" \
			both [ "$rc" -eq 77 ] -- grep -q 'selects no xe DRM node' "$WORK/drmdev.out"
	fi
}

# lifecycle_root - the packaging tests' root, when it has our DKMS state.
lifecycle_root() {
	local r=${XE_VM_EXPORT_LIFECYCLE_ROOT:-}

	[ -n "$r" ] && [ -d "$r/var/lib/dkms/xe-vm-export" ] && echo "$r"
}

test_verify_usage() {
	local rc

	check "verify compiles (Python 3, py_compile)" \
		"$PY" -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
		"$VERIFY" "$WORK/verify.pyc"
	check "verify imports nothing but the standard library" \
		"$PY" - "$VERIFY" <<-'PY'
			import ast, sys
			tree = ast.parse(open(sys.argv[1]).read())
			names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
			names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
			bad = sorted(m for m in names if m not in sys.stdlib_module_names)
			assert not bad, bad
		PY
	check "the smoke scripts are shellcheck clean" shellcheck -x "$HERE/run.sh" \
		"$HERE/fake-root.sh" "$TOP/debian/tests/smoke" "$MODSIG"
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
	local root=$1 rc k_ours k_skip up
	# The kernels fake-root.sh put in the root: tests/lib.sh's two.
	read -r k_ours k_skip <<<"$(test_kernels 2)"
	up=$(printf '%s' "${k_ours%%+*}" | sed 's/\./\\./g')
	export XE_VM_EXPORT_RUNNING_KERNEL=$k_ours
	export XE_VM_EXPORT_SYSFS=$WORK/sysfs

	# No xe loaded: exit 77, the table right.
	rm -rf "$XE_VM_EXPORT_SYSFS"
	mkdir -p "$XE_VM_EXPORT_SYSFS"
	run_rc rc "$VERIFY" --root "$root" --json "$WORK/verify.json" \
		--junit "$WORK/verify.xml" >"$WORK/verify.out" 2>"$WORK/verify.err"
	cat "$WORK/verify.out"
	check "verify of the root exits 77 (nothing to test, nothing failed)" [ "$rc" -eq 77 ]
	check "$k_ours: installed, modprobe loads ours, provenance shown" \
		re_match "$(row "$k_ours")" " installed +ours +0\\.1\\.0 series 6\\.12 .*base linux-source-6\\.12 $up"
	check "$k_skip: skipped with the provider's reason, in-tree xe" \
		re_match "$(row "$k_skip")" ' skipped +in-tree +no xe source for .*; to fix: '
	check "6.1: skipped, series refused" \
		re_match "$(row 6.1.0-28-amd64)" ' skipped +none +xe first appeared in Linux 6\.8'
	check "JSON validates against the schema (python3-jsonschema)" schema_valid "$WORK/verify.json"
	check "JSON has the provenance of ours" \
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); k={x["kernel"]: x for x in d["kernels"]}; o=k[sys.argv[2]]; assert o["module"]=="ours" and o["provenance"]["xe_vm_export_base"].startswith("linux-source-6.12") and d["exit_code"]==77' "$WORK/verify.json" "$k_ours"
	check "JUnit validates against the JUnit schema (xmllint) and junitparser agrees" \
		junit_consistent "$WORK/verify.xml"

	# Our xe loaded (same srcversion as the installed module): running passes.
	mkdir -p "$XE_VM_EXPORT_SYSFS/module/xe"
	modinfo -b "$root" -k "$XE_VM_EXPORT_RUNNING_KERNEL" -F srcversion xe \
		>"$XE_VM_EXPORT_SYSFS/module/xe/srcversion" 2>/dev/null || true
	run_rc rc "$VERIFY" --root "$root" -q --json - >"$WORK/verify-ours.json" 2>/dev/null
	check "loaded xe is ours: running check passes, exit 77 (no device)" \
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["running"]["status"]=="pass" and d["running"]["loaded"]=="ours"' "$WORK/verify-ours.json"

	# The in-tree xe is loaded while ours is installed: fail, say what to do.
	echo 0123456789ABCDEF0123456 >"$XE_VM_EXPORT_SYSFS/module/xe/srcversion"
	run_rc rc "$VERIFY" --root "$root" --junit "$WORK/verify-stale.xml" >"$WORK/verify-stale.out" 2>&1
	check "loaded xe not ours: exit 1, advice to reboot or reload" \
		both [ "$rc" -eq 1 ] -- grep -q 'reboot, or when nothing uses the GPU' "$WORK/verify-stale.out"
	check "JUnit with a failure validates too" \
		xmllint --noout --schema "$XSD" "$WORK/verify-stale.xml"
	unset XE_VM_EXPORT_RUNNING_KERNEL XE_VM_EXPORT_SYSFS
}

# --- the installed verify, driven through every outcome -----------------------

# debs_current - dist/ has this tree's -dkms, -tools and -tests packages:
# each newer than every file they are made of (make check builds them in
# check-packages).
debs_current() {
	local newest p deb

	newest=$(git -C "$TOP" ls-files -z src tests/smoke debian rpm META dkms.conf Makefile mk |
		(cd "$TOP" && xargs -0 stat -c %Y) | sort -n | tail -n1) || newest=''
	[ -n "$newest" ] || return 1
	for p in dkms tools tests; do
		deb=$(find "$TOP/dist" -maxdepth 1 -name "xe-vm-export-${p}_${META_VERSION}-*.deb" \
			2>/dev/null | sort -V | tail -n1 || true)
		[ -n "$deb" ] && [ "$(stat -c %Y "$deb")" -gt "$newest" ] || return 1
	done
}

# build_debs - make deb's packages of this tree in dist/, unless they are
# there already: the installed command must be this tree's.
build_debs() {
	if debs_current; then
		log "dist/ has this tree's packages: not rebuilt"
		return 0
	fi
	run_logged "$WORK/deb.log" "building the Debian packages (make deb)" \
		make -C "$TOP" deb
}

# unpack_debs DIR PACKAGE... - make deb's packages (xe-vm-export-PACKAGE)
# unpacked into DIR (dpkg-deb -x), as they install.
unpack_debs() {
	local dst=$1 p deb
	shift

	for p in "$@"; do
		deb=$(find "$TOP/dist" -maxdepth 1 -name "xe-vm-export-${p}_${META_VERSION}-*.deb" |
			sort -V | tail -n1)
		[ -n "$deb" ] || die "no xe-vm-export-${p}_${META_VERSION}-*.deb in $TOP/dist"
		dpkg-deb -x "$deb" "$dst"
	done
}

# installed_root SRC - the DKMS root: a copy of SRC with the
# xe-vm-export-dkms, -tools and -tests packages unpacked into it: the verify
# command, its schema and the test directory exactly as the packages install
# them.
installed_root() {
	local src=$1 dst=$WORK/installed-root

	rm -rf "$dst"
	cp -a "$src" "$dst"
	unpack_debs "$dst" dkms tools tests
	stand_in_firmware "$dst"
	echo "$dst"
}

# stand_in_firmware ROOT - a stand-in file in ROOT/lib/firmware for every
# firmware file the xe of each of ROOT's kernels requests (modinfo): the
# firmware check passes, and a test hides one to see it named.
stand_in_firmware() {
	local root=$1 k name

	for k in "$root"/lib/modules/*; do
		k=${k##*/}
		modinfo -b "$root" -k "$k" -F firmware xe 2>/dev/null | while read -r name; do
			mkdir -p "$(dirname "$root/lib/firmware/$name")"
			echo "stand-in firmware $name" >"$root/lib/firmware/$name"
		done
	done
}

# prebuilt_root SRC KVER - the prebuilt-module root: SRC without DKMS (no
# DKMS tree, no /usr/src, no updates/dkms), with a module package made by
# build-kmod-deb.sh from SRC's ours module of KVER, and the -tools and
# -tests packages, unpacked; depmod run. Prints the root, then the module
# package. Unsigned (SIGN=none): the stand-in module has no signature.
prebuilt_root() {
	local src=$1 kver=$2 dst=$WORK/prebuilt-root k=$WORK/kmod deb

	rm -rf "$dst" "$k"
	cp -a "$src" "$dst"
	rm -rf "$dst/var/lib/dkms" "$dst/usr/src" "$dst/lib/modules/$kver/updates/dkms"
	mkdir -p "$k"
	xz -dc "$src/lib/modules/$kver/updates/dkms/xe.ko.xz" >"$k/xe.ko"
	deb=$(SIGN=none KERNEL_SOURCE="linux-6.12 $(modinfo -F xe_vm_export_base "$k/xe.ko" | cut -d' ' -f2)" \
		"$TOP/debian/pkgtools/build-kmod-deb.sh" "$kver" "$k/xe.ko" "$k/dist" 2>"$k/build.log") ||
		die "build-kmod-deb.sh $kver failed: $(tail -n 5 "$k/build.log")"
	dpkg-deb -x "$deb" "$dst"
	unpack_debs "$dst" tools tests
	stand_in_firmware "$dst"
	depmod -b "$dst" "$kver"
	echo "$dst $deb"
}

# fake_sysfs DIR ROOT KVER - a sysfs with one render node bound to xe and the
# loaded xe being ROOT's module for KVER (ours).
fake_sysfs() {
	local dir=$1 root=$2 kver=$3

	rm -rf "$dir"
	mkdir -p "$dir/class/drm/renderD128/device" "$dir/bus/pci/drivers/xe" "$dir/module/xe"
	ln -s ../../../../bus/pci/drivers/xe "$dir/class/drm/renderD128/device/driver"
	modinfo -b "$root" -k "$kver" -F srcversion xe >"$dir/module/xe/srcversion"
}

# fake_sysfs_intree DIR ROOT KVER - as fake_sysfs, the loaded xe being
# KVER's in-tree module (its sysfs directory as that module makes it).
fake_sysfs_intree() {
	local dir=$1 root=$2 kver=$3

	fake_sysfs "$dir" "$root" "$kver"
	rm -f "$dir/module/xe/srcversion"
	# Debian builds its modules without srcversion; a module with one has
	# it in sysfs.
	modinfo -F srcversion "$root/lib/modules/$kver/kernel/drivers/gpu/drm/xe/xe.ko.xz" |
		grep . >"$dir/module/xe/srcversion" || rm -f "$dir/module/xe/srcversion"
}

# jq_py JSON EXPR - print a Python expression of the report `d`.
jq_py() {
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# schema_valid JSON - the report validates against the shipped schema
# (python3-jsonschema, Draft 7, with the schema checked first).
schema_valid() {
	"$PY" - "${SCHEMA_INSTALLED:-$SCHEMA}" "$1" <<-'PY'
		import json, sys
		import jsonschema
		schema = json.load(open(sys.argv[1]))
		jsonschema.Draft7Validator.check_schema(schema)
		jsonschema.Draft7Validator(schema).validate(json.load(open(sys.argv[2])))
	PY
}

# junit_consistent XML [JSON] - JUnit validates against junit.xsd, and a
# JUnit reader (python3-junitparser) counts the same failures and skips as
# the suite's attributes. With the JSON report: each smoke subtest is one
# testcase, and a test binary is a failure of its own only when none of its
# subtests failed (a failing subtest counts once).
junit_consistent() {
	xmllint --noout --schema "$XSD" "$1" 2>/dev/null && "$PY" - "$1" "${2:-}" <<-'PY'
		import json, sys
		from junitparser import JUnitXml, Failure, Skipped
		xml = JUnitXml.fromfile(sys.argv[1])
		for suite in xml:
		    cases = list(suite)
		    fails = sum(1 for c in cases for r in c.result if isinstance(r, Failure))
		    skips = sum(1 for c in cases for r in c.result if isinstance(r, Skipped))
		    assert len(cases) == suite.tests, (len(cases), suite.tests)
		    assert fails == suite.failures, (fails, suite.failures)
		    assert skips == suite.skipped, (skips, suite.skipped)
		if sys.argv[2]:
		    d = json.load(open(sys.argv[2]))
		    cases = [c for s in xml for c in s]
		    assert fails == d["summary"]["failed"], (fails, d["summary"])
		    for r in d["smoke"]["results"]:
		        n = [c for c in cases if c.classname == "smoke." + r["test"] and c.name == r["subtest"]]
		        assert len(n) == 1, (r, len(n))
		    for b in d["smoke"]["binaries"]:
		        subfail = any(r["result"] not in ("pass", "skip") for r in d["smoke"]["results"]
		                      if r["test"] == b["test"])
		        own = [c for c in cases if c.classname == "smoke" and c.name == b["test"]
		               and any(isinstance(x, Failure) for x in c.result)]
		        assert len(own) == (b["verdict"] == "fail" and not subfail), (b, own)
	PY
}

OUTCOME_TABLE=()

# outcome NAME WANT_RC WANT_VERDICT PYCHECK [VERIFY ARGS...] - run the
# installed verify with the stand-in test of outcome NAME and check its exit
# status, the JSON's verdict, the schema, the JUnit and PYCHECK (a Python
# expression over the report `d`, naming the test binary `b`).
outcome() {
	local name=$1 want_rc=$2 want_verdict=$3 pycheck=$4 rc json xml verdict start
	shift 4

	json=$WORK/outcome-$name.json xml=$WORK/outcome-$name.xml
	start=$(date +%s)
	run_rc rc env XE_SMOKE_OUTCOME="${OUT_STANDIN:-${name#*:}}" \
		XE_VM_EXPORT_SYSFS="${OUT_SYSFS:-$WORK/sysfs-dev}" XE_VM_EXPORT_PROC="${OUT_PROC:-$WORK/no-proc}" \
		XE_VM_EXPORT_RUNNING_KERNEL="${OUT_KERNEL:-$K_OURS}" XE_VM_EXPORT_IGT_DIRS=/nonexistent \
		"$OUT_ROOT/usr/sbin/xe-vm-export-verify" --root "$OUT_ROOT" --smoke \
		--json "$json" --junit "$xml" "$@" >"$WORK/outcome-$name.out" 2>&1
	OUT_SECS=$(($(date +%s) - start))
	verdict=$(jq_py "$json" 'd["verdict"]' 2>/dev/null || echo none)
	OUTCOME_TABLE+=("$(printf '%-28s exit %-3s verdict %-5s %3s s  %s' "$name" "$rc" "$verdict" "$OUT_SECS" \
		"$(jq_py "$json" '((d["smoke"]["binaries"] or [{"reason": d["running"]["advice"]}])[0]["reason"])' 2>/dev/null | cut -c1-100)")")
	check "outcome $name: verify exits $want_rc, JSON verdict $want_verdict (got $rc, $verdict; $OUT_SECS s)" \
		both [ "$rc" -eq "$want_rc" ] -- [ "$verdict" = "$want_verdict" ]
	check "outcome $name: JSON validates against the shipped schema" schema_valid "$json"
	check "outcome $name: JUnit validates, junitparser's counts agree, each subtest once" \
		junit_consistent "$xml" "$json"
	check "outcome $name: $pycheck" \
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); b=(d["smoke"]["binaries"] or [None])[0]; assert eval(sys.argv[2])' \
		"$json" "$pycheck"
}

# stall_start DIR / stall_stop - fuse-stall mounted on DIR (a read of a file
# there never returns, even after SIGKILL), and its end (which ends the
# stuck reads: the connection is aborted).
STALL_PID=
stall_start() {
	mkdir -p "$1"
	"$WORK/build/fuse-stall" "$1" >"$WORK/fuse-stall.log" 2>&1 &
	STALL_PID=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		grep -q " $1 fuse.xe-smoke-stall " /proc/mounts && return 0
		kill -0 "$STALL_PID" 2>/dev/null || break
		sleep 0.5
	done
	stall_stop "$1"
	return 1
}

stall_stop() {
	[ -z "$STALL_PID" ] || kill "$STALL_PID" 2>/dev/null || true
	[ -z "$STALL_PID" ] || wait "$STALL_PID" 2>/dev/null || true
	STALL_PID=
	umount -l "$1" 2>/dev/null || true
}

# pid_ended PID - PID has exited (a zombie, or reaped) within 10 s.
pid_ended() {
	local i

	for i in $(seq 20); do
		case "$(pid_state "$1")" in
		Z | gone) return 0 ;;
		esac
		[ "$i" -eq 20 ] || sleep 0.5
	done
	return 1
}

# pid_state PID - the state letter of PID (D: uninterruptible), or gone.
pid_state() {
	if [ -r "/proc/$1/stat" ]; then
		sed 's/.*) \([A-Z]\).*/\1/' "/proc/$1/stat"
	else
		echo gone
	fi
}

# outcomes_common LABEL - the outcomes a stand-in test has, through the
# installed verify of OUT_ROOT (a DKMS or a prebuilt-module root).
outcomes_common() {
	local l=$1 tdir=$WORK/outcome-tests

	# The exit-0 path: every check passes and subtests really passed.
	outcome "$l:pass" 0 pass 'b["exit_status"] == 0 and b["verdict"] == "pass" and d["summary"]["failed"] == 0 and d["version"] == "'"$META_VERSION"'" and [r["result"] for r in d["smoke"]["results"]] == ["pass", "pass"] and d["running"]["loaded"] == "ours"' \
		--tests-dir "$tdir"
	outcome "$l:skip" 77 skip 'b["exit_status"] == 77 and b["verdict"] == "skip" and d["summary"]["failed"] == 0 and {r["result"] for r in d["smoke"]["results"]} == {"skip"}' \
		--tests-dir "$tdir"
	# Our xe loaded, the export probe answers EINVAL: a failure, not a pass
	# (the binary of old ignores XE_VM_EXPORT_REQUIRE: verify reads its
	# output), nor a skip.
	outcome "$l:unsupported" 1 fail 'b["exit_status"] == 0 and "does not support VM export" in b["reason"] and "EINVAL" in b["reason"] and [r["result"] for r in d["smoke"]["results"]] == ["pass", "skip"] and d["summary"]["failed"] == 1 and [c["name"] for c in d["checks"] if c["status"] == "fail"] == ["xe_vm_export"]' \
		--tests-dir "$tdir"
	# The smoke test as it is now: verify tells it our xe is loaded
	# (XE_VM_EXPORT_REQUIRE=1) and feature-detect fails.
	outcome "$l:unsupported-require" 1 fail 'b["exit_status"] == 98 and "does not support VM export" in b["reason"] and [r["result"] for r in d["smoke"]["results"]] == ["fail", "skip"] and d["summary"]["failed"] == 1' \
		--tests-dir "$tdir"
	# A test that ignores SIGTERM: SIGKILL ends it after the grace time.
	outcome "$l:hang" 1 fail 'b["timed_out"] is True and "timed out after 2 s" in b["reason"] and b["left_behind_pid"] is None and b["signal"] == "SIGKILL" and d["smoke"]["results"][0]["result"] == "timeout" and d["smoke"]["timeout"] == 2 and d["summary"]["failed"] == 1' \
		--tests-dir "$tdir" --timeout 2
	check "outcome $l:hang: the test got at most timeout + 10 s, verify returned ($OUT_SECS s in all)" \
		both [ "$(jq_py "$WORK/outcome-$l:hang.json" 'd["smoke"]["binaries"][0]["time"]')" -le 12 ] -- \
		[ "$OUT_SECS" -le 30 ]
}

test_verify_outcomes() {
	local src=$1 tdir=$WORK/outcome-tests stuck prebuilt kdeb

	build_debs || { fail "make deb failed: the installed verify cannot be tested"; return 0; }
	IROOT=$(installed_root "$src")
	OUT_ROOT=$IROOT
	VERIFY_INSTALLED=$IROOT/usr/sbin/xe-vm-export-verify
	SCHEMA_INSTALLED=$IROOT/usr/share/xe-vm-export/xe-vm-export-verify.schema.json
	read -r K_OURS K_SKIP <<<"$(test_kernels 2)"
	check "installed: verify, its schema, the test and test-list.txt (igt_runner's layout)" \
		both [ -x "$VERIFY_INSTALLED" ] -- [ -f "$SCHEMA_INSTALLED" ] -- \
		[ -x "$IROOT/usr/libexec/xe-vm-export/tests/xe_vm_export" ] -- \
		grep -qx xe_vm_export "$IROOT/usr/libexec/xe-vm-export/tests/test-list.txt" -- \
		cmp -s "$SCHEMA" "$SCHEMA_INSTALLED"
	check "verify, its man page and schema come with xe-vm-export-tools; -dkms depends on it" \
		both grep -qx './usr/sbin/xe-vm-export-verify' <(dpkg-deb -c "$TOP"/dist/xe-vm-export-tools_"$META_VERSION"-*_all.deb | awk '{ print $6 }') -- \
		grep -qx './usr/share/man/man8/xe-vm-export-verify.8.gz' <(dpkg-deb -c "$TOP"/dist/xe-vm-export-tools_"$META_VERSION"-*_all.deb | awk '{ print $6 }') -- \
		not grep -q 'xe-vm-export-verify' <(dpkg-deb -c "$TOP"/dist/xe-vm-export-dkms_"$META_VERSION"-*_all.deb) -- \
		grep -q 'xe-vm-export-tools (= ' <(dpkg-deb -f "$TOP"/dist/xe-vm-export-dkms_"$META_VERSION"-*_all.deb Depends)
	check "the load fallback (modprobe.d rule, helper, initramfs hook) and the firmware check come with -tools, which every flavour depends on, not with -dkms" \
		both [ "$(dpkg-deb -c "$TOP"/dist/xe-vm-export-tools_"$META_VERSION"-*_all.deb | awk '{ print $6 }' |
			grep -cxE '\./(lib/modprobe\.d/xe-vm-export\.conf|usr/lib/xe-vm-export/xe-vm-export-(load|firmware)|usr/share/initramfs-tools/hooks/xe-vm-export)')" -eq 4 ] -- \
		not grep -qE 'modprobe\.d|xe-vm-export-load|xe-vm-export-firmware|initramfs-tools/hooks' <(dpkg-deb -c "$TOP"/dist/xe-vm-export-dkms_"$META_VERSION"-*_all.deb)
	check "installed verify --version says $META_VERSION" \
		grep -qx "xe-vm-export-verify (xe-vm-export) $META_VERSION" <("$VERIFY_INSTALLED" --version)
	check "the packaging left the source tree's verify as it was" \
		both grep -q '^VERSION = "@VERSION@"$' "$VERIFY" -- \
		grep -qx "xe-vm-export-verify (xe-vm-export) $META_VERSION" <("$VERIFY" --version)
	fake_sysfs "$WORK/sysfs-dev" "$IROOT" "$K_OURS"
	mkdir -p "$tdir"
	cp "$OUTCOME" "$tdir/xe_vm_export"

	log "--- the DKMS root"
	outcomes_common dkms
	outcome dkms:fail 1 fail 'b["exit_status"] == 98 and "1 subtest(s) failed" in b["reason"] and "Failed assertion" in b["stderr_tail"] and [r["result"] for r in d["smoke"]["results"]] == ["pass", "fail"] and d["summary"]["failed"] == 1' \
		--tests-dir "$tdir"
	# A crash with bytes that are no UTF-8 and control characters in its
	# output: the reports still parse; the bytes come out as U+FFFD.
	outcome dkms:crash 1 fail 'b["signal"] == "SIGSEGV" and b["exit_status"] == 139 and "killed by signal SIGSEGV" in b["reason"] and "about to write through NULL" in b["reason"] and "\ufffd" in b["stderr_tail"] and not any(ord(c) < 32 for c in b["stderr_tail"]) and d["smoke"]["results"] == [{"test": "xe_vm_export", "subtest": "first", "result": "crash", "time": 0}] and d["summary"]["failed"] == 1' \
		--tests-dir "$tdir"
	check "outcome dkms:crash: the JUnit is well-formed XML with the U+FFFD (xmllint)" \
		both xmllint --noout "$WORK/outcome-dkms:crash.xml" -- grep -q $'\xef\xbf\xbd' "$WORK/outcome-dkms:crash.xml"
	outcome dkms:silent 1 fail 'b["exit_status"] == 0 and "no subtest result" in b["reason"] and d["smoke"]["results"] == []' \
		--tests-dir "$tdir"
	outcome dkms:liar 1 fail 'b["exit_status"] == 1 and b["reason"].startswith("exit status 1")' \
		--tests-dir "$tdir"
	check "outcome dkms:skip: the summary line says nothing was tested" \
		grep -q 'every subtest skipped (2): nothing tested here' "$WORK/outcome-dkms:skip.out"
	# A test stuck in an uninterruptible sleep (a FUSE read that is never
	# answered): verify reports the timeout, leaves it behind and returns
	# within its limit (timeout + 5 s after SIGTERM + 5 s after SIGKILL).
	stuck=$WORK/stall
	if stall_start "$stuck"; then
		export XE_SMOKE_STUCK_PATH=$stuck/file
		OUT_STANDIN=stuck outcome dkms:stuck-in-D 1 fail 'b["timed_out"] is True and b["left_behind_pid"] and "had not ended 5 s after SIGKILL" in b["reason"] and "left behind" in b["reason"] and "(state D)" in b["reason"] and d["smoke"]["results"][0]["result"] == "timeout"' \
			--tests-dir "$tdir" --timeout 2
		check "outcome dkms:stuck-in-D: the test got at most timeout + 10 s, verify returned ($OUT_SECS s in all)" \
			both [ "$(jq_py "$WORK/outcome-dkms:stuck-in-D.json" 'd["smoke"]["binaries"][0]["time"]')" -le 12 ] -- \
			[ "$OUT_SECS" -le 30 ]
		LEFT=$(jq_py "$WORK/outcome-dkms:stuck-in-D.json" 'd["smoke"]["binaries"][0]["left_behind_pid"]' 2>/dev/null || echo none)
		check "outcome dkms:stuck-in-D: the test left behind (pid $LEFT) is in state D after verify" \
			[ "$(pid_state "$LEFT")" = D ]
		unset XE_SMOKE_STUCK_PATH
		stall_stop "$stuck"
		check "outcome dkms:stuck-in-D: it ends once its FUSE daemon is gone (exited: zombie or reaped)" \
			pid_ended "$LEFT"
	else
		skip "a test stuck in state D" "fuse-stall could not mount on $stuck: $(tail -n1 "$WORK/fuse-stall.log")"
	fi
	# The in-tree xe is loaded on a device, on a kernel ours skips: a skip
	# that names the loaded module.
	fake_sysfs_intree "$WORK/sysfs-intree" "$IROOT" "$K_SKIP"
	OUT_SYSFS=$WORK/sysfs-intree OUT_KERNEL=$K_SKIP outcome dkms:in-tree-loaded 77 skip 'd["running"]["loaded"] == "not-ours" and d["running"]["status"] == "skip" and "the in-tree one" in d["running"]["advice"] and d["running"]["loaded_path"] == "/lib/modules/'"$K_SKIP"'/kernel/drivers/gpu/drm/xe/xe.ko.xz" and d["running"]["loaded_path"] in d["running"]["advice"] and d["smoke"]["status"] == "skip" and "the loaded xe is not ours" in d["smoke"]["reason"] and d["smoke"]["binaries"] == []' \
		--tests-dir "$tdir"
	# The installed test itself: the fake device is no xe node, so every
	# subtest skips for real.
	outcome dkms:installed-test 77 skip 'b["exit_status"] == 77 and len(d["smoke"]["results"]) == 17 and {r["result"] for r in d["smoke"]["results"]} == {"skip"} and b["command"].endswith("/usr/libexec/xe-vm-export/tests/xe_vm_export --device drm:/dev/dri/renderD128")'
	# A test binary the loader cannot start (its library is gone).
	cp "$WORK/build/outcome-nolib" "$tdir/xe_vm_export"
	outcome dkms:missing-lib 1 fail 'b["exit_status"] == 127 and "libxesmokegone.so" in b["stderr_tail"]' \
		--tests-dir "$tdir"
	cp "$OUTCOME" "$tdir/xe_vm_export"

	log "--- the prebuilt-module root"
	read -r prebuilt kdeb <<<"$(prebuilt_root "$src" "$K_OURS")"
	check "the module package depends on xe-vm-export-tools" \
		grep -q "xe-vm-export-tools (>= $META_VERSION)" <(dpkg-deb -f "$kdeb" Depends)
	OUT_ROOT=$prebuilt
	outcomes_common prebuilt
	check "prebuilt root: verify says flavour prebuilt, $K_OURS installed ours, $K_SKIP skipped (no module package)" \
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); k={x["kernel"]: x for x in d["kernels"]}; assert d["flavour"] == "prebuilt" and (k[sys.argv[2]]["state"], k[sys.argv[2]]["module"]) == ("installed", "ours") and k[sys.argv[2]]["module_path"].endswith("/updates/xe-vm-export/xe.ko.xz") and k[sys.argv[3]]["state"] == "skipped" and d["package_version"] == sys.argv[4]' \
		"$WORK/outcome-prebuilt:pass.json" "$K_OURS" "$K_SKIP" "$META_VERSION"
	OUT_ROOT=$IROOT
	test_verify_boot
	test_verify_follow
	log "verify outcomes (installed command):"
	printf '  %s\n' "${OUTCOME_TABLE[@]}" | tee "$WORK/outcomes.txt"
}

# --- boot: Secure Boot and the signer, firmware, the next boot ----------------

# sb_sysfs DIR FROM - FROM's sysfs (a device bound to xe) with Secure Boot
# on (efivars SecureBoot = 1) and lockdown integrity, as Debian's signed
# kernel booted through shim has them.
sb_sysfs() {
	local dir=$1 from=$2

	rm -rf "$dir"
	cp -a "$from" "$dir"
	mkdir -p "$dir/firmware/efi/efivars" "$dir/kernel/security"
	printf '\x06\x00\x00\x00\x01' >"$dir/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0f5e5e5b8c0"
	echo 'none [integrity] confidentiality' >"$dir/kernel/security/lockdown"
}

# proc_keys DIR [CERT] - a /proc/keys in DIR as a Secure Boot kernel shows
# it: Debian's CA, and CERT (DER) when given, as "CN: subject key id".
proc_keys() {
	local dir=$1 cert=${2:-} cn skid

	mkdir -p "$dir"
	{
		echo '0a66cf8e I------     1 perm 1f0b0000     0     0 keyring   .platform: 2'
		echo '2b4d1c0e I------     1 perm 1f010000     0     0 asymmetri Debian Secure Boot CA: 6ccece7e4c6c0d1f6149f3dd27dfcc5cbb419ea1: X509.rsa bb419ea1 []'
		if [ -n "$cert" ]; then
			cn=$(openssl x509 -inform DER -in "$cert" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
			skid=$(openssl x509 -inform DER -in "$cert" -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :' | tr 'A-F' 'a-f')
			echo "30534155 I------     1 perm 1f010000     0     0 asymmetri $cn: $skid: X509.rsa ${skid: -8} []"
		fi
	} >"$dir/keys"
}

# The installed verify's boot report (schema 4), through stand-ins: our xe
# of K_OURS signed (tests/modsig.sh) by a MOK that is DKMS's certificate in
# the root; Secure Boot on with the MOK in the kernel's keys, then without
# it; firmware of the device's platform (its GuC path in debugfs) with one
# blob hidden on disk, and one missing from the initramfs.
test_verify_boot() {
	local r=$WORK/sb-root d=$WORK/sb ko k=$K_OURS pyk
	pyk='[x for x in d["kernels"] if x["kernel"] == "'"$k"'"][0]["boot"]'
	rm -rf "$r" "$d"
	mkdir -p "$d"
	cp -a "$IROOT" "$r"
	openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=xe-vm-export smoke MOK" \
		-days 2 -outform DER -out "$d/mok.der" -keyout "$d/mok.key" 2>/dev/null
	mkdir -p "$r/var/lib/dkms"
	cp "$d/mok.der" "$r/var/lib/dkms/mok.pub"
	ko=$r/lib/modules/$k/updates/dkms/xe.ko.xz
	xz -dc "$ko" >"$d/plain.ko"
	"$MODSIG" sign "$d/plain.ko" "$d/mok.key" "$d/mok.der" "$d/signed.ko"
	xz -c --check=crc32 "$d/signed.ko" >"$ko"
	sb_sysfs "$WORK/sysfs-sb" "$WORK/sysfs-dev"
	proc_keys "$d/proc-trusted" "$d/mok.der"
	proc_keys "$d/proc-untrusted"
	OUT_ROOT=$r OUT_STANDIN=pass OUT_SYSFS=$WORK/sysfs-sb

	OUT_PROC=$d/proc-trusted outcome sb:trusted 0 pass 'd["schema_version"] == 4 and d["boot"]["secure_boot"] == "enabled" and d["boot"]["lockdown"] == "integrity" and d["boot"]["enforced"] and d["boot"]["fallback_installed"] and '"$pyk"'["signer"] == "xe-vm-export smoke MOK" and '"$pyk"'["signer_trusted"] == "yes" and '"$pyk"'["next_boot"] == "ours" and '"$pyk"'["firmware"]["status"] == "ok"' \
		--tests-dir "$WORK/outcome-tests"
	OUT_PROC=$d/proc-untrusted outcome sb:untrusted 1 fail "$pyk"'["signer_trusted"] == "no" and '"$pyk"'["next_boot"] == "fallback" and "mokutil --import /var/lib/dkms/mok.pub" in '"$pyk"'["fix"] and [(c["class"], c["name"]) for c in d["checks"] if c["status"] == "fail"] == [("boot", "'"$k"'")]' \
		--tests-dir "$WORK/outcome-tests"
	check "outcome sb:untrusted: verify's line says the next boot loads the kernel's own xe, and the enroll command" \
		grep -q "^boot $k: fail: Secure Boot enabled, lockdown integrity: the kernel does not trust the key that signed ours ('xe-vm-export smoke MOK', no): the next boot loads the kernel's own xe, without VM export (the load fallback); to fix: enroll the key DKMS signs with: 'mokutil --import /var/lib/dkms/mok.pub', reboot and confirm it in MokManager" \
		"$WORK/outcome-sb:untrusted.out"
	rm -f "$r/$FALLBACK_RULE"
	OUT_PROC=$d/proc-untrusted outcome sb:untrusted-no-fallback 1 fail "$pyk"'["next_boot"] == "none" and not d["boot"]["fallback_installed"]' \
		--tests-dir "$WORK/outcome-tests"
	unpack_debs "$r" tools

	# The device's platform from its GuC firmware path; a blob hidden.
	mkdir -p "$WORK/sysfs-sb/kernel/debug/dri/0/gt0/uc"
	printf 'GuC firmware: xe/lnl_guc_70.bin\n\tstatus: RUNNING\n' \
		>"$WORK/sysfs-sb/kernel/debug/dri/0/gt0/uc/guc_info"
	OUT_PROC=$d/proc-trusted outcome fw:platform 0 pass "$pyk"'["firmware"] == {"status": "ok", "platform": "lnl", "requested": 3, "missing": [], "not_in_initramfs": []}' \
		--tests-dir "$WORK/outcome-tests"
	mv "$r/lib/firmware/xe/lnl_huc.bin" "$d/"
	OUT_PROC=$d/proc-trusted outcome fw:hidden 1 fail "$pyk"'["firmware"]["missing"] == ["xe/lnl_huc.bin"] and [(c["class"], c["name"]) for c in d["checks"] if c["status"] == "fail"] == [("firmware", "'"$k"'")] and "missing xe/lnl_huc.bin;" in [c["message"] for c in d["checks"] if c["class"] == "firmware"][0]' \
		--tests-dir "$WORK/outcome-tests"
	mv "$d/lnl_huc.bin" "$r/lib/firmware/xe/"
	# An initramfs that holds xe and the platform's firmware but one blob.
	mkdir -p "$d/img/usr/lib/modules/$k/updates/dkms" "$d/img/usr/lib/firmware/xe" "$r/boot"
	cp "$ko" "$d/img/usr/lib/modules/$k/updates/dkms/"
	cp "$r/lib/firmware/xe/lnl_guc_70.bin" "$r/lib/firmware/xe/lnl_huc.bin" "$d/img/usr/lib/firmware/xe/"
	(cd "$d/img" && find . | cpio -o -H newc --quiet) >"$r/boot/initrd.img-$k"
	OUT_PROC=$d/proc-trusted outcome fw:not-in-initramfs 1 fail "$pyk"'["firmware"]["not_in_initramfs"] == ["xe/lnl_gsc_1.bin"] and not '"$pyk"'["firmware"]["missing"]' \
		--tests-dir "$WORK/outcome-tests"
	OUT_ROOT=$IROOT
	unset OUT_STANDIN OUT_SYSFS
}

# --- the next kernels of a metapackage, and their source ----------------------

# follow_status ROOT META VERSION KERNEL SOURCE SOURCE_VERSION - ROOT's dpkg
# database: the headers metapackage META of VERSION bringing KERNEL's
# headers, those headers, and SOURCE of SOURCE_VERSION installed, as dpkg
# writes them.
follow_status() {
	local root=$1 meta=$2 v=$3 k=$4 src=$5 sv=$6

	mkdir -p "$root/var/lib/dpkg"
	cat >"$root/var/lib/dpkg/status" <<-EOF
		Package: $meta
		Status: install ok installed
		Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>
		Architecture: amd64
		Version: $v
		Depends: linux-headers-$k (= $v)
		Description: Header files for the kernel (meta-package)

		Package: linux-headers-$k
		Status: install ok installed
		Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>
		Architecture: amd64
		Version: $v
		Depends: linux-kbuild-${k%-amd64} (= $v)
		Description: Header files for Linux $k

		Package: $src
		Status: install ok installed
		Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>
		Architecture: all
		Version: $sv
		Description: Linux kernel source
	EOF
}

# test_verify_follow - whether the xe source comes with the kernels a
# headers metapackage brings next: Debian's linux-source of the
# metapackage's version (it moves with it) passes, one left at another
# version fails with the command that makes it follow, and a series-bound
# metapackage (linux-headers-6.12-amd64) passes with its linux-source-6.12.
test_verify_follow() {
	local r=$WORK/follow-root v old series

	series=$(cut -d. -f1,2 <<<"$K_OURS")
	v=$(apt-cache madison "linux-headers-$K_OURS" | awk -F'|' 'NR == 1 { gsub(/ /, "", $2); print $2 }')
	old=$(apt-cache madison "linux-headers-$K_SKIP" | awk -F'|' 'NR == 1 { gsub(/ /, "", $2); print $2 }')
	rm -rf "$r"
	cp -a "$IROOT" "$r"
	OUT_ROOT=$r OUT_STANDIN=pass

	follow_status "$r" linux-headers-amd64 "$v" "$K_OURS" linux-source "$old"
	outcome follow:behind 1 fail '[(c["class"], c["name"]) for c in d["checks"] if c["status"] == "fail"] == [("follow", "linux-headers-amd64")] and d["smoke"]["results"][0]["result"] == "pass"' \
		--tests-dir "$WORK/outcome-tests"
	check "outcome follow:behind: verify's line says the next kernels are skipped, and the command that makes linux-source follow" \
		grep -qF "follow linux-headers-amd64: fail: linux-headers-amd64 $v brings $K_OURS, but the xe source does not follow it (linux-source $old): the kernels it brings next are skipped, without VM export; to fix: apt-get install linux-source=$v linux-source-$series=$v" \
		"$WORK/outcome-follow:behind.out"
	follow_status "$r" linux-headers-amd64 "$v" "$K_OURS" linux-source "$v"
	outcome follow:meta 0 pass '[(c["name"], c["status"]) for c in d["checks"] if c["class"] == "follow"] == [("linux-headers-amd64", "pass")]' \
		--tests-dir "$WORK/outcome-tests"
	follow_status "$r" "linux-headers-$series-amd64" "$v" "$K_OURS" "linux-source-$series" "$v"
	outcome follow:series-bound 0 pass '[(c["name"], c["status"]) for c in d["checks"] if c["class"] == "follow"] == [("linux-headers-'"$series"'-amd64", "pass")]' \
		--tests-dir "$WORK/outcome-tests"

	# dkms 3.2 moved the kernel's own xe into its tree, as it does when it
	# installs ours: the load fallback would have nothing to load.
	rm -rf "$r/var/lib/dpkg"
	mkdir -p "$r/var/lib/dkms/xe-vm-export/original_module/$K_OURS/x86_64"
	mv "$r/lib/modules/$K_OURS/kernel/drivers/gpu/drm/xe/"xe.ko* \
		"$r/var/lib/dkms/xe-vm-export/original_module/$K_OURS/x86_64/"
	outcome fallback:moved 1 fail '[(c["class"], c["name"]) for c in d["checks"] if c["status"] == "fail"] == [("fallback", "'"$K_OURS"'")]' \
		--tests-dir "$WORK/outcome-tests"
	check "outcome fallback:moved: verify's line names where dkms put it and the command that puts it back" \
		grep -qF "fallback $K_OURS: fail: the kernel's own xe is not in /lib/modules/$K_OURS/kernel/drivers/gpu/drm/xe (dkms moved it to /var/lib/dkms/xe-vm-export/original_module/$K_OURS/x86_64/xe.ko" \
		"$WORK/outcome-fallback:moved.out"
	check "outcome fallback:moved: ... to fix: /usr/lib/xe-vm-export/xe-vm-export-dkms keep-in-tree $K_OURS" \
		grep -qF "to fix: /usr/lib/xe-vm-export/xe-vm-export-dkms keep-in-tree $K_OURS" "$WORK/outcome-fallback:moved.out"
	OUT_ROOT=$IROOT
	unset OUT_STANDIN
}

# --- module signatures: tests/modsig.sh, the check the packaging root uses ----

# sig_fails WHY MODULE CERT - modsig.sh refuses MODULE, saying WHY (ERE).
sig_fails() {
	local err

	err=$("$MODSIG" verify "$2" "$3" 2>&1) && return 1
	grep -Eq "$1" <<<"$err"
}

# A real xe module (the root's, as Debian signed it), stripped and signed
# with a MOK made here as DKMS makes its own; then altered.
test_modsig() {
	local root=$1 d=$WORK/modsig ko

	ko=$(find "$root/lib/modules" -path '*/kernel/drivers/gpu/drm/xe/xe.ko*' | sort | head -n1)
	rm -rf "$d"
	mkdir -p "$d"
	openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=xe-vm-export smoke MOK" \
		-days 2 -outform DER -out "$d/mok.der" -keyout "$d/mok.key" 2>/dev/null
	openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=another MOK" \
		-days 2 -outform DER -out "$d/other.der" -keyout "$d/other.key" 2>/dev/null
	check "modsig: the distribution-signed in-tree xe does not verify against our MOK" \
		sig_fails 'does not verify' "$ko" "$d/mok.der"
	check "modsig: strip, then sign with the MOK (sha256, PKCS#7 as sign-file)" \
		both "$MODSIG" strip "$ko" "$d/unsigned.ko" -- \
		"$MODSIG" sign "$d/unsigned.ko" "$d/mok.key" "$d/mok.der" "$d/signed.ko"
	check "modsig: an unsigned module is refused: not signed" \
		sig_fails 'not signed' "$d/unsigned.ko" "$d/mok.der"
	check "modsig: the signed module verifies against the MOK (DER), modinfo sees its signer" \
		both "$MODSIG" verify "$d/signed.ko" "$d/mok.der" -- \
		[ "$(modinfo -F signer "$d/signed.ko")" = "xe-vm-export smoke MOK" ]
	xz -c --check=crc32 "$d/signed.ko" >"$d/signed.ko.xz"
	check "modsig: and compressed (.ko.xz, as DKMS installs it)" \
		"$MODSIG" verify "$d/signed.ko.xz" "$d/mok.der"
	check "modsig: another MOK does not verify it" \
		sig_fails 'does not verify' "$d/signed.ko" "$d/other.der"
	cp "$d/signed.ko" "$d/tampered.ko"
	printf 'X' | dd of="$d/tampered.ko" bs=1 seek=4096 conv=notrunc 2>/dev/null
	check "modsig: one byte of the module changed: caught" \
		sig_fails 'does not verify' "$d/tampered.ko" "$d/mok.der"
	cp "$d/signed.ko" "$d/tampered-sig.ko"
	printf 'X' | dd of="$d/tampered-sig.ko" bs=1 conv=notrunc 2>/dev/null \
		seek=$(($(stat -c %s "$d/signed.ko") - 28 - 12 - 20))
	check "modsig: one byte of the signature changed: caught" \
		sig_fails 'does not verify' "$d/tampered-sig.ko" "$d/mok.der"
	# The packaging tests' root: ours as DKMS built and signed it there.
	if [ -f "$root/var/lib/dkms/mok.pub" ]; then
		ko=$(find "$root/lib/modules" -path '*/updates/dkms/xe.ko*' | sort | head -n1)
		check "modsig: the DKMS-built xe of the packaging root verifies against its MOK" \
			"$MODSIG" verify "$ko" "$root/var/lib/dkms/mok.pub"
	fi
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
	run_rc rc env PATH="$bin:$PATH" XE_VM_EXPORT_TESTS_DIR="$WORK/inst/usr/libexec/xe-vm-export/tests" \
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

	# A missing directory is "not there", not an error (pipefail).
	# (not a .tmp.tar that check-packages is still writing).
	tarball=$(find "$TEST_CACHE/packaging" -maxdepth 1 -name 'debian12-root-*.tar' \
		! -name '*.tmp.tar' \
		-printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n1 | cut -d' ' -f2- || true)
	dsc=$(find "$TOP/build/pkg/deb" -maxdepth 1 -name '*.dsc' 2>/dev/null | head -n1 || true)
	# debian/tests/control depends on @: every binary package of the source.
	for p in dkms dev tools tests aux-dkms; do
		debs+=("$(find "$TOP/dist" -maxdepth 1 -name "xe-vm-export-${p}_*.deb" 2>/dev/null |
			sort -V | tail -n1 || true)")
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
	if grep -Eq '^smoke +SKIP' "$WORK/autopkgtest/summary"; then
		skip "autopkgtest smoke on a device" "autopkgtest reported it SKIP (77): no xe device in the root"
	fi
	rm -rf "$root"
}

main() {
	local root

	need_packages libdrm-dev pkg-config gcc make libxml2-utils python3 shellcheck \
		kmod binutils xz-utils dkms man-db python3-jsonschema python3-junitparser openssl cpio
	mkdir -p "$WORK"
	run_logged "$WORK/build.log" "building xe_vm_export and the stand-in test binaries" \
		build_tests

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
	test_verify_outcomes "$root"
	test_modsig "$root"
	test_autopkgtest_script "$root"
	test_autopkgtest_runner
	summary_with_skips
}

main "$@"
