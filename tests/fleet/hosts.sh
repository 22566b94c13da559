# shellcheck shell=bash
# The fleet stage of tests/fleet/run.sh (sourced after it made the packages
# and the served repository): three isolated Debian 12 roots as hosts,
# reached by Ansible's chroot connection, and fleet/ansible/playbook.yml run
# on them: install, a second run that changes nothing, a --check run; the
# reports and the fleet table asserted; the time per host from "repository
# reachable" to "module ready".

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

# playbook LOG ARGS... - the fleet playbook on the three hosts; each task's
# time is in LOG (profile_tasks), where the seconds to module ready go.
playbook() {
	local logf=$1
	shift
	ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_RETRY_FILES_ENABLED=0 \
		ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
		ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" ANSIBLE_HOME="$WORK/ansible-home" \
		nice ansible-playbook -i "$WORK/inventory" "$TOP/fleet/ansible/playbook.yml" \
		-e "xe_vm_export_repo_url=$URL" \
		-e "xe_vm_export_keyring=$WORK/repo/$NAME-archive-keyring.gpg" \
		-e "xe_vm_export_report_dir=$WORK/reports" "$@" >"$logf" 2>&1
}

# recap_ok LOG - every host has its PLAY RECAP line in LOG, with
# unreachable=0 and failed=0 (a playbook that did not run has none).
recap_ok() {
	local h
	for h in "${HOSTS[@]}"; do
		grep -qE "^$h +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0( |\$)" "$1" ||
			{ echo "$h: no PLAY RECAP line with unreachable=0 failed=0 in $1" >&2; return 1; }
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

HOSTS=(host1 host2 host3)

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

# check_install - the repository before the kernel moved (A's packages);
# the playbook installs the metapackage on three hosts; host1's initramfs
# holds xe (refreshed by the module package), host2's and host3's do not.
check_install() {
	local h r n k=$HOST_KVER
	serve_repo "$WORK/repo-before"
	{
		echo "[fleet]"
		for h in "${HOSTS[@]}"; do
			host_create "$h" "$([ "$h" = host1 ] && echo yes || echo no)"
			echo "$h ansible_connection=community.general.chroot ansible_host=$HOSTS_DIR/$h ansible_python_interpreter=/usr/bin/python3"
		done
	} >"$WORK/inventory"
	run_playbook 1 "first run on three hosts (kernel $k)" || return 1
	for h in "${HOSTS[@]}"; do
		r=$WORK/reports/$h.json
		check "$h: report fetched" test -s "$r"
		check_ours "$h" "$k"
		n=$(jq -r '.fleet.seconds_repo_to_ready' "$r")
		log "$h: repository reachable -> module ready: $n s ($([ "$h" = host1 ] && echo "initramfs holds xe: refreshed" || echo "depmod only"))"
		echo "$h install $n" >>"$LOGS/timings"
	done
	check "host1: the initramfs holds our xe" initramfs_holds host1 "$k" "updates/$NAME/xe.ko"
	check "host2: an initramfs without xe is left without xe" not initramfs_holds host2 "$k" '/xe\.ko'
	check "fleet table: three hosts with $k installed, our xe" \
		test "$(table_rows "^host[123] +$(re "$k") +installed +ours ")" -eq 3
	sed 's/^/  /' "$WORK/reports/fleet-table.txt"
	playbook_unchanged 2 "a second run"
	playbook_unchanged check "--check" --check
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

# check_upgrade - the kernel-ABI upgrade through the metapackages: the
# repository gains B's module package and its metapackage moves to B, the
# archive's kernel metapackage points to B; one apt-get dist-upgrade on each
# host brings linux-image-B together with B's module package.
check_upgrade() {
	local h line pids=() i=0
	# Published now, after the repository it replaces: apt keeps the lists
	# it has when a Release's Date is older than theirs (rollback guard).
	run_logged "$LOGS/repo-moved.log" "make repo: the kernel moved to B, published" \
		env REPO_KEY="$REPO_KEY" REPO_URL="$URL" make -C "$TOP" repo DIST="$WORK/dist" REPO="$WORK/repo-moved"
	serve_repo "$WORK/repo-moved"
	log "upgrading the three hosts: apt-get update && apt-get dist-upgrade (logs: $LOGS/upgrade-*.log)"
	for h in "${HOSTS[@]}"; do
		host_upgrade "$h" >"$LOGS/upgrade-$h.log" 2>&1 &
		pids+=($!)
	done
	for h in "${HOSTS[@]}"; do
		wait "${pids[$i]}" || true
		i=$((i + 1))
		line=$(grep '^fleet-test: exit ' "$LOGS/upgrade-$h.log" || echo "fleet-test: exit ? in ? s")
		log "$h: ${line#fleet-test: }"
		echo "$h upgrade $(echo "$line" | awk '{ print $5 }')" >>"$LOGS/timings"
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
	run_playbook 3 "after the upgrade" || return 1
	check "playbook after the upgrade changes nothing (changed=0)" test "$(recap_changed "$LOGS/playbook-3.log")" -eq 0
	for h in "${HOSTS[@]}"; do
		check_ours "$h" "$KVER"
		check "$h: $KVER_OLD still reported installed, our xe" test "$(report_of "$h" "$KVER_OLD")" = "installed ours"
	done
	check "fleet table: three hosts with $KVER installed, our xe" \
		test "$(table_rows "^host[123] +$(re "$KVER") +installed +ours ")" -eq 3
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

check_hosts() {
	need_packages ansible mmdebstrap
	HOST_KVER=${KVER_OLD:-$KVER}
	host_tarball
	[ -z "$KVER_OLD" ] || kernel_meta_standin
	trap 'hosts_destroy; cleanup' EXIT
	check_install || return 0
	if [ -n "$KVER_OLD" ]; then
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
