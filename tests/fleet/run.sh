#!/bin/bash
# tests/fleet/run.sh - `make check-fleet`: the prebuilt module packages and
# the signed repositories a fleet installs from.
#
#   1. the kernels (pick_kernels): B, what linux-image-SERIES-amd64 points
#      to in the archive now; A, the ABI before it; their headers (test
#      dependencies) and linux-source (downloaded into TEST_CACHE, given to
#      the builds as explicit sources); `make module` for both, the
#      provider's cache in TEST_CACHE.
#   2. kmod-deb: module package + flavour metapackage, fields, version
#      order, copyright naming the kernel source, maintainer scripts, lintian;
#      A's packages (the repository before the kernel moved).
#   3. signing: SIGN_KEY/SIGN_CERT made here; the module's PKCS#7 is cut out
#      of the packaged xe.ko and checked with `openssl cms -verify` against
#      the certificate (and must fail against another one).
#   4. kmod-rpm: module package + kmod-xe-vm-export meta, requires/provides,
#      licence files, dracut, rpmlint.
#   5. make repo: a key made here (temporary GNUPGHOME), InRelease and
#      repomd.xml signatures checked with gpgv, rpm signatures with rpm -K,
#      the apt repository served on 127.0.0.1 read by apt with signed-by=,
#      and the metapackage's dependency chain resolved by apt; the dnf
#      repository read by dnf in an installroot (repo_gpgcheck), tampered
#      copies refused.
#   6. hosts (hosts.sh): fleet/ansible/playbook.yml on three isolated
#      Debian roots through Ansible's chroot connection, on kernel A; the
#      kernel-ABI upgrade to B by one apt-get dist-upgrade, after one that
#      B's module is not published for yet (the kernel metapackage is held
#      back); a kernel the repository does not serve, reported skipped.
#   7. sources, licences, keys, history: COPYING in the tarballs and every
#      package, debian/copyright against the SPDX lines; the .dsc fetched by
#      apt-get source, the SRPM in the dnf repository; both suites from one
#      URL; the keyring packages; Valid-Until refreshed, an expired key and
#      a missing key failing loudly; on the hosts, a rollback to the previous version
#      and forward again (host2), and a key rotation (old -> both -> new)
#      without one failed apt-get update.
#
# Nothing is installed on the host but test dependencies (headers, tools).
set -euo pipefail

TEST_NAME=fleet
export TEST_NAME
# The module packages built here from make module's unsigned xe are
# unsigned on purpose (prepare-module.sh refuses that otherwise); the signed
# ones pass their key.
export SIGN=none
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/fleet/hosts.sh
. "$(dirname "$0")/hosts.sh"

NAME=$(sed -n 's/^Name:[[:space:]]*//p' "$TOP/META")
VERSION=$(sed -n 's/^Version:[[:space:]]*//p' "$TOP/META")
RELEASE=$(sed -n 's/^Release:[[:space:]]*//p' "$TOP/META")
ALL_SERIES=$(sed -n 's/^Series:[[:space:]]*//p' "$TOP/META")
LOGS=$TOP/build/fleet/logs
WORK=
SERVER_PID=
V_OLD=

