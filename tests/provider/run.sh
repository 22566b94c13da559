#!/bin/bash
# make check-provider: the source provider chain on real Debian data, a real
# build of the patched xe with its provenance, and the DKMS tree of
# `make dist` built by dkms in a dkms tree of the test's own.
#
# Never touches the host's /lib/modules, /usr/src, /var/lib/dkms,
# /var/lib/xe-vm-export or /etc/xe-vm-export (and is not changed by them:
# `sudo make install` may have installed the product on this host): kernels
# are presented through a modules directory of the test's (--modules-dir)
# whose entries point at the installed headers, and every cache and sources
# file is private.
set -euo pipefail

TEST_NAME=check-provider
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SOURCE=$TOP/src/scripts/xe-vm-export-source
# The two newest 6.12 kernels whose linux-source of the same version the
# archive has (tests/lib.sh); with only one, the tests of a second kernel
# (another version's source refused, explicit source, kernel tree) are a
# skip, which tests/skips.allow does not expect: it fails the test.
read -r OLD NEW <<<"$(test_kernels 2)"
if [ -z "$NEW" ]; then
	NEW=$OLD OLD=''
fi
# The Debian version of a kernel's headers, which is its source's version.
debian_version() {
	apt-cache show "linux-headers-$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n1
}
OLD_VER=$(debian_version "$OLD")
NEW_VER=$(debian_version "$NEW")
WORK=$TOP/build/test-provider
OLD_TARBALL=$TEST_CACHE/linux-source-$OLD_VER.tar.xz

# install_test_inputs - headers of both test kernels, the new kernel's
# linux-source (the provider's real input), dkms; the old kernel's
# linux-source is downloaded into the cache, not installed.
install_test_inputs() {
	local want=(dkms rsync xz-utils "linux-headers-$NEW")

	[ -z "$OLD" ] || want+=("linux-headers-$OLD")
	need_packages "${want[@]}"
	if [ "$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null)" != "$NEW_VER" ]; then
		log "installing linux-source-6.12=$NEW_VER"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"linux-source-6.12=$NEW_VER" >/dev/null
	fi
	if [ -n "$OLD" ] && [ ! -f "$OLD_TARBALL" ]; then
		log "downloading linux-source-6.12=$OLD_VER into $TEST_CACHE"
		mkdir -p "$TEST_CACHE"
		(cd "$TEST_CACHE" && apt-get download -q "linux-source-6.12=$OLD_VER" >/dev/null)
		dpkg-deb --fsys-tarfile "$TEST_CACHE"/linux-source-6.12_"${OLD_VER/:/%3a}"_all.deb |
			tar -xO ./usr/src/linux-source-6.12.tar.xz >"$OLD_TARBALL.tmp"
		mv "$OLD_TARBALL.tmp" "$OLD_TARBALL"
		rm -f "$TEST_CACHE"/linux-source-6.12_*_all.deb
	fi
}

# fresh_env NAME - a private cache, sources file and modules dir where each
# test kernel's build link points at its real headers.
fresh_env() {
	local k

	E=$WORK/$1
	rm -rf "$E"
	mkdir -p "$E/modules"
	for k in $OLD "$NEW"; do
		mkdir -p "$E/modules/$k"
		ln -s "/usr/src/linux-headers-$k" "$E/modules/$k/build"
	done
	SOURCES_FILE=$E/sources.conf
}

# run_source ARGS... - run the provider; sets RC, OUT (stdout), ERR (stderr).
run_source() {
	RC=0
	"$SOURCE" --cache "$E/cache" --sources "$SOURCES_FILE" --modules-dir "$E/modules" \
		"$@" >"$E/out" 2>"$E/err" || RC=$?
	OUT=$(cat "$E/out")
	ERR=$(cat "$E/err")
}

