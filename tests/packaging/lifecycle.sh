#!/bin/bash
# lifecycle.sh SUITE DEB_DIR UPGRADE_DEB_DIR RPM_DIR - the DKMS package's
# life on a Debian host (SUITE bookworm: Debian 12, dkms 3.0.10; trixie:
# Debian 13 with trixie-backports, dkms 3.2), in an isolated root (never the
# host). The kernels are chosen from the archive when the test runs
# (test_kernels): the newest 6.12 ABIs that have a linux-source-6.12 of the
# same version, K_NEW being the one the 6.12 metapackages bring.
#
#   install       the package with two 6.12 kernels present: K_OLD (its
#                 linux-source installed) and K_TWO (its source given in
#                 /etc/xe-vm-export/sources.conf): both built, provenance
#   same-release  (bookworm) K_OLD's headers and linux-source-6.12 as a new
#                 Debian revision of the same release (repackaged): ours
#                 rebuilt from the new source, one line, provenance
#   no-source     K_NOSRC (image + headers) installed after the package,
#                 its linux-source not installed: apt exit 0, one skip line
#   other-series  a kernel we do not build, after the package: Debian 12's
#                 6.1 (a series we do not serve); on Debian 13 a backports
#                 kernel of a series META does not list if the archive has
#                 one, else (6.12, 7.2 and 7.3 all served) a backports
#                 kernel that none of the steps gives its linux-source: apt
#                 exit 0, one skip line, its fix naming -t trixie-backports
#   aux           (bookworm) xe-vm-export-aux-dkms installed: built next to
#                 ours for K_OLD and K_TWO (depends: xe, signature verified);
#                 then no-source and other-series skip it with ours, and
#                 dist-upgrade builds it for K_NEW after ours
#   dist-upgrade  one apt-get run bringing the metapackages' new 6.12 ABI
#                 (K_NEW) with the new linux-source-6.12: ours built for it
#   aux-remove    (bookworm) xe-vm-export-aux-dkms removed: nothing of it
#                 left, ours untouched
#   bpo-switch    (trixie) trixie-backports as it was two metapackage
#                 uploads ago (FOLLOW_V[0], Debian's .debs from the pool in
#                 a local repository, the archive's newer ones pinned away):
#                 the host takes linux-image-amd64 and linux-headers-amd64
#                 from it after the package was installed, Debian's
#                 linux-source stays trixie's: apt exit 0, one skip line
#                 whose fix makes linux-source follow them, verify's follow
#                 check fails; the fix, run as printed, builds ours
#   bpo-next      (trixie) backports one upload later (FOLLOW_V[1]): one
#                 `apt-get upgrade --with-new-pkgs`, no package named,
#                 moves the metapackages and linux-source to a new ABI (or
#                 series) and brings its source: ours built for it from that
#                 exact source in the same run, the older kernel keeps ours
#   bpo-now       (trixie) backports as the archive has it now (FOLLOW_V[2]),
#                 the same way: a new series (7.2 -> 7.3) where the archive
#                 has one
#   pkg-upgrade   to <Version>.1: every built kernel rebuilt (K_OLD from the
#                 provider's cache, its linux-source being gone; on Debian
#                 13 the 6.12, 7.2 and 7.3 kernels, provenance each)
#   kernel-remove K_OLD removed: its cache pruned (sizes reported)
#   remove, rpm (bookworm), purge, kmod-deb and kmod-rpm (bookworm); the
#                 kmod-deb's initramfs holds the load fallback of -tools
#   make-install  `make install` in a fresh minimal root of the suite: it
#                 installs its build tools and a default kernel by itself;
#                 the state goes to /var/lib/xe-vm-export
#   depends       (bookworm) the Depends proven: a fresh minimal root without
#                 dkms, gcc, make, patch or rsync gets K_NEW's image, headers
#                 and linux-source, then `apt-get install` of the .deb alone
#                 (no Recommends): apt must bring what the build needs from
#                 the package's Depends, and DKMS builds ours for K_NEW
#
# Every apt step checks apt's exit status, `dpkg --audit` empty and
# `dkms status`. LIFECYCLE_STEPS="STEP..." runs only those steps (for
# development; make-install alone works, most others need their predecessors). Each step's result and time go to $PKG_CACHE/matrix/SUITE
# (run.sh prints the matrix), timings to $PKG_CACHE/timings.
set -euo pipefail

TEST_NAME=lifecycle
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=SCRIPTDIR/root.sh
. "$(dirname "$0")/root.sh"

readonly NAME=xe-vm-export
readonly AUX=xe-vm-export-aux
# The aux package's version while it is installed (steps aux to aux-remove).
AUX_V=''
# The package the 6.12 kernels' source comes with, and K_OLD's source
# packages at its version (choose_kernels).
SRC_FOLLOWER='' OLD_SOURCES=()
# Debian 13: three states of trixie-backports' kernel metapackages, oldest
# first, the last the archive's own now (choose_follow_states); FOLLOW_K[i]
# the kernel FOLLOW_V[i] brings; BPO_SOURCE[K]: K's exact source,
# "linux-source-SERIES VERSION".
FOLLOW_V=() FOLLOW_K=()
declare -A BPO_SOURCE=()
# In the root: the earlier state of the metapackages (a local repository of
# Debian's own .debs from the pool) and the pin that hides the archive's
# newer ones meanwhile.
readonly BPO_THEN=/srv/backports-then
readonly BPO_PIN=/etc/apt/preferences.d/backports-then

# --- small probes run in the root ---------------------------------------

xe_path() { # KERNEL - modprobe's xe for KERNEL, relative to its modules dir
	in_root modinfo -k "$1" -n xe 2>/dev/null | sed "s|.*/modules/$1/||"
}
# dkms_state KERNEL [MODULE] - "0.1.0: installed" or empty; what dkms 3.2
# adds after the state ("installed (Original modules exist)") is left out.
dkms_state() {
	in_root dkms status -m "${2:-$NAME}" -k "$1" 2>/dev/null |
		sed -n 's|^[^/]*/\([^,]*\), .*: \([a-z-]*\).*$|\1: \2|p'
}
initramfs_xe() { # KERNEL
	in_root lsinitramfs "/boot/initrd.img-$1" | grep -E '/xe\.ko' | sed "s|.*/modules/$1/||"
}
base_of() { # KERNEL - the xe_vm_export_base of its xe
	in_root modinfo -k "$1" -F xe_vm_export_base xe 2>/dev/null || true
}
# left_in_root GLOB... - what of GLOB (relative to the root) exists
left_in_root() {
	local g
	(cd "$ROOT" && for g in "$@"; do compgen -G "$g" || true; done) | tr '\n' ' '
}
deb_version() { # .deb
	dpkg-deb -f "$1" Version | sed 's/-[^-]*$//'
}
upstream() { # DEBIAN-VERSION - X.Y.Z-1~deb12u1 -> X.Y.Z
	echo "${1%-*}"
}
installed() { # PATTERN... - "PACKAGE VERSION" of the installed ones
	# shellcheck disable=SC2016 # dpkg-query's format
	in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' "$@" 2>/dev/null |
		awk '$1 == "ii" { print $2, $3 }'
}
installed_version() { # the upstream version of the installed package
	installed "$NAME-dkms" | awk '{ sub(/-[^-]*$/, "", $2); print $2 }'
}
cache_size() {
	du -sh "$ROOT/var/lib/$NAME" 2>/dev/null | cut -f1 || echo 0
}

expect_ours() { # KERNEL VERSION STEP
	local k=$1 v=$2 step=$3
	check "$step: dkms status: $k has $v installed" \
		test "$(dkms_state "$k")" = "$v: installed"
	check "$step: modinfo -k $k resolves to updates/dkms" \
		grep -q '^updates/dkms/xe\.ko' <<<"$(xe_path "$k")"
	# dkms 3.2 moves it away when it installs ours; the load fallback needs it.
	check "$step: $k's own xe stays in kernel/drivers/gpu/drm/xe (the load fallback's)" \
		compgen -G "$ROOT/lib/modules/$k/kernel/drivers/gpu/drm/xe/xe.ko*"
}

