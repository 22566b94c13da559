#!/bin/bash
# Build (or reuse) a KUnit test kernel: x86_64 tinyconfig + the fragments of
# KUNIT_FLAVOUR (kunit.config, then bench.config for the bench one) from the
# linux-source tarball, in the cache described in kunit-lib.sh.
# The build is reused while the source version, the fragments, the compiler
# and this script's BUILD_STEPS stay the same.
#
# Prints the cache directory on stdout. Exit: 0 built or reused, 1 failure.
set -euo pipefail

TEST_NAME=kunit-kernel
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/kunit/kunit-lib.sh
. "$TOP/tests/kunit/kunit-lib.sh"

# Bump when the steps below change what ends up in the cache.
BUILD_STEPS=2

# cache_key - what the cached kernel is built from, as one checksum.
cache_key() {
	{
		echo "steps $BUILD_STEPS"
		echo "source $(kunit_source_version)"
		gcc --version | head -n 1
		cat "${KUNIT_FRAGMENTS[@]}"
	} | sha256sum | cut -d' ' -f1
}

# extract SRC - unpack the tarball once; the rename makes it all or nothing.
extract() {
	local src=$1
	[ -f "$src/Makefile" ] && return 0
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	run_logged "$CACHE/extract.log" "extracting $KUNIT_SOURCE_TARBALL" \
		tar -xJf "$KUNIT_SOURCE_TARBALL" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
}

# kmake ARGS... - make in the source tree with the build in obj/.
kmake() {
	nice -n 10 make -C "$CACHE/src" O="$CACHE/obj" ARCH=x86_64 "$@"
}

# configure - tinyconfig, the fragments on top, then Kconfig's verdict.
configure() {
	kmake tinyconfig
	"$CACHE/src/scripts/kconfig/merge_config.sh" -m -O "$CACHE/obj" \
		"$CACHE/obj/.config" "${KUNIT_FRAGMENTS[@]}"
	kmake olddefconfig
}

# verify_config - every option the fragments ask for survived olddefconfig.
verify_config() {
	local config=$CACHE/obj/.config line opt lost=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" || lost+=("$line")
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			grep -q "^$opt=" "$config" && lost+=("$line")
			;;
		esac
	done < <(kunit_wanted_config)
	[ ${#lost[@]} -eq 0 ] && return 0
	log "options of ${KUNIT_FRAGMENTS[*]#"$TOP"/} that Kconfig did not keep:"
	for line in "${lost[@]}"; do
		opt=${line#\# }
		opt=${opt%%[= ]*}
		printf '  wanted %-40s got %s\n' "$line" \
			"$(grep -E "^(# )?${opt}[= ]" "$config" || echo 'absent')" >&2
	done
	die "test kernel config is missing ${#lost[@]} required option(s)"
}

# install_modules KVER - modules_install into modules/KVER and the
# build/source links of a /lib/modules/KVER directory.
install_modules() {
	local kver=$1 moddir=$CACHE/modules/$1
	rm -rf "$CACHE/modules"
	kmake modules_install MODLIB="$moddir" INSTALL_MOD_STRIP=1
	ln -sfn ../../obj "$moddir/build"
	ln -sfn ../../src "$moddir/source"
}

# build KEY - configure and build in obj/. An obj/ left by an earlier key
# or an interrupted build is built on, not wiped: the same .config rebuilds
# nothing, a changed one only what depends on the options that changed.
# xe itself is not built (CONFIG_DRM_XE= on the command line keeps kbuild
# out of drivers/gpu/drm/xe): the xe under test is the project's, built
# out of tree; its dependencies (TTM, the scheduler...) are built here.
build() {
	local key=$1 kver
	rm -rf "$CACHE/modules" "$CACHE/key"
	mkdir -p "$CACHE/obj"
	run_logged "$CACHE/config.log" "configuring (tinyconfig + ${KUNIT_FRAGMENTS[*]#"$TOP"/})" configure
	verify_config
	run_logged "$CACHE/build.log" "building bzImage and modules (-j$KUNIT_JOBS; cold: many minutes)" \
		kmake -j"$KUNIT_JOBS" bzImage modules CONFIG_DRM_XE=
	kver=$(kunit_kernel_release "$CACHE/obj")
	run_logged "$CACHE/install.log" "installing modules of $kver" install_modules "$kver"
	echo "$key" >"$CACHE/key"
}

main() {
	local key start
	[ -r "$KUNIT_SOURCE_TARBALL" ] || need_packages linux-source-6.12
	need_packages bc bison flex libelf-dev libssl-dev dwarves kmod xz-utils
	CACHE=$(kunit_cache_dir)
	mkdir -p "$CACHE"
	exec 9>"$CACHE/lock"
	flock 9
	key=$(cache_key)
	if [ "$(cat "$CACHE/key" 2>/dev/null)" = "$key" ] &&
		[ -f "$CACHE/obj/arch/x86/boot/bzImage" ]; then
		log "reusing $KUNIT_FLAVOUR test kernel $(kunit_kernel_release "$CACHE/obj") in $CACHE"
	else
		start=$(date +%s)
		extract "$CACHE/src"
		build "$key"
		log "test kernel $(kunit_kernel_release "$CACHE/obj") built in $(($(date +%s) - start)) s"
	fi
	printf '%s\n' "$CACHE"
}

main "$@"