cleanup() {
	[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
	[ -z "$WORK" ] || rm -rf "$WORK"
}

# pick_kernels - the kernels, chosen from the archive now, never pinned:
#   KVER       B: the ABI linux-image-SERIES-amd64 points to now, of the
#              newest supported series the archive has; most checks use it;
#   KVER_OLD   A: the ABI before it among test_kernels (its linux-source of
#              the same version is in the archive), the hosts' kernel before
#              the kernel-ABI upgrade (empty: only one such ABI, no upgrade);
#   KVER_OTHER another ABI of the series, older than A: a kernel the
#              repository does not serve (empty: none in the archive).
pick_kernels() {
	local s k
	KVER=
	for s in $(printf '%s\n' "$ALL_SERIES" | xargs -n1 | sort -rV); do
		KVER=$(apt-cache depends "linux-image-$s-amd64" 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1 || true)
		SERIES=$s
		[ -z "$KVER" ] || break
	done
	[ -n "$KVER" ] || die "the archive has no linux-image-<series>-amd64 of $ALL_SERIES (apt-get update?)"
	KPKGVER=$(kernel_version "$KVER")
	log "kernel B: $KVER ($KPKGVER), what linux-image-$SERIES-amd64 points to"
	KVER_OLD=
	for k in $(test_kernels 3 "$SERIES"); do
		dpkg --compare-versions "$(kernel_version "$k")" lt "$KPKGVER" && KVER_OLD=$k
	done
	KVER_OTHER=
	if [ -n "$KVER_OLD" ]; then
		KPKGVER_OLD=$(kernel_version "$KVER_OLD")
		log "kernel A: $KVER_OLD ($KPKGVER_OLD), the hosts' kernel before the upgrade to B"
		KVER_OTHER=$(apt-cache search --names-only "^linux-image-${SERIES//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64\$" |
			awk '{ sub(/^linux-image-/, "", $1); print $1 }' | sort -V |
			awk -v a="$KVER_OLD" '$0 == a { exit } { k = $0 } END { print k }')
		[ -z "$KVER_OTHER" ] || log "kernel C: $KVER_OTHER, one the repository does not serve"
	else
		log "only one ABI of Linux $SERIES with its source in the archive: no kernel-ABI upgrade to test (skipped, counted by the hosts' checks)"
	fi
}

kernel_version() { # KVER - the newest version of linux-image-KVER
	apt-cache show "linux-image-$1" | sed -n 's/^Version: //p' | sort -V | tail -n1
}

# kernel_source KVER KPKGVER - linux-source of KPKGVER as a tarball in
# TEST_CACHE, listed in the explicit sources file of the builds.
kernel_source() {
	local kver=$1 kpkgver=$2 tarball=$TEST_CACHE/linux-source-$2.tar.xz
	SOURCES_CONF=$TEST_CACHE/fleet-sources.conf
	if [ ! -s "$tarball" ]; then
		mkdir -p "$TEST_CACHE/fleet-dl"
		log "downloading linux-source-$SERIES=$kpkgver into $TEST_CACHE"
		(cd "$TEST_CACHE/fleet-dl" && apt-get download -q "linux-source-$SERIES=$kpkgver" >/dev/null 2>&1)
		dpkg-deb --fsys-tarfile "$TEST_CACHE"/fleet-dl/linux-source-"$SERIES"_*.deb |
			tar -xO "./usr/src/linux-source-$SERIES.tar.xz" >"$tarball.tmp"
		mv "$tarball.tmp" "$tarball"
		rm -rf "$TEST_CACHE/fleet-dl"
	fi
	touch "$SOURCES_CONF"
	grep -q "^$kver " "$SOURCES_CONF" || echo "$kver $tarball" >>"$SOURCES_CONF"
}

# build_module KVER - build/KVER/xe.ko, in `make module`'s own build tree
# (build/cache), which check-provider and check-qemu built for the newest
# kernel already: one xe build per kernel and source in a CI run; the
# compiler cache (tests/lib.sh) serves the rest.
build_module() {
	need_packages "linux-headers-$1"
	run_logged "$LOGS/module-$1.log" "make module KVER=$1 (reused when built)" \
		nice make -C "$TOP" module KVER="$1" SOURCES="$SOURCES_CONF"
}

field() { # DEB FIELD
	dpkg-deb -f "$1" "$2"
}

kdot() { # KERNEL_PACKAGE_VERSION - as it appears in our versions
	echo "$1" | tr -- '-:' '..'
}

quiet() { # CMD... - CMD's exit status, its output discarded
	"$@" >/dev/null 2>&1
}

not() { # CMD... - succeeds when CMD fails (its output discarded)
	! "$@" >/dev/null 2>&1
}

rpm_has() { # RPM QUERY LINE - rpm -qp QUERY lists LINE
	rpm -qp "$2" "$1" 2>/dev/null | grep -qxF "$3"
}

cms_verify() { # SIG BODY CERT
	openssl cms -verify -binary -inform DER -in "$1" -content "$2" \
		-certfile "$3" -CAfile "$3" -purpose any -out /dev/null
}

module_signed() { # DIR - some xe.ko* under DIR has a signature
	local ko
	ko=$(find "$1" -name 'xe.ko*' | head -n1)
	xz -dcf "$ko" | tail -c 28 | grep -q 'Module signature'
}

rpms_signed() { # DIR - rpm -K of each rpm names the key's signature as OK
	local f
	for f in "$1"/*.rpm; do
		rpm --dbpath "$WORK/rpmdb" -K "$f" | grep -q 'digests signatures OK' || return 1
	done
}

# --- 2. kmod-deb ------------------------------------------------------------

check_debs() {
	local mod meta v older
	run_logged "$LOGS/kmod-deb.log" "build-kmod-deb.sh $KVER" \
		"$TOP/debian/pkgtools/build-kmod-deb.sh" "$KVER" "$KO" "$WORK/dist"
	mod=$(ls "$WORK/dist/$NAME-modules-${KVER}"_*.deb)
	meta=$(ls "$WORK/dist/$NAME-modules-amd64"_*.deb)
	v=$VERSION+$(kdot "$KPKGVER")-$RELEASE
	check "module package version is project+kernel ($v)" test "$(field "$mod" Version)" = "$v"
	check "metapackage has the same version" test "$(field "$meta" Version)" = "$v"
	check "module package depends on the kernel image or its -unsigned twin" \
		test "$(field "$mod" Depends)" = "linux-image-$KVER | linux-image-$KVER-unsigned, $NAME-tools (>= $VERSION)"
	check "module package conflicts with the DKMS package" test "$(field "$mod" Conflicts)" = "$NAME-dkms"
	check "module package provides $NAME-modules" test "$(field "$mod" Provides)" = "$NAME-modules"
	check "Built-Using names the kernel source ($KSRCPKG $KPKGVER)" \
		test "$(field "$mod" Built-Using)" = "$KSRCPKG (= $KPKGVER)"
	check "metapackage depends on exactly this ABI's module package" \
		test "$(field "$meta" Depends)" = "$NAME-modules-$KVER (= $v)"
	check "metapackage Breaks the kernel metapackages past this ABI's ($KPKGVER)" \
		test "$(field "$meta" Breaks)" = "linux-image-$SERIES-amd64 (>> $KPKGVER), linux-image-amd64 (>> $KPKGVER)"
	check "Installed-Size was computed (dpkg-gencontrol)" test "$(field "$mod" Installed-Size)" -gt 100
	# Versions sort right: an older kernel's build, the old scheme and the
	# next project version.
	older=$(apt-cache madison "linux-image-$SERIES-amd64" linux-image-amd64 | awk '{ print $3 }' |
		sort -V | awk -v k="$KPKGVER" '$0 != k' | tail -n1)
	check "a build for an older kernel ($older) sorts below" \
		dpkg --compare-versions "$v" gt "$VERSION+$(kdot "$older")-$RELEASE"
	check "the previous scheme's $VERSION-$RELEASE sorts below" dpkg --compare-versions "$v" gt "$VERSION-$RELEASE"
	check "the next release for this kernel sorts above" \
		dpkg --compare-versions "$v" lt "$VERSION+$(kdot "$KPKGVER")-$((RELEASE + 1))"
	check "the next project version, even for the older kernel, sorts above" \
		dpkg --compare-versions "$v" lt "${VERSION%.*}.$((${VERSION##*.} + 1))+$(kdot "$older")-1"
	dpkg-deb -x "$mod" "$WORK/mod"
	dpkg-deb -e "$mod" "$WORK/mod-ctl"
	check "the module sits in updates/ of $KVER" \
		test -n "$(find "$WORK/mod/lib/modules/$KVER/updates/$NAME" -name 'xe.ko*')"
	check "copyright names the kernel source and where it is" \
		grep -q "snapshot.debian.org/package/$KSRCPKG/$KPKGVER/" "$WORK/mod/usr/share/doc/$NAME-modules-$KVER/copyright"
	check "copyright: the module's paragraph comes after Files: * (DEP-5, last match wins)" \
		awk '/^Files: \*$/ { a = NR } /^Files: lib\/modules\// { b = NR } END { exit !(a && b > a) }' \
		"$WORK/mod/usr/share/doc/$NAME-modules-$KVER/copyright"
	check "postinst runs depmod and refreshes an initramfs holding xe" \
		grep -q "update-initramfs -u -k \"$KVER\"" "$WORK/mod-ctl/postinst"
	check "postinst is valid sh" sh -n "$WORK/mod-ctl/postinst"
	need_packages lintian
	if lintian --fail-on error,warning "$mod" "$meta" >"$LOGS/lintian.log" 2>&1; then
		ok "lintian: no errors or warnings on both .debs"
	else
		fail "lintian on the kmod .debs (log: $LOGS/lintian.log)"
		tail -n 20 "$LOGS/lintian.log"
	fi
}

# old_abi_packages - kernel A's module package and metapackage in
# WORK/dist-old: the repository before the kernel moved to B. A's module
# package joins WORK/dist too: the repository keeps it for hosts on A.
old_abi_packages() {
	local meta
	run_logged "$LOGS/kmod-deb-old.log" "build-kmod-deb.sh $KVER_OLD" \
		"$TOP/debian/pkgtools/build-kmod-deb.sh" "$KVER_OLD" "$TOP/build/$KVER_OLD/xe.ko" "$WORK/dist-old"
	meta=$(ls "$WORK/dist-old/$NAME-modules-amd64"_*.deb)
	check "A's metapackage depends on A's module package" \
		test "$(field "$meta" Depends)" = "$NAME-modules-$KVER_OLD (= $(field "$meta" Version))"
	check "A's metapackage sorts below B's: apt upgrades it" \
		dpkg --compare-versions "$(field "$meta" Version)" lt "$V"
	cp "$WORK/dist-old/$NAME-modules-${KVER_OLD}"_*.deb "$WORK/dist/"
	cp "$WORK/dist/$NAME-tools"[_-]* "$WORK/dist-old/"
}

# tools_packages - $NAME-tools (xe-vm-export-verify), which the module
# packages depend on, from make deb and make rpm: published beside them.
tools_packages() {
	run_logged "$LOGS/make-deb.log" "make deb rpm (for $NAME-tools)" nice make -C "$TOP" deb rpm
	cp "$TOP/dist/$NAME-tools_$VERSION-"*_all.deb "$TOP/dist/$NAME-tools-$VERSION-"*.noarch.rpm \
		"$WORK/dist/"
}

# --- 3. signing -------------------------------------------------------------

# split_signature KO SIG BODY - the appended PKCS#7 and the module before it:
# ... | PKCS#7 | struct module_signature (12 bytes, sig_len big-endian at
# 8..11) | "~Module signature appended~\n" (28 bytes).
split_signature() {
	local ko=$1 size len
	size=$(stat -c %s "$ko")
	len=$(tail -c 32 "$ko" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	head -c $((size - 40 - len)) "$ko" >"$3"
	tail -c $((len + 40)) "$ko" | head -c "$len" >"$2"
}

check_signing() {
	local d=$WORK/sign ko deb
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fleet test module key" \
		-addext extendedKeyUsage=codeSigning -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another key" \
		-keyout "$d/other.key" -out "$d/other.pem" 2>/dev/null
	run_logged "$LOGS/kmod-deb-signed.log" "build-kmod-deb.sh $KVER, signed" \
		"$TOP/debian/pkgtools/build-kmod-deb.sh" "$KVER" "$KO" "$d/dist" "$d/key.pem" "$d/cert.pem"
	deb=$(ls "$d/dist/$NAME-modules-${KVER}"_*.deb)
	dpkg-deb -x "$deb" "$d/root"
	ko=$(find "$d/root" -name 'xe.ko*')
	case $ko in *.xz) xz -dc "$ko" >"$d/xe.ko" ;; *) cp "$ko" "$d/xe.ko" ;; esac
	check "signed module carries the kernel's signature trailer" \
		test "$(tail -c 28 "$d/xe.ko")" = "~Module signature appended~"
	check "modinfo names the signer" test "$(modinfo -F signer "$d/xe.ko")" = "fleet test module key"
	split_signature "$d/xe.ko" "$d/sig.p7" "$d/body"
	check "openssl cms -verify: the PKCS#7 verifies against the certificate" \
		cms_verify "$d/sig.p7" "$d/body" "$d/cert.pem"
	check "openssl cms -verify fails against another certificate" \
		not cms_verify "$d/sig.p7" "$d/body" "$d/other.pem"
	check "the unsigned build is not signed" not module_signed "$WORK/mod"
}

# --- 4. kmod-rpm ------------------------------------------------------------

check_rpms() {
	local mod meta lic krel=${KVER//-/_}
	need_packages rpm rpmlint
	run_logged "$LOGS/kmod-rpm.log" "build-kmod-rpm.sh $KVER" \
		"$TOP/rpm/build-kmod-rpm.sh" "$KVER" "$KO" "$WORK/dist"
	mod=$(ls "$WORK/dist/kmod-$NAME-$KVER-"*.rpm)
	meta=$(ls "$WORK/dist/kmod-$NAME-$VERSION-"*.rpm)
	check "rpm release carries the kernel" \
		test "$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$mod")" = "$VERSION-$RELEASE.$krel"
	check "rpm module package requires its kernel" \
		rpm_has "$mod" --requires "kernel-uname-r = $KVER"
	check "rpm module package provides $NAME-kmod" \
		rpm_has "$mod" --provides "$NAME-kmod = $VERSION-$RELEASE.$krel"
	check "rpm module package conflicts with DKMS" rpm_has "$mod" --conflicts "$NAME-dkms"
	check "rpm meta kmod-$NAME requires this kernel's module package" \
		rpm_has "$meta" --requires "kmod-$NAME-$KVER = $VERSION-$RELEASE.$krel"
	lic=$(rpm -qpL "$mod" | grep '/COPYING\.module$' || true)
	check "rpm %license: COPYING and COPYING.module" test -n "$lic"
	rpm2cpio "$mod" | (cd "$WORK" && cpio -id --quiet --no-absolute-filenames '*COPYING.module')
	check "rpm COPYING.module names the kernel source" \
		grep -q "Debian source package $KSRCPKG $KPKGVER" "$WORK/$lic"
	rpm -qp --scripts "$mod" >"$WORK/scripts"
	check "rpm %post runs dracut when the initramfs holds xe" grep -q "dracut -f --kver $KVER" "$WORK/scripts"
	rpmlint -c "$TOP/rpm/rpmlint.toml" "$mod" "$meta" >"$LOGS/rpmlint.log" 2>&1 || true
	if grep -qE '^[^ ]+: E: ' "$LOGS/rpmlint.log"; then
		fail "rpmlint: errors on the kmod rpms (log: $LOGS/rpmlint.log)"
		grep -E ': [EW]: ' "$LOGS/rpmlint.log" | head -n 20
	else
		ok "rpmlint: no errors on the kmod rpms ($(grep -c ': W: ' "$LOGS/rpmlint.log" || true) warnings, log: $LOGS/rpmlint.log)"
	fi
}

# --- 5. make repo -----------------------------------------------------------

make_key() {
	export GNUPGHOME=$WORK/gnupg
	mkdir -m 0700 "$GNUPGHOME"
	gpg --batch --passphrase '' --quick-gen-key "$NAME test repository <fleet@test.invalid>" \
		rsa2048 sign 1d 2>/dev/null
	REPO_KEY=$(gpg --batch --with-colons --list-keys | awk -F: '$1 == "fpr" { print $10; exit }')
}

serve() { # DIR - http on 127.0.0.1, a free port
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -m http.server --bind 127.0.0.1 --directory "$1" "$port" >"$LOGS/http.log" 2>&1 &
	SERVER_PID=$!
	URL=http://127.0.0.1:$port
	local _
	for _ in $(seq 50); do
		curl -fsS -o /dev/null "$URL/" 2>/dev/null && return 0
		sleep 0.1
	done
	die "http server on $URL did not answer"
}

# apt_isolated ARGS... - apt with nothing of the host's state or sources
# (its own in APT_DIR, default WORK/apt).
apt_isolated() {
	local a=${APT_DIR:-$WORK/apt}
	"$@" -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$a/sources.list.d" \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" \
		-o Dir::State::Status="$a/status" -o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null -o Debug::NoLocking=1 \
		-o APT::Sandbox::User=root
}

check_repo() {
	local repo=$WORK/repo a=$WORK/apt dist rel
	need_packages gnupg gpgv reprepro createrepo-c curl
	make_key
	mkdir -p "$repo.served"
	serve "$repo.served"
	run_logged "$LOGS/repo.log" "make repo" \
		env REPO_KEY="$REPO_KEY" REPO_URL="$URL" make -C "$TOP" repo DIST="$WORK/dist" REPO="$repo"
	cp -a "$repo/." "$repo.served/"
	dist=$(sed -n 's/^Suites: //p' "$repo/$NAME.sources")
	rel=$repo/apt/dists/$dist
	check "InRelease verifies with the exported public key" \
		gpgv --keyring "$repo/$NAME-archive-keyring.gpg" "$rel/InRelease"
	check "Release.gpg verifies" \
		gpgv --keyring "$repo/$NAME-archive-keyring.gpg" "$rel/Release.gpg" "$rel/Release"
	sed 's/^Origin: .*/Origin: tampered/' "$rel/Release" >"$WORK/Release.bad"
	check "a tampered Release does not verify" \
		not gpgv --keyring "$repo/$NAME-archive-keyring.gpg" "$rel/Release.gpg" "$WORK/Release.bad"
	check "repomd.xml.asc verifies" gpgv --keyring "$repo/$NAME-archive-keyring.gpg" \
		"$repo/rpm/repodata/repomd.xml.asc" "$repo/rpm/repodata/repomd.xml"
	rpm --dbpath "$WORK/rpmdb" --initdb
	rpm --dbpath "$WORK/rpmdb" --import "$repo/$NAME-archive-keyring.asc"
	check "every rpm is signed by the repository key (rpm -K)" rpms_signed "$repo/rpm"
	zcat "$repo"/rpm/repodata/*-primary.xml.gz >"$WORK/primary.xml"
	check "repodata lists both kmod rpms" test "$(grep -c '<name>kmod-' "$WORK/primary.xml")" -eq 2
	# apt on 127.0.0.1 with signed-by=, nothing of the host's apt state.
	mkdir -p "$a/sources.list.d" "$a/lists/partial" "$a/cache/archives/partial" "$a/keyrings"
	: >"$a/status"
	cp "$repo/$NAME-archive-keyring.gpg" "$a/keyrings/"
	sed "s|^Signed-By: .*|Signed-By: $a/keyrings/$NAME-archive-keyring.gpg|" "$repo/$NAME.sources" \
		>"$a/sources.list.d/$NAME.sources"
	chmod -R a+rX "$a"
	check "apt-get update verifies the repository (signed-by)" \
		apt_isolated apt-get update -q -o APT::Update::Error-Mode=any
	apt_isolated apt-cache policy "$NAME-modules-amd64" >"$LOGS/apt-policy.log" 2>&1 || true
	check "apt offers the metapackage at the built version" \
		grep -qx "  Candidate: $V" "$LOGS/apt-policy.log"
	apt_isolated apt-get -s install "$NAME-modules-amd64" >"$LOGS/apt-resolve.log" 2>&1 || true
	check "apt resolves metapackage -> module package -> linux-image-$KVER" \
		grep -q "$NAME-modules-$KVER : Depends: linux-image-$KVER but it is not installable or" "$LOGS/apt-resolve.log"
	if [ -n "$KVER_OLD" ]; then
		check "apt keeps A's module package for hosts on A" \
			quiet apt_isolated apt-cache show "$NAME-modules-$KVER_OLD"
		run_logged "$LOGS/repo-before.log" "make repo: A's packages, the repository before the kernel moved" \
			env REPO_KEY="$REPO_KEY" REPO_URL="$URL" make -C "$TOP" repo DIST="$WORK/dist-old" REPO="$WORK/repo-before"
	fi
	check "make repo with an unknown key fails" \
		not env REPO_KEY=nobody@test.invalid make -s -C "$TOP" repo DIST="$WORK/dist" REPO="$WORK/badrepo"
}

# dnf_isolated NAME ARGS... - dnf with nothing of the host's: its own
# installroot, repository files (WORK/dnf/NAME/repos), cache, logs and
# keys; a repository it cannot read or verify is an error, not skipped.
dnf_isolated() {
	local d=$WORK/dnf/$1
	shift
	dnf -y --installroot="$d/root" --setopt=reposdir="$d/repos" --setopt=cachedir="$d/cache" \
		--setopt=logdir="$d" --setopt=skip_if_unavailable=False --disableplugin=local \
		--releasever=12 "$@"
}

# dnf_repo_file NAME PATH - WORK/dnf/NAME reads the served PATH (rpm, or a
# tampered copy) with make repo's .repo file: gpgcheck=1, repo_gpgcheck=1.
dnf_repo_file() {
	mkdir -p "$WORK/dnf/$1/repos"
	sed -e "s|^baseurl=.*|baseurl=$URL/$2|" \
		-e "s|^gpgkey=file://|gpgkey=file://$WORK/keyring-rpm-root|" "$WORK/repo/$NAME.repo" \
		>"$WORK/dnf/$1/repos/$NAME.repo"
}

# check_dnf - dnf reads the served dnf repository: the signed repomd.xml is
# verified (repo_gpgcheck), the meta resolves to this kernel's module
# package, both download and carry the key's signature; a tampered repomd.xml
# or rpm is refused. Installing needs an rpm-based kernel (kernel-uname-r),
# which a Debian machine has not: dnf's refusal to install is asserted too.
check_dnf() {
	local served=$WORK/repo.served dl=$WORK/dnf/ok/dl f
	need_packages dnf dnf-plugins-core
	dnf_repo_file ok rpm
	if dnf_isolated ok makecache >"$LOGS/dnf-makecache.log" 2>&1; then
		ok "dnf makecache: repomd.xml.asc verified with the repository key (repo_gpgcheck=1)"
	else
		fail "dnf makecache (log: $LOGS/dnf-makecache.log)"
		tail -n 20 "$LOGS/dnf-makecache.log"
		return 0
	fi
	check "dnf imported the key from the .repo's gpgkey=" grep -q "Importing GPG key" "$LOGS/dnf-makecache.log"
	check "dnf: kmod-$NAME requires this kernel's module package" \
		grep -qx "kmod-$NAME-$KVER = $VERSION-$RELEASE.${KVER//-/_}" \
		<(dnf_isolated ok -q repoquery --requires "kmod-$NAME" 2>/dev/null)
	check "dnf: the module package requires kernel-uname-r = $KVER" \
		grep -qx "kernel-uname-r = $KVER" <(dnf_isolated ok -q repoquery --requires "kmod-$NAME-$KVER" 2>/dev/null)
	check "dnf download: the meta and the module package" \
		quiet dnf_isolated ok download --destdir "$dl" "kmod-$NAME" "kmod-$NAME-$KVER"
	check "the downloaded rpms carry the repository key's signature (rpm -K)" rpms_signed "$dl"
	dnf_isolated ok install "kmod-$NAME" >"$LOGS/dnf-install.log" 2>&1 || true
	check "dnf install refuses without an rpm kernel: nothing provides kernel-uname-r = $KVER" \
		grep -q "nothing provides kernel-uname-r = $KVER" "$LOGS/dnf-install.log"
	# A repomd.xml changed after signing.
	cp -a "$served/rpm" "$served/rpm-repomd-tampered"
	sed -i '0,/<revision>/s|<revision>[0-9]*|<revision>1|' "$served/rpm-repomd-tampered/repodata/repomd.xml"
	dnf_repo_file repomd-tampered rpm-repomd-tampered
	dnf_isolated repomd-tampered makecache >"$LOGS/dnf-tampered.log" 2>&1 || true
	check "dnf refuses a tampered repomd.xml: Bad GPG signature" \
		grep -q "repomd.xml GPG signature verification error: Bad GPG signature" "$LOGS/dnf-tampered.log"
	# An rpm changed after the repository was made.
	cp -a "$served/rpm" "$served/rpm-rpm-tampered"
	f=$(ls "$served/rpm-rpm-tampered/kmod-$NAME-$KVER-"*.rpm)
	printf 'x' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") - 100)) conv=notrunc status=none
	dnf_repo_file rpm-tampered rpm-rpm-tampered
	dnf_isolated rpm-tampered download --destdir "$WORK/dnf/rpm-tampered/dl" "kmod-$NAME-$KVER" \
		>"$LOGS/dnf-rpm-tampered.log" 2>&1 || true
	check "dnf refuses a tampered rpm: checksum against the signed metadata" \
		grep -q "checksum doesn't match" "$LOGS/dnf-rpm-tampered.log"
	check "the tampered rpm was not kept" test ! -e "$WORK/dnf/rpm-tampered/dl/$(basename "$f")"
	rm -rf "$served/rpm-repomd-tampered" "$served/rpm-rpm-tampered"
}

# --- 7. sources, licences, keys, history (fleet/make-repo.sh) ---------------

# spdx_matches_copyright TARBALL - every file of the release tarball with an
# SPDX-License-Identifier line falls, in debian/copyright (DEP-5: the last
# matching Files paragraph wins), under the same licences.
spdx_matches_copyright() {
	python3 - "$1" "$TOP/debian/copyright" <<-'EOT'
	import fnmatch, re, sys, tarfile
	paras, cur = [], {}
	for line in open(sys.argv[2]).read().split("\n") + [""]:
	    if not line.strip():
	        if "Files" in cur:
	            paras.append((cur["Files"].split(), cur["License"].split("\n")[0]))
	        cur, key = {}, None
	    elif line[0] in " \t" and key:
	        cur[key] += "\n" + line.strip()
	    else:
	        key, _, val = line.partition(":")
	        cur[key] = val.strip()
	def norm(lic):
	    lic = re.sub(r"\bGPL-2\.0(?!-)", "GPL-2.0-only", lic)
	    return frozenset(re.split(r"\s+(?:and|AND)\s+", lic.strip()))
	bad = checked = 0
	with tarfile.open(sys.argv[1]) as tar:
	    for m in tar.getmembers():
	        if not m.isfile():
	            continue
	        path = m.name.split("/", 1)[1]
	        head = tar.extractfile(m).read(600).decode("utf-8", "replace")
	        spdx = re.search(r"SPDX-License-Identifier:\s*([^*\n]+?)\s*(?:\*/)?\s*$", head, re.M)
	        if not spdx:
	            continue
	        checked += 1
	        lic = None
	        for globs, l in paras:
	            if any(fnmatch.fnmatchcase(path, g) for g in globs):
	                lic = l
	        if lic is None or norm(lic) != norm(spdx.group(1)):
	            bad += 1
	            print(f"{path}: SPDX {spdx.group(1)!r}, debian/copyright {lic!r}", file=sys.stderr)
	print(f"{checked} files with an SPDX line checked", file=sys.stderr)
	sys.exit(1 if bad or checked < 10 else 0)
	EOT
}

