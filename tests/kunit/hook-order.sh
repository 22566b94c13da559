#!/bin/bash
# hook-order.sh - the revocation hooks sit where the VM export's contract
# needs them, in xe as each hook series patches it. KUnit runs xe's own
# xe_vm_close_and_put(), but a mock device has no TTM, GuC or page tables:
# its VMs are freed by the test, not by vm_destroy_work_func(), and no TLB
# is invalidated (src/kernel/tests/xe_vm_export_test.c says more). So this
# reads the patched source: it applies src/patches/SERIES to the xe of the
# series' linux-source tarball and fails when
#   - xe_vm_close_and_put() does not call xe_vm_export_vm_close() first
#     (only declarations and xe_assert() may come before it), or releases
#     an ASID (a write to xe->usm.asid_to_vm) before it;
#   - anything else in xe writes to usm.asid_to_vm, except the function
#     that creates the table (the debug build's early ASID wrap, before
#     any VM exists);
#   - vm_destroy_work_func() does not call xe_vm_export_vm_free() as its
#     last call before kfree(vm);
#   - xe_device_remove() or xe_device_declare_wedged() lacks its hook;
#   - the work or job that issues the TLB invalidation of a bind's or
#     unbind's range (invalidation_fence_work_func() on 6.12,
#     xe_tlb_inval_job_run() on 7.x) does not call the range hook
#     (xe_vm_export_asid_invalidate(), xe_vm_export_vm_invalidate())
#     before it issues it, or a function of xe_vm.c that
#     zaps page-table entries (xe_pt_zap_ptes()) does not call it after
#     the zap, or any function of xe that issues a TLB invalidation of a
#     VM range itself (xe_gt_tlb_invalidation_vma() on 6.12,
#     xe_tlb_inval_range_tilemask_submit() on 7.x: VMA zap, SVM, madvise)
#     does not call it.
# Then it proves itself: each hook is moved or removed in a copy of the
# patched files, and the check must fail on every copy.
#
# Usage: hook-order.sh [SERIES=SOURCE]...
#   SOURCE: a linux-source tarball of the series, or a tree that holds its
#   drivers/gpu/drm/xe; default: 6.12=/usr/src/linux-source-6.12.tar.xz
# Exit: 0 every series passed and every broken copy was caught, 1 otherwise.
set -euo pipefail

TEST_NAME="hook-order"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

WORK=$TOP/build/hook-order

# extract SERIES SOURCE DIR - xe of SOURCE (a linux-source tarball, or a
# tree holding drivers/gpu/drm/xe) in DIR, the series applied.
extract() {
	local series=$1 source=$2 dir=$3 patch
	rm -rf "$dir"
	mkdir -p "$dir/drivers/gpu/drm"
	if [ -d "$source" ]; then
		cp -r "$source/drivers/gpu/drm/xe" "$dir/drivers/gpu/drm/"
	else
		tar -xJf "$source" -C "$dir" --strip-components=1 --wildcards \
			'*/drivers/gpu/drm/xe/*'
	fi
	while read -r patch; do
		case "$patch" in '' | '#'*) continue ;; esac
		patch -d "$dir" -p1 -s --no-backup-if-mismatch -F0 \
			<"$TOP/src/patches/$series/$patch" ||
			die "$series: $patch does not apply to $source"
	done <"$TOP/src/patches/$series/series"
}

# body FILE FUNCTION - the lines of FUNCTION's body in FILE, each prefixed
# with its line number and a tab (a kernel-style definition: the name at
# the start of a line or after its type on the same line, the body up to
# the first "}" in column 0).
body() {
	awk -v fn="$2" '
		!inside && $0 ~ "^([A-Za-z].*[ *])?" fn "\\(" && $0 !~ /;[[:space:]]*$/ { inside = 1; next }
		inside && /^}/ { exit }
		inside && !/^{/ { print FNR "\t" $0 }' "$1"
}

