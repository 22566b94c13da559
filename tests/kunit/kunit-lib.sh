# shellcheck shell=bash
# Paths shared by tests/kunit/*.sh. Source it after tests/lib.sh.
#
#   KUNIT_SOURCE_TARBALL  the kernel source the test kernel is built from
#                         (default: Debian's linux-source-6.12 tarball).
#   KUNIT_JOBS            make -j for kernel and module builds (default: nproc).
#   KUNIT_FLAVOUR         which test kernel (default: debug):
#     debug   kunit.config: KASAN, lockdep and gcov (make check-kunit)
#     bench   kunit.config + bench.config: the same machine without any
#             checker, for figures (make bench, tests/kunit/bench.sh)
#   The flavour's fragments are merged in that order, a later setting of an
#   option replacing an earlier one.
#
# Cache layout, one directory per source version and flavour (KUNIT_SUFFIX:
# empty for debug, +<flavour> for the others):
#   $TEST_CACHE/kunit-kernel/<source-version>$KUNIT_SUFFIX/
#     src/                 the extracted source tree, never built in
#     obj/                 the O= build tree (bzImage, modules, Module.symvers)
#     modules/<kver>/      modules_install of the test kernel, plus
#       build -> obj/      the layout XE_VM_EXPORT_MODULES_DIR expects
#       source -> src/
#     key                  what the cached build was made from

# shellcheck disable=SC2034 # the variables are for the sourcing scripts
KUNIT_DIR=$TOP/tests/kunit
KUNIT_FLAVOUR=${KUNIT_FLAVOUR:-debug}
case $KUNIT_FLAVOUR in
debug)
	KUNIT_FRAGMENTS=("$KUNIT_DIR/kunit.config")
	KUNIT_SUFFIX=
	;;
bench)
	KUNIT_FRAGMENTS=("$KUNIT_DIR/kunit.config" "$KUNIT_DIR/$KUNIT_FLAVOUR.config")
	KUNIT_SUFFIX=+$KUNIT_FLAVOUR
	;;
*)
	echo "KUNIT_FLAVOUR=$KUNIT_FLAVOUR: not one of debug, bench" >&2
	exit 2
	;;
esac
KUNIT_SOURCE_TARBALL=${KUNIT_SOURCE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KUNIT_JOBS=${KUNIT_JOBS:-$(nproc)}

# kunit_source_version - the version of the package owning the tarball,
# made safe for a path; the tarball's checksum when no package owns it.
kunit_source_version() {
	local pkg ver
	pkg=$(dpkg-query -S "$KUNIT_SOURCE_TARBALL" 2>/dev/null | cut -d: -f1) || true
	if [ -n "$pkg" ]; then
		ver=$(dpkg-query -W -f='${Version}' "$pkg")
	else
		ver=sha-$(sha256sum "$KUNIT_SOURCE_TARBALL" | cut -c1-16)
	fi
	printf '%s\n' "$ver" | tr -c 'A-Za-z0-9.+\n-' '_'
}

# kunit_cache_dir - this source version's and flavour's directory in the
# cache (the debug kernel's keeps the name it had before flavours).
kunit_cache_dir() {
	printf '%s/kunit-kernel/%s%s\n' "$TEST_CACHE" "$(kunit_source_version)" "$KUNIT_SUFFIX"
}

# kunit_wanted_config - the options the flavour's fragments ask for, one
# line each as in a .config, the last fragment's setting winning.
kunit_wanted_config() {
	awk '/^CONFIG_[A-Za-z0-9_]+=/ { o = $0; sub(/=.*/, "", o) }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { o = $2 }
		o != "" { if (!(o in line)) order[n++] = o; line[o] = $0; o = "" }
		END { for (i = 0; i < n; i++) print line[order[i]] }' "${KUNIT_FRAGMENTS[@]}"
}

# kunit_has_config OBJ OPTION - whether the built kernel has OPTION=y.
kunit_has_config() {
	grep -qx "CONFIG_$2=y" "$1/.config"
}

# kunit_kernel_release OBJ - the release string of the built kernel.
kunit_kernel_release() {
	cat "$1/include/config/kernel.release"
}
