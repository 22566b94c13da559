#!/bin/bash
# build-deb.sh TARBALL OUTDIR - Debian packages from a `make dist` tarball.
#
# The tarball is the upstream (orig) tarball as it is; debian/ is laid beside
# it and debian/changelog is written from the tarball's META, the one source
# of the version. The build log stays in $DEB_WORK (default build/pkg/deb);
# the .debs and the source package (.dsc, orig and debian tarballs: what
# make repo publishes beside the binaries) go to OUTDIR.
set -euo pipefail

DEBIAN_DIR=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(dirname "$DEBIAN_DIR")
TEST_NAME=deb
# shellcheck source=SCRIPTDIR/../../tests/lib.sh
. "$TOP/tests/lib.sh"

usage() {
	echo "usage: ${0##*/} TARBALL OUTDIR" >&2
	exit 2
}

meta() {
	sed -n "s/^$1:[[:space:]]*//p" "$SRC/META"
}

# unpack - orig tarball and tree, debian/ without these build tools.
unpack() {
	rm -rf "$WORK"
	mkdir -p "$WORK"
	local name version
	name=$(tar -xzOf "$TARBALL" --wildcards '*/META' | sed -n 's/^Name:[[:space:]]*//p')
	version=$(tar -xzOf "$TARBALL" --wildcards '*/META' | sed -n 's/^Version:[[:space:]]*//p')
	cp "$TARBALL" "$WORK/${name}_$version.orig.tar.gz"
	tar -C "$WORK" -xzf "$TARBALL"
	SRC=$WORK/$name-$version
	[ -f "$SRC/META" ] || die "$TARBALL: no $name-$version/META"
	cp -a "$DEBIAN_DIR" "$SRC/debian"
	rm -rf "$SRC/debian/pkgtools" "$SRC/debian/kmod"
}

# write_changelog - one entry for Version-Release of META, dated by META's
# time in the tarball (the commit's), so rebuilds are reproducible.
write_changelog() {
	local maint date
	maint=$(sed -n 's/^Maintainer:[[:space:]]*//p' "$SRC/debian/control")
	date=$(date -u -R -d "@$(stat -c %Y "$SRC/META")")
	cat >"$SRC/debian/changelog" <<-EOT
	$(meta Name) ($(meta Version)-$(meta Release)) unstable; urgency=medium

	  * Release $(meta Version); the changes are listed in CHANGELOG.

	 -- $maint  $date
	EOT
}

main() {
	[ $# -eq 2 ] || usage
	TARBALL=$(readlink -f "$1")
	mkdir -p "$2"
	OUT=$(cd "$2" && pwd)
	WORK=${DEB_WORK:-$TOP/build/pkg/deb}
	need_packages dpkg-dev debhelper dh-dkms libdrm-dev pkg-config
	unpack
	write_changelog
	(cd "$SRC" && run_logged "$WORK/build.log" "dpkg-buildpackage $(meta Version)-$(meta Release)" \
		dpkg-buildpackage -us -uc --build=full)
	local f
	for f in "$WORK"/*.deb "$WORK"/*.dsc "$WORK"/*.orig.tar.* "$WORK"/*.debian.tar.*; do
		cp "$f" "$OUT"/
		echo "$OUT/${f##*/}"
	done
}

main "$@"
