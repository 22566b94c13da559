# shellcheck shell=bash
# The fleet's fourth host, vm1: a qemu guest that really reboots (sourced
# by tests/fleet/run.sh after hosts.sh). A Debian 12 system on its own
# ext4 disk (kernel A, systemd, openssh-server, python3 for Ansible, grub's
# update-grub), booted by OVMF through Debian's signed shim and grub, whose
# grub.cfg on the ESP hands over to the guest's /boot/grub/grub.cfg: the
# kernel that runs after a reboot is the one the guest's own update-grub
# made the default. Ansible reaches it over SSH on a loopback port forward
# (qemu -netdev user,hostfwd=tcp:127.0.0.1:PORT-:22); the guest reads the
# served repository at 10.0.2.2 (the host's 127.0.0.1 through qemu's user
# network). Prebuilt module packages (kmod): building xe inside an emulated
# CPU would take hours. Without an Intel GPU, xe loads and binds to nothing:
# `modprobe xe` and /sys/module/xe/srcversion tell which xe the running
# kernel takes.
#
# FLEET_VM=0 leaves vm1 out (counted as a skip); FLEET_VM_ACCEL=tcg (the
# default, what CI measures) or kvm.

VM_DIR=
VM_PID=
VM_PORT=
VM_KEY=
VM_BOOT_S=
VM_ACCEL=${FLEET_VM_ACCEL:-tcg}
# Less to print on an emulated serial port, no self-tests of the crypto.
VM_CMDLINE="quiet loglevel=3 systemd.show_status=false cryptomgr.notests mitigations=off"

