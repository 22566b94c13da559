# shellcheck shell=bash
# Isolated Debian roots for the tests (Debian 12 bookworm, Debian 13 trixie,
# optionally with trixie-backports). Source it after tests/lib.sh. Nothing
# of the product is ever installed on the host: the tests install, upgrade
# and remove it in a root made here, chroot into it, and unmount and delete
# it when they end.
#
# API (the packaging, smoke and series tests use it):
#   root_create NAME SUITE [backports] [minimal]
#                 a fresh root $PKG_CACHE/roots/NAME from SUITE's cached base
#                 (bookworm | trixie), its apt sources written for SUITE (and
#                 SUITE-backports when asked), mounted, apt indexes fresh.
#                 minimal: the base is a fresh minimal system with only
#                 what a user needs to type `make` (ROOT_MINIMAL_PACKAGES):
#                 no compiler, no dkms.
#                 Sets ROOT, ROOT_SUITE, ROOT_BACKPORTS; root_destroy on EXIT.
#   in_root CMD...             run CMD in the root, clean environment
#   root_apt LOG DESC ARGS...  apt-get -y ARGS in the root, logged
#   root_copy FILE...          copy into the root's /tmp/pkgs, print the paths
#   root_kernels SERIES        the kernels (ABIs, newest first) of SERIES that
#                              the root's archive offers with a linux-source
#                              of the same version (chosen at run time)
#   root_destroy               unmount and delete (KEEP_ROOT=1 keeps it)
#
#   PKG_CACHE     $TEST_CACHE/packaging
#   APT_ARCHIVES  downloaded .debs, kept across runs, bound into every root
#   XE_TEST_DEBIAN_MIRROR, XE_TEST_SECURITY_MIRROR
#                 the archives (default: deb.debian.org, as on the host)
#
# The base tarball of a suite ($PKG_CACHE/debianNN-root-KEY.tar) holds the
# build tools and dkms, no kernel: the tests choose their kernels from the
# archive when they run. KEY hashes the suite, its package list, its
# sources and the Date of the archive's Release files for the suite (suite,
# -updates, -security; root_release_dates), so a change to either, or a
# point release or security update of the archive, makes a new base: what
# users get reaches the tests the next run. The minimal base
# ($PKG_CACHE/debianNN-minimal-KEY.tar) holds ROOT_MINIMAL_PACKAGES only.

PKG_CACHE=$TEST_CACHE/packaging
APT_ARCHIVES=$PKG_CACHE/apt-archives
ROOT=''
export ROOT_SUITE='' ROOT_BACKPORTS=''
ROOT_MOUNTS=()
# Where a root sees the tests' compiler cache of its suite (tests/lib.sh).
CCACHE_ROOT_DIR=/var/cache/xe-vm-export-ccache

# ccache: the tests' compiler cache (tests/lib.sh), not a dependency of
# the product; it builds nothing by itself.
ROOT_PACKAGES=(build-essential dkms kmod xz-utils rsync patch openssl zstd
	initramfs-tools rpm ccache)
# A fresh minimal Debian where a user typed `apt install make` to run
# `make install` from a copy of the checkout; the depends step installs the
# package into it with apt alone, to prove its Depends.
ROOT_MINIMAL_PACKAGES=(make ccache)

XE_TEST_DEBIAN_MIRROR=${XE_TEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
XE_TEST_SECURITY_MIRROR=${XE_TEST_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# root_suite_number SUITE - 12 or 13 (the base tarball's name).
root_suite_number() {
	case $1 in
	bookworm) echo 12 ;;
	trixie) echo 13 ;;
	*) die "unknown suite $1 (bookworm, trixie)" ;;
	esac
}

# root_sources SUITE [backports] - the root's apt sources (deb822) on stdout.
root_sources() {
	local suite=$1 keys=/usr/share/keyrings/debian-archive-keyring.gpg
	root_suite_number "$suite" >/dev/null
	printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n\n' \
		"$XE_TEST_DEBIAN_MIRROR" "$suite" "$suite" "$keys"
	printf 'Types: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
		"$XE_TEST_SECURITY_MIRROR" "$suite" "$keys"
	[ "${2:-}" != backports ] ||
		printf '\nTypes: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: %s\n' \
			"$XE_TEST_DEBIAN_MIRROR" "$suite" "$keys"
}

# root_sources_file SUITE [backports] - the same in a file (for mmdebstrap
# and piuparts); prints its path.
root_sources_file() {
	local f=$PKG_CACHE/sources/$1${2:+-$2}.sources
	mkdir -p "${f%/*}"
	root_sources "$@" >"$f"
	echo "$f"
}