# expect_signature KERNEL MODULE STEP - the DKMS-built MODULE of KERNEL
# verifies against the root's MOK certificate (tests/modsig.sh: openssl cms
# -verify over the module's bytes), and a copy with one byte of its code
# changed does not.
expect_signature() {
	local k=$1 m=$2 step=$3 ko cert=$ROOT/var/lib/dkms/mok.pub out
	ko=$(compgen -G "$ROOT/lib/modules/$k/updates/dkms/$m.ko*" | head -n1) || true
	[ -n "$ko" ] || { fail "$step: $k has $m.ko* in updates/dkms to verify"; return 0; }
	if out=$("$TOP/tests/modsig.sh" verify "$ko" "$cert" 2>&1); then
		ok "$step: $k's $m.ko signature verified against the root's MOK certificate (${out##*(}"
	else
		fail "$step: $k's $m.ko signature verified against the root's MOK certificate: $out"
	fi
	tamper "$ko" "$WORK/$m-tampered.ko"
	check "$step: $k's $m.ko with one byte of its code changed is caught" \
		not "$TOP/tests/modsig.sh" verify "$WORK/$m-tampered.ko" "$cert"
}

# tamper KO OUT - KO uncompressed, one byte in the middle of its code
# (before the signature) inverted.
tamper() {
	local at byte
	case $1 in
	*.xz) xz -dc "$1" >"$2" ;;
	*.zst) zstd -qdc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
	at=$(($(stat -c %s "$2") / 2))
	byte=$(od -An -tu1 -j "$at" -N 1 "$2" | tr -d ' ')
	# shellcheck disable=SC2059 # the format is the octal escape
	printf "\\$(printf %03o $((255 - byte)))" | dd of="$2" bs=1 seek="$at" conv=notrunc status=none
}

not() { ! "$@" 2>/dev/null; }

# expect_aux KERNEL STEP - the aux package's module built and installed for
# KERNEL, next to ours, depending on our xe. Nothing while it is not
# installed.
expect_aux() {
	local k=$1 step=$2
	[ -n "$AUX_V" ] || return 0
	check "$step: dkms status: $k has $AUX/$AUX_V installed ($(dkms_state "$k" "$AUX"))" \
		test "$(dkms_state "$k" "$AUX")" = "$AUX_V: installed"
	check "$step: dkms status: ours installed next to it for $k" \
		grep -q ': installed$' <<<"$(dkms_state "$k")"
	check "$step: $k's xe_vm_export_aux.ko in updates/dkms, where modinfo -k $k finds it" \
		grep -q '^updates/dkms/xe_vm_export_aux\.ko' <<<"$(in_root modinfo -k "$k" -n xe_vm_export_aux 2>/dev/null |
			sed "s|.*/modules/$k/||")"
	check "$step: modinfo: $k's xe_vm_export_aux depends on xe ($(in_root modinfo -k "$k" -F depends xe_vm_export_aux 2>/dev/null))" \
		grep -qw xe <<<"$(in_root modinfo -k "$k" -F depends xe_vm_export_aux 2>/dev/null)"
}

# expect_aux_skipped KERNEL STEP - a kernel ours skipped has no aux either.
expect_aux_skipped() {
	local k=$1 step=$2
	[ -n "$AUX_V" ] || return 0
	check "$step: dkms has no $AUX installed for $k either" \
		test -z "$(dkms_state "$k" "$AUX" | grep installed)"
	check "$step: no xe_vm_export_aux.ko for $k" \
		test -z "$(left_in_root "lib/modules/$k/updates/dkms/xe_vm_export_aux.ko*")"
}

expect_built_from() { # KERNEL SOURCE-VERSION STEP - provenance names the exact source
	check "$3: provenance: $1's xe built from $2's source ($(base_of "$1"))" \
		grep -qF "$2" <<<"$(base_of "$1")"
}

expect_in_tree() { # KERNEL STEP
	check "$2: modinfo -k $1 resolves to kernel/drivers/gpu/drm/xe" \
		grep -q '^kernel/drivers/gpu/drm/xe/xe\.ko' <<<"$(xe_path "$1")"
}

expect_audit_clean() { # STEP
	local out
	out=$(in_root dpkg --audit 2>&1 || true)
	check "$1: dpkg --audit empty${out:+ ($(head -n3 <<<"$out" | tr '\n' ' '))}" test -z "$out"
}

# expect_skip_line LOG KERNEL STEP - exactly one line saying why KERNEL is
# not built and how to fix it, and nothing of ours for it.
expect_skip_line() {
	local logf=$1 k=$2 step=$3 n
	n=$(grep -c "^$NAME: skipping $k: .*; to build it: " "$logf" || true)
	check "$step: one skip line for $k ($n in $logf)" test "$n" -eq 1
	[ "$n" -eq 0 ] || log "$step: $(grep -m1 "^$NAME: skipping $k: " "$logf")"
	check "$step: dkms has nothing installed for $k" \
		test -z "$(dkms_state "$k" | grep installed)"
	# The kernel keeps what it had: its in-tree xe, or no xe at all (6.1).
	if compgen -G "$ROOT/lib/modules/$k/kernel/drivers/gpu/drm/xe/xe.ko*" >/dev/null; then
		check "$step: modinfo -k $k resolves to the in-tree xe" \
			grep -q '^kernel/drivers/gpu/drm/xe/xe\.ko' <<<"$(xe_path "$k")"
	else
		check "$step: $k has no xe of its own, and modprobe finds none of ours" \
			test -z "$(xe_path "$k")"
	fi
}

# apt_step LOG DESC STEP ARGS... - apt-get ARGS in the root, then its exit
# status and dpkg --audit checked; returns apt's status.
apt_step() {
	local logf=$1 desc=$2 step=$3 rc=0
	shift 3
	root_apt "$logf" "$desc" "$@" || rc=$?
	check "$step: apt-get exits 0 (got $rc)" test "$rc" -eq 0
	# Nothing in the lifecycle is broken: an error line of ours is a bug
	# (dkms 3.2's SIGPIPE once printed a false "dkms add ... failed").
	check "$step: no '$NAME: error:' line ($(grep -c "^$NAME: error:" "$logf" || true) in $logf)" \
		test -z "$(grep "^$NAME: error:" "$logf" || true)"
	expect_audit_clean "$step"
	in_root dkms status >"$logf.dkms-status" 2>&1 || true
	return "$rc"
}

# --- the kernels, chosen from the archive --------------------------------

# meta_kernel - the 6.12 ABI the suite's kernel metapackage brings.
meta_kernel() {
	local meta
	for meta in linux-headers-6.12-amd64 linux-headers-amd64; do
		[ -n "$(root_versions "$meta")" ] || continue
		in_root apt-cache depends "$meta" 2>/dev/null |
			sed -n 's/^ *Depends: linux-headers-\(6\.12\.[0-9]*+deb[0-9]*-amd64\)$/\1/p' | head -n1
		return 0
	done
}

meta_packages() { # the metapackages of meta_kernel
	if [ -n "$(root_versions linux-headers-6.12-amd64)" ]; then
		echo linux-image-6.12-amd64 linux-headers-6.12-amd64
	else
		echo linux-image-amd64 linux-headers-amd64
	fi
}

# backports_kernels - Debian 13: the backports kernels' ABIs, newest first.
backports_kernels() {
	in_root apt-cache search --names-only '^linux-headers-[7-9]\.[0-9]+\.[0-9]+\+deb[0-9]+-amd64$' |
		awk '{ print $1 }' | sed 's/^linux-headers-//' | sort -Vr
}

