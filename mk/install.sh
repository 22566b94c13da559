#!/bin/bash
# install.sh - `make install`: on Debian/Ubuntu, build the .debs of this
# checkout and install them with apt-get, so that DKMS builds xe for every
# installed kernel of a supported series. When no such kernel has its
# headers installed, the newest Debian 6.12 headers and the linux-source of
# the same version are installed first as the default target. On a fresh
# minimal system it first installs what building the packages needs:
# build-essential and debian/control's Build-Depends (apt-get build-dep).
#
# The package's state lives where the package says (/var/lib/xe-vm-export):
# nothing of make's environment (MAKEFLAGS, a jobserver, XE_VM_EXPORT_*
# variables a developer set) reaches apt, dpkg, dkms and the package scripts.
#
# Exit codes: 0 installed, 1 failed, 2 not run as root / not a dpkg system.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
SOURCE=$TOP/src/scripts/xe-vm-export-source

say() { echo "make install: $*"; }
die() {
	echo "make install: error: $*" >&2
	exit "${2:-1}"
}

apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# default_target - the newest linux-headers-6.12.*+deb12-amd64 the archive
# has, with its linux-source-6.12 of the very same version.
install_default_target() {
	local headers version

	headers=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb[0-9]+-amd64$' |
		awk '{ print $1 }' | sort -V | tail -n1)
	[ -n "$headers" ] || die "no supported kernel installed and no linux-headers-6.12 in the archive"
	version=$(apt-cache show "$headers" | sed -n 's/^Version: //p' | head -n1)
	say "no supported kernel with headers: installing $headers and linux-source-6.12=$version"
	apt_install "$headers" "linux-source-6.12=$version"
}

main() {
	local debs

	[ "$(id -u)" -eq 0 ] || die "run as root (sudo make install)" 2
	if ! command -v apt-get >/dev/null; then
		die "not a Debian/Ubuntu system: build the rpm with 'make rpm' and install it with dnf" 2
	fi
	unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES \
		XE_VM_EXPORT_CACHE XE_VM_EXPORT_SOURCES XE_VM_EXPORT_MODULES_DIR
	say "installing the build tools and the packages' build dependencies"
	apt-get update -qq
	apt_install build-essential dpkg-dev dkms xz-utils rsync git >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$TOP" >/dev/null
	"$SOURCE" default-kernel >/dev/null ||
		install_default_target
	say "building the packages"
	make -C "$TOP" deb
	debs=$(find "$TOP/dist" -maxdepth 1 -name 'xe-vm-export-dkms_*.deb' -o -maxdepth 1 \
		-name 'xe-vm-export-dev_*.deb' -o -maxdepth 1 -name 'xe-vm-export-tools_*.deb' | sort)
	[ -n "$debs" ] || die "make deb produced no package in $TOP/dist"
	say "installing $(echo "$debs" | xargs -n1 basename | tr '\n' ' ')"
	# shellcheck disable=SC2086 # one path per word
	apt_install $debs
	say "done; 'dkms status -m xe-vm-export' shows the kernels built"
}

main "$@"