# check_licences - COPYING in the release tarball and every package;
# debian/copyright agrees with the SPDX lines. Uses make deb/rpm's dist/.
check_licences() {
	local tarball=$TOP/dist/$NAME-$VERSION.tar.gz f nolicence=0
	check "COPYING in the release tarball (make dist)" \
		grep -qx "$NAME-$VERSION/COPYING" <(tar -tzf "$tarball")
	check "COPYING in the orig tarball" \
		grep -qx "$NAME-$VERSION/COPYING" <(tar -tzf "$TOP/dist/${NAME}_$VERSION.orig.tar.gz")
	check "COPYING in the DKMS tree of $NAME-dkms" \
		grep -q "/usr/src/$NAME-$VERSION/COPYING\$" <(dpkg-deb -c "$TOP/dist/$NAME-dkms_$VERSION-${RELEASE}_all.deb")
	for f in "$TOP/dist/$NAME-"*"-$VERSION-$RELEASE".*.rpm; do
		rpm -qpL "$f" 2>/dev/null | grep -q '/COPYING$' ||
			{ nolicence=$((nolicence + 1)); echo "no %license COPYING: $f" >&2; }
	done
	check "%license COPYING in every rpm of make rpm" test "$nolicence" -eq 0
	check "COPYING in the SRPM (its release tarball)" grep -qx "$NAME-$VERSION/COPYING" \
		<(rpm2cpio "$TOP/dist/$NAME-$VERSION-$RELEASE.src.rpm" | cpio -i --quiet --to-stdout "$NAME-$VERSION.tar.gz" | tar -tzf -)
	check "debian/copyright: each file's SPDX licence, the last matching Files paragraph's" \
		spdx_matches_copyright "$tarball"
	cp "$TOP/dist/${NAME}_$VERSION-$RELEASE.dsc" "$TOP/dist/${NAME}_$VERSION.orig.tar.gz" \
		"$TOP/dist/${NAME}_$VERSION-$RELEASE.debian.tar."* "$TOP/dist/$NAME-$VERSION-$RELEASE.src.rpm" "$WORK/dist/"
}