# other_series_kernel - Debian 12: its newest 6.1. Debian 13: a backports
# kernel of a series META does not list; when the archive has none (6.12,
# 7.2 and 7.3 all served), the newest backports kernel that no metapackage
# state of the bpo steps brings (it stays without a source: a skip all the
# same).
other_series_kernel() {
	local series abi
	if [ "$ROOT_SUITE" = bookworm ]; then
		in_root apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' |
			awk '{ print $1 }' | sed 's/^linux-headers-//' | sort -V | tail -n1
		return 0
	fi
	series=$(sed -n 's/^Series:[[:space:]]*//p' "$TOP/META")
	for abi in $(backports_kernels); do
		grep -qw "$(cut -d. -f1,2 <<<"$abi")" <<<"$series" || { echo "$abi"; return 0; }
	done
	log "$ROOT_SUITE-backports offers no kernel of a series we do not serve ($series all are):" \
		"other-series takes a backports kernel without its linux-source instead"
	for abi in $(backports_kernels); do
		grep -qxF "$abi" <(printf '%s\n' "${FOLLOW_K[@]}") || { echo "$abi"; return 0; }
	done
}

# choose_kernels - the four newest 6.12 kernels with their linux-source
# (tests/lib.sh's test_kernels, asked in the root): the newest is the one
# the metapackages bring (K_NEW), the others K_OLD, K_TWO, K_NOSRC.
choose_kernels() {
	local all=()
	read -ra all <<<"$(test_kernels 4 6.12 in_root apt-cache)"
	[ ${#all[@]} -eq 4 ] || die "$ROOT_SUITE offers ${#all[@]} 6.12 kernels with their source; the lifecycle needs 4"
	K_NEW=$(meta_kernel)
	[ "${K_NEW:-none}" = "${all[3]}" ] ||
		die "the 6.12 metapackages bring ${K_NEW:-none}, not the newest kernel with its source (${all[3]})"
	K_OLD=${all[2]} K_TWO=${all[1]} K_NOSRC=${all[0]}
	[ "$ROOT_SUITE" = bookworm ] || choose_follow_states
	K_OTHER=$(other_series_kernel)
	[ -n "$K_OTHER" ] || die "no kernel of another series (nor a backports kernel left) in $ROOT_SUITE's archive"
	V_NEW=$(root_headers_version "$K_NEW") V_OLD=$(root_headers_version "$K_OLD")
	# What -dkms recommends first, as a host has it: Debian's linux-source
	# metapackage where it is 6.12 (Debian 13), else linux-source-6.12.
	SRC_FOLLOWER=linux-source-6.12 OLD_SOURCES=("linux-source-6.12=$V_OLD")
	if root_versions linux-source | grep -qxF "$V_OLD"; then
		SRC_FOLLOWER=linux-source
		OLD_SOURCES+=("linux-source=$V_OLD")
	fi
	V_TWO=$(root_headers_version "$K_TWO")
	log "$ROOT_SUITE kernels: install $K_OLD ($V_OLD) and $K_TWO ($V_TWO, sources.conf);" \
		"no source $K_NOSRC; other series $K_OTHER; dist-upgrade to $K_NEW ($V_NEW)"
}

# --- Debian 13: the backports kernel metapackages, then and now ------------
# The archive's index keeps one linux-image-amd64 per suite, but every
# backports kernel, linux-source-X.Y and linux-source metapackage, and the
# pool keeps the kernel metapackages of earlier uploads. The bpo steps put
# the earlier ones in a local repository that stands for trixie-backports
# as it was, so that the host sees the metapackages move as it did.

bpo_series() { # VERSION - X.Y of X.Y.Z-1~bpoNN+1
	cut -d. -f1,2 <<<"$1"
}

# bpo_versions PACKAGE - the versions of PACKAGE the root's backports
# offers, newest first.
bpo_versions() {
	in_root apt-cache madison "$1" |
		awk -F' *[|] *' '$3 ~ /-backports\// { print $2 }' | sort -urV
}

# bpo_then_debs VERSION - the .debs of the kernel metapackages of VERSION
# (linux-image-amd64, linux-headers-amd64, Debian's linux-source and what
# of theirs the archive's index no longer has at VERSION, linux-base-amd64),
# downloaded from the pool into the cache once; prints their directory.
bpo_then_debs() {
	local v=$1 dir=$PKG_CACHE/backports-then/$1 pool mirror url deb dep todo i
	mirror=$XE_TEST_DEBIAN_MIRROR
	if [ ! -f "$dir/complete" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		pool=$(in_root apt-cache show "linux-image-amd64=$(bpo_versions linux-source | head -n1)" 2>/dev/null |
			sed -n 's|^Filename: \(.*\)/[^/]*$|\1|p' | head -n1)
		[ -n "$pool" ] || pool=pool/main/l/linux-signed-amd64
		url=$(in_root apt-cache show "linux-source=$v" | sed -n 's/^Filename: //p' | head -n1)
		[ -n "$url" ] || die "the archive has no linux-source $v"
		curl -fsS -o "$dir/${url##*/}" "$mirror/$url" || die "cannot download $mirror/$url"
		todo=(linux-image-amd64 linux-headers-amd64)
		for ((i = 0; i < ${#todo[@]}; i++)); do
			deb=$dir/${todo[i]}_${v//:/%3a}_amd64.deb
			[ ! -f "$deb" ] || continue
			curl -fsS -o "$deb" "$mirror/$pool/${deb##*/}" ||
				die "the pool has no ${todo[i]} $v ($mirror/$pool)"
			# Its dependencies of the same upload that the index lost.
			for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
				sed -n "s/^ *\([^ ]*\) (= ${v//./\\.}).*/\1/p"); do
				root_versions "$dep" | grep -qxF "$v" || todo+=("$dep")
			done
		done
		touch "$dir/complete"
	fi
	echo "$dir"
}

# bpo_kernel_of VERSION - the kernel the linux-headers-amd64 of VERSION brings.
bpo_kernel_of() {
	local deps
	deps=$(in_root apt-cache show "linux-headers-amd64=$1" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
	[ -n "$deps" ] || deps=$(dpkg-deb -f "$(bpo_then_debs "$1")/linux-headers-amd64_${1//:/%3a}_amd64.deb" Depends)
	tr ',' '\n' <<<"$deps" | sed -n 's/^ *linux-headers-\([0-9][^ ]*\) .*/\1/p' | head -n1
}

# choose_follow_states - FOLLOW_V: trixie-backports' kernel metapackages
# now (the newest linux-headers-amd64), the state just before it, and one
# earlier, chosen so that the two moves are one to a new ABI and one to a
# new series where the archive has both (X.Y.a -> X.Y.b -> X.Z.c), each of
# a series META lists; FOLLOW_K, BPO_SOURCE of each.
choose_follow_states() {
	local served now v i earlier=() a0='' a1 k
	served=" $(sed -n 's/^Series:[[:space:]]*//p' "$TOP/META") "
	now=$(bpo_versions linux-headers-amd64 | head -n1)
	[ -n "$now" ] || die "$ROOT_SUITE-backports has no linux-headers-amd64"
	[[ $served == *" $(bpo_series "$now") "* ]] ||
		die "$ROOT_SUITE-backports' kernel metapackages bring Linux $(bpo_series "$now"), which META does not list"
	for v in $(bpo_versions linux-source); do
		dpkg --compare-versions "$v" lt "$now" && [[ $served == *" $(bpo_series "$v") "* ]] &&
			earlier+=("$v")
	done
	[ ${#earlier[@]} -ge 2 ] ||
		die "$ROOT_SUITE-backports has ${#earlier[@]} linux-source metapackage(s) of a served series before $now; the bpo steps need 2"
	a1=${earlier[0]}
	for v in "${earlier[@]:1}"; do
		if [ "$(bpo_series "$a1")" = "$(bpo_series "$now")" ]; then
			[ "$(bpo_series "$v")" = "$(bpo_series "$a1")" ] || { a0=$v; break; }
		else
			[ "$(bpo_series "$v")" != "$(bpo_series "$a1")" ] || { a0=$v; break; }
		fi
	done
	FOLLOW_V=("${a0:-${earlier[1]}}" "$a1" "$now")
	for i in 0 1 2; do
		v=${FOLLOW_V[i]}
		k=$(bpo_kernel_of "$v")
		[ -n "$k" ] || die "no kernel for linux-headers-amd64 $v"
		if ! root_versions "linux-headers-$k" | grep -qxF "$v" ||
			! root_versions "linux-source-$(bpo_series "$v")" | grep -qxF "$v"; then
			die "the archive has no linux-headers-$k or linux-source-$(bpo_series "$v") of $v"
		fi
		FOLLOW_K[i]=$k
		BPO_SOURCE[$k]="linux-source-$(bpo_series "$v") $v"
	done
	log "$ROOT_SUITE-backports' kernel metapackages: ${FOLLOW_V[0]} (${FOLLOW_K[0]}, from the pool)" \
		"-> ${FOLLOW_V[1]} (${FOLLOW_K[1]}, from the pool) -> ${FOLLOW_V[2]} (${FOLLOW_K[2]}, the archive's now)"
}

# move_kind FROM TO - "a new ABI" or "a new series" (of the metapackages).
move_kind() {
	if [ "$(bpo_series "$1")" = "$(bpo_series "$2")" ]; then
		echo "a new ABI, $(bpo_series "$1")"
	else
		echo "a new series, $(bpo_series "$1") -> $(bpo_series "$2")"
	fi
}

# backports_then VERSION - trixie-backports as it was when its kernel
# metapackages were VERSION: the local repository holds those (Debian's
# .debs, with backports' NotAutomatic/ButAutomaticUpgrades), the archive's
# later versions of the same packages are pinned away, each by its version
# (a pin by origin would hide VERSION too where the archive still has it,
# as it has Debian's linux-source); `backports_then` alone gives the archive
# back as it is. apt's indexes are refreshed.
backports_then() {
	local v=${1:-} dir name later
	rm -rf "${ROOT:?}$BPO_THEN" "$ROOT$BPO_PIN" "$ROOT/etc/apt/sources.list.d/backports-then.sources"
	if [ -n "$v" ]; then
		dir=$(bpo_then_debs "$v")
		mkdir -p "$ROOT$BPO_THEN"
		cp "$dir"/*.deb "$ROOT$BPO_THEN/"
		(cd "$ROOT$BPO_THEN" && apt-ftparchive packages . >Packages &&
			apt-ftparchive -o APT::FTPArchive::Release::Origin="backports-then" \
				-o APT::FTPArchive::Release::Suite=stable-backports \
				-o APT::FTPArchive::Release::Codename="$ROOT_SUITE-backports" \
				-o APT::FTPArchive::Release::NotAutomatic=yes \
				-o APT::FTPArchive::Release::ButAutomaticUpgrades=yes release . >Release) ||
			die "apt-ftparchive failed in $ROOT$BPO_THEN"
		printf 'Types: deb\nURIs: file:%s\nSuites: ./\nTrusted: yes\n' "$BPO_THEN" \
			>"$ROOT/etc/apt/sources.list.d/backports-then.sources"
		for name in $(cd "$dir" && for f in *.deb; do echo "${f%%_*}"; done | sort -u); do
			for later in $(bpo_versions "$name"); do
				dpkg --compare-versions "$later" gt "$v" || continue
				printf 'Package: %s\nPin: version %s\nPin-Priority: -1\n\n' "$name" "$later"
			done
		done >"$ROOT$BPO_PIN"
	fi
	run_logged "$LOGS/backports-then-update.log" "apt-get update (backports ${v:-as it is now})" \
		in_root apt-get update
}

# expect_follows STEP VERSION - xe-vm-export-verify in the root: Debian's
# linux-source follows linux-headers-amd64 of VERSION (pass), or not (fail).
expect_follows() {
	local step=$1 want=$2 out
	in_root xe-vm-export-verify --no-smoke -q --json /tmp/verify.json >/dev/null 2>&1 || true
	out=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(c["status"] for c in d["checks"] if c["class"] == "follow" and c["name"] == "linux-headers-amd64"))' \
		"$ROOT/tmp/verify.json" 2>&1) || true
	check "$step: verify's follow check of linux-headers-amd64 says $want (got '$out')" test "$out" = "$want"
}

# --- the steps --------------------------------------------------------------

# K_OLD with its linux-source, K_TWO with its source unpacked where an
# admin would put it (from its linux-source .deb, not installed).
prepare_kernels() {
	local tarball dir=/srv/linux-source-$V_TWO
	root_apt "$LOGS/kernels.log" "$K_OLD and $K_TWO (images, headers), ${OLD_SOURCES[*]}" \
		install "linux-image-$K_OLD" "linux-headers-$K_OLD" \
		"linux-image-$K_TWO" "linux-headers-$K_TWO" "${OLD_SOURCES[@]}" || return 1
	root_apt "$LOGS/source-two.log" "download linux-source-6.12=$V_TWO" \
		install --download-only --allow-downgrades "linux-source-6.12=$V_TWO" || return 1
	in_root dpkg-deb -x "/var/cache/apt/archives/linux-source-6.12_${V_TWO//:/%3a}_all.deb" "$dir" ||
		return 1
	tarball=$(cd "$ROOT" && compgen -G "${dir#/}/usr/src/linux-source-6.12.tar.*" | head -n1)
	[ -n "$tarball" ] || return 1
	mkdir -p "$ROOT/etc/$NAME"
	printf '%s /%s\n' "$K_TWO" "$tarball" >"$ROOT/etc/$NAME/sources.conf"
}

# expect_recommends - before any source is installed, apt with Recommends
# on (its default) would bring with -dkms the source that follows the
# kernel metapackages: Debian's linux-source and its linux-source-6.12 on
# Debian 13; linux-source-6.12 and not Debian 12's linux-source (6.1).
expect_recommends() {
	local pkgs logf=$LOGS/recommends.log rc=0
	mapfile -t pkgs < <(root_copy "$DEB_DIR"/"$NAME"-dkms_*.deb "$DEB_DIR"/"$NAME"-tools_*.deb)
	in_root apt-get -s -o APT::Install-Recommends=true install "${pkgs[@]}" >"$logf" 2>&1 || rc=$?
	check "install: apt-get -s with Recommends resolves -dkms (exit $rc)" test "$rc" -eq 0
	check "install: with Recommends, apt brings linux-source-6.12 with -dkms ($logf)" \
		grep -q '^Inst linux-source-6\.12 ' "$logf"
	if [ "$SRC_FOLLOWER" = linux-source ]; then
		check "install: with Recommends, apt brings Debian's linux-source metapackage (6.12) with -dkms" \
			grep -q '^Inst linux-source (6\.12\.' "$logf"
	else
		check "install: with Recommends, apt does not bring Debian's linux-source (6.1) with -dkms" \
			not grep -q '^Inst linux-source (' "$logf"
	fi
}

step_install() {
	local pkgs v
	expect_recommends
	prepare_kernels || { fail "install: the kernels and sources could be prepared"; return 1; }
	mapfile -t pkgs < <(root_copy "$DEB_DIR"/"$NAME"-dkms_*.deb "$DEB_DIR"/"$NAME"-dev_*.deb \
		"$DEB_DIR"/"$NAME"-tools_*.deb)
	v=$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)
	# sources.conf is the package's conffile, written by the admin first.
	# K_OLD's source is named at its version: apt 3 (Debian 13) upgrades
	# an installed package that a new one recommends to its candidate.
	timed install-dkms-two-kernels \
		apt_step "$LOGS/install.log" "install $NAME-dkms $v (two kernels)" install install \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${pkgs[@]}" \
		"${OLD_SOURCES[@]}" || return 1
	expect_ours "$K_OLD" "$v" install
	expect_ours "$K_TWO" "$v" install
	expect_built_from "$K_OLD" "$(upstream "$V_OLD")" install
	expect_built_from "$K_TWO" "$(upstream "$V_TWO")" install
	check "install: $K_OLD's initramfs holds our xe" \
		grep -q '^updates/dkms/' <<<"$(initramfs_xe "$K_OLD")"
	expect_load_fallback "$K_OLD" install
	expect_signature "$K_OLD" xe install
	# Debian keeps the DRM uAPI headers in libdrm's directory, not /usr/include/drm.
	check "install: the uAPI header compiles in userspace (libdrm's include path)" \
		in_root sh -c 'printf "#include <xe_vm_export_drm.h>\nint x = DRM_IOCTL_XE_VM_EXPORT;\n" |
			gcc -fsyntax-only -I/usr/include/libdrm -xc -'
}

# expect_load_fallback KERNEL STEP - KERNEL's initramfs holds the load
# fallback beside our xe: the install rule, its helper, the kernel's own xe.
expect_load_fallback() {
	local list
	list=$(in_root lsinitramfs "/boot/initrd.img-$1")
	check "$2: $1's initramfs holds the install xe rule, xe-vm-export-load and the kernel's own xe" \
		test -n "$(grep -x 'usr/lib/modprobe.d/xe-vm-export.conf\|lib/modprobe.d/xe-vm-export.conf' <<<"$list")" \
		-a -n "$(grep -x 'usr/lib/xe-vm-export/xe-vm-export-load' <<<"$list")" \
		-a -n "$(grep "/modules/$1/kernel/drivers/gpu/drm/xe/xe\.ko" <<<"$list")"
}

step_no_source() {
	apt_step "$LOGS/no-source.log" "$K_NOSRC without its linux-source" no-source \
		install "linux-image-$K_NOSRC" "linux-headers-$K_NOSRC" || return 0
	expect_skip_line "$LOGS/no-source.log" "$K_NOSRC" no-source
	expect_aux_skipped "$K_NOSRC" no-source
}

step_other_series() {
	local target=()
	[ "$ROOT_SUITE" = bookworm ] || target=(-t "$ROOT_SUITE-backports")
	apt_step "$LOGS/other-series.log" "$K_OTHER (another series, or a backports kernel left without its source)" other-series \
		install "${target[@]}" "linux-image-$K_OTHER" "linux-headers-$K_OTHER" || return 0
	expect_skip_line "$LOGS/other-series.log" "$K_OTHER" other-series
	[ "$ROOT_SUITE" = bookworm ] ||
		check "other-series: its fix command names -t $ROOT_SUITE-backports" \
			grep -q "^$NAME: skipping $K_OTHER: .*; to build it: apt-get install -t $ROOT_SUITE-backports " \
			"$LOGS/other-series.log"
	expect_aux_skipped "$K_OTHER" other-series
}

step_dist_upgrade() {
	local v
	v=$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)
	# shellcheck disable=SC2046 # two package names
	timed dist-upgrade-build apt_step "$LOGS/dist-upgrade.log" \
		"dist-upgrade: $(meta_packages) $SRC_FOLLOWER -> $K_NEW" dist-upgrade \
		install $(meta_packages) "$SRC_FOLLOWER" || return 1
	expect_ours "$K_NEW" "$v" dist-upgrade
	expect_built_from "$K_NEW" "$(upstream "$V_NEW")" dist-upgrade
	check "dist-upgrade: $K_NEW's initramfs holds our xe" \
		grep -q '^updates/dkms/' <<<"$(initramfs_xe "$K_NEW")"
	expect_ours "$K_OLD" "$v" dist-upgrade
	expect_aux "$K_NEW" dist-upgrade
	[ "$ROOT_SUITE" != bookworm ] || export_for_qemu "$K_NEW"
}

# repack PACKAGE FROM VERSION - PACKAGE's .deb of version FROM (the apt
# archives are shared: several versions may be there) rebuilt as VERSION
# into the root's /tmp/pkgs (contents unchanged); prints its path in the
# root.
repack() {
	local pkg=$1 from=$2 version=$3 deb dir=$WORK/repack-$1 out
	deb=$(compgen -G "$ROOT/var/cache/apt/archives/${pkg}_${from//:/%3a}_*.deb" | head -n 1) || true
	[ -n "$deb" ] || return 1
	rm -rf "$dir"
	dpkg-deb -R "$deb" "$dir"
	sed -i "s/^Version: .*/Version: $version/" "$dir/DEBIAN/control"
	mkdir -p "$ROOT/tmp/pkgs"
	out=/tmp/pkgs/${pkg}_${version}.deb
	dpkg-deb -Zgzip -z1 -b "$dir" "$ROOT$out" >/dev/null
	rm -rf "$dir"
	echo "$out"
}

# A new Debian revision of K_OLD's kernel that keeps its release string (a
# rebuild, a security fix): its headers and linux-source-6.12 as version
# V_OLD+xet1 (repackaged: the archive has no such pair at hand), in one apt
# run. Ours for K_OLD was "installed", and must be rebuilt from the new
# source: one line says so, and the provenance names the new version.
step_same_release() {
	local v new=$V_OLD+xet1 headers source
	v=$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)
	if ! headers=$(repack "linux-headers-$K_OLD" "$V_OLD" "$new") ||
		! source=$(repack linux-source-6.12 "$V_OLD" "$new"); then
		fail "same-release: repackaging $K_OLD's headers and linux-source-6.12 as $new"
		return 1
	fi
	timed same-release-rebuild apt_step "$LOGS/same-release.log" \
		"$K_OLD's headers and linux-source-6.12 as $new (same release)" same-release \
		install "$headers" "$source" || return 1
	check "same-release: one line says ours for $K_OLD is rebuilt from $new" \
		grep -q "^$NAME: $K_OLD: ours is built from source $V_OLD, its headers are now from $new: rebuilding" \
		"$LOGS/same-release.log"
	expect_ours "$K_OLD" "$v" same-release
	expect_built_from "$K_OLD" "$new" same-release
	expect_built_from "$K_TWO" "$(upstream "$V_TWO")" same-release
}

# export_for_qemu KERNEL - what check-qemu boots to prove that the package's
# own initramfs loads our xe: KERNEL's initramfs and the installed module,
# copied out of the root (which this test deletes) into $PKG_CACHE/qemu.
export_for_qemu() {
	local out=$PKG_CACHE/qemu mod=lib/modules/$1/updates/dkms

	rm -rf "$out"
	mkdir -p "$out/boot" "$out/$mod"
	cp "$ROOT/boot/initrd.img-$1" "$out/boot/"
	cp "$ROOT/$mod"/xe.ko* "$out/$mod/"
}

# The sample auxiliary driver's package (issue 13): installed with K_OLD and
# K_TWO built, it builds for both after ours; the next steps' kernels then
# show it follows ours (skipped with it, built after it by the hooks).
step_aux() {
	local pkg v k
	pkg=$(root_copy "$DEB_DIR/$AUX-dkms"_*.deb)
	v=$(deb_version "$DEB_DIR/$AUX-dkms"_*.deb)
	timed aux-install apt_step "$LOGS/aux-install.log" "install $AUX-dkms $v" aux \
		install "$pkg" || return 1
	AUX_V=$v
	for k in "$K_OLD" "$K_TWO"; do
		expect_aux "$k" aux
	done
	expect_signature "$K_OLD" xe_vm_export_aux aux
}

step_aux_remove() {
	local v left k
	v=$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)
	apt_step "$LOGS/aux-remove.log" "remove $AUX-dkms" aux-remove remove "$AUX-dkms" || return 1
	AUX_V=''
	left=$(left_in_root 'lib/modules/*/updates/dkms/xe_vm_export_aux.ko*' "var/lib/dkms/$AUX" "usr/src/$AUX-*")
	check "aux-remove: nothing of it left in /lib/modules/*/updates/dkms, /var/lib/dkms/$AUX, /usr/src/$AUX-*${left:+ (left: $left)}" \
		test -z "$left"
	for k in "$K_OLD" "$K_TWO" "$K_NEW"; do
		expect_ours "$k" "$v" aux-remove
	done
}

step_pkg_upgrade() {
	local v pkgs k
	v=$(deb_version "$UP_DIR"/"$NAME"-dkms_*.deb)
	mapfile -t pkgs < <(root_copy "$UP_DIR"/"$NAME"-dkms_*.deb "$UP_DIR"/"$NAME"-dev_*.deb \
		"$UP_DIR"/"$NAME"-tools_*.deb)
	# bench.sh divides the time by the number of kernels rebuilt.
	echo "$ROOT_SUITE/package-upgrade-kernels $((3 + ${#BPO_SOURCE[@]}))" >>"$TIMINGS"
	timed package-upgrade apt_step "$LOGS/upgrade.log" "package upgrade to $v" \
		pkg-upgrade install "${pkgs[@]}" || return 1
	for k in "$K_OLD" "$K_TWO" "$K_NEW"; do
		expect_ours "$k" "$v" pkg-upgrade
	done
	# Debian 13: the package builds ours for the 6.12, 7.2 and 7.3 kernels
	# present, each from its exact source (issue 11).
	if [ "$ROOT_SUITE" != bookworm ]; then
		for k in "${!BPO_SOURCE[@]}"; do
			expect_ours "$k" "$v" pkg-upgrade
			expect_built_from "$k" "${BPO_SOURCE[$k]}" pkg-upgrade
		done
		expect_built_from "$K_TWO" "$(upstream "$V_TWO")" pkg-upgrade
		expect_built_from "$K_NEW" "$(upstream "$V_NEW")" pkg-upgrade
	fi
	# The module records where the base came from first (linux-source);
	# the provider says in the build's make.log when it reused it from its
	# cache (the source is found in dkms's MAKE step, whose output dkms
	# keeps in make.log).
	check "pkg-upgrade: $K_OLD's base came from the cache (its linux-source is gone)" \
		grep -q "$K_OLD: xe base from .* (cached)" \
		"$ROOT/var/lib/dkms/$NAME/$v/$K_OLD/x86_64/log/make.log"
	expect_built_from "$K_OLD" "$(upstream "$V_OLD")" pkg-upgrade
	# Keep a DKMS-built module for the kmod-deb step.
	cp "$ROOT/var/lib/dkms/$NAME/$v/$K_NEW/x86_64/module/"xe.ko* "$WORK/"
}

step_kernel_remove() {
	local before after
	before=$(cache_size)
	apt_step "$LOGS/kernel-remove.log" "purge $K_OLD's image and headers" kernel-remove \
		purge "linux-image-$K_OLD" "linux-headers-$K_OLD" || return 0
	after=$(cache_size)
	log "kernel-remove: provider cache $before before, $after after removing $K_OLD"
	echo "$ROOT_SUITE cache-before-kernel-remove $before after $after" >>"$TIMINGS"
	check "kernel-remove: $K_OLD's base and build tree pruned from /var/lib/$NAME (cache $before -> $after)" \
		test -z "$(left_in_root "var/lib/$NAME/bases/$K_OLD" "var/lib/$NAME/build/$K_OLD")"
	check "kernel-remove: no DKMS build of $K_OLD left" \
		test -z "$(left_in_root "var/lib/dkms/$NAME/*/$K_OLD" "lib/modules/$K_OLD/updates/dkms/xe.ko*")"
	check "kernel-remove: $K_NEW's cache kept" test -d "$ROOT/var/lib/$NAME/bases/$K_NEW"
}

# expect_bpo_built STEP VERSION KERNEL... - ours (package VERSION) built for
# each backports KERNEL from its exact source, in its initramfs.
expect_bpo_built() {
	local step=$1 v=$2 k
	shift 2
	for k in "$@"; do
		expect_ours "$k" "$v" "$step"
		expect_built_from "$k" "${BPO_SOURCE[$k]}" "$step"
		check "$step: $k's initramfs holds our xe" \
			grep -q '^updates/dkms/' <<<"$(initramfs_xe "$k")"
	done
}

# The host takes its kernel from trixie-backports (as it was at FOLLOW_V[0])
# the way Debian's backports page says, after the package was installed:
# the kernel metapackages move to it (here from trixie's 6.12), Debian's
# linux-source stays trixie's. The new kernel is skipped with one line whose
# fix makes linux-source follow them; verify says so too. The fix, run as
# printed, builds ours for it (the trigger on the new linux-source).
step_bpo_switch() {
	local v k=${FOLLOW_K[0]} meta=${FOLLOW_V[0]} fix fixargs=()
	v=$(installed_version)
	backports_then "$meta"
	apt_step "$LOGS/bpo-switch.log" "the kernel metapackages from backports ($meta, $k)" bpo-switch \
		install -t "$ROOT_SUITE-backports" linux-image-amd64 linux-headers-amd64 || return 1
	expect_skip_line "$LOGS/bpo-switch.log" "$k" bpo-switch
	fix=$(sed -n "s/^$NAME: skipping $k: .*; to build it: //p" "$LOGS/bpo-switch.log" | head -n1)
	check "bpo-switch: the fix makes Debian's linux-source follow the metapackages ($fix)" \
		test "$fix" = "apt-get install -t $ROOT_SUITE-backports linux-source=$meta linux-source-$(bpo_series "$meta")=$meta"
	expect_follows bpo-switch fail
	read -ra fixargs <<<"${fix#apt-get }"
	[ "${fix%% *}" = apt-get ] || return 1
	timed bpo-switch-build apt_step "$LOGS/bpo-switch-fix.log" "the skip line's fix: $fix" bpo-switch \
		"${fixargs[@]}" || return 1
	expect_bpo_built bpo-switch "$v" "$k"
	expect_follows bpo-switch pass
	check "bpo-switch: $K_OTHER (no source) still has nothing of ours" \
		test -z "$(dkms_state "$K_OTHER" | grep installed)"
}

# step_bpo_move NAME FROM TO - the archive's metapackages move from FROM to TO
# (a new ABI or series) and the host upgrades as `apt upgrade` does, one
# apt-get run, no package named: the new kernel's linux-source comes with
# it, ours is built for it from that exact source; FROM's kernel keeps ours.
step_bpo_move() {
	local step=$1 from=${FOLLOW_V[$2]} to=${FOLLOW_V[$3]} k=${FOLLOW_K[$3]} v
	v=$(installed_version)
	if [ "$3" -eq 2 ]; then backports_then; else backports_then "$to"; fi
	timed "$step-build" apt_step "$LOGS/$step.log" \
		"apt-get upgrade --with-new-pkgs: metapackages $from -> $to ($(move_kind "$from" "$to"))" "$step" \
		upgrade --with-new-pkgs || return 1
	check "$step: linux-headers-amd64 and Debian's linux-source moved to $to in that run" \
		test "$(installed linux-headers-amd64 linux-source | awk '{ print $2 }' | sort -u)" = "$to"
	expect_bpo_built "$step" "$v" "$k"
	expect_ours "${FOLLOW_K[$2]}" "$v" "$step"
	expect_built_from "${FOLLOW_K[$2]}" "${BPO_SOURCE[${FOLLOW_K[$2]}]}" "$step"
	expect_follows "$step" pass
}

step_bpo_next() { step_bpo_move bpo-next 0 1; }
step_bpo_now() { step_bpo_move bpo-now 1 2; }

# expect_clean STEP KERNEL... - nothing of the DKMS module left anywhere.
expect_clean() {
	local step=$1 k left
	shift
	left=$(left_in_root 'lib/modules/*/updates/dkms/xe.ko*' "var/lib/dkms/$NAME" "usr/src/$NAME-*")
	check "$step: nothing left in /lib/modules/*/updates/dkms, /var/lib/dkms/$NAME, /usr/src/$NAME-*${left:+ (left: $left)}" \
		test -z "$left"
	for k in "$@"; do
		expect_in_tree "$k" "$step"
	done
	check "$step: $K_NEW's initramfs holds the in-tree xe again, and none of ours" \
		test -n "$(grep '^kernel/' <<<"$(initramfs_xe "$K_NEW")")" \
		-a -z "$(grep '^updates/' <<<"$(initramfs_xe "$K_NEW")")"
}

# failing_listing KERNEL - lsinitramfs fails for KERNEL's image (a damaged
# image, a broken tool), as in issue 19; `failing_listing` alone undoes it.
failing_listing() {
	if [ $# -eq 0 ]; then
		in_root dpkg-divert --quiet --remove --rename /usr/bin/lsinitramfs
		return 0
	fi
	in_root dpkg-divert --quiet --add --rename --divert /usr/bin/lsinitramfs.real /usr/bin/lsinitramfs
	cat >"$ROOT/usr/bin/lsinitramfs" <<-EOF
		#!/bin/sh
		case "\$*" in *initrd.img-$1*) echo "lsinitramfs: broken image" >&2; exit 1 ;; esac
		exec /usr/bin/lsinitramfs.real "\$@"
	EOF
	chmod 0755 "$ROOT/usr/bin/lsinitramfs"
}

# The removal goes on when an initramfs cannot be listed (K_TWO's here):
# apt exits 0, one line names the image and the command to rebuild it.
step_remove() {
	local rc=0
	failing_listing "$K_TWO"
	apt_step "$LOGS/remove.log" "remove $NAME-dkms ($K_TWO's initramfs cannot be listed)" remove \
		remove "$NAME-dkms" || rc=$?
	rm -f "$ROOT/usr/bin/lsinitramfs"
	failing_listing
	[ "$rc" -eq 0 ] || return 1
	check "remove: one line says $K_TWO's initramfs cannot be listed, and the fix" \
		grep -q "^$NAME: $K_TWO: cannot list /boot/initrd.img-$K_TWO; if it holds xe, rebuild it: update-initramfs -u -k $K_TWO" \
		"$LOGS/remove.log"
	expect_clean remove "$K_TWO" "$K_NEW" "${!BPO_SOURCE[@]}"
	check "remove: the provider's cache is kept until purge" test -d "$ROOT/var/lib/$NAME"
}

step_rpm() {
	local rpm v
	rpm=$(root_copy "$RPM_DIR"/"$NAME"-dkms-*.noarch.rpm)
	# --nodeps: the root is Debian, its rpm database is empty; dkms, gcc and
	# the headers are there as debs. The scriptlets run for real.
	timed rpm-install-two-kernels run_logged "$LOGS/rpm-install.log" "rpm -i $NAME-dkms" \
		in_root rpm -i --nodeps "$rpm" || { fail "rpm: rpm -i exits 0"; return 1; }
	v=$(rpm -qp --qf '%{VERSION}' "$RPM_DIR"/"$NAME"-dkms-*.noarch.rpm 2>/dev/null)
	expect_ours "$K_NEW" "$v" rpm
	expect_ours "$K_TWO" "$v" rpm
	check "rpm: $K_NOSRC skipped with the clear line" \
		grep -q "^$NAME: skipping $K_NOSRC: " "$LOGS/rpm-install.log"
	run_logged "$LOGS/rpm-erase.log" "rpm -e $NAME-dkms" in_root rpm -e "$NAME-dkms" ||
		{ fail "rpm: rpm -e exits 0"; return 1; }
	expect_clean "rpm -e" "$K_TWO" "$K_NEW"
}

step_purge() {
	apt_step "$LOGS/purge.log" "purge $NAME-dkms $NAME-dev" purge \
		purge "$NAME-dkms" "$NAME-dev" || return 1
	expect_clean purge "$K_TWO" "$K_NEW"
	local left
	left=$(left_in_root "var/lib/$NAME" "etc/$NAME" "usr/lib/$NAME/*" \
		"etc/kernel/*/*$NAME*" "usr/include/$NAME" "usr/src/$NAME-*" "var/lib/dkms/$NAME" |
		unowned)
	check "purge: nothing left in /var/lib/$NAME, /etc/$NAME, /usr/lib/$NAME (but $NAME-tools' load fallback and firmware check), /usr/src, the dkms tree, the kernel hooks, the headers${left:+ (left: $left)}" \
		test -z "$left"
}

# unowned - of the root's paths on stdin (relative, space-separated), those
# that no installed package owns ($NAME-tools stays after the purge).
unowned() {
	local p paths
	read -r -a paths || true
	for p in "${paths[@]}"; do
		in_root dpkg-query -S "/$p" >/dev/null 2>&1 || printf '%s ' "$p"
	done
}

# make install on a fresh minimal SUITE (make and nothing else of the
# kind: no compiler, no dkms, no kernel) from a copy of the checkout: it
# installs the build tools, the packages' Build-Depends and a default 6.12
# kernel with its linux-source by itself, builds the packages and installs
# them; the system's state must go to /var/lib/xe-vm-export, never into the
# checkout (issue 9, 10). The lifecycle's root is gone by then.
step_make_install() {
	local src=/tmp/checkout v k hv
	v=$(sed -n 's/^Version:[[:space:]]*//p' "$TOP/META")
	root_destroy
	root_create "make-install-$ROOT_SUITE" "$ROOT_SUITE" minimal
	trap 'root_destroy; rm -rf "$WORK"' EXIT
	check "make-install: the fresh $ROOT_SUITE root has no gcc, no dkms, no kernel" \
		test -z "$(in_root sh -c 'command -v gcc dkms; ls /lib/modules' 2>/dev/null)"
	mkdir -p "$ROOT$src"
	# A clone as a user has it: the files of this tree, in a git repository
	# (make dist lists them with git ls-files).
	git -C "$TOP" ls-files -z | (cd "$TOP" && xargs -0 cp --parents -t "$ROOT$src")
	git -C "$ROOT$src" init -q && git -C "$ROOT$src" add -A
	timed make-install run_logged "$LOGS/make-install.log" "make install in a fresh minimal $ROOT_SUITE root" \
		in_root make -C "$src" install || { fail "make-install: make install exits 0"; return 1; }
	ok "make-install: make install exits 0 (its apt-get runs exited 0)"
	expect_audit_clean make-install
	# The kernel make install chose: the one whose headers it installed.
	k=$(installed 'linux-headers-6.12.*-amd64' | awk '{ print $1 }' |
		sed -n 's/^linux-headers-\(6\.12\.[0-9]*+deb[0-9]*-amd64\)$/\1/p' | sort -V | tail -n1)
	check "make-install: it installed a 6.12 kernel's headers (${k:-none})" test -n "$k"
	[ -n "$k" ] || return 1
	hv=$(installed "linux-headers-$k" | awk '{ print $2 }')
	check "make-install: it installed linux-source-6.12 $hv (the headers' version)" \
		test "$(installed linux-source-6.12 | awk '{ print $2 }')" = "$hv"
	expect_ours "$k" "$v" make-install
	expect_built_from "$k" "$(upstream "$hv")" make-install
	check "make-install: the provider's cache is /var/lib/$NAME ($k's base there)" \
		test -d "$ROOT/var/lib/$NAME/bases/$k"
	check "make-install: nothing of the system's state in the checkout's build/cache" \
		test -z "$(left_in_root "${src#/}/build/cache/*")"
}

# step_depends - see the top of this file. A Depends entry removed from
# debian/control fails it (the build, or a check, misses the tool).
step_depends() {
	local v pkg tools left
	v=$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)
	root_destroy
	root_create "depends-$ROOT_SUITE" "$ROOT_SUITE" minimal
	trap 'root_destroy; rm -rf "$WORK"' EXIT
	root_apt "$LOGS/depends-base.log" "depends: purge make (the base's, for make install)" \
		purge make || { fail "depends: make purged from the fresh root"; return 1; }
	root_apt "$LOGS/depends-kernel.log" "depends: $K_NEW (image, headers), linux-source-6.12=$V_NEW" \
		install "linux-image-$K_NEW" "linux-headers-$K_NEW" "linux-source-6.12=$V_NEW" ||
		{ fail "depends: $K_NEW and its source installed"; return 1; }
	# shellcheck disable=SC2016 # expanded by the root's shell
	# The marker proves the probe ran: a root that cannot run it is no pass.
	left=$(in_root sh -c 'for c in dkms gcc make patch rsync; do command -v $c || :; done; echo probed' 2>/dev/null || true)
	check "depends: before the package, none of dkms gcc make patch rsync in the root (${left:-no output})" \
		test "$left" = probed
	# With the one package of ours it depends on (verify, in -tools); every
	# other Depends comes from the archive.
	pkg=$(root_copy "$DEB_DIR"/"$NAME"-dkms_*.deb)
	tools=$(root_copy "$DEB_DIR"/"$NAME"-tools_*.deb)
	timed depends-install apt_step "$LOGS/depends-install.log" \
		"depends: apt-get install ${pkg##*/} and ${tools##*/} alone, their Depends from the archive" depends \
		install "$pkg" "$tools" || return 1
	expect_ours "$K_NEW" "$v" depends
	expect_built_from "$K_NEW" "$(upstream "$V_NEW")" depends
}

step_kmod_deb() {
	local deb
	deb=$("$TOP/debian/pkgtools/build-kmod-deb.sh" "$K_NEW" "$(compgen -G "$WORK/xe.ko*")" "$WORK/kmod") ||
		{ fail "kmod-deb: built"; return 1; }
	ok "kmod-deb: built ${deb##*/}"
	deb=$(root_copy "$deb")
	timed kmod-deb-install run_logged "$LOGS/kmod-install.log" "install the kmod-deb" \
		in_root dpkg -i "$deb" || { fail "kmod-deb: dpkg -i exits 0"; return 1; }
	check "kmod-deb: modinfo -k $K_NEW resolves to updates/xe-vm-export" \
		grep -q '^updates/xe-vm-export/xe\.ko' <<<"$(xe_path "$K_NEW")"
	check "kmod-deb: $K_NEW's initramfs holds it" \
		grep -q '^updates/xe-vm-export/' <<<"$(initramfs_xe "$K_NEW")"
	# The load fallback of a prebuilt-module host: -tools' (one copy).
	check "kmod-deb: the install xe rule and its helper come from $NAME-tools, which the module package depends on" \
		test "$(in_root dpkg-query -S /lib/modprobe.d/xe-vm-export.conf /usr/lib/xe-vm-export/xe-vm-export-load 2>/dev/null |
			cut -d: -f1 | sort -u)" = "$NAME-tools"
	expect_load_fallback "$K_NEW" kmod-deb
	run_logged "$LOGS/kmod-purge.log" "purge the kmod-deb" \
		in_root dpkg --purge "$NAME-modules-$K_NEW" || { fail "kmod-deb: purge exits 0"; return 1; }
	expect_in_tree "$K_NEW" "kmod-deb purge"
	check "kmod-deb purge: nothing left in updates/xe-vm-export" \
		test -z "$(left_in_root 'lib/modules/*/updates/xe-vm-export/*')"
}

step_kmod_rpm() {
	local rpm
	rpm=$("$TOP/rpm/build-kmod-rpm.sh" "$K_NEW" "$(compgen -G "$WORK/xe.ko*")" "$WORK/kmod-rpm") ||
		{ fail "kmod-rpm: built"; return 1; }
	check "kmod-rpm: rpmlint, no errors" \
		grep -q ' 0 errors' <<<"$(rpmlint -c "$TOP/rpm/rpmlint.toml" "$rpm" 2>&1 | tail -n1)"
	rpm=$(root_copy "$rpm")
	run_logged "$LOGS/kmod-rpm.log" "rpm -i the kmod-rpm" in_root rpm -i --nodeps "$rpm" ||
		{ fail "kmod-rpm: rpm -i exits 0"; return 1; }
	check "kmod-rpm: modinfo -k $K_NEW resolves to updates/xe-vm-export" \
		grep -q '^updates/xe-vm-export/xe\.ko' <<<"$(xe_path "$K_NEW")"
	run_logged "$LOGS/kmod-rpm-erase.log" "rpm -e the kmod-rpm" \
		in_root rpm -e "kmod-$NAME-$K_NEW" || { fail "kmod-rpm: rpm -e exits 0"; return 1; }
	expect_in_tree "$K_NEW" "kmod-rpm erase"
}

# --- bookkeeping -------------------------------------------------------------

timed() { # LABEL CMD... - run, record seconds under SUITE/LABEL
	local label=$1 start rc=0
	shift
	start=$(date +%s.%N)
	"$@" || rc=$?
	printf '%s/%s %.1f\n' "$ROOT_SUITE" "$label" "$(echo "$(date +%s.%N) - $start" | bc)" >>"$TIMINGS"
	return "$rc"
}

# run_step NAME - step_NAME; its result (pass: all its checks passed, fail)
# and seconds go to the matrix. Returns non-zero when the sequence cannot go on.
run_step() {
	local name=$1 fn=step_${1//-/_} failed=$FAILED start rc=0 result
	start=$(date +%s)
	log "=== $ROOT_SUITE: $name"
	"$fn" || rc=$?
	result=pass
	[ "$rc" -eq 0 ] && [ "$FAILED" -eq "$failed" ] || result=fail
	printf '%s %s %d\n' "$name" "$result" "$(($(date +%s) - start))" >>"$MATRIX"
	return "$rc"
}

steps_of_suite() {
	if [ "$1" = bookworm ]; then
		echo install same-release aux no-source other-series dist-upgrade aux-remove pkg-upgrade kernel-remove
		echo remove rpm purge kmod-deb kmod-rpm make-install depends
	else
		echo install no-source other-series dist-upgrade bpo-switch bpo-next bpo-now pkg-upgrade \
			kernel-remove remove purge make-install
	fi
}

main() {
	[ $# -eq 4 ] || { echo "usage: ${0##*/} SUITE DEB_DIR UPGRADE_DEB_DIR RPM_DIR" >&2; exit 2; }
	local suite=$1 step steps=() i start
	DEB_DIR=$2 UP_DIR=$3 RPM_DIR=$4
	LOGS=$PKG_CACHE/logs/lifecycle-$suite
	TIMINGS=$PKG_CACHE/timings
	MATRIX=$PKG_CACHE/matrix/$suite
	need_packages mmdebstrap rpm rpmlint bc apt-utils curl
	mkdir -p "$LOGS" "${MATRIX%/*}"
	: >"$MATRIX"
	sed -i "\\|^$suite/|d; /^$suite /d" "$TIMINGS" 2>/dev/null || true
	mapfile -t steps < <(steps_of_suite "$suite" | tr ' ' '\n')
	if [ -n "${LIFECYCLE_STEPS:-}" ]; then
		mapfile -t steps < <(printf '%s\n' "${steps[@]}" | grep -xF -f <(tr ' ' '\n' <<<"$LIFECYCLE_STEPS"))
		[ ${#steps[@]} -gt 0 ] || die "LIFECYCLE_STEPS='$LIFECYCLE_STEPS': none of $suite's steps"
		log "LIFECYCLE_STEPS: only ${steps[*]} (a development run: the later steps need the earlier ones' state)"
	fi
	WORK=$(mktemp -d)
	start=$(date +%s)
	if [ "$suite" = trixie ]; then
		root_create "lifecycle-$suite" "$suite" backports
	else
		root_create "lifecycle-$suite" "$suite"
	fi
	trap 'root_destroy; rm -rf "$WORK"' EXIT
	choose_kernels
	# Each step needs the state the previous ones left: the first one that
	# cannot go on stops the sequence, the rest are "skip" in the matrix.
	for ((i = 0; i < ${#steps[@]}; i++)); do
		run_step "${steps[i]}" || {
			fail "${steps[i]}: could not go on; later steps not run"
			for step in "${steps[@]:i+1}"; do
				echo "$step skip 0" >>"$MATRIX"
			done
			break
		}
	done
	printf '%s/total %d\n' "$suite" "$(($(date +%s) - start))" >>"$TIMINGS"
	log "$suite: logs, dkms status after each step and timings are in $LOGS"
	summary
}

main "$@"
