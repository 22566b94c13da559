#!/bin/bash
# make-repo.sh DIST OUT - adds everything in DIST to the signed package
# repositories in OUT, keeping what earlier runs published there:
#
#   OUT/apt/                       apt repository, one URL for every Debian
#                                  release of REPO_SUITES (suites bookworm and
#                                  trixie by default): dists/SUITE/ InRelease
#                                  and Release.gpg signed by each key of
#                                  REPO_KEY, Valid-Until REPO_VALID_DAYS ahead;
#                                  pool/ with every version ever published
#   OUT/rpm/                       dnf repository (createrepo_c): the rpms and
#                                  SRPMs of every run, signed with rpmsign,
#                                  repodata/repomd.xml.asc
#   OUT/xe-vm-export-archive-keyring.gpg   the public keys of REPO_KEY, binary
#                                  (apt's Signed-By), and .asc, armored
#   OUT/xe-vm-export.sources       deb822 apt source and xe-vm-export.repo
#                                  for dnf, for REPO_URL
#
# Published beside the binaries: the source packages (.dsc with its orig
# and debian tarballs, in every suite's main/source/Sources; the SRPM in the
# dnf repository), and the keyring packages, xe-vm-export-archive-keyring
# (.deb: /usr/share/keyrings/; .rpm: /etc/pki/rpm-gpg/), made anew when the
# set of keys changes.
#
# History: the pool keeps every version (apt-ftparchive indexes all of them,
# where reprepro keeps one per package and suite), so a host can go back to
# an earlier version (apt-get install PACKAGE=VERSION, or an apt pin) and
# forward again. A file already published is never replaced: a different
# one under the same name is refused (bump the release). Packages built
# for one Debian release's kernels (their name or dependencies name its
# kernel ABI, 6.12.117+deb12-amd64) go into that release's suite only,
# all others into every suite.
#
# REPO_KEY: the signing key, or two separated by a space during a key
# rotation (fingerprint, id or user id) in the gpg keyring of GNUPGHOME
# (default ~/.gnupg); each must sign without a prompt (no passphrase, or
# cached in gpg-agent). The apt indexes and repomd.xml carry a signature of
# each, the rpms one of the first. REPO_SUITES: the suites (default:
# bookworm trixie; REPO_CODENAME, the old name, is one suite).
# REPO_VALID_DAYS: the indexes' validity (default 10): a host refuses indexes
# older than that (a replayed old repository), so re-run make repo (with
# nothing new in DIST if need be) more often; 0 makes indexes that expire
# at once (tests). REPO_URL: where OUT is served
# (default file://OUT).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=make-repo
export TEST_NAME
# shellcheck source=tests/lib.sh
. "$TOP/tests/lib.sh"

NAME=$(sed -n 's/^Name:[[:space:]]*//p' "$TOP/META")
KEYRING_PKG=$NAME-archive-keyring
RPM_KEY_FILE=/etc/pki/rpm-gpg/RPM-GPG-KEY-$NAME

# suite_of NN - the codename of Debian release NN.
suite_of() {
	case $1 in
	11) echo bullseye ;;
	12) echo bookworm ;;
	13) echo trixie ;;
	14) echo forky ;;
	15) echo duke ;;
	*) die "Debian release $1: codename unknown to ${0##*/}" ;;
	esac
}

# check_keys - each key of REPO_KEY exists, can sign and has not expired.
check_keys() {
	local k line
	[ ${#KEYS[@]} -le 2 ] || die "REPO_KEY: one key, or two during a rotation (got ${#KEYS[@]})"
	for k in "${KEYS[@]}"; do
		line=$(gpg --batch --with-colons --list-secret-keys "$k" 2>/dev/null | awk -F: '$1 == "sec" { print; exit }')
		[ -n "$line" ] || die "REPO_KEY $k: no such secret key in ${GNUPGHOME:-~/.gnupg}"
		case $(echo "$line" | cut -d: -f2) in
		e) die "REPO_KEY $k: the key has expired: extend it (gpg --quick-set-expire) or rotate to a new one (README: Fleets)" ;;
		r) die "REPO_KEY $k: the key is revoked" ;;
		esac
	done
}