# valid_days RELEASE - days from now to the Release file's Valid-Until.
valid_days() {
	local v
	v=$(sed -n 's/^Valid-Until: //p' "$1")
	if [ -n "$v" ]; then
		echo $((($(date -d "$v" +%s) - $(date +%s)) / 86400))
	else
		echo "no Valid-Until in $1" >&2
		echo none
	fi
}

source_download() { # DIR - apt-get source --download-only NAME into DIR
	mkdir -p "$1"
	(cd "$1" && apt_isolated apt-get source -q --download-only "$NAME") >"$LOGS/apt-source.log" 2>&1 &&
		test -s "$1/${NAME}_$VERSION-$RELEASE.dsc"
}

# check_repo_extras - what make repo publishes beside the binaries, read
# through the served repository (WORK/apt, both suites of one URL).
check_repo_extras() {
	local repo=$WORK/repo a=$WORK/apt kdeb krpm
	check "Release: Valid-Until 9-10 days ahead (REPO_VALID_DAYS=10)" \
		test "$(valid_days "$repo/apt/dists/bookworm/Release")" -ge 9
	check "InRelease: signed once per key of REPO_KEY" \
		test "$(gpgv --keyring "$repo/$NAME-archive-keyring.gpg" "$repo/apt/dists/bookworm/InRelease" 2>&1 | grep -c 'Good signature')" -eq 1
	sed -i 's/^Suites: .*/Suites: bookworm trixie/' "$a/sources.list.d/$NAME.sources"
	check "apt-get update: bookworm and trixie from one URL, with sources (deb-src)" \
		quiet apt_isolated apt-get update -q -o APT::Update::Error-Mode=any
	apt_isolated apt-cache madison "$NAME-tools" "$NAME-modules-amd64" "$NAME" >"$LOGS/apt-madison.log" 2>&1 || true
	check "both suites serve $NAME-tools" \
		test "$(grep -cE "^ *$NAME-tools \| .* (bookworm|trixie)/main amd64 Packages" "$LOGS/apt-madison.log")" -eq 2
	check "the Debian 12 module packages only in bookworm" \
		test "$(grep -c "^ *$NAME-modules-amd64 |" "$LOGS/apt-madison.log")" -eq 1
	check "both suites serve the source package" \
		test "$(sort -u "$LOGS/apt-madison.log" | grep -cE "^ *$NAME \| .* (bookworm|trixie)/main Sources")" -eq 2
	check "apt-get source --download-only $NAME: .dsc, orig and debian tarballs, hashes checked" \
		source_download "$WORK/src"
	check "the downloaded orig tarball holds COPYING" \
		grep -qx "$NAME-$VERSION/COPYING" <(tar -tzf "$WORK/src/${NAME}_$VERSION.orig.tar.gz")
	check "the SRPM is in the dnf repository's metadata" \
		grep -q '<arch>src</arch>' "$WORK/primary.xml"
	kdeb=$(compgen -G "$repo/apt/pool/all/$NAME-archive-keyring_*_all.deb" | head -n1)
	krpm=$(compgen -G "$repo/rpm/$NAME-archive-keyring-*.noarch.rpm" | head -n1)
	check "keyring .deb published, holding the key in /usr/share/keyrings/" \
		cmp -s <(dpkg-deb --fsys-tarfile "$kdeb" | tar -xO "./usr/share/keyrings/$NAME-archive-keyring.gpg") \
		"$repo/$NAME-archive-keyring.gpg"
	check "keyring .deb: lintian without errors or warnings" quiet lintian --fail-on error,warning "$kdeb"
	mkdir -p "$WORK/keyring-rpm-root"
	rpm2cpio "$krpm" | (cd "$WORK/keyring-rpm-root" && cpio -id --quiet --no-absolute-filenames)
	check "keyring .rpm published, holding the key as /etc/pki/rpm-gpg/RPM-GPG-KEY-$NAME" \
		test -s "$WORK/keyring-rpm-root/etc/pki/rpm-gpg/RPM-GPG-KEY-$NAME"
	check "keyring .rpm: rpmlint without errors (but the signer's key unknown to rpmlint)" \
		test "$(rpmlint -c "$TOP/rpm/rpmlint.toml" "$krpm" 2>&1 | grep ': E: ' | grep -vc ': E: unknown-key ')" -eq 0
	check ".repo: gpgkey= names the keyring rpm's local file" \
		grep -qx "gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-$NAME" "$repo/$NAME.repo"
}

