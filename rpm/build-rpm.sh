#!/bin/bash
# build-rpm.sh TARBALL OUTDIR - the rpm packages (noarch DKMS tree and
# headers, the arch smoke test) and the SRPM from a `make dist` tarball, with rpmbuild. The spec is filled
# from the tarball's META; rpmbuild's tree stays in $RPM_WORK (default
# build/pkg/rpm), the packages go to OUTDIR.
set -euo pipefail

RPM_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$RPM_DIR")
TEST_NAME=rpm
# shellcheck source=SCRIPTDIR/../tests/lib.sh
. "$TOP/tests/lib.sh"

meta() {
	tar -xzOf "$TARBALL" --wildcards '*/META' | sed -n "s/^$1:[[:space:]]*//p"
}

# write_spec - xe-vm-export.spec from the template, dated by META's time in
# the tarball (the commit's) so rebuilds are reproducible.
write_spec() {
	local epoch
	epoch=$(tar --full-time -tvzf "$TARBALL" --wildcards '*/META' | awk '{print $4" "$5}')
	sed -e "s|@NAME@|$(meta Name)|g" -e "s|@VERSION@|$(meta Version)|g" \
		-e "s|@RELEASE@|$(meta Release)|g" -e "s|@SUMMARY@|$(meta Summary)|g" \
		-e "s|@DATE@|$(date -u -d "$epoch" '+%a %b %d %Y')|g" \
		"$RPM_DIR/xe-vm-export.spec.in" >"$WORK/SPECS/$(meta Name).spec"
}

main() {
	[ $# -eq 2 ] || { echo "usage: ${0##*/} TARBALL OUTDIR" >&2; exit 2; }
	TARBALL=$(readlink -f "$1")
	mkdir -p "$2"
	OUT=$(cd "$2" && pwd)
	WORK=${RPM_WORK:-$TOP/build/pkg/rpm}
	need_packages rpm gcc make libdrm-dev pkg-config
	rm -rf "$WORK"
	mkdir -p "$WORK"/{SOURCES,SPECS,RPMS,SRPMS,BUILD}
	cp "$TARBALL" "$RPM_DIR/../debian/scripts/xe-vm-export-dkms" \
		"$RPM_DIR/../debian/scripts/xe-vm-export-load" \
		"$RPM_DIR/../debian/scripts/xe-vm-export-firmware" \
		"$RPM_DIR/../debian/modprobe.d/xe-vm-export.conf" \
		"$RPM_DIR/dracut/module-setup.sh" \
		"$RPM_DIR/kernel-install-plugin.sh" "$WORK/SOURCES/"
	write_spec
	# --nodeps: the build host is not an rpm system; it has no rpm database
	# to check BuildRequires against. Their Debian equivalents (gcc, make,
	# libdrm-dev, pkg-config) are what the smoke test needs here.
	run_logged "$WORK/build.log" "rpmbuild $(meta Version)-$(meta Release)" \
		rpmbuild --nodeps -ba --define "_topdir $WORK" \
		--define "_source_payload w9.xzdio" --define "_binary_payload w9.xzdio" \
		"$WORK/SPECS/$(meta Name).spec"
	local f
	for f in "$WORK"/RPMS/*/*.rpm "$WORK"/SRPMS/*.rpm; do
		cp "$f" "$OUT"/
		echo "$OUT/${f##*/}"
	done
}

main "$@"
