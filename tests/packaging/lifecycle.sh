#!/bin/bash
# lifecycle.sh - the DKMS package's life on a Debian 12 host, in an isolated
# root (never the host): install with two kernels present (K_OLD built,
# 6.1 skipped), kernel upgrade (K_NEW headers and source), package upgrade
# (both rebuilt, K_OLD's base from the cache), remove; then the rpm's
# scriptlets against the same dkms, purge, and the prebuilt kmod-deb.
# K_NEW and K_OLD are the two newest 6.12 kernels the archive offers with a
# linux-source-6.12 of the same version, chosen when the test runs.
#
# xe is compiled twice in all (K_OLD at install, K_NEW at the kernel
# upgrade); the package upgrade and the rpm rebuild from the provider's
# per-kernel build trees. Timings go to $TEST_CACHE/packaging/timings.
#
# Usage: lifecycle.sh DEB_DIR UPGRADE_DEB_DIR RPM_DIR
set -euo pipefail

TEST_NAME=lifecycle
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=SCRIPTDIR/root.sh
. "$(dirname "$0")/root.sh"

readonly NAME=xe-vm-export
LOGS=$PKG_CACHE/logs/lifecycle
TIMINGS=$PKG_CACHE/timings

# --- small probes run in the root ---------------------------------------

xe_path() { # KERNEL - modprobe's xe for KERNEL, relative to its modules dir
	in_root modinfo -k "$1" -n xe 2>/dev/null | sed "s|.*/modules/$1/||"
}
dkms_state() { # KERNEL - "0.1.0: installed" or empty
	in_root dkms status -m "$NAME" -k "$1" 2>/dev/null | sed -n 's|^[^/]*/\([^,]*\), .*: \(.*\)$|\1: \2|p'
}
initramfs_xe() { # KERNEL
	in_root lsinitramfs "/boot/initrd.img-$1" | grep -E '/xe\.ko' | sed "s|.*/modules/$1/||"
}
source_version() { # KERNEL - its headers' version, that of linux-source too
	in_root apt-cache show "linux-headers-$1" | sed -n 's/^Version: //p' | head -n1
}
# left_in_root GLOB... - what of GLOB (relative to the root) exists
left_in_root() {
	local g
	(cd "$ROOT" && for g in "$@"; do compgen -G "$g" || true; done) | tr '\n' ' '
}
deb_version() { # .deb
	dpkg-deb -f "$1" Version | sed 's/-[^-]*$//'
}

expect_ours() { # KERNEL VERSION STEP
	local k=$1 v=$2 step=$3
	check "$step: dkms status: $k has $v installed" \
		test "$(dkms_state "$k")" = "$v: installed"
	check "$step: modinfo -k $k resolves to updates/dkms" \
		grep -q '^updates/dkms/xe\.ko' <<<"$(xe_path "$k")"
}

expect_in_tree() { # KERNEL STEP
	check "$2: modinfo -k $1 resolves to kernel/drivers/gpu/drm/xe" \
		grep -q '^kernel/drivers/gpu/drm/xe/xe\.ko' <<<"$(xe_path "$1")"
}

timed() { # LABEL CMD... - run, record seconds under LABEL
	local label=$1 start rc=0
	shift
	start=$(date +%s.%N)
	"$@" || rc=$?
	printf '%s %.1f\n' "$label" "$(echo "$(date +%s.%N) - $start" | bc)" >>"$TIMINGS"
	return "$rc"
}

# --- the steps --------------------------------------------------------------

kernel_6_1() {
	in_root apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' |
		awk '{print $1}' | sort -V | tail -n1
}

