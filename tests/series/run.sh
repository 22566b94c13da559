#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-series: the kernel series after 6.12 (src/patches/7.*), built
# for Debian's own kernels of that series in an isolated Debian 13 root with
# trixie-backports (their headers need Debian 13's gcc-14), never on the host.
#
# Per series, with the kernel chosen from what the archive offers when the
# test runs (the newest ABI whose linux-source has the very same version):
#   - the provider finds linux-source-<series> by the headers' source
#     version, and skips an older kernel of the series (no source of its
#     version) with the backports fix command;
#   - `make module` builds the patched xe; modinfo names the exact source;
#   - sparse and W=1 on the project's objects in that series' tree;
#   - checkpatch --strict of that series' kernel on its hook series and on
#     the project's kernel C;
#   - the revocation hooks' places in that series' patched xe
#     (tests/kunit/hook-order.sh, with its self-test);
#   - the sample consumer builds against that xe's Module.symvers and
#     imports the XE_VM_EXPORT namespace (the 6.13 namespace change).
#
#   - Debian's own kernel booted in qemu (TCG) with ours and the sample
#     consumer loaded, the provenance checked (tests/qemu/run.sh).
#
# Environment: XE_SERIES  the series to test (default: 7.2; `make
# check-series-full` passes every 7.x series with a hook series);
# XE_SERIES_QEMU=0 leaves the qemu boot out.
set -euo pipefail

TEST_NAME=check-series
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/packaging/root.sh
. "$TOP/tests/packaging/root.sh"

declare -F root_kernels >/dev/null ||
	die "tests/packaging/root.sh has no Debian 13 roots yet (root_create NAME trixie backports, root_kernels)"

SERIES_LIST=${XE_SERIES:-7.2}
WORK=$TOP/build/series
SOURCE=$TOP/src/scripts/xe-vm-export-source
# The one source also compiles against 6.12, which has no kzalloc_obj()
# (new in 7.x's checkpatch).
CHECKPATCH_IGNORE=ALLOC_WITH_SIZEOF

