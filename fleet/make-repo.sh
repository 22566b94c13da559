#!/bin/bash
# make-repo.sh DIST OUT - signed package repositories of everything in DIST:
#
#   OUT/apt/                       apt repository (reprepro): dists/CODENAME/
#                                  InRelease and Release.gpg signed by REPO_KEY
#   OUT/rpm/                       dnf repository (createrepo_c): the rpms
#                                  signed with rpmsign, repodata/repomd.xml.asc
#   OUT/xe-vm-export-archive-keyring.gpg   REPO_KEY's public part, binary,
#                                  for apt's signed-by=
#   OUT/xe-vm-export-archive-keyring.asc   the same, armored (rpm --import,
#                                  dnf gpgkey=)
#   OUT/xe-vm-export.sources       deb822 apt source and xe-vm-export.repo
#                                  for dnf, for REPO_URL
#
# REPO_KEY: the signing key (fingerprint, id or user id) in the gpg keyring
# of GNUPGHOME (default ~/.gnupg); it must sign without a prompt (a key
# without passphrase, or one cached in gpg-agent). REPO_CODENAME: the apt
# distribution (default: this system's codename). REPO_URL: where OUT is
# served (default file://OUT). The repository is made anew on each run.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=make-repo
export TEST_NAME
# shellcheck source=tests/lib.sh
. "$TOP/tests/lib.sh"

NAME=$(sed -n 's/^Name:[[:space:]]*//p' "$TOP/META")

export_key() {
	gpg --batch --yes --export "$REPO_KEY" >"$OUT/$NAME-archive-keyring.gpg"
	gpg --batch --yes --armor --export "$REPO_KEY" >"$OUT/$NAME-archive-keyring.asc"
	[ -s "$OUT/$NAME-archive-keyring.gpg" ] || die "REPO_KEY $REPO_KEY: no such key in ${GNUPGHOME:-~/.gnupg}"
}

# apt_repo DEB... - reprepro's database stays outside OUT.
apt_repo() {
	local base=$WORK/reprepro arch
	arch=$(dpkg --print-architecture)
	mkdir -p "$base/conf"
	cat >"$base/conf/distributions" <<-EOT
	Origin: $NAME
	Label: $NAME
	Codename: $REPO_CODENAME
	Architectures: $arch
	Components: main
	Description: $NAME packages: DKMS, prebuilt modules, headers, tests
	SignWith: $REPO_KEY
	EOT
	cat >"$base/conf/options" <<-EOT
	outdir $OUT/apt
	EOT
	# Oldest first: a distribution holds one version per package, the last.
	printf '%s\n' "$@" | sort -V |
		xargs -d '\n' reprepro -b "$base" --silent includedeb "$REPO_CODENAME" ||
		die "reprepro failed"
	cat >"$OUT/$NAME.sources" <<-EOT
	Types: deb
	URIs: $REPO_URL/apt
	Suites: $REPO_CODENAME
	Components: main
	Signed-By: /etc/apt/keyrings/$NAME-archive-keyring.gpg
	EOT
}

# dnf_repo RPM... - signed rpms, repodata, signed repomd.xml.
dnf_repo() {
	local dir=$OUT/rpm
	mkdir -p "$dir"
	cp "$@" "$dir/"
	rpmsign --addsign --define "_gpg_name $REPO_KEY" --define "__gpg $(command -v gpg)" \
		--define "_gpg_path ${GNUPGHOME:-$HOME/.gnupg}" "$dir"/*.rpm >"$WORK/rpmsign.log" 2>&1 ||
		{ cat "$WORK/rpmsign.log" >&2; die "rpmsign failed"; }
	createrepo_c -q "$dir" >/dev/null
	gpg --batch --yes --local-user "$REPO_KEY" --armor --detach-sign \
		-o "$dir/repodata/repomd.xml.asc" "$dir/repodata/repomd.xml"
	cat >"$OUT/$NAME.repo" <<-EOT
	[$NAME]
	name=$NAME
	baseurl=$REPO_URL/rpm
	enabled=1
	gpgcheck=1
	repo_gpgcheck=1
	gpgkey=$REPO_URL/$NAME-archive-keyring.asc
	EOT
}

main() {
	[ $# -eq 2 ] || { echo "usage: ${0##*/} DIST OUT" >&2; exit 2; }
	[ -n "${REPO_KEY:-}" ] || die "say which gpg key signs: REPO_KEY=<fingerprint> (README: Fleets)"
	local dist=$1 debs rpms
	mkdir -p "$2"
	OUT=$(cd "$2" && pwd)
	REPO_CODENAME=${REPO_CODENAME:-$(sed -n "s/^VERSION_CODENAME=//p" /etc/os-release)}
	REPO_URL=${REPO_URL:-file://$OUT}
	need_packages reprepro createrepo-c rpm gnupg
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	rm -rf "$OUT/apt" "$OUT/rpm"
	mapfile -t debs < <(find "$dist" -maxdepth 1 -name '*.deb' | sort)
	mapfile -t rpms < <(find "$dist" -maxdepth 1 -name '*.rpm' ! -name '*.src.rpm' | sort)
	[ ${#debs[@]} -gt 0 ] || [ ${#rpms[@]} -gt 0 ] || die "no .deb or .rpm in $dist (make deb rpm kmod-deb kmod-rpm)"
	export_key
	if [ ${#debs[@]} -gt 0 ]; then
		apt_repo "${debs[@]}"
		log "apt repository: $OUT/apt (${#debs[@]} packages, $REPO_CODENAME)"
	fi
	if [ ${#rpms[@]} -gt 0 ]; then
		dnf_repo "${rpms[@]}"
		log "dnf repository: $OUT/rpm (${#rpms[@]} packages)"
	fi
	log "public key: $OUT/$NAME-archive-keyring.gpg (.asc)"
}

main "$@"