choose_kernels() {
	local ks=()
	mapfile -t ks < <(root_kernels 6.12)
	[ ${#ks[@]} -ge 2 ] || die "the archive offers ${#ks[@]} 6.12 kernels with their linux-source; 2 needed"
	K_NEW=${ks[0]} K_OLD=${ks[1]}
	log "kernels: $K_OLD at install, $K_NEW at the kernel upgrade"
}

step_kernels() {
	K61=$(kernel_6_1 | sed 's/^linux-headers-//')
	[ -n "$K61" ] || die "no linux-headers-6.1.0-*-amd64 in the archive"
	root_apt "$LOGS/kernels.log" "images of $K_OLD and $K_NEW, headers of $K_OLD and $K61, linux-source of $K_OLD" \
		install "linux-image-$K_OLD" "linux-image-$K_NEW" "linux-headers-$K_OLD" \
		"linux-headers-$K61" "linux-source-6.12=$(source_version "$K_OLD")"
}

step_install() {
	local pkgs
	mapfile -t pkgs < <(root_copy "$DEB_DIR"/"$NAME"-dkms_*.deb "$DEB_DIR"/"$NAME"-dev_*.deb)
	timed install-dkms-one-kernel \
		root_apt "$LOGS/install.log" "install $NAME-dkms $(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)" \
		install "${pkgs[@]}" || { fail "install: apt-get install exits 0"; return 1; }
	ok "install: apt-get install exits 0"
	local v
	v=$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)
	expect_ours "$K_OLD" "$v" install
	in_root modinfo -k "$K_OLD" xe | grep -E '^(filename|version|signer|xe_vm_export_)' \
		>"$LOGS/modinfo-install.txt" || true
	check "install: provenance: $K_OLD's xe was built from ${K_OLD%%+*}'s source" \
		grep -qF "${K_OLD%%+*}" <<<"$(in_root modinfo -k "$K_OLD" -F xe_vm_export_base xe)"
	SKIP_LINE=$(grep -m1 "^$NAME: skipping $K61: " "$LOGS/install.log" || true)
	check "install: $K61 skipped with one clear line" test -n "$SKIP_LINE"
	check "install: nothing installed for $K61" test -z "$(dkms_state "$K61" | grep installed)"
	check "install: $K_OLD's initramfs holds our xe" \
		grep -q '^updates/dkms/' <<<"$(initramfs_xe "$K_OLD")"
	check "install: module signed with dkms's MOK key" \
		test -n "$(in_root modinfo -k "$K_OLD" -F signer xe)"
	# Debian keeps the DRM uAPI headers in libdrm's directory, not /usr/include/drm.
	check "install: the uAPI header compiles in userspace (libdrm's include path)" \
		in_root sh -c 'printf "#include <xe_vm_export_drm.h>\nint x = DRM_IOCTL_XE_VM_EXPORT;\n" |
			gcc -fsyntax-only -I/usr/include/libdrm -xc -'
}

step_kernel_upgrade() {
	local src
	src=$(source_version "$K_NEW")
	timed kernel-upgrade-build \
		root_apt "$LOGS/kernel-upgrade.log" "kernel upgrade: headers and linux-source of $K_NEW" \
		install "linux-headers-$K_NEW" "linux-source-6.12=$src" ||
		{ fail "kernel upgrade: apt-get install exits 0"; return 1; }
	expect_ours "$K_NEW" "$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)" "kernel upgrade"
	expect_ours "$K_OLD" "$(deb_version "$DEB_DIR"/"$NAME"-dkms_*.deb)" "kernel upgrade"
	export_for_qemu "$K_NEW"
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

step_package_upgrade() {
	local v pkgs
	v=$(deb_version "$UP_DIR"/"$NAME"-dkms_*.deb)
	mapfile -t pkgs < <(root_copy "$UP_DIR"/"$NAME"-dkms_*.deb "$UP_DIR"/"$NAME"-dev_*.deb)
	timed package-upgrade-two-kernels \
		root_apt "$LOGS/upgrade.log" "package upgrade to $v" install "${pkgs[@]}" ||
		{ fail "package upgrade: apt-get install exits 0"; return 1; }
	expect_ours "$K_OLD" "$v" "package upgrade"
	expect_ours "$K_NEW" "$v" "package upgrade"
	in_root modinfo -k "$K_OLD" xe | grep -E '^(filename|version|signer|xe_vm_export_)' \
		>"$LOGS/modinfo-upgrade.txt" || true
	in_root dkms status >"$LOGS/dkms-status-upgrade.txt" 2>&1 || true
	# The module records where the base came from first (linux-source);
	# the provider says when it reused it from its cache.
	check "package upgrade: $K_OLD's base came from the cache (its linux-source is gone)" \
		grep -q "$K_OLD: xe base from .* (cached)" "$LOGS/upgrade.log"
	check "package upgrade: ... and is still ${K_OLD%%+*}'s source" \
		grep -qF "${K_OLD%%+*}" <<<"$(in_root modinfo -k "$K_OLD" -F xe_vm_export_base xe)"
	# Keep a DKMS-built module for the kmod-deb step.
	cp "$ROOT/var/lib/dkms/$NAME/$v/$K_NEW/x86_64/module/"xe.ko* "$WORK/"
}

# expect_clean STEP - nothing of the DKMS module left anywhere.
expect_clean() {
	local step=$1 k left
	left=$(left_in_root 'lib/modules/*/updates/dkms/xe.ko*' "var/lib/dkms/$NAME" "usr/src/$NAME-*")
	check "$step: nothing left in /lib/modules/*/updates/dkms, /var/lib/dkms/$NAME, /usr/src/$NAME-*${left:+ (left: $left)}" \
		test -z "$left"
	for k in "$K_OLD" "$K_NEW"; do
		expect_in_tree "$k" "$step"
	done
	check "$step: $K_OLD's initramfs holds the in-tree xe again" \
		grep -q '^kernel/' <<<"$(initramfs_xe "$K_OLD")"
}

step_remove() {
	root_apt "$LOGS/remove.log" "remove $NAME-dkms" remove "$NAME-dkms" ||
		{ fail "remove: apt-get remove exits 0"; return 1; }
	expect_clean remove
	check "remove: the provider's cache is kept until purge" test -d "$ROOT/var/lib/$NAME"
}

step_rpm() {
	local rpm
	rpm=$(root_copy "$RPM_DIR"/"$NAME"-dkms-*.noarch.rpm)
	# --nodeps: the root is Debian, its rpm database is empty; dkms, gcc and
	# the headers are there as debs. The scriptlets run for real.
	timed rpm-install-two-kernels run_logged "$LOGS/rpm-install.log" "rpm -i $NAME-dkms" \
		in_root rpm -i --nodeps "$rpm" || { fail "rpm: rpm -i exits 0"; return 1; }
	local v
	v=$(rpm -qp --qf '%{VERSION}' "$RPM_DIR"/"$NAME"-dkms-*.noarch.rpm 2>/dev/null)
	expect_ours "$K_OLD" "$v" rpm
	expect_ours "$K_NEW" "$v" rpm
	check "rpm: $K61 skipped with the clear line" \
		grep -q "^$NAME: skipping $K61: " "$LOGS/rpm-install.log"
	run_logged "$LOGS/rpm-erase.log" "rpm -e $NAME-dkms" in_root rpm -e "$NAME-dkms" ||
		{ fail "rpm: rpm -e exits 0"; return 1; }
	expect_clean "rpm -e"
}

step_purge() {
	root_apt "$LOGS/purge.log" "purge $NAME-dkms $NAME-dev" purge "$NAME-dkms" "$NAME-dev" ||
		{ fail "purge: apt-get purge exits 0"; return 1; }
	expect_clean purge
	local left
	left=$(left_in_root "var/lib/$NAME" "etc/$NAME" "usr/lib/$NAME" \
		"etc/kernel/header_postinst.d/$NAME" "usr/include/$NAME")
	check "purge: nothing left in /var/lib/$NAME, /etc/$NAME, /usr/lib/$NAME, the kernel hook, the headers${left:+ (left: $left)}" \
		test -z "$left"
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

main() {
	[ $# -eq 3 ] || { echo "usage: ${0##*/} DEB_DIR UPGRADE_DEB_DIR RPM_DIR" >&2; exit 2; }
	DEB_DIR=$1 UP_DIR=$2 RPM_DIR=$3
	need_packages mmdebstrap rpm rpmlint bc
	mkdir -p "$LOGS"
	: >"$TIMINGS"
	WORK=$(mktemp -d)
	root_create lifecycle bookworm
	trap 'root_destroy; rm -rf "$WORK"' EXIT
	choose_kernels
	local step
	# Each step needs the state the previous ones left: the first one that
	# cannot go on stops the sequence.
	for step in kernels install kernel_upgrade package_upgrade remove rpm purge \
		kmod_deb kmod_rpm; do
		"step_$step" || { fail "$step: could not go on; later steps not run"; break; }
	done
	log "dkms status after the package upgrade, the skip line and timings are in $LOGS"
	[ -z "${SKIP_LINE:-}" ] || log "skip line: $SKIP_LINE"
	summary
}

main "$@"
