#!/bin/bash
# lint.sh DEB_WORK RPM_WORK - lintian on the Debian source and binary
# packages (no error, no warning; overrides carry their reasons in debian/),
# rpmlint on the spec and the rpms (no error; filters with reasons in
# rpm/rpmlint.toml), shellcheck on the packaging's scripts.
set -euo pipefail

TEST_NAME=lint
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

LOGS=$TEST_CACHE/packaging/logs/lint

lint_debs() {
	local changes
	changes=$(compgen -G "$1/*.changes" | head -n1)
	[ -n "$changes" ] || { fail "lintian: no .changes in $1"; return 0; }
	# lintian refuses nothing as root, it only warns on stderr about it.
	if run_logged "$LOGS/lintian.log" "lintian ${changes##*/}" \
		lintian --fail-on error,warning --display-info "$changes"; then
		ok "lintian: no errors, no warnings ($(grep -c '^[IP]:' "$LOGS/lintian.log" || true) info/pedantic notes)"
	else
		fail "lintian: errors or warnings, see $LOGS/lintian.log"
	fi
}

lint_rpms() {
	local out
	out=$(rpmlint -c "$TOP/rpm/rpmlint.toml" "$1"/SPECS/*.spec "$1"/RPMS/*/*.rpm "$1"/SRPMS/*.rpm 2>&1 |
		tee "$LOGS/rpmlint.log" | tail -n1)
	check "rpmlint: no errors ($out)" grep -q ' 0 errors' <<<"$out"
}

lint_scripts() {
	check "shellcheck: packaging scripts" \
		shellcheck -x "$TOP"/debian/pkgtools/*.sh "$TOP"/debian/scripts/* \
		"$TOP"/debian/kernel/* "$TOP"/rpm/*.sh "$TOP"/tests/packaging/*.sh
}

main() {
	[ $# -eq 2 ] || { echo "usage: ${0##*/} DEB_WORK RPM_WORK" >&2; exit 2; }
	need_packages lintian rpmlint shellcheck
	mkdir -p "$LOGS"
	lint_debs "$1"
	lint_rpms "$2"
	lint_scripts
	summary
}

main "$@"