# isolated_update DIR KEYRING LOG - apt-get update of file://DIR/apt
# (bookworm) with KEYRING as Signed-By, nothing of the host's.
isolated_update() {
	local a=$WORK/apt-neg
	rm -rf "$a"
	mkdir -p "$a/sources.list.d" "$a/lists/partial" "$a/cache/archives/partial"
	: >"$a/status"
	printf 'Types: deb\nURIs: file://%s/apt\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' \
		"$1" "$2" >"$a/sources.list.d/$NAME.sources"
	chmod -R a+rX "$a" "$1" "$2"
	# This machine's apt.conf may turn the time checks off (Check-Date
	# false disables Check-Valid-Until too); a host has them on.
	APT_DIR=$a apt_isolated apt-get update -q -o APT::Update::Error-Mode=any \
		-o Acquire::Check-Date=true -o Acquire::Check-Valid-Until=true >"$3" 2>&1
}

# check_key_failures - a refresh rewrites Valid-Until; what fails, and how
# loudly: a Release past its Valid-Until; a repository signed by an
# expired key; make repo refuses an expired key.
check_key_failures() {
	local d=$WORK/neg past rc=0
	mkdir -p "$d/empty"
	cp -a "$WORK/repo" "$d/stale"
	run_logged "$LOGS/repo-stale.log" "make repo REPO_VALID_DAYS=0 (expires at once)" \
		env REPO_KEY="$REPO_KEY" REPO_VALID_DAYS=0 make -C "$TOP" repo DIST="$d/empty" REPO="$d/stale"
	check "make repo with nothing new rewrote Release's Date and Valid-Until (a refresh)" \
		test "$(valid_days "$d/stale/apt/dists/bookworm/Release")" -le 0
	sleep 2 # past Valid-Until (the run's time, whole seconds)
	isolated_update "$d/stale" "$d/stale/$NAME-archive-keyring.gpg" "$LOGS/apt-stale.log" || rc=$?
	check "apt-get update refuses a Release past its Valid-Until: exit $rc, \"is expired\" (log: $LOGS/apt-stale.log)" \
		test "$rc" -ne 0 -a "$(grep -c '^E: Release file for .* is expired' "$LOGS/apt-stale.log")" -ge 1
	# A key made three days ago that expired after one; it signs as it did
	# then (gpg's clock), its signature read now.
	past=$(date -u -d '-3 days' +%Y%m%dT%H%M%S)
	gpg --batch --passphrase '' --faked-system-time "$past" \
		--quick-gen-key "$NAME expired key <expired@test.invalid>" rsa2048 sign 1d 2>/dev/null
	gpg --batch --export expired@test.invalid >"$d/expired.gpg"
	cp -a "$WORK/repo" "$d/expired"
	gpg --batch --yes --faked-system-time "$past" --local-user expired@test.invalid --clearsign \
		-o "$d/expired/apt/dists/bookworm/InRelease" "$d/expired/apt/dists/bookworm/Release" 2>/dev/null
	rm -f "$d/expired/apt/dists/bookworm/Release.gpg"
	isolated_update "$d/expired" "$d/expired.gpg" "$LOGS/apt-expired-key.log" || true
	check "apt-get update refuses a repository signed by an expired key: EXPKEYSIG" \
		grep -q "EXPKEYSIG" "$LOGS/apt-expired-key.log"
	check "... and says the repository is not signed (an error, not a warning)" \
		grep -q "^E: The repository .* is not signed" "$LOGS/apt-expired-key.log"
	env REPO_KEY=expired@test.invalid make -s -C "$TOP" repo DIST="$d/empty" REPO="$d/refused" >"$LOGS/repo-expired.log" 2>&1 || true
	check "make repo refuses an expired key, with what to do" \
		grep -q "the key has expired: extend it" "$LOGS/repo-expired.log"
}