# root_base_packages [minimal] - the packages of a base, one a line.
root_base_packages() {
	if [ "${1:-}" = minimal ]; then
		printf '%s\n' "${ROOT_MINIMAL_PACKAGES[@]}"
	else
		printf '%s\n' "${ROOT_PACKAGES[@]}"
	fi
}

# root_release_dates SUITE - "SUITE-DIST DATE" of each archive the base is
# made from, from its Release file fetched now (once per test); a fetch
# that fails is an error (the root could not be made either).
declare -A ROOT_RELEASE_DATES=()
root_release_dates() {
	local suite=$1 d url date out=''
	if [ -z "${ROOT_RELEASE_DATES[$suite]:-}" ]; then
		for d in "$suite" "$suite-updates" "$suite-security"; do
			url=$XE_TEST_DEBIAN_MIRROR/dists/$d/Release
			[ "$d" != "$suite-security" ] || url=$XE_TEST_SECURITY_MIRROR/dists/$d/Release
			date=$(curl -fsSL --retry 3 "$url" | sed -n 's/^Date: //p') || date=''
			[ -n "$date" ] || die "no Date in $url (the archive is needed to make or key the $suite root)"
			out+="$d $date;"
		done
		ROOT_RELEASE_DATES[$suite]=$out
	fi
	echo "${ROOT_RELEASE_DATES[$suite]}"
}

root_tarball() { # SUITE [minimal]
	local key kind=root
	[ "${2:-}" != minimal ] || kind=minimal
	key=$(printf '%s\n' "$1" "$(root_base_packages "${2:-}")" "$(root_sources "$1")" \
		"$(root_release_dates "$1")" v2 | sha256sum | cut -c1-12)
	echo "$PKG_CACHE/debian$(root_suite_number "$1")-$kind-$key.tar"
}

# The base: xe in every initramfs (so the tests see the initramfs follow the
# module; in a file no package owns), initramfs images of xe and what it
# needs only (made in seconds, never from the host's modules: MODULES=dep
# would look at the host), no service started by package scripts.
root_build_tarball() { # SUITE OUT [minimal]
	local suite=$1 out=$2 tmp=${2%.tar}.tmp.tar pkgs
	pkgs=$(root_base_packages "${3:-}" | paste -sd,)
	need_packages mmdebstrap
	mkdir -p "$PKG_CACHE"
	rm -rf "$tmp"
	# The hooks are shell run by mmdebstrap, $1 being the root.
	# shellcheck disable=SC2016
	run_logged "$PKG_CACHE/logs/mmdebstrap-$suite.log" "mmdebstrap: $suite root -> $out" \
		mmdebstrap --variant=apt --include="$pkgs" \
		--setup-hook='mkdir -p "$1/usr/share/initramfs-tools/modules.d" "$1/etc/initramfs-tools/conf.d"' \
		--setup-hook='echo xe >"$1/usr/share/initramfs-tools/modules.d/xe-vm-export-tests"' \
		--setup-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/xe-vm-export-tests"' \
		--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"' \
		"$suite" "$tmp" "$(root_sources_file "$suite")"
	# The bases of an older archive state are not used again.
	find "$PKG_CACHE" -maxdepth 1 -regextype egrep \
		-regex ".*/debian$(root_suite_number "$suite")-${3:-root}-[0-9a-f]{12}\.tar" -delete
	mv "$tmp" "$out"
}

# root_ensure_tarball SUITE [minimal] - sets ROOT_TARBALL, building it when
# missing.
root_ensure_tarball() {
	ROOT_TARBALL=$(root_tarball "$1" "${2:-}")
	[ -s "$ROOT_TARBALL" ] || root_build_tarball "$1" "$ROOT_TARBALL" "${2:-}"
}

root_mount() { # TYPE-OR-BIND SOURCE TARGET-IN-ROOT
	local kind=$1 src=$2 dst=$ROOT$3
	mkdir -p "$dst"
	if [ "$kind" = bind ]; then
		mount --bind "$src" "$dst"
	else
		mount -t "$kind" "$src" "$dst"
	fi
	ROOT_MOUNTS+=("$dst")
}

