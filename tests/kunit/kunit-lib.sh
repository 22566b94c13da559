# shellcheck shell=bash
# Paths shared by tests/kunit/*.sh. Source it after tests/lib.sh.
#
#   KUNIT_SOURCE_TARBALL  the kernel source the test kernel is built from
#                         (default: Debian's linux-source-6.12 tarball).
#   KUNIT_JOBS            make -j for kernel and module builds (default: nproc).
#
# Cache layout, one directory per source version:
#   $TEST_CACHE/kunit-kernel/<source-version>/
#     src/                 the extracted source tree, never built in
#     obj/                 the O= build tree (bzImage, modules, Module.symvers)
#     modules/<kver>/      modules_install of the test kernel, plus
#       build -> obj/      the layout XE_VM_EXPORT_MODULES_DIR expects
#       source -> src/
#     key                  what the cached build was made from

# shellcheck disable=SC2034 # the variables are for the sourcing scripts
KUNIT_DIR=$TOP/tests/kunit
KUNIT_FRAGMENT=$KUNIT_DIR/kunit.config
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

# kunit_cache_dir - this source version's directory in the cache.
kunit_cache_dir() {
	printf '%s/kunit-kernel/%s\n' "$TEST_CACHE" "$(kunit_source_version)"
}

# kunit_kernel_release OBJ - the release string of the built kernel.
kunit_kernel_release() {
	cat "$1/include/config/kernel.release"
}
