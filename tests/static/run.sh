#!/bin/bash
# make check-static: the project's own code against the kernel's and the
# shell's checkers. Kernel C and the hook patches: checkpatch.pl --strict of
# the target kernel's own source; scripts/kernel-doc -none -Wall on every
# kernel-doc comment; sparse and W=1 on the project's objects in the
# prepared build tree; the hooks' places in the patched 6.12 xe
# (tests/kunit/hook-order.sh). Shell: shellcheck. Python: py_compile,
# standard library only. UAPI: the header compiles standalone as C and C++.
set -euo pipefail

TEST_NAME=check-static
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# The newest test kernel the archive offers (tests/lib.sh), as check-provider.
KVER=$(test_kernels 2 | awk '{ print $NF }')
CHECKPATCH_DIR=$TEST_CACHE/checkpatch

# fetch_checkpatch - checkpatch.pl and its data files from linux-source.
fetch_checkpatch() {
	local tarball=/usr/src/linux-source-6.12.tar.xz

	[ -x "$CHECKPATCH_DIR/scripts/checkpatch.pl" ] &&
		[ -f "$CHECKPATCH_DIR/scripts/kernel-doc" ] && return 0
	need_packages linux-source-6.12 xz-utils
	log "extracting checkpatch.pl from $tarball"
	mkdir -p "$CHECKPATCH_DIR"
	xz -T0 -dc "$tarball" | tar -x -C "$CHECKPATCH_DIR" --strip-components=1 \
		--wildcards --no-wildcards-match-slash '*/scripts/checkpatch.pl' \
		'*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch' \
		'*/scripts/kernel-doc'
}

# kernel_c_files - the project's kernel C (userspace tests follow their own
# style, not the kernel's).
kernel_c_files() {
	git -C "$TOP" ls-files 'src/kernel/*.[ch]' 'src/include/*.h' 'src/samples/*.[ch]' \
		'tests/qemu/probe/*.[ch]'
}

# checkpatch ARGS... - run outside any git tree: in one, checkpatch leaves a
# .checkpatch-camelcase.git.* cache file behind.
checkpatch() {
	(cd "$CHECKPATCH_DIR" &&
		scripts/checkpatch.pl --strict --no-tree --terse --show-types "$@" 2>&1)
}

check_checkpatch() {
	local f out ignore

	fetch_checkpatch
	while read -r f; do
		ignore=()
		# TRACE_INCLUDE_PATH is a path, not a division: the same false
		# positive checkpatch reports on xe's own trace headers.
		case "$f" in *_trace.h) ignore=(--ignore SPACING) ;; esac
		if out=$(checkpatch "${ignore[@]}" -f "$TOP/$f"); then
			ok "checkpatch --strict $f"
		else
			fail "checkpatch --strict $f: $out"
		fi
	done < <(kernel_c_files)
	while read -r f; do
		if out=$(checkpatch "$TOP/$f"); then
			ok "checkpatch --strict $f"
		else
			fail "checkpatch --strict $f: $out"
		fi
	done < <(git -C "$TOP" ls-files 'src/patches/*.patch')
}

# kernel_doc_files - every file of the project with kernel-doc comments
# (the UAPI headers are among src/include/*.h).
kernel_doc_files() {
	kernel_c_files
}

# check_kernel_doc - scripts/kernel-doc -none -Wall of the target kernel's
# source says nothing, and no kernel-doc comment starts with "@NAME:" outside
# a structure (kernel-doc drops those silently: an object-like macro is
# documented as "NAME - text").
check_kernel_doc() {
	local f out

	fetch_checkpatch
	while read -r f; do
		out=$(perl "$CHECKPATCH_DIR/scripts/kernel-doc" -none -Wall "$TOP/$f" 2>&1 |
			grep -v '^Warning: Sphinx version' || true)
		out+=$(grep -n '^/\*\* *@' "$TOP/$f" | sed 's/^/dropped kernel-doc: line /' || true)
		if [ -z "$out" ]; then
			ok "kernel-doc -Wall $f"
		else
			fail "kernel-doc -Wall $f: $out"
		fi
	done < <(kernel_doc_files)
}