# root_create NAME SUITE [backports] [minimal] - see the top of this file.
root_create() {
	local name=$1 suite=${2:-bookworm} bp='' minimal='' opt
	shift $(($# < 2 ? $# : 2))
	for opt in "$@"; do
		case $opt in
		backports) bp=backports ;;
		minimal) minimal=minimal ;;
		*) die "root_create: unknown option '$opt' (backports, minimal)" ;;
		esac
	done
	root_ensure_tarball "$suite" "$minimal"
	root_destroy
	ROOT=$PKG_CACHE/roots/$name ROOT_SUITE=$suite ROOT_BACKPORTS=$bp
	trap root_destroy EXIT
	root_destroy
	mkdir -p "$ROOT" "$APT_ARCHIVES/partial"
	log "extracting the $suite ${minimal:+minimal }base root into $ROOT"
	tar -C "$ROOT" -xf "$ROOT_TARBALL"
	rm -f "$ROOT/etc/apt/sources.list"
	root_sources "$suite" "$bp" >"$ROOT/etc/apt/sources.list.d/debian.sources"
	root_mount proc proc /proc
	root_mount sysfs sys /sys
	root_mount bind /dev /dev
	root_mount bind "$APT_ARCHIVES" /var/cache/apt/archives
	ROOT_CCACHE=''
	if [ -n "${CCACHE_DIR:-}" ]; then
		mkdir -p "$(ccache_dir "$suite")"
		root_mount bind "$(ccache_dir "$suite")" "$CCACHE_ROOT_DIR"
		ROOT_CCACHE=$CCACHE_ROOT_DIR
	fi
	run_logged "$PKG_CACHE/logs/apt-update-$name.log" "apt-get update in the $suite${bp:+ +$bp} root" \
		in_root apt-get update
}

# root_destroy - unmount (last first) and delete; refuses to delete a root
# that still has something mounted under it.
root_destroy() {
	local i
	[ -n "$ROOT" ] || return 0
	for ((i = ${#ROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${ROOT_MOUNTS[i]}" 2>/dev/null || umount -l "${ROOT_MOUNTS[i]}" || true
	done
	ROOT_MOUNTS=()
	if findmnt -rn -o TARGET | grep -q "^$ROOT/"; then
		log "still mounted under $ROOT, not deleting it"
		return 0
	fi
	[ -n "${KEEP_ROOT:-}" ] && [ -d "$ROOT/usr" ] && { log "KEEP_ROOT: left $ROOT"; return 0; }
	rm -rf --one-file-system "$ROOT"
}

# in_root CMD... - run CMD in the root with a clean environment; with the
# tests' compiler cache mounted (root_create), dkms's make and kbuild
# compile through it: DEBIAN_KERNEL_USE_CCACHE=1 for Debian's kernel
# headers, ccache's compiler links first in PATH for the rest.
in_root() {
	local path=/usr/sbin:/usr/bin:/sbin:/bin cc=()
	if [ -n "${ROOT_CCACHE:-}" ]; then
		path=/usr/lib/ccache:$path
		cc=(CCACHE_DIR="$ROOT_CCACHE" CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
			DEBIAN_KERNEL_USE_CCACHE=1)
	fi
	chroot "$ROOT" /usr/bin/env -i PATH="$path" "${cc[@]}" \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# root_apt LOG DESC ARGS... - apt-get in the root, logged.
root_apt() {
	local logf=$1 desc=$2
	shift 2
	run_logged "$logf" "$desc" in_root apt-get -y -o Dpkg::Use-Pty=0 \
		--no-install-recommends "$@"
}

# root_copy FILE... - copy files into the root's /tmp/pkgs; prints their
# in-root paths.
root_copy() {
	local f
	mkdir -p "$ROOT/tmp/pkgs"
	for f in "$@"; do
		cp "$f" "$ROOT/tmp/pkgs/"
		echo "/tmp/pkgs/${f##*/}"
	done
}

# root_versions PKG - the versions of PKG the root's archive offers.
root_versions() {
	in_root apt-cache madison "$1" 2>/dev/null | awk -F' *[|] *' '{ print $2 }' | sort -u
}

# root_kernels SERIES - the amd64 kernel ABIs of SERIES (6.12 -> 6.12.117+deb13-amd64)
# whose linux-source-SERIES of the very same version the root's archive
# offers, newest first, one per line (empty when none).
root_kernels() {
	local series=$1 re abi v sources
	re="^linux-headers-${series//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64\$"
	sources=$(root_versions "linux-source-$series")
	in_root apt-cache search --names-only "$re" | awk '{ print $1 }' |
		while read -r abi; do
			for v in $(root_versions "$abi"); do
				grep -qxF "$v" <<<"$sources" && echo "${abi#linux-headers-}"
			done
		done | sort -Vru
}

# root_headers_version ABI - the version of linux-headers-ABI (that of its
# linux-source too).
root_headers_version() {
	root_versions "linux-headers-$1" | sort -V | tail -n1
}