# statements - drop blank lines, comments, declarations and xe_assert()
# from a body on stdin: what is left are the calls and statements.
statements() {
	awk '
		{ line = substr($0, index($0, "\t") + 1) }
		incomment { if (line ~ /\*\//) incomment = 0; next }
		line ~ /^[[:space:]]*\/\*/ { if (line !~ /\*\//) incomment = 1; next }
		line ~ /^[[:space:]]*$/ { next }
		line ~ /^[[:space:]]*(struct|union|enum|u8|u16|u32|u64|int|bool|long|unsigned|void|LIST_HEAD)[[:space:]]/ && line !~ /\(/ { next }
		line ~ /^[[:space:]]*LIST_HEAD\(/ { next }
		line ~ /^[[:space:]]*xe_assert\(/ { next }
		{ print }'
}

ASID_WRITE='(xa_erase|__xa_erase|xa_store|__xa_store|xa_cmpxchg|xa_release)\([^,]*usm\.asid_to_vm'

# check_vm_close XE - the close hook first, before every ASID release.
check_vm_close() {
	local xe=$1 first hook asid stmt
	first=$(body "$xe/xe_vm.c" xe_vm_close_and_put | statements | head -n 1)
	hook=$(body "$xe/xe_vm.c" xe_vm_close_and_put | grep -P '\txe_vm_export_vm_close\(vm\);' | cut -f1)
	if [ -z "$hook" ]; then
		echo "xe_vm_close_and_put() does not call xe_vm_export_vm_close(vm)"
		return 1
	fi
	if [ "$(wc -l <<<"$hook")" -ne 1 ]; then
		echo "xe_vm_close_and_put() calls xe_vm_export_vm_close() more than once"
		return 1
	fi
	if [ "$(cut -f1 <<<"$first")" != "$hook" ]; then
		stmt=${first#*$'\t'}
		echo "xe_vm_close_and_put(): the first call is not the hook but line ${first%%$'\t'*}: ${stmt#"${stmt%%[![:space:]]*}"}"
		return 1
	fi
	asid=$(body "$xe/xe_vm.c" xe_vm_close_and_put | grep -E "$ASID_WRITE" | cut -f1)
	if [ -z "$asid" ]; then
		echo "xe_vm_close_and_put() releases no ASID: the check does not know this xe"
		return 1
	fi
	while read -r line; do
		if [ "$line" -lt "$hook" ]; then
			echo "xe_vm_close_and_put() releases the ASID at line $line, before the hook (line $hook)"
			return 1
		fi
	done <<<"$asid"
}

# check_asid_writers XE - no other ASID release anywhere in xe, but in the
# function that creates the table.
check_asid_writers() {
	local xe=$1 bad
	bad=$(cd "$xe" && awk -v re="$ASID_WRITE" '
		FNR == 1 { fn = ""; init = "" }
		/^[A-Za-z].*[ *][A-Za-z_0-9]+\(/ && !/;[[:space:]]*$/ {
			fn = $0; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn) }
		/^}/ { fn = "" }
		/xa_init(_flags)?\([^,]*usm\.asid_to_vm/ { init = fn }
		$0 ~ re && fn != "xe_vm_close_and_put" && fn != init {
			print FILENAME ":" FNR ": in " fn "(): " $0 }' ./*.c)
	if [ -n "$bad" ]; then
		echo "ASID released outside xe_vm_close_and_put(): $bad"
		return 1
	fi
}

# check_vm_free XE - the free hook is the last call before kfree(vm).
check_vm_free() {
	local xe=$1 last
	last=$(body "$xe/xe_vm.c" vm_destroy_work_func | statements | tail -n 2 | cut -f2- |
		tr -d '\t ' | tr '\n' ' ')
	if [ "$last" != "xe_vm_export_vm_free(vm); kfree(vm); " ]; then
		echo "vm_destroy_work_func() does not end with xe_vm_export_vm_free(vm); kfree(vm); (ends with: $last)"
		return 1
	fi
}

# check_device XE FUNCTION HOOK - FUNCTION in xe_device.c calls HOOK(xe).
check_device() {
	if ! body "$1/xe_device.c" "$2" | grep -qP "\t$3\(xe\);"; then
		echo "$2() does not call $3(xe)"
		return 1
	fi
}

# check_invalidate_job XE - the work or job that issues the TLB invalidation
# of a bind's or unbind's range (invalidation_fence_work_func() on 6.12,
# xe_tlb_inval_job_run() on 7.x: any function of xe, outside the TLB
# invalidation code itself, that calls xe_gt_tlb_invalidation_range() or
# xe_tlb_inval_range()) tells the importers before it issues it.
check_invalidate_job() {
	local xe=$1 out
	out=$(cd "$xe" && awk '
		FNR == 1 { fn = "" }
		FILENAME ~ /^(\.\/)?(xe_gt_tlb_invalidation|xe_tlb_inval)\./ { next }
		/^([A-Za-z].*[ *])?[A-Za-z_0-9]+\(/ && !/;[[:space:]]*$/ {
			fn = $0; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn); issue = hook = 0 }
		fn != "" && /\t(xe_gt_tlb_invalidation_range|xe_tlb_inval_range)\(/ && !issue { issue = FNR }
		fn != "" && /\txe_vm_export_(vm|asid)_invalidate\(/ && !hook { hook = FNR }
		/^}/ && fn != "" {
			if (issue) {
				n++
				if (!hook) print FILENAME ":" issue ": " fn "() issues a range TLB invalidation without calling the range hook"
				else if (hook > issue) print FILENAME ":" hook ": " fn "() calls the range hook after the TLB invalidation (line " issue ")"
			}
			fn = "" }
		END { if (!n) print "no function of xe issues a bind range TLB invalidation: the check does not know this xe" }' ./*.c)
	if [ -n "$out" ]; then
		echo "$out"
		return 1
	fi
}

# check_invalidate_vma XE - every function of xe_vm.c that zaps page-table
# entries tells the importers after the zap.
check_invalidate_vma() {
	local xe=$1 out
	out=$(awk '
		/^[A-Za-z].*[ *][A-Za-z_0-9]+\(/ && !/;[[:space:]]*$/ {
			fn = $0; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn); zap = hook = 0 }
		fn != "" && /xe_pt_zap_ptes\(/ && !zap { zap = FNR }
		fn != "" && /\txe_vm_export_vm_invalidate\(/ && zap { hook = FNR }
		/^}/ && fn != "" {
			if (zap) { n++; if (!hook) print fn "() zaps at line " zap " and does not call xe_vm_export_vm_invalidate() after it" }
			fn = "" }
		END { if (!n) print "no function of xe_vm.c calls xe_pt_zap_ptes(): the check does not know this xe" }' "$xe/xe_vm.c")
	if [ -n "$out" ]; then
		echo "$out"
		return 1
	fi
}

# check_invalidate_issuers XE - every function of xe, outside the TLB
# invalidation code itself, that issues a range TLB invalidation for a VM
# calls the range hook too.
check_invalidate_issuers() {
	local xe=$1 out
	out=$(cd "$xe" && awk '
		FNR == 1 { fn = "" }
		FILENAME ~ /^(\.\/)?(xe_gt_tlb_invalidation|xe_tlb_inval)/ { next }
		/^([A-Za-z].*[ *])?[A-Za-z_0-9]+\(/ && !/;[[:space:]]*$/ {
			fn = $0; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn); issue = hook = 0 }
		fn != "" && /(xe_gt_tlb_invalidation_vma|xe_tlb_inval_range_tilemask_submit)\(/ && !issue { issue = FNR }
		fn != "" && /\txe_vm_export_vm_invalidate\(/ { hook = FNR }
		/^}/ && fn != "" {
			if (issue) { n++; if (!hook) print FILENAME ":" issue ": " fn "() invalidates a VM range in the GTs without calling xe_vm_export_vm_invalidate()" }
			fn = "" }
		END { if (!n) print "no function of xe issues a range TLB invalidation of a VM: the check does not know this xe" }' ./*.c)
	if [ -n "$out" ]; then
		echo "$out"
		return 1
	fi
}

# check_tree XE - every check on one patched xe; prints why it failed.
check_tree() {
	local xe=$1 rc=0
	check_vm_close "$xe" || rc=1
	check_asid_writers "$xe" || rc=1
	check_vm_free "$xe" || rc=1
	check_device "$xe" xe_device_remove xe_vm_export_device_remove || rc=1
	check_device "$xe" xe_device_declare_wedged xe_vm_export_device_wedged || rc=1
	check_invalidate_job "$xe" || rc=1
	check_invalidate_vma "$xe" || rc=1
	check_invalidate_issuers "$xe" || rc=1
	return "$rc"
}

# Broken copies: each edits the copy's files; the check must then fail.
break_close_after_asid() {
	# the hook moved to the end of xe_vm_close_and_put(), after the ASID release
	perl -0pi -e 's/\n[^\n]*\n\txe_vm_export_vm_close\(vm\);\n/\n/; s/(\n\txe_vm_put\(vm\);\n}\n\nstatic void vm_destroy_work_func)/\n\txe_vm_export_vm_close(vm);$1/' "$1/xe_vm.c"
}
break_close_second() {
	# the hook after xe_vm_close(): a call runs before it
	perl -0pi -e 's/\n\txe_vm_export_vm_close\(vm\);\n(\txe_vm_close\(vm\);\n)/\n$1\txe_vm_export_vm_close(vm);\n/' "$1/xe_vm.c"
}
break_asid_elsewhere() {
	# an ASID release in another function of xe_vm.c
	perl -0pi -e 's/(\nstruct xe_vm \*xe_vm_lookup\(struct xe_file \*xef, u32 id\)\n\{\n)/$1\txa_erase(&xef->xe->usm.asid_to_vm, id);\n/' "$1/xe_vm.c"
}
break_free_early() {
	# the free hook before the destroy work's last use of the device
	perl -0pi -e 's/\n[^\n]*\n\txe_vm_export_vm_free\(vm\);\n/\n/; s/(\n\tttm_lru_bulk_move_fini\()/\n\txe_vm_export_vm_free(vm);$1/' "$1/xe_vm.c"
}
break_no_remove() {
	perl -0pi -e 's/\n\txe_vm_export_device_remove\(xe\);\n/\n/' "$1/xe_device.c"
}
break_no_wedged() {
	perl -0pi -e 's/\n\txe_vm_export_device_wedged\(xe\);\n/\n/' "$1/xe_device.c"
}
# bind_job_file DIR - the file of the bind/unbind range hook: xe_pt.c on
# 6.12, xe_tlb_inval_job.c on 7.x.
bind_job_file() {
	if [ -f "$1/xe_tlb_inval_job.c" ]; then
		echo "$1/xe_tlb_inval_job.c"
	else
		echo "$1/xe_pt.c"
	fi
}
break_no_invalidate_pt() {
	perl -0pi -e 's/\n\txe_vm_export_(vm|asid)_invalidate\([^;]*;\n/\n/' "$(bind_job_file "$1")"
}
break_invalidate_pt_late() {
	# the range hook after the TLB invalidation was issued
	perl -0pi -e 's/\n(\txe_vm_export_(?:vm|asid)_invalidate\([^;]*;\n)/\n/ and $h = $1;
		s/(\n\t(?:xe_gt_tlb_invalidation_range|xe_tlb_inval_range)\([^;]*;\n)/$1$h/' "$(bind_job_file "$1")"
}
break_no_invalidate_vma() {
	perl -0pi -e 's/\n\txe_vm_export_vm_invalidate\([^;]*;\n/\n/' "$1/xe_vm.c"
}
break_no_invalidate_issuer() {
	# 7.x: the hook gone from madvise's range invalidation (6.12 has no
	# madvise: from xe_vm_invalidate_vma())
	local f=$1/xe_vm_madvise.c
	[ -f "$f" ] || f=$1/xe_vm.c
	perl -0pi -e 's/\n\txe_vm_export_vm_invalidate\([^;]*;\n/\n/' "$f"
}
BREAKS=(break_close_after_asid break_close_second break_asid_elsewhere
	break_free_early break_no_remove break_no_wedged break_no_invalidate_pt
	break_invalidate_pt_late break_no_invalidate_vma break_no_invalidate_issuer)
# The files the breakers edit (those a series has).
BREAK_FILES=(xe_vm.c xe_device.c xe_pt.c xe_tlb_inval_job.c xe_svm.c xe_vm_madvise.c)

# self_test SERIES XE - every broken copy of XE fails the check.
self_test() {
	local series=$1 xe=$2 b copy=$WORK/copy why f same
	for b in "${BREAKS[@]}"; do
		rm -rf "$copy"
		mkdir -p "$copy"
		for f in "${BREAK_FILES[@]}"; do
			[ ! -f "$xe/$f" ] || cp "$xe/$f" "$copy/"
		done
		"$b" "$copy"
		same=1
		for f in "${BREAK_FILES[@]}"; do
			[ ! -f "$xe/$f" ] || cmp -s "$xe/$f" "$copy/$f" || same=0
		done
		if [ "$same" = 1 ]; then
			fail "$series self-test $b: the edit changed nothing (the breaker does not know this xe)"
		elif why=$(check_tree "$copy"); then
			fail "$series self-test $b: the check passed a broken copy"
		else
			ok "$series self-test $b: caught ($(head -n 1 <<<"$why"))"
		fi
	done
}

main() {
	local arg series tarball xe why
	[ $# -gt 0 ] || set -- "6.12=/usr/src/linux-source-6.12.tar.xz"
	need_packages patch xz-utils
	for arg in "$@"; do
		series=${arg%%=*}
		tarball=${arg#*=}
		[ -f "$TOP/src/patches/$series/series" ] || die "no hook series src/patches/$series"
		[ -e "$tarball" ] || die "$series: no source $tarball"
		log "$series: applying the hook series to the xe of $tarball"
		extract "$series" "$tarball" "$WORK/$series"
		xe=$WORK/$series/drivers/gpu/drm/xe
		if why=$(check_tree "$xe"); then
			ok "$series: hooks first in xe_vm_close_and_put() (before every ASID release), last in vm_destroy_work_func(), in remove and wedge, range hook before each bind TLB invalidation, after each PTE zap and in every range TLB invalidation"
		else
			fail "$series: $why"
		fi
		self_test "$series" "$xe"
	done
	summary
}

main "$@"