check_shellcheck() {
	local f

	need_packages shellcheck
	while read -r f; do
		head -n1 "$TOP/$f" | grep -qE '^#!.*(ba)?sh|shell=bash' ||
			grep -q '^# shellcheck shell=' "$TOP/$f" || continue
		check "shellcheck $f" shellcheck -x -P "$TOP" "$TOP/$f"
	done < <(git -C "$TOP" ls-files | grep -vE '\.(c|h|md|patch|8|xsd|toml|in)$|/series$' |
		grep -vE '^(debian/(control|copyright|rules|source/|.*\.(install|lintian-overrides|README\.Debian|links|dirs|docs))|META|CHANGELOG|Makefile|.*/Makefile|.*/Kbuild|.*\.mk|\.gitignore)')
}

# check_sparse_w1 - the project's objects rebuilt in the prepared build tree
# with sparse and W=1 (sparse_w1 in tests/lib.sh); any diagnostic
# that names one of the project's files fails.
check_sparse_w1() {
	local work

	need_packages sparse
	# Up to date after check-provider; otherwise this (re)builds the tree.
	run_logged "$TOP/build/static/module.log" "make module KVER=$KVER" \
		make -C "$TOP" module KVER="$KVER" || { fail "make module KVER=$KVER"; return; }
	work=$(XE_VM_EXPORT_CACHE=$TOP/build/cache "$TOP/src/scripts/xe-vm-export-source" \
		workdir "$KVER") || { fail "sparse/W=1: no prepared tree for $KVER (run make module)"; return; }
	sparse_w1 "" "$KVER" "$work" "$TOP/build/static/sparse-w1.log"
}

# check_python - every Python program of the project (a python3 shebang)
# compiles, and imports nothing but the standard library (xe-vm-export-verify
# runs on every host without extra packages).
check_python() {
	local f

	while read -r f; do
		head -n1 "$TOP/$f" | grep -qE '^#!.*python3' || continue
		check "python3 py_compile $f" /usr/bin/python3 -c \
			'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
			"$TOP/$f" "$TEST_CACHE/static-pyc"
		check "python3 $f: standard library only" /usr/bin/python3 - "$TOP/$f" <<-'PY'
			import ast, sys
			tree = ast.parse(open(sys.argv[1]).read())
			names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
			names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
			bad = sorted(m for m in names if m not in sys.stdlib_module_names)
			assert not bad, bad
		PY
	done < <(git -C "$TOP" ls-files)
}

# check_hook_order - the revocation hooks where the contract needs them in
# the 6.12 xe the hook series patches, and the check catching moved hooks
# (tests/kunit/hook-order.sh; check-series runs it on 7.x).
check_hook_order() {
	local logf=$TOP/build/static/hook-order.log
	need_packages linux-source-6.12
	mkdir -p "$(dirname "$logf")"
	if "$TOP/tests/kunit/hook-order.sh" "6.12=/usr/src/linux-source-6.12.tar.xz" >"$logf" 2>&1; then
		ok "hook order in the patched 6.12 xe, $(tail -n 1 "$logf") (tests/kunit/hook-order.sh)"
	else
		fail "hook order in the patched 6.12 xe (tests/kunit/hook-order.sh):"
		grep -v '^ok ' "$logf"
	fi
}

check_uapi_header() {
	local t

	for t in "$TOP"/tests/uapi/*.sh; do
		[ -x "$t" ] || continue
		check "UAPI header: $(basename "$t")" "$t"
	done
}

main() {
	check_shellcheck
	check_python
	check_uapi_header
	check_checkpatch
	check_kernel_doc
	check_hook_order
	check_sparse_w1
	summary
}

main "$@"