now() { date +%s; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# run_in_root ARGS... - run in the root with `make module`'s cache; sets
# RC, OUT (stdout and stderr).
run_in_root() {
	RC=0
	OUT=$(in_root XE_VM_EXPORT_CACHE="$TOP/build/cache" "$@" 2>&1) || RC=$?
}

expect() {
	local desc=$1 want_rc=$2 pattern=$3

	pattern=${pattern//+/\\+}
	if [ "$RC" -eq "$want_rc" ] && grep -qE -- "$pattern" <<<"$OUT"; then
		ok "$desc"
	else
		fail "$desc (exit $RC, want $want_rc and /$pattern/): $(tail -c 400 <<<"$OUT")"
	fi
}

# prepare_root - the trixie + backports root with the repository at the same
# path, so that the build trees' paths are the same inside and out.
prepare_root() {
	root_create series trixie backports
	root_mount bind "$TOP" "$TOP"
	root_apt "$WORK/logs/tools.log" "build tools in the root" install git sparse
}

# install_series SERIES - headers and linux-source of the newest kernel of
# SERIES, and the headers only of the next older one; sets K, V, K_OLD, V_OLD.
install_series() {
	local s=$1 kernels pkgs

	kernels=$(root_kernels "$s")
	K=$(sed -n 1p <<<"$kernels") K_OLD=$(sed -n 2p <<<"$kernels")
	[ -n "$K" ] || die "the archive offers no $s kernel with a linux-source-$s of its version"
	V=$(root_headers_version "$K")
	pkgs=("linux-headers-$K" "linux-source-$s=$V")
	V_OLD=''
	if [ -n "$K_OLD" ]; then
		V_OLD=$(root_headers_version "$K_OLD")
		pkgs+=("linux-headers-$K_OLD")
	fi
	log "series $s: $K ($V)${K_OLD:+, older $K_OLD ($V_OLD) without its source}"
	root_apt "$WORK/logs/install-$s.log" "headers and linux-source-$s=$V" \
		install -t trixie-backports "${pkgs[@]}"
}

test_provider() {
	local s=$1 t0

	rm -rf "$TOP/build/cache/bases/$K"
	run_in_root "$SOURCE" locate "$K"
	expect "$s: provider serves $K from linux-source-$s $V" 0 \
		"^$K: linux-source: linux-source-$s $V\$"
	t0=$(now_ms)
	run_in_root "$SOURCE" prepare "$K"
	expect "$s: prepare $K, fresh extraction ($(($(now_ms) - t0)) ms)" 0 "/build/cache/build/$K\$"
	t0=$(now_ms)
	run_in_root "$SOURCE" prepare "$K"
	expect "$s: prepare $K, cached base ($(($(now_ms) - t0)) ms)" 0 "xe base from linux-source-$s $V \(cached\)"
	if [ -z "$K_OLD" ]; then
		skip "$s: an older kernel without its source, skipped with the backports line" \
			"one $s kernel with its linux-source in the archive"
		return 0
	fi
	run_in_root "$SOURCE" check "$K_OLD"
	expect "$s: $K_OLD (source $V_OLD not installed) skipped with the backports fix" 77 \
		"^xe-vm-export: skipping $K_OLD: no xe source for linux $V_OLD \(linux-source-$s is $V\); to build it: apt-get install -t trixie-backports linux-source-$s=$V_OLD\$"
}

test_build() {
	local s=$1 ko=$TOP/build/$K/xe.ko t0 prov

	t0=$(now)
	run_logged "$WORK/logs/module-$K.log" "make module KVER=$K (real build of the patched $s xe)" \
		in_root make -C "$TOP" module KVER="$K" || { fail "$s: make module KVER=$K"; return 1; }
	BUILD_SECS[$s]=$(($(now) - t0))
	ok "$s: make module KVER=$K built $(stat -c %s "$ko") bytes in ${BUILD_SECS[$s]} s"
	prov=$TOP/build/cache/bases/$K/provenance
	check "$s: modinfo base is linux-source-$s $V" \
		test "$(modinfo -F xe_vm_export_base "$ko")" = "linux-source-$s $V"
	check "$s: modinfo base checksum is the cached base's" test \
		"$(modinfo -F xe_vm_export_base_sha256 "$ko")" = "$(sed -n 's/^base_sha256=//p' "$prov")"
	check "$s: modinfo series names $s" \
		bash -c "modinfo -F xe_vm_export_series '$ko' | grep -q '^$s@'"
	check "$s: vermagic is $K" bash -c "modinfo -F vermagic '$ko' | grep -q '^$K '"
	check "$s: the VM export ioctl and its API are in the module" \
		bash -c "nm '$ko' | grep -q ' T xe_vm_export_ioctl\$' && nm '$ko' | grep -q '__ksymtab_xe_vm_import_get\$'"
	check "$s: the API is exported in the XE_VM_EXPORT namespace" \
		grep -qE "	xe_vm_import_get	.*	XE_VM_EXPORT$" "$TOP/build/$K/Module.symvers"
}

test_sparse_w1() {
	local s=$1

	run_in_root "$SOURCE" workdir "$K"
	[ "$RC" -eq 0 ] || { fail "$s: no prepared tree for $K: $OUT"; return; }
	sparse_w1 "$s: " "$K" "$OUT" "$WORK/logs/sparse-w1-$K.log" in_root
}

# test_checkpatch SERIES - checkpatch.pl of the series' own source.
test_checkpatch() {
	local s=$1 dir f out

	dir=$TEST_CACHE/checkpatch-$s

	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		mkdir -p "$dir"
		xz -T0 -dc "$ROOT/usr/src/linux-source-$s.tar.xz" | tar -x -C "$dir" \
			--strip-components=1 --wildcards --no-wildcards-match-slash \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
	fi
	for f in "$TOP"/src/patches/"$s"/*.patch; do
		if out=$(cd "$dir" && scripts/checkpatch.pl --strict --no-tree --terse --show-types "$f" 2>&1); then
			ok "$s: checkpatch --strict (Linux $s) ${f#"$TOP"/}"
		else
			fail "$s: checkpatch --strict ${f#"$TOP"/}: $out"
		fi
	done
	while read -r f; do
		if out=$(cd "$dir" && scripts/checkpatch.pl --strict --no-tree --terse --show-types \
			--ignore "$CHECKPATCH_IGNORE,SPACING" -f "$TOP/$f" 2>&1); then
			:
		else
			fail "$s: checkpatch --strict (Linux $s) $f: $out"
			return
		fi
	done < <(git -C "$TOP" ls-files 'src/kernel/*.[ch]' 'src/include/*.h' 'src/samples/*.[ch]')
	ok "$s: checkpatch --strict (Linux $s) of the project's kernel C (--ignore $CHECKPATCH_IGNORE)"
}

# test_hook_order SERIES - the revocation hooks' places in the series' xe
# as its hook series patches it, and the check catching moved hooks.
test_hook_order() {
	check "$1: hook order in the patched xe, self-test included (tests/kunit/hook-order.sh)" \
		"$TOP/tests/kunit/hook-order.sh" "$1=$ROOT/usr/src/linux-source-$1.tar.xz"
}

# test_consumer SERIES - the sample auxiliary driver against this xe.
test_consumer() {
	local s=$1 dir=$WORK/aux-$K ko

	rm -rf "$dir"
	mkdir -p "$dir"
	cp -r "$TOP/src/samples/xe_vm_export_aux/." "$dir/"
	run_logged "$WORK/logs/aux-$K.log" "sample consumer against $K" \
		in_root make -C "$dir" KVER="$K" XE_VM_EXPORT_INCLUDE="$TOP/src/include" \
		XE_VM_EXPORT_SYMVERS="$TOP/build/$K/Module.symvers" ||
		{ fail "$s: sample consumer builds against $K"; return; }
	ko=$dir/xe_vm_export_aux.ko
	check "$s: sample consumer imports namespace XE_VM_EXPORT" \
		test "$(modinfo -F import_ns "$ko")" = XE_VM_EXPORT
}

# root_download PKG... - PKG's .debs, downloaded through the root's archive
# (the host's Debian 12 apt does not reach 7.x) into the cached apt
# archives, unless there already.
root_download() {
	local p missing=()
	for p in "$@"; do
		find "$APT_ARCHIVES" -maxdepth 1 -name "${p}_*.deb" | grep -q . || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	run_logged "$WORK/logs/download-$K.log" "downloading ${missing[*]}" \
		in_root sh -c 'cd /var/cache/apt/archives && apt-get download -t trixie-backports "$@"' \
		sh "${missing[@]}"
}

# image_packages - what makes up the kernel image of K: Debian 13's 7.x
# kernels split linux-image-<abi> (empty) into linux-base-, linux-binary-
# (the signed image) and linux-modules-<abi>.
image_packages() {
	local deps
	deps=$(in_root apt-cache depends "linux-image-$K" |
		awk -v k="$K" '$1 == "Depends:" && $2 ~ "^linux-(base|binary|modules)-" && substr($2, length($2) - length(k) + 1) == k { print $2 }' |
		sort -u | paste -sd ' ')
	echo "${deps:-linux-image-$K}"
}

# test_qemu SERIES - Debian's own kernel K, booted in qemu (TCG) by
# tests/qemu/run.sh with ours and the sample consumer loaded and the
# provenance checked; its image is downloaded through the root and its
# probe modules are built in it. Its checks count as this test's.
test_qemu() {
	local s=$1 pkgs log=$WORK/logs/qemu-$K.log rc=0 line n=$FAILED
	local aux=$WORK/aux-$K/xe_vm_export_aux.ko

	[ -f "$aux" ] || { fail "$s qemu: no sample consumer built for $K"; return; }
	pkgs=$(image_packages)
	# shellcheck disable=SC2086 # a list of package names
	root_download $pkgs || { fail "$s qemu: download $pkgs"; return; }
	log "$s: booting Debian's $K in qemu (image: $pkgs)"
	QEMU_KVER=$K QEMU_OTHER_KVER=$K_OLD QEMU_CHROOT=$ROOT QEMU_IMAGE_PACKAGES=$pkgs \
		QEMU_DEBS=$APT_ARCHIVES XE_KO=$TOP/build/$K/xe.ko AUX_KO=$aux \
		"$TOP/tests/qemu/run.sh" >"$log" || rc=$?
	while IFS= read -r line; do
		case $line in
		"ok   "*) ok "$s qemu: ${line#ok   }" ;;
		"FAIL "*) fail "$s qemu: ${line#FAIL }" ;;
		*) printf '     %s\n' "$line" ;;
		esac
	done <"$log"
	[ "$rc" -eq 0 ] || [ "$FAILED" -gt "$n" ] ||
		fail "$s qemu: tests/qemu/run.sh exited $rc (log: $log)"
}

# bench_size SERIES - the module as DKMS installs it (strip -g, xz) against
# the in-tree xe.ko.xz of the same kernel, from its modules package
# (Debian 13's 7.x kernels: linux-modules-<abi>; linux-image-<abi> only
# depends on it), downloaded into the cached apt archives.
# XE_SERIES_BENCH=1 only.
bench_size() {
	local s=$1 d=$WORK/bench-$K pkg=linux-modules-$K deb ours intree

	rm -rf "$d"
	mkdir -p "$d"
	deb=$(find "$APT_ARCHIVES" -name "${pkg}_*.deb" | head -n1)
	if [ -z "$deb" ]; then
		run_logged "$WORK/logs/modules-$K.log" "downloading $pkg (in-tree xe.ko.xz)" \
			in_root sh -c "cd /var/cache/apt/archives && apt-get download -t trixie-backports $pkg" ||
			{ fail "$s: download $pkg"; return; }
		deb=$(find "$APT_ARCHIVES" -name "${pkg}_*.deb" | head -n1)
	fi
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$d" --wildcards '*/drivers/gpu/drm/xe/xe.ko*'
	intree=$(find "$d" -name 'xe.ko*' -printf '%s\n' | head -n1)
	strip -g -o "$d/ours.ko" "$TOP/build/$K/xe.ko"
	xz -f "$d/ours.ko"
	ours=$(stat -c %s "$d/ours.ko.xz")
	echo "$K  installed module (strip -g, xz): $ours bytes; in-tree xe.ko.xz $intree bytes; ratio $(awk -v a="$ours" -v b="$intree" 'BEGIN { printf "%.3f", a / b }')"
	echo "$K  full build in the root: ${BUILD_SECS[$s]} s on $(nproc) cores"
}

main() {
	local s t0
	declare -gA BUILD_SECS=()

	mkdir -p "$WORK/logs"
	t0=$(now)
	prepare_root
	for s in $SERIES_LIST; do
		[ -f "$TOP/src/patches/$s/series" ] || die "no hook series for $s"
		install_series "$s"
		test_provider "$s"
		test_build "$s" || continue
		test_sparse_w1 "$s"
		test_checkpatch "$s"
		test_hook_order "$s"
		test_consumer "$s"
		[ "${XE_SERIES_QEMU:-1}" = 0 ] || test_qemu "$s"
		[ -z "${XE_SERIES_BENCH:-}" ] || bench_size "$s"
	done
	log "check-series ($SERIES_LIST) took $(($(now) - t0)) s"
	summary
}

main "$@"