# next_release DIR - B's module packages as the next release (META's
# Release + 1) of the same module, built by build-kmod-deb.sh from a copy
# of its inputs: a newer version to roll back from.
next_release() {
	local t=$WORK/next-tree
	mkdir -p "$t/debian" "$t/tests"
	cp -a "$TOP/debian/pkgtools" "$TOP/debian/control" "$TOP/debian/copyright" "$t/debian/"
	cp "$TOP/tests/lib.sh" "$t/tests/"
	sed "s/^Release:.*/Release:\t$((RELEASE + 1))/" "$TOP/META" >"$t/META"
	run_logged "$LOGS/kmod-deb-next.log" "build-kmod-deb.sh $KVER, release $((RELEASE + 1))" \
		"$t/debian/pkgtools/build-kmod-deb.sh" "$KVER" "$KO" "$1"
}

# on_host HOST CMD... - CMD in HOST's root, noninteractive.
on_host() {
	local h=$1
	shift
	DEBIAN_FRONTEND=noninteractive chroot "$HOSTS_DIR/$h" "$@"
}

# our_update HOST LOG - apt-get update of our repository alone (as the role
# does), appended to LOG; its exit status.
our_update() {
	on_host "$1" apt-get update -q -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 \
		-o "Dir::Etc::SourceList=/etc/apt/sources.list.d/$NAME.sources" -o APT::Update::Error-Mode=any >>"$2" 2>&1
}

