#!/usr/bin/env bash
# Builds (or finds in its cache) the small Debian 12 virtual machine the VM test boots
# (docs/testing.md "The real-VM test"): a raw ext4 root file system holding systemd, a kernel and
# the labmesh-agent .deb, plus the kernel and initrd taken out of it for QEMU's direct kernel
# boot (no boot loader).
#
#   build-image.sh --deb labmesh-agent_VERSION_ARCH.deb
#
# Prints the image's directory (rootfs.img, vmlinuz, initrd.img) as its last line of stdout.
# Needs root (debootstrap, chroot), debootstrap and mkfs.ext4, and Debian's package archive (the
# mirror apt uses here, or $LABMESH_VM_MIRROR).
#
# Two cached layers under ${LABMESH_VM_CACHE:-/var/cache/labmesh-vm}, outside the source tree:
#   base-KEY/rootfs   debootstrap --variant=minbase of bookworm with systemd, udev, the kernel and
#                     the agent's Depends, configured for the VM; KEY hashes the functions that
#                     make it and the .deb's Depends, so a new agent build does not download
#                     Debian again;
#   image-KEY/        the base with the .deb installed, as an ext4 image; KEY hashes this script
#                     and the .deb's contents.
# A lock serialises builds that run at the same time; older entries are pruned (a few kept).
#
# What the guest gets (all set here, so the key covers it):
#   - QEMU user networking's fixed address 10.0.2.15/24 set by `ip` (no DHCP, no networkd);
#   - a persistent journal (Storage=persistent), so `journalctl -k -b -1` has the boot before;
#   - ramoops loaded at boot (its memory region and size come from the kernel command line that
#     run-vm.sh gives, so they live in one place) and systemd-pstore told to leave the records in
#     /sys/fs/pstore (Unlink=no) for the agent's crash collection to copy;
#   - labmesh-vm-config.service: before the agent starts, copies QEMU's fw_cfg entries
#     opt/labmesh/NAME to /etc/labmesh/NAME (run-vm.sh passes each test's agent.conf and
#     coordinator.pub), so the base image stays read-only and every test boots a copy-on-write
#     overlay of it;
#   - the agent's log on the serial console too (console.log), root without a password there.
set -euo pipefail

script_dir=$(cd "$(dirname "$0")" && pwd)
self="$script_dir/$(basename "$0")"
cache=${LABMESH_VM_CACHE:-/var/cache/labmesh-vm}
suite=bookworm

die() { echo "build-image.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 --deb labmesh-agent_VERSION_ARCH.deb" >&2; exit 2; }
log() { echo "build-image [${SECONDS}s] $*" >&2; }

