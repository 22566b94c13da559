#!/bin/bash
# piuparts.sh DEB... - Debian's own install/upgrade/purge tester on the
# .debs: install, purge, and check that nothing is left behind or broken.
# Its base chroot (a .tgz, as piuparts wants) holds the packages' dependencies
# already, so a run only installs ours; it uses the same archives as the
# host (--keep-sources-list).
set -euo pipefail

TEST_NAME=piuparts
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=SCRIPTDIR/root.sh
. "$(dirname "$0")/root.sh"

LOGS=$PKG_CACHE/logs/piuparts
BASE_PACKAGES=(dkms gcc make patch rsync xz-utils kmod linux-libc-dev)

base_tgz() {
	local key out
	key=$(printf '%s\n' "${BASE_PACKAGES[@]}" v1 | sha256sum | cut -c1-12)
	out=$PKG_CACHE/piuparts-base-$key.tgz
	if [ ! -s "$out" ]; then
		run_logged "$LOGS/mmdebstrap.log" "mmdebstrap: piuparts base -> $out" \
			mmdebstrap --variant=minbase \
			--include="$(IFS=,; echo "${BASE_PACKAGES[*]}")" \
			bookworm "$out.tmp.tar.gz" "$(root_sources_file bookworm)" >&2
		mv "$out.tmp.tar.gz" "$out"
	fi
	echo "$out"
}

main() {
	[ $# -ge 1 ] || { echo "usage: ${0##*/} DEB..." >&2; exit 2; }
	need_packages piuparts mmdebstrap
	mkdir -p "$LOGS"
	local base
	base=$(base_tgz)
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