# check_history - one repository (WORK/repo-hist) grown by three make repo
# runs: A's packages, B's, B's next release. Every version stays; host2
# upgrades to the next release, rolls back to B's first (the version a role
# pins) and forward again.
check_history() {
	local h=host2 hist=$WORK/repo-hist vnext d logf=$LOGS/history-host2.log
	local pkgs=("$NAME-modules-amd64" "$NAME-modules-$KVER")
	next_release "$WORK/dist-next"
	vnext=$(field "$(ls "$WORK/dist-next/$NAME-modules-amd64"_*.deb)" Version)
	for d in dist-old dist dist-next; do
		run_logged "$LOGS/repo-hist-$d.log" "make repo: $d added to the same repository" \
			env REPO_KEY="$REPO_KEY" REPO_URL="$URL" make -C "$TOP" repo DIST="$WORK/$d" REPO="$hist"
	done
	serve_repo "$hist"
	: >"$logf"
	check "$h: apt-get update of the grown repository" our_update "$h" "$logf"
	on_host "$h" apt-cache madison "$NAME-modules-amd64" >"$LOGS/history-madison.log" 2>&1 || true
	check "the repository keeps every version of the metapackage (A's, B's, B's next release)" \
		test "$(grep -cE "^ *$NAME-modules-amd64 \| ($(re "$V_OLD")|$(re "$V")|$(re "$vnext")) \|" "$LOGS/history-madison.log")" -eq 3
	check "$h: upgrades to the next release ($vnext)" quiet on_host "$h" apt-get install -y -q "${pkgs[@]}"
	check "$h: $NAME-modules-$KVER at $vnext" test "$(pkg_version "$h" "$NAME-modules-$KVER")" = "$vnext"
	role_on "$h" rollback "rolls back to $V through the role (xe_vm_export_version=$V)" -e "xe_vm_export_version=$V"
	check "$h: $NAME-modules-amd64 and -$KVER back at $V" \
		test "$(pkg_version "$h" "$NAME-modules-amd64") $(pkg_version "$h" "$NAME-modules-$KVER")" = "$V $V"
	check "$h: modprobe still resolves xe of $KVER to updates/" \
		test "$(chroot "$HOSTS_DIR/$h" modinfo -k "$KVER" -F filename xe)" = "/lib/modules/$KVER/updates/$NAME/xe.ko.xz"
	check "$h: the role wrote its apt pin (Pin: version $V, Pin-Priority: 1001)" \
		test "$(grep -cxE "Pin: version $(re "$V")|Pin-Priority: 1001" "$HOSTS_DIR/$h/etc/apt/preferences.d/$NAME")" -eq 2
	check "$h: the role's pin stays: a plain apt-get install keeps $V" \
		test "$(quiet on_host "$h" apt-get install -y -q "$NAME-modules-amd64"; pkg_version "$h" "$NAME-modules-amd64")" = "$V"
	role_on "$h" forward "forward again through the role (xe_vm_export_version unset: the pin goes)"
	check "$h: $NAME-modules-amd64 and -$KVER at $vnext" \
		test "$(pkg_version "$h" "$NAME-modules-amd64") $(pkg_version "$h" "$NAME-modules-$KVER")" = "$vnext $vnext"
	check "$h: the pin is gone" test ! -e "$HOSTS_DIR/$h/etc/apt/preferences.d/$NAME"
}

# role_on HOST N WHAT ARGS... - the fleet playbook on HOST alone: exit 0,
# its PLAY RECAP line with unreachable=0 failed=0.
role_on() {
	local h=$1 logf=$LOGS/playbook-$2.log what=$3 rc=0
	shift 3
	playbook "$logf" --limit "$h" "$@" || rc=$?
	if [ "$rc" -eq 0 ] && grep -qE "^$h +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0( |\$)" "$logf"; then
		ok "$h: $what: exit 0, PLAY RECAP changed, unreachable=0 failed=0"
	else
		fail "$h: $what: exit $rc (log: $logf)"
		tail -n 30 "$logf"
	fi
}

keys_in() { # KEYRING - its keys' fingerprints, sorted, on one line
	gpg --batch --with-colons --show-keys "$1" 2>/dev/null | awk -F: '$1 == "fpr" && !s[$10]++ { print $10 }' |
		sort | xargs
}

# rotate_step N WHAT KEYS - make repo signed by KEYS (the keyring package
# follows), then on each chroot host: update, the keyring package upgraded
# (the sources name its file since the role installed it), update again.
# Not one update may fail.
rotate_step() {
	local n=$1 what=$2 keys=$3 h failed=0 logf
	run_logged "$LOGS/repo-rotate-$n.log" "make repo: $what (REPO_KEY=$keys)" \
		env REPO_KEY="$keys" REPO_URL="$URL" make -C "$TOP" repo DIST="$WORK/dist-none" REPO="$WORK/repo-hist"
	serve_repo "$WORK/repo-hist"
	for h in "${CHROOT_HOSTS[@]}"; do
		logf=$LOGS/rotate-$n-$h.log
		: >"$logf"
		our_update "$h" "$logf" || failed=$((failed + 1))
		on_host "$h" apt-get install -y -q "$NAME-archive-keyring" >>"$logf" 2>&1 || failed=$((failed + 1))
		our_update "$h" "$logf" || failed=$((failed + 1))
		# (dpkg in a chroot without /dev/pts says "Can not write log": not apt's.)
		if grep -E '^(W|E): ' "$logf" | grep -qv 'Can not write log'; then failed=$((failed + 1)); fi
	done
	check "key rotation, $what: every apt-get update and keyring install on the three hosts succeeds, no W:/E: (logs: $LOGS/rotate-$n-*.log)" \
		test "$failed" -eq 0
}

