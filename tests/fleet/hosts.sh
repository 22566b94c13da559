# shellcheck shell=bash
# The fleet stage of tests/fleet/run.sh (sourced after it made the packages
# and the served repository): three isolated Debian 12 roots as hosts,
# reached by Ansible's chroot connection, and vm1, a qemu guest that really
# reboots (vm-host.sh), and fleet/ansible/playbook.yml run on them: the
# self-test of the checks (a missing playbook, an unreachable host), --check
# --diff on fresh hosts (apt, and the dnf branch), install, a second run
# that changes nothing, a --check run; the reports and the fleet table
# asserted; the time per host from "repository reachable" to "module ready"
# (vm1: to "ours loaded" after its reboot).

# shellcheck source=tests/fleet/vm-host.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm-host.sh"

HOSTS_DIR=$TEST_CACHE/fleet/hosts
HOST_MOUNTS=()

# host_tarball - the hosts' base root: apt, python3 for Ansible, and the
# kernel image of HOST_KVER (A, the kernel before the upgrade). Its
# initramfs twice: /boot/initrd.img-A.with-xe made with xe listed in
# initramfs-tools' modules (a host whose initramfs holds xe: the module
# package refreshes it), and initrd.img-A without (most hosts: depmod only).
# The linux-image .deb of KVER_OTHER waits in /var/cache/fleet-test.
host_tarball() {
	local key tmp k=$HOST_KVER mods=/usr/share/initramfs-tools/modules.d/xe-vm-export-tests
	local hooks=()
	key=$(printf '%s\n' "$k" "$KVER_OTHER" v2 | sha256sum | cut -c1-12)
	HOST_TARBALL=$TEST_CACHE/fleet/host-root-$key.tar
	[ -s "$HOST_TARBALL" ] && return 0
	need_packages mmdebstrap
	mkdir -p "$TEST_CACHE/fleet"
	tmp=${HOST_TARBALL%.tar}.tmp.tar
	# The hooks are shell run by mmdebstrap, $1 being the root.
	# shellcheck disable=SC2016
	hooks=(--setup-hook='mkdir -p "$1/usr/share/initramfs-tools/modules.d"'
		--setup-hook="echo xe >\"\$1$mods\""
		--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"'
		--customize-hook="cp \"\$1/boot/initrd.img-$k\" \"\$1/boot/initrd.img-$k.with-xe\""
		--customize-hook="rm \"\$1$mods\"; chroot \"\$1\" update-initramfs -u -k $k")
	[ -z "$KVER_OTHER" ] ||
		hooks+=(--customize-hook="mkdir -p \"\$1/var/cache/fleet-test\"; chroot \"\$1\" sh -c 'cd /var/cache/fleet-test && apt-get -q -o APT::Sandbox::User=root download linux-image-$KVER_OTHER'")
	run_logged "$LOGS/mmdebstrap.log" "mmdebstrap: host root with linux-image-$k" \
		nice mmdebstrap --variant=apt \
		--include="python3-minimal,python3-apt,kmod,xz-utils,initramfs-tools,linux-image-$k" \
		"${hooks[@]}" bookworm "$tmp" /etc/apt/sources.list.d/debian.sources
	mv "$tmp" "$HOST_TARBALL"
}

# kernel_meta_standin - Debian's linux-image-SERIES-amd64 as it was when it
# pointed to A: the archive keeps only its newest version, which points to B.
# Same name, version and dependency; installed on the hosts, it is what the
# upgrade moves to the archive's real one.
kernel_meta_standin() {
	local d=$WORK/kmeta
	mkdir -p "$d/DEBIAN"
	cat >"$d/DEBIAN/control" <<-EOT
	Package: linux-image-$SERIES-amd64
	Version: $KPKGVER_OLD
	Architecture: amd64
	Maintainer: xe-vm-export tests <fleet@test.invalid>
	Depends: linux-image-$KVER_OLD (= $KPKGVER_OLD)
	Description: Linux $SERIES for 64-bit PCs (meta-package), as it was for $KVER_OLD
	 A stand-in made by xe-vm-export's fleet test.
	EOT
	dpkg-deb -b "$d" "$WORK/kernel-meta.deb" >/dev/null
}