expect() {
	local desc=$1 want_rc=$2 pattern=$3

	# Kernel releases hold a literal '+' ("6.12.117+deb12-amd64"); the
	# patterns use no '+' quantifier.
	pattern=${pattern//+/\\+}

	if [ "$RC" -eq "$want_rc" ] && grep -qE -- "$pattern" <<<"$OUT
$ERR"; then
		ok "$desc"
	else
		fail "$desc (exit $RC, want $want_rc and /$pattern/): $(printf '%s %s' "$OUT" "$ERR" | tail -c 400)"
	fi
}

test_distro_source_and_cache() {
	local start elapsed

	fresh_env distro
	run_source locate "$NEW"
	expect "linux-source provider: $NEW served by linux-source-6.12 $NEW_VER" 0 \
		"$NEW: linux-source: linux-source-6.12 $NEW_VER"
	start=$(date +%s%N)
	run_source prepare "$NEW"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	expect "prepare $NEW from the tarball (${elapsed} ms)" 0 "$E/cache/build/$NEW"
	check "base provenance records the package version and checksums" \
		grep -q "^source_version=$NEW_VER\$" "$E/cache/bases/$NEW/provenance"
	check "hook series applied in the build tree" \
		grep -q 'xe_vm_export_info.o' "$E/cache/build/$NEW/drivers/gpu/drm/xe/Makefile"
	run_source locate "$NEW"
	expect "cache provider: $NEW served from the cache after extraction" 0 "$NEW: cache: "
	start=$(date +%s%N)
	run_source prepare "$NEW"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	expect "prepare $NEW from the cache (${elapsed} ms)" 0 "$E/cache/build/$NEW"
	echo "corrupt" >>"$E/cache/bases/$NEW/drivers/gpu/drm/xe/xe_vm.c"
	run_source locate "$NEW"
	expect "a cached base that fails its checksum is not used" 0 \
		"does not match its checksum"
	mkdir -p "$E/cache/bases/.$NEW.interrupted"
	run_source prune "$NEW"
	expect "prune drops the kernel's base and build tree, with the cache size" 0 \
		"^xe-vm-export: $NEW removed: its xe base and build tree pruned from $E/cache \(cache [0-9.]*[KMG]? -> [0-9.]*[KMG]?\)"
	check "after prune nothing of $NEW is left in the cache" \
		test -z "$(find "$E/cache" -name "*$NEW*" -print -quit)"
}

test_version_mismatch_and_skip() {
	fresh_env mismatch
	run_source check "$OLD"
	expect "$NEW_VER source is not used for $OLD: skip line with the fix" 77 \
		"^xe-vm-export: skipping $OLD: no xe source for linux-6.12 $OLD_VER \(linux-source-6.12 is $NEW_VER\); to build it: apt-get install linux-source-6.12=$OLD_VER\$"
	check "the skip is one line" test "$(echo "$ERR" | wc -l)" -eq 1
	SKIP_LINE=$ERR
	echo "$OLD /usr/src/linux-source-6.12.tar.xz" >"$SOURCES_FILE"
	run_source prepare "$OLD"
	expect "explicit source of another version refused, naming the file" 1 \
		"/usr/src/linux-source-6.12.tar.xz is Linux ${NEW%%+*}, kernel $OLD needs ${OLD%%+*}"
	check "nothing half-extracted is left after the refusal" \
		test -z "$(find "$E/cache/bases" -mindepth 1 -maxdepth 1 2>/dev/null)"
}

test_explicit_source_then_cache() {
	fresh_env explicit
	echo "# admin's sources" >"$SOURCES_FILE"
	echo "$OLD $OLD_TARBALL" >>"$SOURCES_FILE"
	run_source prepare "$OLD"
	expect "config provider: explicit tarball for $OLD" 0 "xe base from explicit $OLD_TARBALL"
	check "provenance of $OLD's base names the tarball and its sha256" \
		grep -q "^origin_sha256=$(sha256sum "$OLD_TARBALL" | cut -d' ' -f1)\$" \
		"$E/cache/bases/$OLD/provenance"
	: >"$SOURCES_FILE"
	run_source prepare "$OLD"
	expect "after the source is gone, $OLD is still served from the cache" 0 \
		"xe base from explicit $OLD_TARBALL \(cached\)"
}

test_kernel_tree() {
	local tree

	fresh_env tree
	tree=$E/linux-tree
	mkdir -p "$tree"
	tar -xJf "$OLD_TARBALL" -C "$tree" --strip-components=1 --wildcards \
		--no-wildcards-match-slash '*/Makefile' '*/drivers/gpu/drm/xe' '*/drivers/gpu/drm/i915'
	ln -s "$tree" "$E/modules/$OLD/source"
	run_source prepare "$OLD"
	expect "kernel-tree provider: $OLD from <modules>/$OLD/source" 0 "xe base from kernel tree $tree"
	find "$tree/drivers/gpu/drm/xe" -name '*.c' -delete
	rm -rf "$E/cache"
	run_source check "$OLD"
	expect "a kernel-devel style tree (no xe .c files) is not a source: skip line" 77 \
		"^xe-vm-export: skipping $OLD: no xe source for linux-6.12 $OLD_VER"
	echo "$OLD $tree" >"$SOURCES_FILE"
	run_source prepare "$OLD"
	expect "an explicit kernel-devel style tree is refused by name" 1 \
		"$tree is not a full kernel source tree"
	rm -rf "$tree/drivers/gpu/drm/xe"
	run_source prepare "$OLD"
	expect "an explicit tree without drivers/gpu/drm/xe is refused by name" 1 \
		"$tree is not a kernel source tree with xe"
}

test_bad_inputs() {
	local bogus

	fresh_env bad
	bogus=$E/not-a-kernel.tar.gz
	tar -czf "$bogus" -C "$TOP" META
	echo "$NEW $bogus" >"$SOURCES_FILE"
	run_source prepare "$NEW"
	expect "a tarball that is not a kernel source is refused by name" 1 \
		"$bogus is not a kernel source with xe"
	echo "$NEW $E/missing.tar.xz" >"$SOURCES_FILE"
	run_source prepare "$NEW"
	expect "a missing explicit source is refused by name" 1 "$E/missing.tar.xz .* does not exist"
	echo "$NEW $TOP/META" >"$SOURCES_FILE"
	run_source prepare "$NEW"
	expect "a plain file is refused by name" 1 "$TOP/META is neither a directory nor"
	run_source check 6.1.0-47-amd64
	expect "6.1 refused: no xe before 6.8" 77 \
		"^xe-vm-export: skipping 6.1.0-47-amd64: xe first appeared in Linux 6.8"
	run_source check 6.15.2-test
	expect "a series without a hook series is refused" 77 "no hook series for Linux 6.15"
	run_source check 6.12.99-not-installed
	expect "no headers: skip with the install command" 77 \
		"apt-get install linux-headers-6.12.99-not-installed"
	mkdir -p "$E/noxe"
	touch "$E/noxe/Makefile"
	echo "# CONFIG_DRM_XE is not set" >"$E/noxe/.config"
	run_source --kdir "$E/noxe" check "$NEW"
	expect "xe not enabled in the kernel's config (--kdir): skip" 77 \
		"^xe-vm-export: skipping $NEW: xe is not enabled in its configuration"
	echo "$NEW" >"$SOURCES_FILE"
	run_source check "$NEW"
	expect "a broken sources line is an error, not a skip" 1 "no source path given for $NEW"
	run_source --bogus check "$NEW"
	expect "unknown option: usage error" 2 "unknown option '--bogus'"
	run_source
	expect "no command: usage error" 2 "missing command"
	run_source frobnicate "$NEW"
	expect "unknown command: usage error" 2 "unknown command 'frobnicate'"
	run_source prepare
	expect "missing kernel: usage error" 2 "needs exactly one KERNEL"
	run_source help
	expect "help documents the exit codes" 0 "77 kernel skipped"
}

# modinfo_field FILE FIELD
modinfo_field() {
	modinfo -F "$2" "$1"
}

test_real_build() {
	local ko=$TOP/build/$NEW/xe.ko base prov

	run_logged "$WORK/module-$NEW.log" "make module KVER=$NEW (real build of the patched xe)" \
		make -C "$TOP" module KVER="$NEW" || { fail "make module KVER=$NEW"; return; }
	ok "make module KVER=$NEW built $(stat -c %s "$ko") bytes"
	prov=$TOP/build/cache/bases/$NEW/provenance
	base=$(modinfo_field "$ko" xe_vm_export_base)
	check "modinfo version is META's" test "$(modinfo_field "$ko" version)" = \
		"$(sed -n 's/^Version:[[:space:]]*//p' "$TOP/META")"
	check "modinfo base is linux-source-6.12 $NEW_VER ($base)" \
		test "$base" = "linux-source-6.12 $NEW_VER"
	check "modinfo base checksum equals the cached base's" test \
		"$(modinfo_field "$ko" xe_vm_export_base_sha256)" = "$(sed -n 's/^base_sha256=//p' "$prov")"
	check "modinfo series hash is the project's" grep -q \
		"\"$(modinfo_field "$ko" xe_vm_export_series)\"" \
		"$TOP/build/cache/build/$NEW/drivers/gpu/drm/xe/xe_vm_export_provenance.h"
	check "vermagic is $NEW" bash -c "modinfo -F vermagic '$ko' | grep -q '^$NEW '"
	check "display code built exactly as $NEW's config says" test \
		"$(grep -c '^CONFIG_DRM_XE_DISPLAY=y' "/lib/modules/$NEW/build/.config")" = \
		"$(nm "$ko" | grep -c ' T intel_display_driver_probe$')"
}

# test_dkms_skip_and_error DKMS_DIR VERSION - a kernel without its source is
# a dkms skip (77), a broken source a failed build with the provider's error
# in make.log, never a skip.
test_dkms_skip_and_error() {
	local d=$1 version=$2 rc
	rc=0
	dkms_ build -m xe-vm-export -v "$version" -k "$OLD" >"$d/build-$OLD.log" 2>&1 || rc=$?
	check "dkms build for $OLD (no source) exits 77" test "$rc" -eq 77
	check "dkms build for $OLD (no source) is not a build failure" \
		bash -c "! grep -q 'Bad return status' '$d/build-$OLD.log'"
	rc=0
	echo "$OLD $d/missing.tar.xz" >"$d/sources.conf"
	dkms_ build -m xe-vm-export -v "$version" -k "$OLD" >"$d/broken-$OLD.log" 2>&1 || rc=$?
	check "a broken sources line is a failed dkms build (exit $rc), not a skip" \
		test "$rc" -ne 0 -a "$rc" -ne 77
	check "the provider's error is in dkms's make.log" grep -q "$d/missing.tar.xz (source of $OLD) does not exist" \
		"$d/tree/xe-vm-export/$version/build/make.log"
	: >"$d/sources.conf"
}

# test_dkms_build - the dist tarball through dkms 3 with a private dkms
# tree and a private signing key (dkms would otherwise create its key in
# the host's /var/lib/dkms).
test_dkms_build() {
	local d=$WORK/dkms version tarball rc=0 mod

	version=$(sed -n 's/^Version:[[:space:]]*//p' "$TOP/META")
	rm -rf "$d"
	mkdir -p "$d/tree" "$d/src" "$d/key"
	tarball=$(make -s -C "$TOP" dist >/dev/null && echo "$TOP/dist/xe-vm-export-$version.tar.gz")
	tar -xzf "$tarball" -C "$d/src"
	export mok_signing_key=$d/key/mok.key mok_certificate=$d/key/mok.pub
	# The DKMS build uses the package's paths whatever the environment; the
	# test's copy points them at the same cache as `make module` (the
	# upgrade path, a rebuild of the project's files only) and at an empty
	# sources file, never at the host's.
	: >"$d/sources.conf"
	sed -i -e "s|^readonly SYSTEM_CACHE=.*|readonly SYSTEM_CACHE=$TOP/build/cache|" \
		-e "s|^readonly SYSTEM_SOURCES=.*|readonly SYSTEM_SOURCES=$d/sources.conf|" \
		"$d/src/xe-vm-export-$version/scripts/xe-vm-export-source"
	# ... and a caller's environment does not move them.
	export XE_VM_EXPORT_CACHE=$d/not-this-cache
	dkms_() { dkms "$@" --dkmstree "$d/tree" --sourcetree "$d/src" --installtree "$d/install"; }
	run_logged "$d/add.log" "dkms add" dkms_ add -m xe-vm-export -v "$version" ||
		{ fail "dkms add"; return; }
	run_logged "$d/build-$NEW.log" "dkms build -k $NEW" \
		dkms_ build -m xe-vm-export -v "$version" -k "$NEW" || rc=$?
	mod=$(find "$d/tree/xe-vm-export/$version/$NEW" -name 'xe.ko*' | head -n1)
	check "dkms build for $NEW succeeded" test "$rc" -eq 0 -a -n "$mod"
	[ -n "$mod" ] || return 0
	check "dkms module carries the provenance" test \
		"$(modinfo_field "$mod" xe_vm_export_base)" = "linux-source-6.12 $NEW_VER"
	check "dkms module is signed with the configured MOK key" test \
		"$(modinfo_field "$mod" signer)" = "DKMS module signing key"
	check "dkms module is stripped (no .debug_info)" \
		bash -c "xz -dc '$mod' > '$d/xe.ko' && ! readelf -S '$d/xe.ko' | grep -q '\.debug_info'"
	check "dkms module keeps BTF" bash -c "readelf -S '$d/xe.ko' | grep -q '\.BTF'"
	[ -z "$OLD" ] || test_dkms_skip_and_error "$d" "$version"
	check "the DKMS build ignored XE_VM_EXPORT_CACHE from its environment" \
		test ! -e "$d/not-this-cache"
	unset mok_signing_key mok_certificate XE_VM_EXPORT_CACHE
}

# fresh_module_cache - the tests start from no base and no build tree of
# their kernels in make module's cache: other checks (check-fleet, check-qemu)
# build there too, from other providers, and a second `make check` in the
# same checkout must not find their bases. The compiler cache keeps the
# rebuild cheap.
fresh_module_cache() {
	local k
	for k in "$NEW" ${OLD:+"$OLD"}; do
		rm -rf "$TOP/build/cache/bases/$k" "$TOP/build/cache/build/$k"
	done
}

main() {
	install_test_inputs
	fresh_module_cache
	mkdir -p "$WORK"
	test_bad_inputs
	test_distro_source_and_cache
	test_real_build
	if [ -n "$OLD" ]; then
		test_version_mismatch_and_skip
		test_explicit_source_then_cache
		test_kernel_tree
	else
		skip "another version's source refused, explicit source, kernel tree" \
			"one 6.12 kernel with the linux-source of its version in the archive"
	fi
	test_dkms_build
	[ -n "${SKIP_LINE:-}" ] && log "skip line as printed: $SKIP_LINE"
	summary
}

main "$@"
