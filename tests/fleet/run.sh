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
#      kernel-ABI upgrade to B by one apt-get dist-upgrade; a kernel the
#      repository does not serve, reported skipped.
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

# apt_isolated ARGS... - apt with nothing of the host's state or sources.
apt_isolated() {
	local a=$WORK/apt
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
	sed "s|^baseurl=.*|baseurl=$URL/$2|" "$WORK/repo/$NAME.repo" >"$WORK/dnf/$1/repos/$NAME.repo"
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
	V=$(field "$(ls "$WORK/dist/$NAME-modules-amd64"_*.deb)" Version)
	export V
	[ -z "$KVER_OLD" ] || old_abi_packages
	check_signing
	check_rpms
	check_repo
	check_dnf
	check_hosts
	log "done in $(($(date +%s) - start)) s"
	summary
}

main "$@"