export_keys() {
	gpg --batch --yes --export "${KEYS[@]}" >"$OUT/$KEYRING_PKG.gpg"
	gpg --batch --yes --armor --export "${KEYS[@]}" >"$OUT/$KEYRING_PKG.asc"
}

# same FILE PUBLISHED - FILE is what was published as PUBLISHED: the same
# bytes; for an rpm, the same header digest (the published copy carries
# the repository's signature besides).
same() {
	case $1 in
	*.rpm) [ "$(rpm -qp --qf '%{SHA256HEADER}' "$1" 2>/dev/null)" = \
		"$(rpm -qp --qf '%{SHA256HEADER}' "$2" 2>/dev/null)" ] ;;
	*) cmp -s "$1" "$2" ;;
	esac
}

# publish FILE DIR - FILE into DIR, unless DIR has it already; a different
# file of the same name is refused.
publish() {
	local dest=$2/${1##*/}
	mkdir -p "$2"
	if [ -e "$dest" ]; then
		same "$1" "$dest" || die "${1##*/} is published already, with other contents: give the new build another version (Release in META)"
		return 0
	fi
	cp "$1" "$dest.tmp"
	mv "$dest.tmp" "$dest"
	NEW+=("$dest")
}

# suite_dir DEB - the pool directory of DEB: pool/SUITE for a package of one
# Debian release's kernels, pool/all for the others.
suite_dir() {
	local tag
	# A kernel ABI: 6.12.117+deb12-amd64.
	tag=$(dpkg-deb -f "$1" Package Depends | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?\+deb[0-9]+-' | head -n1 || true)
	if [ -n "$tag" ]; then
		tag=${tag##*+deb}
		echo "pool/$(suite_of "${tag%-}")"
	else
		echo pool/all
	fi
}

# publish_dsc DSC - the source package and the files it lists.
publish_dsc() {
	local f dir files
	dir=$(dirname "$1")
	publish "$1" "$APT/pool/all"
	mapfile -t files < <(awk '/^Files:/ { on = 1; next } /^[^ ]/ { on = 0 } on { print $3 }' "$1")
	for f in "${files[@]}"; do
		[ -f "$dir/$f" ] || die "$1 lists $f, which is not beside it"
		publish "$dir/$f" "$APT/pool/all"
	done
}

# keyring_version - a new version when the keys changed since the last run
# (KEYRING_NEW=yes), the last one's otherwise.
keyring_version() {
	local state=$OUT/.keyring sum
	sum=$(sha256sum <"$OUT/$KEYRING_PKG.gpg" | cut -d' ' -f1)
	KEYRING_NEW=no
	if [ -s "$state" ] && [ "$(cut -d' ' -f1 "$state")" = "$sum" ]; then
		KEYRING_VERSION=$(cut -d' ' -f2 "$state")
		return 0
	fi
	KEYRING_VERSION=$(date -u +%Y.%m.%d.%H%M%S)
	# Two changes within a second still give two versions, in order.
	if [ -s "$state" ] && dpkg --compare-versions "$KEYRING_VERSION" le "$(cut -d' ' -f2 "$state")"; then
		KEYRING_VERSION=$(cut -d' ' -f2 "$state").1
	fi
	KEYRING_NEW=yes
	echo "$sum $KEYRING_VERSION" >"$state"
}

# keyring_deb - xe-vm-export-archive-keyring_VERSION_all.deb in WORK.
keyring_deb() {
	local d=$WORK/keyring-deb doc maint
	doc=$d/usr/share/doc/$KEYRING_PKG
	maint=$(sed -n 's/^Maintainer:[[:space:]]*//p' "$TOP/debian/control")
	mkdir -p "$d/DEBIAN" "$d/usr/share/keyrings" "$doc"
	install -m 0644 "$OUT/$KEYRING_PKG.gpg" "$d/usr/share/keyrings/"
	cat >"$doc/changelog" <<-EOT
	$KEYRING_PKG ($KEYRING_VERSION) unstable; urgency=medium

	  * The repository keys:
	$(printf '    %s\n' "${FPRS[@]}")

	 -- $maint  $(date -u -R)
	EOT
	gzip -9n "$doc/changelog"
	cat >"$doc/copyright" <<-EOT
	Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
	Upstream-Name: $KEYRING_PKG
	Comment: The OpenPGP public keys that sign the $NAME package repository.

	Files: *
	Copyright: 2026 The $NAME authors
	License: GPL-2.0-only
	 On Debian systems, the complete text of the GNU General Public License
	 version 2 can be found in "/usr/share/common-licenses/GPL-2".
	EOT
	(cd "$d" && find usr -type f -exec md5sum {} + >DEBIAN/md5sums)
	cat >"$d/DEBIAN/control" <<-EOT
	Package: $KEYRING_PKG
	Version: $KEYRING_VERSION
	Architecture: all
	Maintainer: $maint
	Installed-Size: $(du -sk --exclude=DEBIAN "$d" | cut -f1)
	Section: misc
	Priority: optional
	Multi-Arch: foreign
	Description: OpenPGP keys of the $NAME package repository
	 The keys that sign the $NAME apt repository, for its sources entry's
	 Signed-By: /usr/share/keyrings/$KEYRING_PKG.gpg. During a key
	 rotation it holds the old and the new key; the next version drops the
	 old one.
	EOT
	dpkg-deb --root-owner-group -Zxz --build "$d" "$WORK/${KEYRING_PKG}_${KEYRING_VERSION}_all.deb" >/dev/null
}

# keyring_rpm - the rpm equivalent: the keys, armored, as RPM_KEY_FILE.
keyring_rpm() {
	local d=$WORK/keyring-rpm
	mkdir -p "$d"/{SOURCES,SPECS,RPMS,BUILD}
	cp "$OUT/$KEYRING_PKG.asc" "$d/SOURCES/RPM-GPG-KEY-$NAME"
	cp "$TOP/COPYING" "$d/SOURCES/"
	cat >"$d/SPECS/$KEYRING_PKG.spec" <<-EOT
	Name:           $KEYRING_PKG
	Version:        $KEYRING_VERSION
	Release:        1
	Summary:        OpenPGP keys of the $NAME package repository
	Group:          System Environment/Base
	License:        GPL-2.0-only
	URL:            https://github.com/xe-vm-export/xe-vm-export
	BuildArch:      noarch
	Source0:        RPM-GPG-KEY-$NAME
	Source1:        COPYING

	%description
	The keys that sign the $NAME dnf repository and its rpms,
	for the gpgkey= of its .repo file: $RPM_KEY_FILE.
	During a key rotation it holds the old and the new key; the next
	version drops the old one.

	%prep
	cp %{SOURCE1} .

	%build

	%install
	install -D -m 0644 %{SOURCE0} %{buildroot}$RPM_KEY_FILE

	%files
	%license COPYING
	$RPM_KEY_FILE

	%changelog
	* $(date -u '+%a %b %d %Y') $NAME maintainers <$NAME@lists.example.org> - $KEYRING_VERSION-1
	- The keys: ${FPRS[*]}
	EOT
	rpmbuild --nodeps -bb --define "_topdir $d" "$d/SPECS/$KEYRING_PKG.spec" >"$WORK/keyring-rpm.log" 2>&1 ||
		{ cat "$WORK/keyring-rpm.log" >&2; die "rpmbuild of $KEYRING_PKG failed"; }
	cp "$d"/RPMS/noarch/*.rpm "$WORK/"
}

# gpg_sign MODE IN OUT [OPTION...] - IN signed by each key of REPO_KEY
# (MODE --clearsign or --detach-sign) into OUT.
gpg_sign() {
	local mode=$1 in=$2 out=$3 users=() k
	shift 3
	for k in "${KEYS[@]}"; do
		users+=(--local-user "$k")
	done
	gpg --batch --yes --digest-algo SHA512 "${users[@]}" "$@" "$mode" -o "$out" "$in" 2>"$WORK/gpg.log" ||
		{ cat "$WORK/gpg.log" >&2; die "gpg could not sign with ${KEYS[*]}"; }
}

# apt_suite SUITE - dists/SUITE in DISTS: Packages, Sources, Release with
# Valid-Until, signed.
apt_suite() {
	local s=$1 d=$DISTS/$1 arch pools=(pool/all) p
	arch=$(dpkg --print-architecture)
	[ ! -d "$APT/pool/$s" ] || pools+=("pool/$s")
	mkdir -p "$d/main/binary-$arch" "$d/main/source"
	(
		cd "$APT"
		for p in "${pools[@]}"; do
			apt-ftparchive --arch "$arch" packages "$p"
		done >"$d/main/binary-$arch/Packages"
		apt-ftparchive sources pool/all >"$d/main/source/Sources"
	) 2>"$WORK/ftparchive.log" || { cat "$WORK/ftparchive.log" >&2; die "apt-ftparchive failed"; }
	gzip -9nk "$d/main/binary-$arch/Packages"
	xz -k "$d/main/binary-$arch/Packages" "$d/main/source/Sources"
	apt-ftparchive -o "APT::FTPArchive::Release::Origin=$NAME" -o "APT::FTPArchive::Release::Label=$NAME" \
		-o "APT::FTPArchive::Release::Suite=$s" -o "APT::FTPArchive::Release::Codename=$s" \
		-o "APT::FTPArchive::Release::Architectures=$arch" -o "APT::FTPArchive::Release::Components=main" \
		-o "APT::FTPArchive::Release::Description=$NAME packages: DKMS, prebuilt modules, headers, tests, sources" \
		-o "APT::FTPArchive::Release::ValidTime=$VALID_SECONDS" release "$d" >"$WORK/Release"
	mv "$WORK/Release" "$d/Release"
	gpg_sign --clearsign "$d/Release" "$d/InRelease"
	gpg_sign --detach-sign "$d/Release" "$d/Release.gpg"
}

# apt_repo - the pool gains DIST's .debs, .dscs and the keyring package;
# dists/ is made anew beside the old one and swapped in.
apt_repo() {
	local f s d
	for f in "${DEBS[@]}" "$WORK/${KEYRING_PKG}_${KEYRING_VERSION}_all.deb"; do
		[ -e "$f" ] || continue
		publish "$f" "$APT/$(suite_dir "$f")"
	done
	for f in "${DSCS[@]}"; do
		publish_dsc "$f"
	done
	for d in "$APT"/pool/*; do
		s=${d##*/}
		[ "$s" = all ] || [[ " ${SUITES[*]} " == *" $s "* ]] ||
			die "pool/$s has packages for $s, which REPO_SUITES (${SUITES[*]}) does not list"
	done
	DISTS=$APT/dists.new
	rm -rf "$DISTS"
	for s in "${SUITES[@]}"; do
		apt_suite "$s"
	done
	rm -rf "$APT/dists.old"
	[ ! -d "$APT/dists" ] || mv "$APT/dists" "$APT/dists.old"
	mv "$DISTS" "$APT/dists"
	rm -rf "$APT/dists.old"
	cat >"$OUT/$NAME.sources" <<-EOT
	Types: deb deb-src
	URIs: $REPO_URL/apt
	Suites: ${SUITES[0]}
	Components: main
	Signed-By: /usr/share/keyrings/$KEYRING_PKG.gpg
	EOT
}

# dnf_repo - the rpms and SRPMs of DIST and the keyring rpm, the new ones
# signed; repodata of all, signed repomd.xml.
dnf_repo() {
	local dir=$OUT/rpm f signing=()
	NEW=()
	for f in "${RPMS[@]}" "$WORK/$KEYRING_PKG-$KEYRING_VERSION-1.noarch.rpm"; do
		[ -e "$f" ] || continue
		publish "$f" "$dir"
	done
	signing=("${NEW[@]}")
	if [ ${#signing[@]} -gt 0 ]; then
		rpmsign --addsign --define "_gpg_name ${KEYS[0]}" --define "__gpg $(command -v gpg)" \
			--define "_gpg_path ${GNUPGHOME:-$HOME/.gnupg}" "${signing[@]}" >"$WORK/rpmsign.log" 2>&1 ||
			{ cat "$WORK/rpmsign.log" >&2; rm -f "${signing[@]}"; die "rpmsign failed"; }
	fi
	createrepo_c -q --update "$dir" >/dev/null
	gpg_sign --detach-sign "$dir/repodata/repomd.xml" "$dir/repodata/repomd.xml.asc" --armor
	cat >"$OUT/$NAME.repo" <<-EOT
	[$NAME]
	name=$NAME
	baseurl=$REPO_URL/rpm
	enabled=1
	gpgcheck=1
	repo_gpgcheck=1
	gpgkey=file://$RPM_KEY_FILE
	EOT
}

main() {
	[ $# -eq 2 ] || { echo "usage: ${0##*/} DIST OUT" >&2; exit 2; }
	[ -n "${REPO_KEY:-}" ] || die "say which gpg key signs: REPO_KEY=<fingerprint> (README: Fleets)"
	local dist=$1 k
	read -ra KEYS <<<"$REPO_KEY"
	read -ra SUITES <<<"${REPO_SUITES:-${REPO_CODENAME:-bookworm trixie}}"
	mkdir -p "$2"
	OUT=$(cd "$2" && pwd)
	APT=$OUT/apt
	REPO_URL=${REPO_URL:-file://$OUT}
	# 0 days: valid for one second (apt-ftparchive writes no Valid-Until
	# for 0), for tests of an expired repository.
	VALID_SECONDS=$((${REPO_VALID_DAYS:-10} * 86400))
	[ "$VALID_SECONDS" -gt 0 ] || VALID_SECONDS=1
	need_packages apt-utils createrepo-c rpm gnupg xz-utils
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	mapfile -t DEBS < <(find "$dist" -maxdepth 1 -name '*.deb' | sort -V)
	mapfile -t DSCS < <(find "$dist" -maxdepth 1 -name '*.dsc' | sort -V)
	mapfile -t RPMS < <(find "$dist" -maxdepth 1 -name '*.rpm' | sort -V)
	check_keys
	[ ${#DEBS[@]} -gt 0 ] || [ ${#RPMS[@]} -gt 0 ] || [ -d "$APT/pool" ] ||
		die "no .deb or .rpm in $dist (make deb rpm kmod-deb kmod-rpm)"
	FPRS=()
	for k in "${KEYS[@]}"; do
		FPRS+=("$(gpg --batch --with-colons --list-keys "$k" | awk -F: '$1 == "fpr" { print $10; exit }')")
	done
	export_keys
	keyring_version
	if [ "$KEYRING_NEW" = yes ]; then
		keyring_deb
		keyring_rpm
		log "keyring packages $KEYRING_PKG $KEYRING_VERSION: ${FPRS[*]}"
	fi
	NEW=()
	apt_repo
	log "apt repository: $APT (${#NEW[@]} new files; suites ${SUITES[*]}, $(grep '^Valid-Until:' "$APT/dists/${SUITES[0]}/Release"))"
	dnf_repo
	log "dnf repository: $OUT/rpm (${#NEW[@]} new files)"
	log "public keys: $OUT/$KEYRING_PKG.gpg (.asc): ${FPRS[*]}"
}

main "$@"