# check_rotation - the key rotation across the three hosts: signed by the old
# key (so far), by both with a keyring package of both, by the new one with
# a keyring package of the new one only.
check_rotation() {
	local old=$REPO_KEY new h rc
	gpg --batch --passphrase '' --quick-gen-key "$NAME test repository 2 <fleet2@test.invalid>" \
		rsa2048 sign 1d 2>/dev/null
	new=$(gpg --batch --with-colons --list-keys fleet2@test.invalid | awk -F: '$1 == "fpr" { print $10; exit }')
	mkdir -p "$WORK/dist-none"
	for h in "${CHROOT_HOSTS[@]}"; do
		check "$h: the role signs the repository by the keyring package's file, the controller's copy is gone" \
			test "$(grep '^Signed-By:' "$HOSTS_DIR/$h/etc/apt/sources.list.d/$NAME.sources")" = \
			"Signed-By: /usr/share/keyrings/$NAME-archive-keyring.gpg" -a \
			! -e "$HOSTS_DIR/$h/etc/apt/keyrings/$NAME-archive-keyring.gpg"
	done
	rotate_step 1 "old and new key" "$old $new"
	check "InRelease carries two signatures (old and new key)" \
		test "$(gpgv --keyring "$WORK/repo-hist/$NAME-archive-keyring.gpg" "$WORK/repo-hist/apt/dists/bookworm/InRelease" 2>&1 | grep -c 'Good signature')" -eq 2
	for h in "${CHROOT_HOSTS[@]}"; do
		check "$h: the keyring package holds both keys" \
			test "$(keys_in "$HOSTS_DIR/$h/usr/share/keyrings/$NAME-archive-keyring.gpg")" = "$(printf '%s\n' "$old" "$new" | sort | xargs)"
	done
	rotate_step 2 "the new key only" "$new"
	for h in "${CHROOT_HOSTS[@]}"; do
		check "$h: the keyring package holds the new key only" \
			test "$(keys_in "$HOSTS_DIR/$h/usr/share/keyrings/$NAME-archive-keyring.gpg")" = "$new"
	done
	# The playbook still hands the role the old key (WORK/repo's).
	rc=0
	playbook "$LOGS/playbook-rotated.log" --limit host1 || rc=$?
	check "host1: the role after the rotation, given the old key: exit 0, PLAY RECAP clean (got $rc; log: $LOGS/playbook-rotated.log)" \
		test "$rc" -eq 0 -a "$(recap_ok "$LOGS/playbook-rotated.log" host1 && echo ok)" = ok
	check "host1: ... the old key is not back: the sources on the keyring package's file, which holds the new key only" \
		test "$(grep '^Signed-By:' "$HOSTS_DIR/host1/etc/apt/sources.list.d/$NAME.sources")" = \
		"Signed-By: /usr/share/keyrings/$NAME-archive-keyring.gpg" -a \
		! -e "$HOSTS_DIR/host1/etc/apt/keyrings/$NAME-archive-keyring.gpg" -a \
		"$(keys_in "$HOSTS_DIR/host1/usr/share/keyrings/$NAME-archive-keyring.gpg")" = "$new"
	# Last: the served repository past its Valid-Until, read by a host's
	# own apt (its apt.conf, none of this machine's).
	run_logged "$LOGS/repo-expire.log" "make repo REPO_VALID_DAYS=0: the served repository expires at once" \
		env REPO_KEY="$new" REPO_URL="$URL" REPO_VALID_DAYS=0 make -C "$TOP" repo DIST="$WORK/dist-none" REPO="$WORK/repo-hist"
	serve_repo "$WORK/repo-hist"
	sleep 2 # past Valid-Until (whole seconds)
	: >"$LOGS/host1-expired.log"
	rc=0
	our_update host1 "$LOGS/host1-expired.log" || rc=$?
	check "host1's own apt refuses the repository past its Valid-Until: exit $rc, \"is expired\" (log: $LOGS/host1-expired.log)" \
		test "$rc" -ne 0 -a "$(grep -c '^E: Release file for .* is expired' "$LOGS/host1-expired.log")" -ge 1
	isolated_update "$WORK/repo-hist" "$WORK/repo/$NAME-archive-keyring.gpg" "$LOGS/apt-old-key-only.log" || true
	check "a host with the old key alone fails loudly on the new key's repository: NO_PUBKEY" \
		grep -q "NO_PUBKEY" "$LOGS/apt-old-key-only.log"
}

# check_kernel_waits - the archive's kernel metapackage points to B, the
# repository has A's packages only: each host's apt-get dist-upgrade keeps
# the kernel metapackage on A (our metapackage Breaks newer ones) and
# installs no kernel without our module.
check_kernel_waits() {
	local h
	log "kernel waits: apt-get update && apt-get dist-upgrade, B's module not published (logs: $LOGS/wait-*.log)"
	hosts_upgrade wait
	for h in "${CHROOT_HOSTS[@]}"; do
		log "$h (kernel waits): $(upgrade_line "$LOGS/wait-$h.log")"
		check "$h: dist-upgrade with B's kernel published and its module not, exit 0" \
			grep -q '^fleet-test: exit 0 ' "$LOGS/wait-$h.log"
		check "$h: apt says it kept linux-image-$SERIES-amd64 back" \
			grep -qE "^ .*linux-image-$SERIES-amd64( |\$)" <(sed -n '/kept back:$/,/^[^ ]/p' "$LOGS/wait-$h.log")
		check "$h: the kernel metapackage stays at $KPKGVER_OLD (A)" \
			test "$(pkg_version "$h" "linux-image-$SERIES-amd64")" = "$KPKGVER_OLD"
		check "$h: no linux-image-$KVER installed" test -z "$(pkg_version "$h" "linux-image-$KVER")"
		check "$h: our metapackage stays installed at A's version" \
			test "$(pkg_version "$h" "$NAME-modules-amd64")" = "$V_OLD"
	done
}

# check_fleet_repo - the repository steps on the hosts once they are on B.
check_fleet_repo() {
	if [ -z "$KVER_OLD" ] || [ "$(pkg_version host1 "$NAME-modules-amd64" 2>/dev/null)" != "$V" ]; then
		fail "history and key rotation on the hosts: they are not on B with $V (see the steps above)"
		return 0
	fi
	check_history
	check_rotation
}

main() {
	local start
	start=$(date +%s)
	need_packages dpkg-dev openssl xz-utils kmod cpio curl jq
	mkdir -p "$LOGS" "$TEST_CACHE"
	WORK=$(mktemp -d)
	trap cleanup EXIT
	pick_kernels
	: >"$TEST_CACHE/fleet-sources.conf"
	kernel_source "$KVER" "$KPKGVER"
	build_module "$KVER"
	KO=$TOP/build/$KVER/xe.ko
	KSRCPKG=$(dpkg-query -W -f='${source:Package}' "linux-headers-$KVER")
	if [ -n "$KVER_OLD" ]; then
		kernel_source "$KVER_OLD" "$KPKGVER_OLD"
		build_module "$KVER_OLD"
	fi
	check_debs
	tools_packages
	check_licences
	V=$(field "$(ls "$WORK/dist/$NAME-modules-amd64"_*.deb)" Version)
	export V
	if [ -n "$KVER_OLD" ]; then
		old_abi_packages
		V_OLD=$(field "$(ls "$WORK/dist-old/$NAME-modules-amd64"_*.deb)" Version)
	fi
	check_signing
	check_rpms
	check_repo
	check_repo_extras
	check_key_failures
	check_dnf
	check_hosts
	check_fleet_repo
	log "done in $(($(date +%s) - start)) s"
	summary
}

main "$@"
