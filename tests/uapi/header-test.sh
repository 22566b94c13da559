#!/bin/bash
# Compile the VM export UAPI header as C and as C++ with warnings as errors;
# header-test.c asserts the layout and the ioctl value at compile time.
#
# Usage: tests/uapi/header-test.sh   (exit 0: pass, 1: fail)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
uapi="$top/src/include/uapi"

die() {
	echo "header-test: $*" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

drm_cflags=$(pkg-config --cflags libdrm) || die "pkg-config libdrm failed (install libdrm-dev)"

# compile LANG COMPILER STD [TEST] - build tests/uapi/TEST.c (default
# header-test) as LANG and run it.
# shellcheck disable=SC2086 # drm_cflags is a list of flags
compile() {
	local lang=$1 compiler=$2 std=$3 test=${4:-header-test}

	"$compiler" -x "$lang" -std="$std" -Wall -Wextra -Werror \
		$drm_cflags -I"$uapi" ${xe_drm_dir:+-idirafter "$xe_drm_dir"} \
		-o "$tmp/$test-$lang" "$here/$test.c" ||
		die "$test: $lang ($compiler -std=$std) failed"
	"$tmp/$test-$lang" || die "$test: $lang binary returned non-zero"
	echo "header-test: $test $lang ($std) ok"
}

# Next to the system's xe_drm.h: libdrm's when it has one, else the newest
# kernel headers' (XE_DRM_DIR overrides).
xe_drm_dir=${XE_DRM_DIR:-}
if [ -z "$xe_drm_dir" ] && [ ! -e /usr/include/libdrm/xe_drm.h ]; then
	for d in /usr/src/linux-headers-*/include/uapi/drm; do
		[ -e "$d/xe_drm.h" ] && xe_drm_dir=$d
	done
	# Install it alone, as headers_install would (its drm.h is libdrm's).
	if [ -n "$xe_drm_dir" ]; then
		mkdir "$tmp/sys"
		sed -e 's/\b__user\b//g' "$xe_drm_dir/xe_drm.h" >"$tmp/sys/xe_drm.h"
		xe_drm_src=$xe_drm_dir/xe_drm.h
		xe_drm_dir=$tmp/sys
	fi
fi
echo "header-test: next to xe_drm.h from ${xe_drm_src:-${xe_drm_dir:-libdrm, if any}}"

compile c "${CC:-cc}" c11
compile c "${CC:-cc}" gnu89
compile c++ "${CXX:-c++}" c++11
compile c++ "${CXX:-c++}" c++17
# A program written against the PRELIM names compiles unchanged.
compile c "${CC:-cc}" gnu11 prelim-test
compile c++ "${CXX:-c++}" c++11 prelim-test