deb=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --deb) [[ $# -ge 2 ]] || usage; deb=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "build-image.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n "$deb" ]] || usage
[[ -f "$deb" ]] || die "$deb: no such file"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot)"
for tool in debootstrap mkfs.ext4 dpkg-deb sha256sum chroot; do
  command -v "$tool" >/dev/null || die "'$tool' is needed (scripts/setup.sh installs it)"
done

# The mirror apt already uses for bookworm (deb822 or one-line sources), else deb.debian.org.
mirror() {
  if [[ -n "${LABMESH_VM_MIRROR:-}" ]]; then echo "$LABMESH_VM_MIRROR"; return; fi
  local uri
  uri=$(awk -v suite="$suite" '
    /^URIs:/ { uris = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = uris }
    /^$/ { uris = "" } END { print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z "$uri" ]]; then
    uri=$(awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# The .deb's Depends as package names for debootstrap's --include (first of each alternative,
# versions dropped: the suite's versions are what the archive has). debootstrap knows no virtual
# packages (libspdlog1.10-fmt9 is one): such a name becomes the installed package providing it,
# which this machine has, since it built the agent against it.
deb_depends() {
  local name provider
  dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' |
    grep -v '^$' | sort -u | while read -r name; do
      if dpkg-query -W -f='${Status}\n' "$name" 2>/dev/null | grep -q ' installed$'; then
        echo "$name"
      else
        provider=$(dpkg-query -W -f='${Package}\t${Provides}\n' |
          awk -F'\t' -v n="$name" '{ split($2, p, /, */); for (i in p) { sub(/ .*/, "", p[i]);
            if (p[i] == n) { print $1; exit } } }')
        [[ -n "$provider" ]] || die "no installed package provides $name (a Depends of $deb)"
        echo "$provider"
      fi
    done | sort -u | paste -sd, -
}

# What the .deb holds (files with their modes and owners, the control files), not its bytes: cpack
# writes new archive timestamps every time it packages the same build.
deb_content_hash() {
  local x
  x=$(mktemp -d)
  dpkg-deb -R "$deb" "$x"
  (cd "$x" && find . -printf '%p %m %u %g %l\n' | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64
  rm -rf "$x"
}

script_hash=$(sha256sum "$self" | cut -c1-64)
depends=$(deb_depends)

mkdir -p "$cache"
exec 9> "$cache/lock"
flock 9

work=$(mktemp -d "$cache/work.XXXXXX")
# debootstrap mounts proc and sys (and, where it cannot make device nodes, binds /dev) inside
# the target while it works: whatever a failure left mounted goes before anything is removed,
# and rm never crosses into another file system.
cleanup() {
  local m
  for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The guest's own configuration, written into the base before debootstrap installs anything:
# none of these paths belongs to a package, so dpkg leaves them alone.
write_guest_files() {
  local root=$1
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/initramfs-tools/conf.d" \
    "$root/etc/initramfs-tools/hooks" \
    "$root/etc/systemd/journald.conf.d" "$root/etc/systemd/pstore.conf.d" \
    "$root/etc/modules-load.d" "$root/etc/systemd/system/labmesh-agent.service.d" \
    "$root/usr/local/sbin" "$root/var/log/journal"
  # No documentation, and no fsync per file: an image is rebuilt rather than repaired.
  cat > "$root/etc/dpkg/dpkg.cfg.d/labmesh-vm" <<'EOF'
force-unsafe-io
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
EOF
  # A small initrd: only what mounting /dev/vda needs (the default, MODULES=most, takes a
  # minute and 30 MB).
  echo "MODULES=list" > "$root/etc/initramfs-tools/conf.d/labmesh-vm"
  cat > "$root/etc/initramfs-tools/hooks/labmesh-vm" <<'EOF'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for m in virtio_pci virtio_blk ext4 crc32c_generic crc32c_intel; do manual_add_modules "$m"; done
EOF
  chmod 0755 "$root/etc/initramfs-tools/hooks/labmesh-vm"
  echo "labmesh-vm" > "$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tlabmesh-vm\n' > "$root/etc/hosts"
  # Root is mounted read-write by the kernel (`rw` on the command line): no fsck at boot.
  echo "/dev/vda / ext4 rw,relatime,errors=remount-ro 0 0" > "$root/etc/fstab"
  # QEMU user networking: the guest is 10.0.2.15, the gateway 10.0.2.2; the coordinator is
  # reached at the guestfwd address run-vm.sh sets up (10.0.2.100). virtio_net and qemu_fw_cfg
  # are loaded by systemd-modules-load, first thing, and three `ip` commands configure eth0
  # (net.ifnames=0 on the kernel command line keeps that name) without waiting for udev to
  # announce the device, or for systemd-networkd and its wait-online: emulated, udev took 17 s
  # of a 26 s boot to get there.
  printf 'virtio_net\nqemu_fw_cfg\n' > "$root/etc/modules-load.d/labmesh-vm-early.conf"
  cat > "$root/etc/systemd/system/labmesh-vm-network.service" <<'EOF'
[Unit]
Description=QEMU user network (static 10.0.2.15)
After=systemd-modules-load.service
Before=network.target network-online.target
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do [ -e /sys/class/net/eth0 ] && exit 0; sleep 0.1; done; exit 1'
ExecStart=/usr/bin/ip addr add 10.0.2.15/24 dev eth0
ExecStart=/usr/bin/ip link set eth0 up
ExecStart=/usr/bin/ip route add default via 10.0.2.2

[Install]
WantedBy=network-online.target
EOF
  printf '[Journal]\nStorage=persistent\n' > "$root/etc/systemd/journald.conf.d/labmesh-vm.conf"
  # systemd-pstore would move the records out of /sys/fs/pstore at boot; the agent's crash
  # collection copies them from there.
  printf '[PStore]\nUnlink=no\n' > "$root/etc/systemd/pstore.conf.d/labmesh-vm.conf"
  echo ramoops > "$root/etc/modules-load.d/labmesh-vm.conf"
  cat > "$root/usr/local/sbin/labmesh-vm-config" <<'EOF'
#!/bin/sh
# Copies each of QEMU's fw_cfg entries opt/labmesh/NAME (run-vm.sh: agent.conf, coordinator.pub)
# to /etc/labmesh/NAME.
set -e
modprobe qemu_fw_cfg 2>/dev/null || true
install -d -m 0755 /etc/labmesh
for src in /sys/firmware/qemu_fw_cfg/by_name/opt/labmesh/*/raw; do
  [ -r "$src" ] || continue
  install -m 0600 "$src" "/etc/labmesh/$(basename "$(dirname "$src")")"
done
EOF
  chmod 0755 "$root/usr/local/sbin/labmesh-vm-config"
  cat > "$root/etc/systemd/system/labmesh-vm-config.service" <<'EOF'
[Unit]
Description=labmesh agent configuration from QEMU fw_cfg
Before=labmesh-agent.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/labmesh-vm-config
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
EOF
  # The agent's log also goes to the serial console: the test's console.log then shows what the
  # agent did in every boot, even when the guest died before its journal reached the disk.
  cat > "$root/etc/systemd/system/labmesh-agent.service.d/labmesh-vm.conf" <<'EOF'
[Unit]
Wants=labmesh-vm-config.service
After=labmesh-vm-config.service

[Service]
StandardOutput=journal+console
StandardError=journal+console
EOF
}

# Kernel modules a VM never needs (hardware drivers, wireless, sound): most of the image's size.
# KVM goes too: udev would load kvm_amd/kvm_intel from the CPU's flags at every boot.
prune_modules() {
  local root=$1 dir
  for dir in "$root"/lib/modules/*/kernel; do
    rm -rf "$dir"/drivers/{gpu,media,net/wireless,net/ethernet,infiniband,staging,usb,bluetooth} \
      "$dir"/drivers/{iio,scsi,ata,isdn,mtd,hwmon,input/touchscreen,video,thunderbolt,nfc} \
      "$dir"/drivers/{net/can,net/usb,platform/x86,edac,mmc,spi,i2c,hid,comedi,misc,crypto} \
      "$dir"/net/{wireless,mac80211,bluetooth} "$dir"/sound "$dir"/arch/x86/kvm \
      "$dir"/fs/{btrfs,xfs,ocfs2,gfs2,nfs,nfsd,ceph,cifs,smb,f2fs,reiserfs,jfs,nilfs2,ntfs3,ubifs}
  done
  rm -rf "$root"/lib/firmware/*
}

build_base() {
  local root="$work/base/rootfs"
  mkdir -p "$root"
  write_guest_files "$root"
  local includes="systemd,systemd-sysv,udev,dbus,kmod,procps,iproute2,linux-image-amd64,$depends"
  local m
  m=$(mirror)
  log "debootstrap $suite from $m (minbase + $includes)"
  if ! debootstrap --variant=minbase --include="$includes" --components=main "$suite" "$root" \
         "$m" > "$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [[ -f "$root/debootstrap/debootstrap.log" ]] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  log "debootstrap done"
  prune_modules "$root"
  local kver
  kver=$(ls "$root/lib/modules" | sort -V | tail -n 1)
  chroot "$root" depmod "$kver"
  chroot "$root" passwd -d root > /dev/null
  chroot "$root" systemctl enable labmesh-vm-network.service labmesh-vm-config.service \
    > /dev/null 2>&1
  # Nothing in the guest needs the base system's timers, e2scrub or a getty on a screen it does
  # not have (they only add work at boot).
  chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    fstrim.timer dpkg-db-backup.timer e2scrub_reap.service getty@tty1.service \
    > /dev/null 2>&1 || true
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  rm -rf "$base"
  mv "$work/base" "$base"
  touch "$base/done"
  log "base cached in $base"
}

# The base's key covers the functions that make it (not the rest of this script, so that a change
# to the image step does not download Debian again), the suite and the agent's Depends.
base_key=$(printf '%s\n%s\n%s\n' "$(declare -f write_guest_files prune_modules build_base)" \
  "$suite" "$depends" | sha256sum | cut -c1-16)
image_key=$(printf '%s\n%s\n' "$script_hash" "$(deb_content_hash)" | sha256sum | cut -c1-16)
base="$cache/base-$base_key"
image="$cache/image-$image_key"
if [[ -f "$image/done" ]]; then
  log "cached: $image"
  touch "$image/done"
  echo "$image"
  exit 0
fi

if [[ ! -f "$base/done" ]]; then
  build_base
else
  log "base cached: $base"
  touch "$base/done"
fi

log "install $(basename "$deb") into a copy of the base"
root="$work/image/rootfs"
mkdir -p "$work/image"
cp -a "$base/rootfs" "$root"
cp "$deb" "$root/tmp/labmesh-agent.deb"
# The package's postinst sees no running systemd in the chroot: it enables the unit only.
if ! chroot "$root" dpkg -i /tmp/labmesh-agent.deb > "$work/dpkg.log" 2>&1; then
  cat "$work/dpkg.log" >&2
  die "dpkg -i of the agent package in the image failed"
fi
rm -f "$root/tmp/labmesh-agent.deb"
[[ -L "$root/etc/systemd/system/multi-user.target.wants/labmesh-agent.service" ]] ||
  die "the agent's unit is not enabled in the image"

kver=$(ls "$root/lib/modules" | sort -V | tail -n 1)
out="$work/image"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img"
echo "$kver" > "$out/kernel-version"
dpkg-deb -f "$deb" Version > "$out/agent-version"
# Room for the tests' results, spool and journal above what the files take.
size_mib=$(( $(du -sm "$root" | cut -f1) + 768 ))
log "mkfs.ext4 -d (${size_mib} MiB, sparse)"
truncate -s "${size_mib}M" "$out/rootfs.img"
mkfs.ext4 -q -F -L labmesh-root -d "$root" "$out/rootfs.img" > /dev/null
rm -rf "$root"
rm -rf "$image"
mv "$out" "$image"
touch "$image/done"

# Keep the three newest images and the two newest bases.
prune() {
  local pattern=$1 keep=$2 old
  # By the time of `done`, which every use touches.
  ls -t "$cache"/$pattern/done 2>/dev/null | tail -n +"$((keep + 1))" | while read -r old; do
    rm -rf "$(dirname "$old")"
  done
}
prune 'image-*' 3
prune 'base-*' 2
log "image cached in $image (kernel $kver)"
echo "$image"
