#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-kunit-series: `make check-kunit` (tests/kunit/run.sh, the same
# suites under KASAN and lockdep) on a KUnit test kernel built from Debian's
# linux-source-<series> of a 7.x series instead of 6.12.
#
# The source is the one of the newest kernel of the series that the Debian
# 13 + trixie-backports archive offers with a linux-source of the very same
# version (chosen when the test runs, as tests/series/run.sh chooses). Its
# package is downloaded through an isolated Debian 13 root (the host's
# Debian 12 apt does not reach 7.x) into the cached apt archives, its
# tarball kept in $TEST_CACHE/kunit-source/<version>/; tests/kunit then
# builds and caches the test kernel per source version, as for 6.12.
#
# Environment: XE_SERIES  the series (default 7.2; one series per run),
# and tests/kunit/run.sh's (KUNIT_TIMEOUT, KUNIT_JOBS, ...).
set -euo pipefail

TEST_NAME=check-kunit-series
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/packaging/root.sh
. "$TOP/tests/packaging/root.sh"

SERIES=${XE_SERIES:-7.2}
LOGS=$TOP/build/series/logs

# source_tarball - downloads linux-source-SERIES of the newest kernel of
# SERIES through a Debian 13 root and unpacks its tarball once; prints the
# tarball's path.
source_tarball() {
	local k v deb dir tarball=linux-source-$SERIES.tar.xz

	root_create kunit-series trixie backports
	k=$(root_kernels "$SERIES" | head -n 1)
	[ -n "$k" ] || die "the archive offers no $SERIES kernel with a linux-source-$SERIES of its version"
	v=$(root_headers_version "$k")
	dir=$TEST_CACHE/kunit-source/$v
	if [ ! -f "$dir/$tarball" ]; then
		deb=$(find "$APT_ARCHIVES" -maxdepth 1 -name "linux-source-${SERIES}_${v}_all.deb")
		if [ -z "$deb" ]; then
			run_logged "$LOGS/kunit-source-download.log" "downloading linux-source-$SERIES=$v ($k)" \
				in_root sh -c "cd /var/cache/apt/archives && apt-get download linux-source-$SERIES=$v"
			deb=$(find "$APT_ARCHIVES" -maxdepth 1 -name "linux-source-${SERIES}_${v}_all.deb")
		fi
		[ -n "$deb" ] || die "linux-source-$SERIES=$v: no package downloaded"
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir.tmp" --strip-components=3 "./usr/src/$tarball"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	root_destroy
	log "test kernel source: linux-source-$SERIES $v (kernel $k)"
	echo "$dir/$tarball"
}

main() {
	local tarball
	mkdir -p "$LOGS"
	[ -f "$TOP/src/patches/$SERIES/series" ] || die "no hook series for $SERIES"
	tarball=$(source_tarball)
	KUNIT_SOURCE_TARBALL=$tarball exec "$TOP/tests/kunit/run.sh"
}

main "$@"
