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
# kernel image of KVER (the module package depends on it), xe in its
# initramfs so that the initramfs refresh is exercised.
host_tarball() {
	local key tmp
	key=$(printf '%s\n' "$KVER" v1 | sha256sum | cut -c1-12)
	HOST_TARBALL=$TEST_CACHE/fleet/host-root-$key.tar
	[ -s "$HOST_TARBALL" ] && return 0
	need_packages mmdebstrap
	mkdir -p "$TEST_CACHE/fleet"
	tmp=${HOST_TARBALL%.tar}.tmp.tar
	# The hooks are shell run by mmdebstrap, $1 being the root.
	# shellcheck disable=SC2016
	run_logged "$LOGS/mmdebstrap.log" "mmdebstrap: host root with linux-image-$KVER" \
		nice mmdebstrap --variant=apt \
		--include="python3-minimal,python3-apt,kmod,xz-utils,initramfs-tools,linux-image-$KVER" \
		--setup-hook='mkdir -p "$1/usr/share/initramfs-tools/modules.d"' \
		--setup-hook='echo xe >"$1/usr/share/initramfs-tools/modules.d/xe-vm-export-tests"' \
		--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"' \
		bookworm "$tmp" /etc/apt/sources.list.d/debian.sources
	mv "$tmp" "$HOST_TARBALL"
}

host_create() { # NAME
	local root=$HOSTS_DIR/$1
	rm -rf --one-file-system "$root"
	mkdir -p "$root"
	tar -xf "$HOST_TARBALL" -C "$root"
	echo "$1" >"$root/etc/hostname"
	mount -t proc proc "$root/proc"
	HOST_MOUNTS+=("$root/proc")
	mount --bind /dev "$root/dev"
	HOST_MOUNTS+=("$root/dev")
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

# playbook LOG ARGS... - the fleet playbook on the three hosts.
playbook() {
	local logf=$1
	shift
	ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_RETRY_FILES_ENABLED=0 \
		ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" ANSIBLE_HOME="$WORK/ansible-home" \
		nice ansible-playbook -i "$WORK/inventory" "$TOP/fleet/ansible/playbook.yml" \
		-e "xe_vm_export_repo_url=$URL" \
		-e "xe_vm_export_keyring=$WORK/repo/$NAME-archive-keyring.gpg" \
		-e "xe_vm_export_report_dir=$WORK/reports" "$@" >"$logf" 2>&1
}

# recap_changed LOG - total changed= of the PLAY RECAP.
recap_changed() {
	sed -n 's/.* changed=\([0-9]*\) .*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'
}

check_hosts() {
	local h r n
	need_packages ansible mmdebstrap
	host_tarball
	trap 'hosts_destroy; cleanup' EXIT
	{
		echo "[fleet]"
		for h in host1 host2 host3; do
			host_create "$h"
			echo "$h ansible_connection=community.general.chroot ansible_host=$HOSTS_DIR/$h ansible_python_interpreter=/usr/bin/python3"
		done
	} >"$WORK/inventory"
	if playbook "$LOGS/playbook-1.log"; then
		ok "playbook: first run on three hosts"
	else
		fail "playbook: first run (log: $LOGS/playbook-1.log)"
		tail -n 30 "$LOGS/playbook-1.log"
		return 0
	fi
	for h in host1 host2 host3; do
		r=$WORK/reports/$h.json
		check "$h: report fetched" test -s "$r"
		check "$h: $KVER reported installed, our xe" \
			test "$(jq -r --arg k "$KVER" '.kernels[] | select(.kernel == $k) | .state + " " + .module' "$r")" = "installed ours"
		check "$h: modprobe resolves xe to updates/ in the host" \
			test "$(chroot "$HOSTS_DIR/$h" modinfo -k "$KVER" -F filename xe)" = \
			"/lib/modules/$KVER/updates/$NAME/xe.ko.xz"
		lsinitramfs "$HOSTS_DIR/$h/boot/initrd.img-$KVER" >"$WORK/initrd-$h.list" 2>/dev/null || true
		check "$h: the initramfs holds our xe" grep -q "updates/$NAME/xe.ko" "$WORK/initrd-$h.list"
		n=$(jq -r '.fleet.seconds_repo_to_ready' "$r")
		log "$h: repository reachable -> module ready: $n s"
		echo "$h $n" >>"$LOGS/timings"
	done
	n=$(grep -c "^host[123] .* $KVER .*installed .*ours" "$WORK/reports/fleet-table.txt" || true)
	check "fleet table: three hosts with $KVER installed, our xe" test "$n" -eq 3
	sed 's/^/  /' "$WORK/reports/fleet-table.txt"
	playbook "$LOGS/playbook-2.log" || true
	check "playbook: a second run, no host failed" not grep -q "failed=[1-9]" "$LOGS/playbook-2.log"
	check "playbook: a second run changes nothing (changed=0)" \
		test "$(recap_changed "$LOGS/playbook-2.log")" -eq 0
	playbook "$LOGS/playbook-check.log" --check || true
	check "playbook --check: no host failed" not grep -q "failed=[1-9]" "$LOGS/playbook-check.log"
	check "playbook --check: changes nothing" test "$(recap_changed "$LOGS/playbook-check.log")" -eq 0
}