# vm_boot_chain - ovmf, shim-signed and grub-efi-amd64-signed unpacked into
# the cache once (never installed: their maintainer scripts would install
# a boot loader on this machine).
vm_boot_chain() {
	local d=$TEST_CACHE/fleet/boot pkg
	VM_FW=$d/root
	[ -f "$VM_FW/.unpacked" ] && return 0
	rm -rf "$d"
	mkdir -p "$d/debs"
	for pkg in ovmf shim-signed grub-efi-amd64-signed; do
		(cd "$d/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >>"$LOGS/vm-download.log" 2>&1 ||
			die "apt-get download $pkg failed (log: $LOGS/vm-download.log)"
	done
	for pkg in "$d"/debs/*.deb; do
		dpkg-deb -x "$pkg" "$VM_FW"
	done
	touch "$VM_FW/.unpacked"
}

# vm_tarball - the guest's root (cached per kernel pair): dbus (shutdown
# -r, which Ansible's reboot runs, asks logind through it), kernel A and its
# initramfs made here (MODULES=list: virtio and ext4, a small initramfs
# that TCG unpacks quickly, and makes quickly for B), update-grub (grub2-common: its kernel hook runs it
# when a kernel is installed or removed), systemd-networkd asking DHCP,
# openssh-server; B's linux-image .deb waits in /var/cache/fleet-test (apt
# takes it from its archive cache at the upgrade: no download from the
# Debian archive inside an emulated CPU), and apt's lists of the archive
# stay (the role reads only its own repository's index; they name B).
vm_tarball() {
	local key tmp net=/etc/systemd/network/10-fleet.network
	local hooks=()
	key=$(printf '%s\n' "$HOST_KVER" "$KVER" vm4 | sha256sum | cut -c1-12)
	VM_TARBALL=$TEST_CACHE/fleet/vm-root-$key.tar
	[ -s "$VM_TARBALL" ] && return 0
	tmp=${VM_TARBALL%.tar}.tmp.tar
	# shellcheck disable=SC2016 # the hooks are shell run by mmdebstrap, $1 being the root
	hooks=(--customize-hook='mkdir -p "$1/etc/systemd/network"'
		--customize-hook="printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' >\"\$1$net\""
		--customize-hook='chroot "$1" systemctl enable systemd-networkd >/dev/null'
		--customize-hook='echo "nameserver 10.0.2.3" >"$1/etc/resolv.conf"'
		--customize-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/fleet-vm"'
		--customize-hook='printf "virtio_pci\nvirtio_blk\next4\n" >>"$1/etc/initramfs-tools/modules"'
		--customize-hook="chroot \"\$1\" update-initramfs -u -k $HOST_KVER"
		--customize-hook="mkdir -p \"\$1/var/cache/fleet-test\"; chroot \"\$1\" sh -c 'cd /var/cache/fleet-test && apt-get -q -o APT::Sandbox::User=root download linux-image-$KVER'")
	run_logged "$LOGS/vm-mmdebstrap.log" "mmdebstrap: vm1's root (linux-image-$HOST_KVER, systemd, sshd, update-grub)" \
		nice mmdebstrap --variant=apt --skip=cleanup/apt/lists \
		--include="systemd-sysv,udev,dbus,openssh-server,python3-minimal,python3-apt,kmod,zstd,initramfs-tools,grub2-common,grub-efi-amd64-bin,linux-image-$HOST_KVER" \
		"${hooks[@]}" bookworm "$tmp" /etc/apt/sources.list.d/debian.sources
	mv "$tmp" "$VM_TARBALL"
}

# vm_disk - the guest's disk (an ext4 file system, no partition table:
# grub and the kernel find it by UUID) and its ESP (a directory qemu shows
# as a FAT disk): shim, grub, and a grub.cfg that reads the root's.
# /boot/grub/grub.cfg starts as the one entry of A, written here (grub-mkconfig
# cannot probe a directory's device); the guest's update-grub rewrites it
# when the upgrade installs B.
vm_disk() {
	local root=$VM_DIR/root esp=$VM_DIR/esp uuid k=$HOST_KVER
	uuid=$(cat /proc/sys/kernel/random/uuid)
	mkdir -p "$root" "$esp/EFI/BOOT"
	tar -xf "$VM_TARBALL" -C "$root"
	mv "$root/var/cache/fleet-test/"*.deb "$root/var/cache/apt/archives/"
	echo vm1 >"$root/etc/hostname"
	echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
	install -d -m 0700 "$root/root/.ssh"
	install -m 0600 "$VM_KEY.pub" "$root/root/.ssh/authorized_keys"
	cat >>"$root/etc/default/grub" <<-EOF
	GRUB_TIMEOUT=0
	GRUB_CMDLINE_LINUX="console=ttyS0 $VM_CMDLINE"
	GRUB_TERMINAL=console
	EOF
	mkdir -p "$root/boot/grub"
	cat >"$root/boot/grub/grub.cfg" <<-EOF
	set timeout=0
	menuentry 'Debian GNU/Linux, with Linux $k (made by the fleet test)' {
	  search --no-floppy --fs-uuid --set=root $uuid
	  linux /boot/vmlinuz-$k root=UUID=$uuid ro console=ttyS0 $VM_CMDLINE
	  initrd /boot/initrd.img-$k
	}
	EOF
	run_logged "$LOGS/vm-mkfs.log" "vm1: ext4 disk from the root" \
		mkfs.ext4 -q -F -U "$uuid" -L vm1-root -d "$root" "$VM_DIR/root.img" 4G
	rm -rf --one-file-system "$root"
	cp "$VM_FW/usr/lib/shim/shimx64.efi.signed" "$esp/EFI/BOOT/BOOTX64.EFI"
	cp "$VM_FW/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$esp/EFI/BOOT/grubx64.efi"
	cat >"$esp/EFI/BOOT/grub.cfg" <<-EOF
	search --no-floppy --fs-uuid --set=root $uuid
	set prefix=(\$root)/boot/grub
	configfile \$prefix/grub.cfg
	EOF
	cp "$VM_FW/usr/share/OVMF/OVMF_VARS_4M.fd" "$VM_DIR/vars.fd"
}

# vm_stamp - the console with seconds since qemu started before each line.
vm_stamp() {
	local line t0=${EPOCHREALTIME/./} t
	while IFS= read -r line; do
		t=$((${EPOCHREALTIME/./} - t0))
		printf '%d.%03d %s\n' $((t / 1000000)) $((t / 1000 % 1000)) "${line//$'\r'/}"
	done
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

vm_ssh() { # ARGS... - a command in the guest
	ssh -q -i "$VM_KEY" -p "$VM_PORT" -o BatchMode=yes -o ConnectTimeout=5 \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 "$@"
}

# vm_start - qemu in the background (console in LOGS/vm-console.log); the
# guest reboots in the same qemu (no -no-reboot).
vm_start() {
	VM_DIR=$WORK/vm
	mkdir -p "$VM_DIR"
	VM_KEY=$VM_DIR/id_ed25519
	ssh-keygen -q -t ed25519 -N '' -C fleet-test -f "$VM_KEY"
	vm_disk
	VM_PORT=$(free_port)
	VM_T0=$(date +%s)
	nice qemu-system-x86_64 -accel "$VM_ACCEL" -machine q35 -m 1536 -smp 2 \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$VM_FW/usr/share/OVMF/OVMF_CODE_4M.fd" \
		-drive "if=pflash,format=raw,unit=1,file=$VM_DIR/vars.fd" \
		-drive "if=virtio,format=raw,readonly=on,file=fat:$VM_DIR/esp" \
		-drive "if=virtio,format=raw,file=$VM_DIR/root.img" \
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$VM_PORT-:22" -device virtio-net-pci,netdev=n0 \
		-nodefaults -display none -serial stdio </dev/null 2>"$LOGS/vm-qemu.log" \
		> >(vm_stamp >"$LOGS/vm-console.log") &
	VM_PID=$!
	log "vm1: qemu ($VM_ACCEL) started, ssh on 127.0.0.1:$VM_PORT (console: $LOGS/vm-console.log)"
}

# vm_wait_ssh - until the guest answers on SSH (or qemu ended, or 600 s).
vm_wait_ssh() {
	local _
	for _ in $(seq 300); do
		kill -0 "$VM_PID" 2>/dev/null || return 1
		vm_ssh true 2>/dev/null && { VM_BOOT_S=$(($(date +%s) - VM_T0)); return 0; }
		sleep 2
	done
	return 1
}

vm_stop() {
	[ -z "$VM_PID" ] || kill "$VM_PID" 2>/dev/null || true
	[ -z "$VM_PID" ] || wait "$VM_PID" 2>/dev/null || true
	VM_PID=
}

# vm_inventory - vm1's inventory line: SSH on the forwarded port; the
# repository at 10.0.2.2; its kernel flavour and running kernel from its
# facts; the reboot handler and the check of the loaded xe on (defaults).
vm_inventory() {
	echo "[vm]"
	echo "vm1 ansible_host=127.0.0.1 ansible_port=$VM_PORT ansible_user=root" \
		"ansible_ssh_private_key_file=$VM_KEY ansible_python_interpreter=/usr/bin/python3" \
		"ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'" \
		"xe_vm_export_repo_url=${URL/127.0.0.1/10.0.2.2}"
}

vm_fact() { # KEY - from vm1's report: jq path under .fleet
	jq -r ".fleet.$1" "$WORK/reports/vm1.json"
}

# pkg_srcversion DEB - srcversion of the xe.ko in a module package
pkg_srcversion() {
	local d=$WORK/srcv
	rm -rf "$d"
	dpkg-deb -x "$1" "$d"
	modinfo -F srcversion "$(find "$d" -name 'xe.ko*' | head -n 1)"
}

# vm_check_ours KERNEL DEB WHEN - the guest runs KERNEL and its loaded xe
# is the one in DEB (srcversion read in the guest, not from the role).
vm_check_ours() {
	local want got
	want=$(pkg_srcversion "$2")
	got=$(vm_ssh 'uname -r; cat /sys/module/xe/srcversion; modinfo -F filename xe' 2>/dev/null | paste -sd' ' || true)
	check "vm1 $3: runs $1 with our xe loaded from updates/ (srcversion $want; guest: $got)" \
		test "$got" = "$1 $want /lib/modules/$1/updates/$NAME/xe.ko.xz"
	check "vm1 $3: the role saw ours loaded ($(vm_fact loaded.kernel), $(vm_fact loaded.srcversion))" \
		test "$(vm_fact loaded.kernel) $(vm_fact loaded.srcversion)" = "$1 $want"
}

# vm_upgrade - vm1 gets B through the role alone: the new metapackage
# pulls B's module package and linux-image-B; the guest's update-grub
# makes B the default; the handler reboots; the role checks ours loaded.
vm_upgrade() {
	local logf=$LOGS/playbook-vm-upgrade.log rc=0 s
	playbook "$logf" --limit vm1 || rc=$?
	check "vm1: playbook after the repository moved to B exits 0 (log: $logf)" test "$rc" -eq 0
	check "vm1: PLAY RECAP unreachable=0 failed=0" recap_ok "$logf" vm1
	[ -s "$WORK/reports/vm1.json" ] || { fail "vm1: no report after the upgrade"; return 0; }
	check "vm1: rebooted by the handler (the module and the kernel changed)" \
		test "$(vm_fact loaded.rebooted)" = true
	check "vm1: the guest's update-grub (grub-mkconfig) made B the default entry" \
		vm_ssh "grep -q '^### BEGIN /etc/grub.d/10_linux ###' /boot/grub/grub.cfg &&
			grep -m1 -E '^[[:space:]]+linux[[:space:]]' /boot/grub/grub.cfg | grep -q 'vmlinuz-$KVER '"
	vm_check_ours "$KVER" "$(ls "$WORK/dist/$NAME-modules-${KVER}"_*.deb)" "after the upgrade"
	s=$(vm_fact seconds_repo_to_loaded)
	log "vm1: repository moved -> B installed, rebooted, ours loaded: $s s"
	echo "vm1 upgrade-to-loaded $s" >>"$LOGS/timings"
}

# vm_begin - vm1's disk made and qemu started (it boots while the chroot
# hosts are made); FLEET_VM=0 or a single kernel ABI (no upgrade to reboot
# into) leave it out, counted as a skip.
vm_begin() {
	if [ "${FLEET_VM:-1}" = 0 ] || [ -z "$KVER_OLD" ]; then
		skip "vm1, the host that reboots" "$([ -z "$KVER_OLD" ] && echo "no kernel-ABI upgrade" || echo FLEET_VM=0)"
		return 0
	fi
	need_packages qemu-system-x86 qemu-utils openssh-client e2fsprogs
	vm_boot_chain
	vm_tarball
	vm_start
	HOSTS+=(vm1)
}

# vm_ready - the guest answers on SSH; else vm1 leaves the fleet, failed.
vm_ready() {
	[ -n "$VM_PID" ] || return 0
	if vm_wait_ssh; then
		ok "vm1: OVMF, shim, grub, $HOST_KVER and sshd up in $VM_BOOT_S s ($VM_ACCEL)"
		echo "vm1 boot $VM_BOOT_S" >>"$LOGS/timings"
	else
		fail "vm1: no SSH after $(($(date +%s) - VM_T0)) s (console: $LOGS/vm-console.log)"
		tail -n 20 "$LOGS/vm-console.log"
		vm_stop
		HOSTS=("${CHROOT_HOSTS[@]}")
	fi
}

# vm_installed - after the first run: vm1 rebooted into A with ours.
vm_installed() {
	check "vm1: rebooted by the handler (the module changed)" test "$(vm_fact loaded.rebooted)" = true
	vm_check_ours "$HOST_KVER" "$(ls "$WORK/dist-old/$NAME-modules-${HOST_KVER}"_*.deb)" "after the install"
	log "vm1: reboot $(vm_fact loaded.reboot_seconds) s; repository reachable -> ours loaded: $(vm_fact seconds_repo_to_loaded) s"
	echo "vm1 reboot $(vm_fact loaded.reboot_seconds)" >>"$LOGS/timings"
	echo "vm1 install-to-loaded $(vm_fact seconds_repo_to_loaded)" >>"$LOGS/timings"
}
