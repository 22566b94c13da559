#!/bin/bash
# piuparts.sh DEB... - Debian's own install/upgrade/purge tester on the
# .debs: install, purge, and check that nothing is left behind or broken.
# Its base chroot (a .tgz, as piuparts wants) is a minimal Debian without
# the packages' dependencies (dkms, gcc, make, patch, rsync, xz-utils): apt
# brings them from the Depends, as for a user. It uses the same archives as
# the host (--keep-sources-list) and is remade when the archive's Release
# dates change (root.sh).
set -euo pipefail

TEST_NAME=piuparts
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=SCRIPTDIR/root.sh
. "$(dirname "$0")/root.sh"

LOGS=$PKG_CACHE/logs/piuparts
# The base: minbase, nothing more. DEPENDS_PROBES: commands of the
# packages' dependencies, which must not be in it.
BASE_PACKAGES=()
DEPENDS_PROBES=(usr/sbin/dkms usr/bin/gcc usr/bin/make usr/bin/patch usr/bin/rsync usr/bin/xz)

base_tgz() {
	local key out
	key=$(printf '%s\n' "${BASE_PACKAGES[@]}" "$(root_release_dates bookworm)" v2 |
		sha256sum | cut -c1-12)
	out=$PKG_CACHE/piuparts-base-$key.tgz
	if [ ! -s "$out" ]; then
		run_logged "$LOGS/mmdebstrap.log" "mmdebstrap: piuparts base -> $out" \
			mmdebstrap --variant=minbase \
			${BASE_PACKAGES[@]:+--include="$(IFS=,; echo "${BASE_PACKAGES[*]}")"} \
			bookworm "$out.tmp.tar.gz" "$(root_sources_file bookworm)" >&2
		find "$PKG_CACHE" -maxdepth 1 -name 'piuparts-base-*.tgz' -delete
		mv "$out.tmp.tar.gz" "$out"
	fi
	echo "$out"
}

# base_lacks_depends TGZ - none of DEPENDS_PROBES in the base.
base_lacks_depends() {
	local list found rc=0
	# An unreadable base is a failure, not a base without the probes.
	list=$(tar -tzf "$1" | sed 's|^\./||') || { echo "cannot list the base $1"; return 1; }
	# grep: 0 found, 1 none found, 2 error (an error is not "none").
	found=$(grep -xF -f <(printf '%s\n' "${DEPENDS_PROBES[@]}") <<<"$list") || rc=$?
	[ "$rc" -le 1 ] || { echo "cannot search the base listing (grep $rc)"; return 1; }
	[ -z "$found" ] || { echo "in the base already: $found"; return 1; }
}

main() {
	[ $# -ge 1 ] || { echo "usage: ${0##*/} DEB..." >&2; exit 2; }
	need_packages piuparts mmdebstrap
	mkdir -p "$LOGS"
	local base
	base=$(base_tgz)
	check "piuparts base has none of ${DEPENDS_PROBES[*]##*/} (apt brings them from Depends)" \
		base_lacks_depends "$base"
	if run_logged "$LOGS/piuparts.log" "piuparts ${*##*/}" \
		piuparts --basetgz="$base" --keep-sources-list --distribution=bookworm \
		--tmpdir="$PKG_CACHE" "$@"; then
		ok "piuparts: $(grep -m1 -o 'PASS:.*' "$LOGS/piuparts.log" || echo passed)"
	else
		fail "piuparts: see $LOGS/piuparts.log"
	fi
	summary
}

main "$@"