host_create() { # NAME INITRAMFS_HOLDS_XE(yes|no)
	local root=$HOSTS_DIR/$1 k=$HOST_KVER
	rm -rf --one-file-system "$root"
	mkdir -p "$root"
	tar -xf "$HOST_TARBALL" -C "$root"
	echo "$1" >"$root/etc/hostname"
	rm -f "$root/etc/resolv.conf"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	if [ "$2" = yes ]; then
		mv "$root/boot/initrd.img-$k.with-xe" "$root/boot/initrd.img-$k"
		echo xe >"$root/usr/share/initramfs-tools/modules.d/xe-vm-export-tests"
	else
		rm "$root/boot/initrd.img-$k.with-xe"
	fi
	mount -t proc proc "$root/proc"
	HOST_MOUNTS+=("$root/proc")
	mount --bind /dev "$root/dev"
	HOST_MOUNTS+=("$root/dev")
	if [ -n "$KVER_OLD" ]; then
		cp "$WORK/kernel-meta.deb" "$root/tmp/"
		chroot "$root" dpkg -i /tmp/kernel-meta.deb >/dev/null
	fi
}

hosts_destroy() {
	local m
	for m in "${HOST_MOUNTS[@]}"; do
		umount -l "$m" 2>/dev/null || true
	done
	HOST_MOUNTS=()
	[ -d "$HOSTS_DIR" ] && rm -rf --one-file-system "$HOSTS_DIR"
	return 0
}

# serve_repo DIR - the served repository becomes DIR's. Copied with new
# times: the server answers If-Modified-Since from them, and DIR may have
# been made before the repository it replaces.
serve_repo() {
	rm -rf "$WORK/repo.served/apt" "$WORK/repo.served/rpm"
	cp -R "$1/." "$WORK/repo.served/"
}

# playbook LOG ARGS... - the fleet playbook on the hosts of the inventory
# (FLEET_INVENTORY, default WORK/inventory; FLEET_PLAYBOOK, default the
# project's); each task's time is in LOG (profile_tasks), where the seconds
# to module ready go. All hosts in one batch (serial 100%): the chroot hosts
# cannot reboot, and each host's seconds are its own.
playbook() {
	local logf=$1
	shift
	ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PIPELINING=1 \
		ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
		ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" ANSIBLE_HOME="$WORK/ansible-home" \
		nice ansible-playbook -i "${FLEET_INVENTORY:-$WORK/inventory}" \
		"${FLEET_PLAYBOOK:-$TOP/fleet/ansible/playbook.yml}" \
		-e xe_vm_export_serial=100% \
		-e "xe_vm_export_keyring=$WORK/repo/$NAME-archive-keyring.gpg" \
		-e "xe_vm_export_report_dir=$WORK/reports" "$@" >"$logf" 2>&1
}

