# shellcheck shell=bash
# The isolated Debian 12 root of the packaging tests. Source it after
# tests/lib.sh. Nothing of the product is ever installed on the host: the
# tests install, upgrade and remove it in a root made here, chroot into it,
# and unmount and delete it when they end.
#
#   ROOT_TARBALL  cached base root (mmdebstrap), rebuilt when missing or when
#                 its package list changes
#   ROOT          the root in use (root_create)
#   APT_ARCHIVES  downloaded .debs, kept across runs, bound into the root

PKG_CACHE=$TEST_CACHE/packaging
APT_ARCHIVES=$PKG_CACHE/apt-archives
ROOT=''
ROOT_MOUNTS=()

# The kernels the base carries as images; their headers and linux-source are
# installed by the tests, since that is what triggers the builds.
ROOT_IMAGES=(linux-image-6.12.113+deb12-amd64 linux-image-6.12.117+deb12-amd64)
ROOT_PACKAGES=(build-essential dkms kmod xz-utils rsync patch openssl zstd
	initramfs-tools rpm "${ROOT_IMAGES[@]}")

# root_sources - the host's Debian sources (the root uses the same
# archives), or $XE_TEST_APT_SOURCES.
root_sources() {
	local f
	for f in "${XE_TEST_APT_SOURCES:-}" /etc/apt/sources.list.d/debian.sources \
		/etc/apt/sources.list; do
		[ -n "$f" ] && [ -s "$f" ] && { echo "$f"; return 0; }
	done
	die "no Debian apt sources found; set XE_TEST_APT_SOURCES=<file>"
}

root_tarball() {
	local key
	key=$(printf '%s\n' "${ROOT_PACKAGES[@]}" v1 | sha256sum | cut -c1-12)
	echo "$PKG_CACHE/debian12-root-$key.tar"
}

# The base: xe in every initramfs (so the tests see the initramfs follow the
# module; listed before the images are installed, in a file no package owns,
# so each initramfs is made once), no service started by package scripts.
root_build_tarball() {
	local out=$1 tmp=${1%.tar}.tmp.tar
	need_packages mmdebstrap
	mkdir -p "$PKG_CACHE"
	rm -rf "$tmp"
	# The hooks are shell run by mmdebstrap, $1 being the root.
	# shellcheck disable=SC2016
	run_logged "$PKG_CACHE/mmdebstrap.log" "mmdebstrap: Debian 12 root -> $out" \
		mmdebstrap --variant=apt --include="$(IFS=,; echo "${ROOT_PACKAGES[*]}")" \
		--setup-hook='mkdir -p "$1/usr/share/initramfs-tools/modules.d"' \
		--setup-hook='echo xe >"$1/usr/share/initramfs-tools/modules.d/xe-vm-export-tests"' \
		--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"' \
		bookworm "$tmp" "$(root_sources)"
	mv "$tmp" "$out"
}

root_ensure_tarball() {
	ROOT_TARBALL=$(root_tarball)
	[ -s "$ROOT_TARBALL" ] || root_build_tarball "$ROOT_TARBALL"
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

# root_create NAME - a fresh root from the base, mounted, apt indexes fresh.
# root_destroy runs on EXIT.
root_create() {
	root_ensure_tarball
	ROOT=$PKG_CACHE/roots/$1
	trap root_destroy EXIT
	root_destroy
	mkdir -p "$ROOT" "$APT_ARCHIVES/partial"
	log "extracting the base root into $ROOT"
	tar -C "$ROOT" -xf "$ROOT_TARBALL"
	# Initramfs images of xe and what it needs only: made in seconds, and
	# never from the host's modules (MODULES=dep would look at the host).
	echo MODULES=list >"$ROOT/etc/initramfs-tools/conf.d/xe-vm-export-tests"
	root_mount proc proc /proc
	root_mount sysfs sys /sys
	root_mount bind /dev /dev
	root_mount bind "$APT_ARCHIVES" /var/cache/apt/archives
	run_logged "$PKG_CACHE/logs/apt-update.log" "apt-get update in the root" \
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

# in_root CMD... - run CMD in the root with a clean environment.
in_root() {
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
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
