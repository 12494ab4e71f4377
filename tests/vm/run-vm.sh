#!/usr/bin/env bash
# Boots the VM test's image (build-image.sh) with KVM (or emulated: --accel tcg): direct kernel
# boot, a copy-on-write overlay of the cached root file system, the serial console into a file,
# and a network on which the guest reaches nothing but the coordinator (docs/testing.md "The
# real-VM test"). For the hang test (vm_hang_test.sh, docs/power-console.md) the serial console
# is also a Unix socket a console command reads (--serial-socket; console.log is still written),
# and QEMU's monitor a QMP socket its power commands talk to (--qmp-socket).
#
#   run-vm.sh --image DIR --work-dir DIR --agent-conf FILE --coordinator-pub FILE
#             --coordinator-port PORT [--memory MiB] [--accel kvm|tcg]
#             [--serial-socket PATH] [--qmp-socket PATH]
#
# Execs QEMU in the foreground, so the caller's `$!` is QEMU's pid: stop the VM by killing that
# pid. WORK_DIR gets overlay.qcow2 (every write of the guest, kept across its reboots, so the
# persistent journal and the agent's spool survive them) and console.log (all boots' serial
# output). The guest gets the two files as /etc/labmesh/agent.conf and /etc/labmesh/coordinator.pub
# before its agent starts (fw_cfg entries opt/labmesh/NAME, copied by the image's
# labmesh-vm-config.service). The key goes as a file, as the package expects it: written into
# agent.conf as `coordinator-key = "KEY"`, a key holding '#' (about 4 keys in 10) is cut there,
# since the config parser takes '#' for a comment even between quotes.
#
# The network: QEMU user mode with restrict=on (no route out of the guest, the host's ports
# unreachable) and one guestfwd rule: 10.0.2.100:7710 in the guest is 127.0.0.1:PORT here. The
# rule's form matters. `guestfwd=tcp:ADDR:PORT-tcp:127.0.0.1:PORT` (a chardev) connects once, when
# QEMU starts, and serves only the guest's first connection: with QEMU 7.2 and libslirp 4.7
# (Debian 12), three connections one after another from the guest to a host server that answers
# each one got the answer on the first and nothing on the next two. The agent opens a new
# connection after every reboot and every reconnect. The `cmd:` form runs its command for each
# connection the guest opens (the same three connections all got their answer), so relay.py
# copies each one to the coordinator; the test's reboots use that, several boots per QEMU process.
#
# The kernel command line: panic=1 (a panic resets the machine after a second, and QEMU, which
# keeps guest RAM across a reset, boots the same kernel again); memmap= keeps 1 MiB at 256 MiB
# out of the kernel's use and ramoops keeps its records there, so the panic's message is in
# /sys/fs/pstore in the next boot.
set -euo pipefail

script_dir=$(cd "$(dirname "$0")" && pwd)
usage() {
  echo "usage: $0 --image DIR --work-dir DIR --agent-conf FILE --coordinator-pub FILE" \
    "--coordinator-port PORT [--memory MiB] [--accel kvm|tcg] [--serial-socket PATH]" \
    "[--qmp-socket PATH]" >&2
  exit 2
}

image="" work="" conf="" pub="" port="" memory=512 accel=kvm serial_socket="" qmp_socket=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --image) [[ $# -ge 2 ]] || usage; image=$2; shift 2 ;;
    --work-dir) [[ $# -ge 2 ]] || usage; work=$2; shift 2 ;;
    --agent-conf) [[ $# -ge 2 ]] || usage; conf=$2; shift 2 ;;
    --coordinator-pub) [[ $# -ge 2 ]] || usage; pub=$2; shift 2 ;;
    --coordinator-port) [[ $# -ge 2 ]] || usage; port=$2; shift 2 ;;
    --memory) [[ $# -ge 2 ]] || usage; memory=$2; shift 2 ;;
    --accel) [[ $# -ge 2 && ( $2 == kvm || $2 == tcg ) ]] || usage; accel=$2; shift 2 ;;
    --serial-socket) [[ $# -ge 2 ]] || usage; serial_socket=$2; shift 2 ;;
    --qmp-socket) [[ $# -ge 2 ]] || usage; qmp_socket=$2; shift 2 ;;
    *) echo "run-vm.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n "$image" && -n "$work" && -n "$conf" && -n "$pub" && -n "$port" ]] || usage
for f in rootfs.img vmlinuz initrd.img; do
  [[ -f "$image/$f" ]] || { echo "run-vm.sh: $image/$f is missing (build-image.sh)" >&2; exit 1; }
done
for f in "$conf" "$pub"; do
  [[ -f "$f" ]] || { echo "run-vm.sh: $f: no such file" >&2; exit 1; }
done
[[ "$port" =~ ^[0-9]+$ ]] || { echo "run-vm.sh: bad port '$port'" >&2; exit 2; }
# QEMU's option syntax separates with commas: none may appear in the paths it is given.
for path in "$image" "$work" "$conf" "$pub" "$script_dir" "$serial_socket" "$qmp_socket"; do
  [[ "$path" != *,* ]] || { echo "run-vm.sh: a path with a comma: $path" >&2; exit 2; }
done
image=$(cd "$image" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)

overlay="$work/overlay.qcow2"
if [[ ! -f "$overlay" ]]; then
  qemu-img create -q -f qcow2 -b "$image/rootfs.img" -F raw "$overlay"
fi

ramoops_base=0x10000000  # 256 MiB: below the initrd QEMU loads at the top of RAM
cmdline=(
  root=/dev/vda rw console=ttyS0 panic=1 quiet net.ifnames=0
  "memmap=1M\$${ramoops_base}"
  "ramoops.mem_address=${ramoops_base}" ramoops.mem_size=0x100000
  ramoops.record_size=0x20000 ramoops.console_size=0x20000
)

# -cpu host without arch-capabilities: where this machine is itself a VM (nested KVM), QEMU 7.2
# aborts setting that MSR ("failed to set MSR 0x10a").
if [[ "$accel" == kvm ]]; then
  accel_args=(-enable-kvm -cpu host,arch-capabilities=off)
else
  accel_args=(-accel tcg)
fi
# The serial console: a file, or a socket server (a reader may come and go; what it misses is
# still in the file) that logs into the same file.
serial_args=(-serial "file:$work/console.log")
if [[ -n "$serial_socket" ]]; then
  serial_args=(-chardev "socket,id=serial0,path=$serial_socket,server=on,wait=off,logfile=$work/console.log"
               -serial chardev:serial0)
fi
monitor_args=(-monitor none)
if [[ -n "$qmp_socket" ]]; then
  monitor_args=(-monitor none -qmp "unix:$qmp_socket,server=on,wait=off")
fi
exec qemu-system-x86_64 \
  "${accel_args[@]}" -m "$memory" -smp 1 \
  -nographic "${serial_args[@]}" "${monitor_args[@]}" \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" -append "${cmdline[*]}" \
  -drive "file=$overlay,format=qcow2,if=virtio,cache=unsafe" \
  -netdev "user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:7710-cmd:/usr/bin/python3 $script_dir/relay.py 127.0.0.1 $port" \
  -device virtio-net-pci,netdev=net0,romfile= \
  -device virtio-rng-pci \
  -fw_cfg "name=opt/labmesh/agent.conf,file=$conf" \
  -fw_cfg "name=opt/labmesh/coordinator.pub,file=$pub" \
  < /dev/null