# write_inventory [RUNNING_KERNEL...] - the chroot hosts (and vm1 when it
# runs) with the repository's URL. A chroot's facts are this machine's
# (its kernel, no reboot): each chroot host gets its own kernel as the
# running one (RUNNING_KERNEL, in the order of HOSTS, default the hosts'
# kernel), from which the role derives the kernel flavour, and neither the
# reboot nor the check of the loaded xe.
write_inventory() {
	local h k
	echo "[fleet]"
	for h in "${CHROOT_HOSTS[@]}"; do
		k=${1:-$HOST_KVER}
		[ $# -eq 0 ] || shift
		echo "$h ansible_connection=community.general.chroot ansible_host=$HOSTS_DIR/$h" \
			"ansible_python_interpreter=/usr/bin/python3 xe_vm_export_running_kernel=$k xe_vm_export_reboot=false"
	done
	[ -z "$VM_PID" ] || vm_inventory
	echo "[all:vars]"
	echo "xe_vm_export_repo_url=$URL"
}

# recap_ok LOG [HOST...] - every HOST (default: HOSTS) has its PLAY RECAP
# line in LOG, with unreachable=0 and failed=0 (a playbook that did not run
# has none).
recap_ok() {
	local logf=$1 h
	shift
	[ $# -gt 0 ] || set -- "${HOSTS[@]}"
	for h in "$@"; do
		grep -qE "^$h +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0( |\$)" "$logf" ||
			{ echo "$h: no PLAY RECAP line with unreachable=0 failed=0 in $logf" >&2; return 1; }
	done
}

# playbook_unchanged N WHAT ARGS... - a playbook run, its checks: exit status
# 0 and each host's PLAY RECAP clean; then changed=0 in total (the runs
# after the first, which must change nothing).
playbook_unchanged() {
	local n=$1 what=$2 rc=0 logf=$LOGS/playbook-$1.log
	shift 2
	playbook "$logf" "$@" || rc=$?
	check "playbook: $what exits 0 (got $rc; log: $logf)" test "$rc" -eq 0
	check "playbook: $what: each host's PLAY RECAP with unreachable=0 failed=0" recap_ok "$logf"
	check "playbook: $what changes nothing (changed=0)" test "$(recap_changed "$logf")" -eq 0
}

# recap_changed LOG - total changed= of the PLAY RECAP.
recap_changed() {
	sed -n 's/.* changed=\([0-9]*\) .*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'
}

CHROOT_HOSTS=(host1 host2 host3)
HOSTS=("${CHROOT_HOSTS[@]}")

pkg_version() { # HOST PACKAGE - its installed version, empty when not installed
	# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
	chroot "$HOSTS_DIR/$1" dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$2" 2>/dev/null |
		sed -n 's/^ii *//p'
}

report_of() { # HOST KERNEL - "state module" of KERNEL in HOST's report
	jq -r --arg k "$2" '.kernels[] | select(.kernel == $k) | .state + " " + .module' \
		"$WORK/reports/$1.json"
}

initramfs_holds() { # HOST KERNEL PATTERN - (listed whole first: grep -q
	# would end lsinitramfs by SIGPIPE, a failure under pipefail)
	lsinitramfs "$HOSTS_DIR/$1/boot/initrd.img-$2" >"$WORK/initrd.list" 2>/dev/null || return 1
	grep -q -- "$3" "$WORK/initrd.list"
}

# check_ours HOST KERNEL - the report and modprobe in the host agree: KERNEL
# loads our xe, from updates/.
check_ours() {
	check "$1: $2 reported installed, our xe" test "$(report_of "$1" "$2")" = "installed ours"
	check "$1: modprobe resolves xe of $2 to updates/" \
		test "$(chroot "$HOSTS_DIR/$1" modinfo -k "$2" -F filename xe)" = \
		"/lib/modules/$2/updates/$NAME/xe.ko.xz"
}

# run_playbook N WHAT ARGS... - a playbook run that must not fail.
run_playbook() {
	local n=$1 what=$2
	shift 2
	if playbook "$LOGS/playbook-$n.log" "$@" && recap_ok "$LOGS/playbook-$n.log"; then
		ok "playbook: $what (exit 0, every host's PLAY RECAP unreachable=0 failed=0)"
	else
		fail "playbook: $what (log: $LOGS/playbook-$n.log)"
		tail -n 30 "$LOGS/playbook-$n.log"
		return 1
	fi
}

table_rows() { # ERE - how many lines of the fleet table match it
	grep -cE -- "$1" "$WORK/reports/fleet-table.txt" || true
}

re() { # KERNEL - a kernel release as an ERE matching itself (its . and +)
	printf '%s' "$1" | sed 's/[.+]/\\&/g'
}

# check_fresh - --check --diff on hosts that have nothing yet: exit 0,
# each host's PLAY RECAP clean, the diff shows the repository file, and
# nothing changed on the hosts (no key, no repository file, no package).
# The kernel flavour comes from the running kernel: host2 and host3 say
# they run a cloud and an rt kernel. Then the dnf branch on host3 as if it
# were an rpm host (ansible_pkg_mgr overridden, the directories an rpm
# host has made for the check): repository file and key in --check.
check_fresh() {
	local h logf=$LOGS/playbook-fresh-check.log rc=0 flav
	local cloud=${HOST_KVER%-amd64}-cloud-amd64 rt=${HOST_KVER%-amd64}-rt-amd64
	write_inventory "$HOST_KVER" "$cloud" "$rt" >"$WORK/inventory"
	playbook "$logf" --check --diff || rc=$?
	check "playbook --check --diff on fresh hosts exits 0 (got $rc; log: $logf)" test "$rc" -eq 0
	check "--check --diff on fresh hosts: each host's PLAY RECAP with unreachable=0 failed=0" recap_ok "$logf"
	check "--check --diff shows the repository file it would write" grep -q "^+URIs: $URL/apt" "$logf"
	for h in "${CHROOT_HOSTS[@]}"; do
		check "$h: --check wrote no key, no repository file, installed nothing" \
			test ! -e "$HOSTS_DIR/$h/etc/apt/sources.list.d/$NAME.sources" \
			-a ! -e "$HOSTS_DIR/$h/etc/apt/keyrings/$NAME-archive-keyring.gpg" \
			-a -z "$(pkg_version "$h" "$NAME-tools")"
	done
	for h in "host1 amd64" "host2 cloud-amd64" "host3 rt-amd64"; do
		read -r h flav <<<"$h"
		check "$h: kernel flavour from its running kernel: --check would install $NAME-modules-$flav" \
			test "$(jq -r .fleet.pending "$WORK/reports/$h.json")" = "would install $NAME-modules-$flav (--check)"
	done
	if [ -n "$VM_PID" ]; then
		check "vm1: kernel flavour from its facts: --check would install $NAME-modules-amd64" \
			test "$(jq -r .fleet.pending "$WORK/reports/vm1.json")" = "would install $NAME-modules-amd64 (--check)"
	fi
	check "fleet table: every host pending" test "$(table_rows " +- +pending ")" -eq "${#HOSTS[@]}"
	logf=$LOGS/playbook-fresh-check-dnf.log
	rc=0
	mkdir -p "$HOSTS_DIR/host3/etc/yum.repos.d" "$HOSTS_DIR/host3/etc/pki/rpm-gpg"
	playbook "$logf" --check --diff --limit host3 -e xe_vm_export_pkg_mgr=dnf || rc=$?
	check "dnf branch, --check --diff on a fresh host exits 0 (got $rc; log: $logf)" test "$rc" -eq 0
	check "dnf branch: PLAY RECAP unreachable=0 failed=0" recap_ok "$logf" host3
	check "dnf branch: the diff shows the .repo: baseurl $URL/rpm, repo_gpgcheck, the key from a local file" \
		test "$(grep -cE "^\+(baseurl = $URL/rpm|repo_gpgcheck = 1|gpgkey = file:///etc/pki/rpm-gpg/RPM-GPG-KEY-$NAME)\$" "$logf")" -eq 3
	check "dnf branch: the diff shows the armoured key it would install" \
		grep -q '^+-----BEGIN PGP PUBLIC KEY BLOCK-----' "$logf"
	check "dnf branch: would install kmod-$NAME" \
		test "$(jq -r .fleet.pending "$WORK/reports/host3.json")" = "would install kmod-$NAME (--check)"
	check "dnf branch: --check wrote nothing" \
		test -z "$(find "$HOSTS_DIR/host3/etc/yum.repos.d" "$HOSTS_DIR/host3/etc/pki/rpm-gpg" -mindepth 1)"
	rm -r "$HOSTS_DIR/host3/etc/yum.repos.d" "$HOSTS_DIR/host3/etc/pki"
}

# selftest - the checks of a playbook run can fail: a missing playbook and
# an unreachable host (SSH to a closed port) each give a non-zero exit and
# fail recap_ok. The unreachable host comes first in batches of one host
# (serial 1): max_fail_percentage 0 stops the rollout there, host2 never
# starts.
selftest() {
	local logf=$LOGS/selftest-missing.log rc=0 port
	FLEET_PLAYBOOK=$WORK/no-such-playbook.yml playbook "$logf" || rc=$?
	check "self-test: a missing playbook exits non-zero (got $rc)" test "$rc" -ne 0
	check "self-test: a missing playbook fails recap_ok (no PLAY RECAP)" not recap_ok "$logf"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	{
		echo "gone ansible_host=127.0.0.1 ansible_port=$port ansible_user=root"
		write_inventory | sed -n '/^host2 /p'
		echo "[all:vars]"
		echo "xe_vm_export_repo_url=$URL"
	} >"$WORK/inventory-unreachable"
	logf=$LOGS/selftest-unreachable.log
	rc=0
	FLEET_INVENTORY=$WORK/inventory-unreachable playbook "$logf" --check -e xe_vm_export_serial=1 || rc=$?
	check "self-test: an unreachable host exits non-zero (got $rc)" test "$rc" -ne 0
	check "self-test: its PLAY RECAP says unreachable=1" grep -qE "^gone +: .* unreachable=1 " "$logf"
	check "self-test: an unreachable host fails recap_ok" not recap_ok "$logf" gone host2
	check "self-test: max_fail_percentage 0 stopped the rollout before host2's batch" \
		not grep -qE "^host2 +: ok=[1-9]" "$logf"
}

# check_verify_fails - a failed verify fails the host: host2's verify
# replaced by one that prints its real report and exits 1 ("a check
# failed"); the role's verify tasks alone (--tags) fail host2, and pass with
# xe_vm_export_tolerate_verify_failure=true. The real one is put back.
check_verify_fails() {
	local v=$HOSTS_DIR/host2/usr/sbin/$NAME-verify logf=$LOGS/playbook-verify-fails.log rc=0
	chroot "$HOSTS_DIR/host2" "/usr/sbin/$NAME-verify" --no-smoke --quiet --json - \
		>"$HOSTS_DIR/host2/var/tmp/verify.json" 2>/dev/null || true
	mv "$v" "$v.real"
	printf '#!/bin/sh
cat /var/tmp/verify.json
exit 1
' >"$v"
	chmod 0755 "$v"
	playbook "$logf" --limit host2 --tags xe_vm_export_verify || rc=$?
	check "a verify that fails (exit 1) fails the host: exit $rc, host2 failed=1" \
		test "$rc" -ne 0 -a -n "$(grep -E '^host2 +: .* failed=1 ' "$logf")"
	logf=$LOGS/playbook-verify-tolerated.log
	rc=0
	playbook "$logf" --limit host2 --tags xe_vm_export_verify -e xe_vm_export_tolerate_verify_failure=true || rc=$?
	check "... and is tolerated with xe_vm_export_tolerate_verify_failure=true (exit $rc)" \
		test "$rc" -eq 0 -a -n "$(grep -E '^host2 +: .* failed=0 ' "$logf")"
	mv "$v.real" "$v"
	rm "$HOSTS_DIR/host2/var/tmp/verify.json"
}

# check_install - the repository before the kernel moved (A's packages);
# the playbook installs the metapackage on three hosts (and vm1, which
# reboots into it); host1's initramfs holds xe (refreshed by the module
# package), host2's and host3's do not.
check_install() {
	local h r n k=$HOST_KVER all=()
	serve_repo "$WORK/repo-before"
	for h in "${CHROOT_HOSTS[@]}"; do
		host_create "$h" "$([ "$h" = host1 ] && echo yes || echo no)"
	done
	vm_ready
	selftest
	check_fresh
	write_inventory >"$WORK/inventory"
	run_playbook 1 "first run on ${#HOSTS[@]} hosts (kernel $k)" || return 1
	for h in "${HOSTS[@]}"; do
		r=$WORK/reports/$h.json
		check "$h: report fetched" test -s "$r"
		[ "$h" = vm1 ] || check_ours "$h" "$k"
		n=$(jq -r '.fleet.seconds_repo_to_ready' "$r")
		log "$h: repository reachable -> module ready: $n s ($(case $h in host1) echo "initramfs holds xe: refreshed" ;; vm1) echo "in qemu ($VM_ACCEL)" ;; *) echo "depmod only" ;; esac))"
		echo "$h install $n" >>"$LOGS/timings"
	done
	[ -z "$VM_PID" ] || vm_installed
	check "host1: the initramfs holds our xe" initramfs_holds host1 "$k" "updates/$NAME/xe.ko"
	check "host2: an initramfs without xe is left without xe" not initramfs_holds host2 "$k" '/xe\.ko'
	check "fleet table: ${#HOSTS[@]} hosts with $k installed, our xe" \
		test "$(table_rows "^(host[123]|vm1) +$(re "$k") +installed +ours ")" -eq "${#HOSTS[@]}"
	sed 's/^/  /' "$WORK/reports/fleet-table.txt"
	playbook_unchanged 2 "a second run"
	[ -z "$VM_PID" ] || check "vm1: no reboot on the second run" test "$(vm_fact loaded.rebooted)" = false
	# vm1 (an emulated CPU) sits out the --check run: its own runs are the
	# install, the second run and the upgrade.
	all=("${HOSTS[@]}")
	HOSTS=("${CHROOT_HOSTS[@]}")
	playbook_unchanged check "--check" --check --limit fleet
	HOSTS=("${all[@]}")
	check_verify_fails
}

# host_upgrade HOST - what the host's own apt does when the archive moved:
# update, then one dist-upgrade. Prints its exit status and seconds.
host_upgrade() {
	local root=$HOSTS_DIR/$1 start rc=0
	start=$(date +%s)
	chroot "$root" apt-get update -q || rc=$?
	[ "$rc" -ne 0 ] || DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get dist-upgrade -y -q || rc=$?
	echo "fleet-test: exit $rc in $(($(date +%s) - start)) s"
}

# hosts_upgrade NAME - host_upgrade on every chroot host at once, each into
# $LOGS/NAME-HOST.log; returns when all are done (their exit status is in
# the logs' last line).
hosts_upgrade() {
	local h pid pids=()
	for h in "${CHROOT_HOSTS[@]}"; do
		host_upgrade "$h" >"$LOGS/$1-$h.log" 2>&1 &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || true
	done
}

# upgrade_line LOG - host_upgrade's "exit N in S s" line of LOG.
upgrade_line() {
	local line
	line=$(grep '^fleet-test: exit ' "$1" || echo "fleet-test: exit ? in ? s")
	echo "${line#fleet-test: }"
}

# check_upgrade - the kernel-ABI upgrade through the metapackages: the
# repository gains B's module package and its metapackage moves to B, the
# archive's kernel metapackage points to B; one apt-get dist-upgrade on each
# host brings linux-image-B together with B's module package.
check_upgrade() {
	local h line
	# Published now, after the repository it replaces: apt keeps the lists
	# it has when a Release's Date is older than theirs (rollback guard).
	run_logged "$LOGS/repo-moved.log" "make repo: the kernel moved to B, published" \
		env REPO_KEY="$REPO_KEY" REPO_URL="$URL" make -C "$TOP" repo DIST="$WORK/dist" REPO="$WORK/repo-moved"
	serve_repo "$WORK/repo-moved"
	log "upgrading the three chroot hosts: apt-get update && apt-get dist-upgrade (logs: $LOGS/upgrade-*.log)"
	hosts_upgrade upgrade
	for h in "${CHROOT_HOSTS[@]}"; do
		line=$(upgrade_line "$LOGS/upgrade-$h.log")
		log "$h: $line"
		echo "$h upgrade $(echo "$line" | awk '{ print $4 }')" >>"$LOGS/timings"
		if ! grep -q '^fleet-test: exit 0 ' "$LOGS/upgrade-$h.log"; then
			fail "$h: one apt-get dist-upgrade, exit 0 (log: $LOGS/upgrade-$h.log)"
			tail -n 20 "$LOGS/upgrade-$h.log"
			continue
		fi
		ok "$h: one apt-get dist-upgrade, exit 0"
		check "$h: the kernel metapackage moved to $KPKGVER" \
			test "$(pkg_version "$h" "linux-image-$SERIES-amd64")" = "$KPKGVER"
		check "$h: linux-image-$KVER came with it" test -n "$(pkg_version "$h" "linux-image-$KVER")"
		check "$h: $NAME-modules-amd64 moved to $V" test "$(pkg_version "$h" "$NAME-modules-amd64")" = "$V"
		check "$h: $NAME-modules-$KVER came with it" test -n "$(pkg_version "$h" "$NAME-modules-$KVER")"
		check "$h: A's module package stays for A" test -n "$(pkg_version "$h" "$NAME-modules-$KVER_OLD")"
		check "$h: modprobe resolves xe of $KVER to updates/" \
			test "$(chroot "$HOSTS_DIR/$h" modinfo -k "$KVER" -F filename xe)" = \
			"/lib/modules/$KVER/updates/$NAME/xe.ko.xz"
	done
	check "host1: B's initramfs holds our xe" initramfs_holds host1 "$KVER" "updates/$NAME/xe.ko"
	check "host1: B's initramfs made once in the upgrade (the kernel's, already with our xe)" \
		test "$(grep -c "Generating /boot/initrd.img-$KVER" "$LOGS/upgrade-host1.log")" -eq 1
	[ -z "$VM_PID" ] || vm_upgrade
	run_playbook 3 "after the upgrade" || return 1
	check "playbook after the upgrade changes nothing (changed=0)" test "$(recap_changed "$LOGS/playbook-3.log")" -eq 0
	for h in "${HOSTS[@]}"; do
		[ "$h" = vm1 ] || check_ours "$h" "$KVER"
		check "$h: $KVER_OLD still reported installed, our xe" test "$(report_of "$h" "$KVER_OLD")" = "installed ours"
	done
	check "fleet table: ${#HOSTS[@]} hosts with $KVER installed, our xe" \
		test "$(table_rows "^(host[123]|vm1) +$(re "$KVER") +installed +ours ")" -eq "${#HOSTS[@]}"
	sed 's/^/  /' "$WORK/reports/fleet-table.txt"
}

# check_unservable - host3 gets a kernel the repository has no module
# package for: the run does not fail, the table says skipped, with why.
check_unservable() {
	local k=$KVER_OTHER r=$WORK/reports/host3.json
	check "host3: linux-image-$k installed (no initramfs: not needed here)" \
		chroot "$HOSTS_DIR/host3" sh -c "INITRD=No dpkg -i /var/cache/fleet-test/linux-image-${k}_*.deb >/dev/null"
	run_playbook 4 "a host with a kernel the repository does not serve: no host failed" || return 1
	check "host3: $k reported skipped, the in-tree xe" test "$(report_of host3 "$k")" = "skipped in-tree"
	check "host3: the report says why ($NAME-modules-$k not in its repositories)" \
		grep -q "no $NAME-modules-$k in" <(jq -r --arg k "$k" '.kernels[] | select(.kernel == $k) | .reason' "$r")
	check "host3: $KVER still ours" test "$(report_of host3 "$KVER")" = "installed ours"
	check "fleet table: host3's $k is skipped, with the reason" \
		test "$(table_rows "^host3 +$(re "$k") +skipped +in-tree .*no $NAME-modules-$(re "$k") in")" -eq 1
	check "fleet table: no row failed or missing" test "$(table_rows " (missing|unknown|no-report) ")" -eq 0
	sed 's/^/  /' "$WORK/reports/fleet-table.txt"
}

# fleet_lint - ansible-lint on the playbook and the role, with the
# production profile (fleet/ansible/.ansible-lint); for the lint stage too.
fleet_lint() {
	need_packages ansible ansible-lint
	(cd "$TOP/fleet/ansible" && ansible-lint --nocolor playbook.yml roles/xe_vm_export)
}

check_hosts() {
	need_packages ansible mmdebstrap
	if fleet_lint >"$LOGS/ansible-lint.log" 2>&1; then
		ok "ansible-lint, production profile: clean ($(tail -n 1 "$LOGS/ansible-lint.log"))"
	else
		fail "ansible-lint, production profile (log: $LOGS/ansible-lint.log)"
		tail -n 20 "$LOGS/ansible-lint.log"
	fi
	HOST_KVER=${KVER_OLD:-$KVER}
	host_tarball
	[ -z "$KVER_OLD" ] || kernel_meta_standin
	trap 'vm_stop; hosts_destroy; cleanup' EXIT
	vm_begin
	check_install || return 0
	if [ -n "$KVER_OLD" ]; then
		check_kernel_waits
		check_upgrade || return 0
	else
		skip "the hosts' kernel-ABI upgrade" "one ABI of Linux $SERIES with its source in the archive"
	fi
	if [ -n "$KVER_OTHER" ]; then
		check_unservable
	else
		skip "a host kernel without module package" "no other ABI of Linux $SERIES in the archive"
	fi
}
