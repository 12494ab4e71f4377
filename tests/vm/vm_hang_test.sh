#!/usr/bin/env bash
# The real-VM test of a hung kernel (issue 28, docs/power-console.md, docs/testing.md "The
# real-VM test"): the same Debian 12 virtual machine and agent as vm_test.sh, whose serial
# console is a socket the host's --console command reads (console_reader.py) and whose power
# method talks to QEMU's monitor (qmp.py: system_reset, query-status, stop, cont).
#  1. package, image, coordinator (--dead-after 30s) and boot as vm_test.sh does; the host gets
#     its power method and console with `labmesh host power-config`, and `host power status`
#     answers through QMP;
#  2. a job hangs the kernel: `echo 0 > /proc/sys/kernel/panic` (no reboot on a panic;
#     panic_on_oops is off) and sysrq c, so the kernel stops. The console shows the panic, which
#     marks the entry as a crash; the agent is silent, the host goes Dead, its entry fails, and
#     the coordinator power cycles the VM through QMP;
#  3. the VM boots, its agent registers, the coordinator repairs and verifies it: Ready;
#  4. the next job runs on the same VM and completes.
# Prints the time from the hang to the host Ready again, and what the console caught.
#
#   vm_hang_test.sh --build-dir DIR
#
# Exits 77 (ctest: skipped) with the reason when /dev/kvm, QEMU, debootstrap or root is missing.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
vm_dir="$source_dir/tests/vm"
build_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR" >&2; exit 2 ;;
  esac
done
[[ -n "$build_dir" ]] || { echo "usage: $0 --build-dir DIR" >&2; exit 2; }
build_dir=$(cd "$build_dir" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
[[ -e /dev/kvm ]] || skip "/dev/kvm is absent: no KVM on this machine"
[[ -r /dev/kvm && -w /dev/kvm ]] || skip "/dev/kvm is not usable by $(id -un)"
command -v qemu-system-x86_64 >/dev/null ||
  skip "qemu-system-x86_64 is not installed (scripts/setup.sh: qemu-system-x86)"
command -v qemu-img >/dev/null || skip "qemu-img is not installed (scripts/setup.sh: qemu-utils)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/setup.sh)"
[[ $(id -u) -eq 0 ]] || skip "building the image (debootstrap, chroot) needs root"
# The VM runs the package of this build tree: a sanitizer build's agent would need its runtimes in
# the image and runs several times slower; the e2e tests check the same code under sanitizers.
if grep -qE '^LABMESH_SANITIZE:STRING=.+' "$build_dir/CMakeCache.txt"; then
  skip "a sanitizer build: the VM test runs with the plain build only"
fi

# KVM runs an unmodified guest only with hardware virtualisation (kvm_intel or kvm_amd). Some
# cloud machines offer /dev/kvm through PVM (kvm_pvm, nested virtualisation without hardware
# support), which runs only guest kernels built for PVM: Debian's kernel crawls there (minutes in
# its decompressor), so QEMU emulates the machine instead (TCG), slower but complete.
# LABMESH_VM_ACCEL=kvm|tcg overrides the choice.
accel=${LABMESH_VM_ACCEL:-}
if [[ -z "$accel" ]]; then
  if [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]]; then
    accel=kvm
  else
    accel=tcg
    echo "NOTE: /dev/kvm is not backed by kvm_intel or kvm_amd$([[ -d /sys/module/kvm_pvm ]] &&
      echo " (it is PVM, kvm_pvm)"): Debian's kernel would not boot on it; emulating (TCG)"
  fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-vm-test.XXXXXX")
qemu_pid=""
coordinator_pid=""
cleanup() {
  if [[ -n "$qemu_pid" ]]; then kill -KILL "$qemu_pid" 2>/dev/null || true; fi
  if [[ -n "$coordinator_pid" ]]; then kill -KILL "$coordinator_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [[ -n "${LABMESH_VM_KEEP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$tmp"/*.log "$tmp"/vm/console.log; do
    [[ -f "$log" ]] && { echo "--- $log" >&2; tail -n 60 "$log" >&2; }
  done
  exit 1
}
step() { echo "== [${SECONDS}s] $*"; }
# wait_for SECONDS COMMAND...: runs COMMAND every 200 ms until it succeeds or time is up.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    if [[ -n "$qemu_pid" ]] && ! kill -0 "$qemu_pid" 2>/dev/null; then
      fail "QEMU exited"
    fi
    sleep 0.2
  done
}
now() { date +%s.%N; }
elapsed() { python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }

test_start=$(now)
step "package the agent"
"$source_dir/scripts/package.sh" --build-dir "$build_dir" --output-dir "$tmp/debs" \
  > "$tmp/package.log" 2>&1 || fail "scripts/package.sh failed"
version=$(sed -n 's/^LABMESH_VERSION:STRING=//p' "$build_dir/CMakeCache.txt")
agent_deb="$tmp/debs/labmesh-agent_${version}_$(dpkg --print-architecture).deb"
[[ -f "$agent_deb" ]] || fail "no $agent_deb"

step "build or find the image (cache: ${LABMESH_VM_CACHE:-/var/cache/labmesh-vm})"
t0=$(now)
image=$("$vm_dir/build-image.sh" --deb "$agent_deb" 2> "$tmp/build-image.log" | tail -n 1) ||
  fail "build-image.sh failed"
image_s=$(elapsed "$t0" "$(now)")
grep -q '^build-image.*cached: .*image-' "$tmp/build-image.log" && image_how=cached || image_how=built
echo "image $image ($image_how in ${image_s}s, kernel $(cat "$image/kernel-version"))"

step "coordinator on 127.0.0.1"
data="$tmp/coordinator"
token="vm-test-$RANDOM$RANDOM"
# Heartbeats every second; a host silent for 30 s is lost (Dead) and power cycled (long enough
# that an emulated guest under load is not taken for hung). The quiet
# period is short (a test), the boot timeout long enough for an emulated boot.
"$build_dir/coordinator/labmesh-coordinator" --data-dir "$data" \
  --agent-listen "tcp://127.0.0.1:*" --api-listen "tcp://127.0.0.1:*" --http-listen "127.0.0.1:0" \
  --enroll-token "$token" --heartbeat-interval 1s --dead-after 30s --heartbeat-flush 1s \
  --power-quiet 1s --power-boot-timeout 5m --power-cycle-limit 3 \
  > "$tmp/coordinator.log" 2>&1 &
coordinator_pid=$!
wait_for 30 test -s "$data/coordinator.endpoints" || fail "the coordinator did not start"
agent_endpoint=$(sed -n 's/^agent=//p' "$data/coordinator.endpoints")
api=$(sed -n 's/^api=//p' "$data/coordinator.endpoints")
port=${agent_endpoint##*:}
wait_for 10 test -s "$data/keys/admin.token" || fail "no admin token"
cli() { "$build_dir/cli/labmesh" --api "$api" --token "$(cat "$data/keys/admin.token")" "$@"; }
host=vm-$RANDOM

step "boot the VM ($accel, agent $version, coordinator port $port)"
mkdir -p "$tmp/vm"
cat > "$tmp/agent.conf" <<EOF
coordinator = "tcp://10.0.2.100:7710"
coordinator-key = "/etc/labmesh/coordinator.pub"
enroll-token = "$token"
hostname = "$host"
work-dir = "/var/lib/labmesh-agent"
verify-dir = "/etc/labmesh/verify.d"
repair-dir = "/etc/labmesh/repair.d"
cleanup-dir = "/etc/labmesh/cleanup.d"
EOF
t0=$(now)
"$vm_dir/run-vm.sh" --accel "$accel" --image "$image" --work-dir "$tmp/vm" \
  --agent-conf "$tmp/agent.conf" --coordinator-pub "$data/keys/coordinator.pub" \
  --coordinator-port "$port" --serial-socket "$tmp/vm/serial.sock" \
  --qmp-socket "$tmp/vm/qmp.sock" > "$tmp/qemu.log" 2>&1 &
qemu_pid=$!

host_status() {
  cli --json host list 2>/dev/null | python3 -c '
import json, sys
hosts = {h["hostname"]: h for h in json.load(sys.stdin)}
print(hosts.get(sys.argv[1], {}).get("status", ""))' "$host"
}
host_ready() { [[ $(host_status) == Ready ]]; }
wait_for 240 host_ready || fail "the VM's agent did not become Ready"
ready_first_s=$(elapsed "$t0" "$(now)")
echo "the VM's agent is Ready ${ready_first_s}s after QEMU started"

# job_field ID PYTHON-EXPRESSION: evaluates the expression on `job show --json` as `job`.
job_field() {
  cli --json job show "$1" | python3 -c "import json, sys; job = json.load(sys.stdin); print($2)"
}
# create NAME ARGS...: creates a job on the VM's host, prints its id.
create() {
  local name=$1
  shift
  cli --json job create --name "$name" --hosts "$host" "$@" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
results_dir() { echo "$data/results/$(job_field "$1" 'job["entries"][0]["results_path"]')"; }
# wait_job ID SECONDS: waits until the job is final (Completed, Failed or Aborted), writing each
# change of its entry's status to $tmp/job-ID.statuses as "SECONDS-SINCE-START STATUS" (the
# reboots' round trips are read from it); returns 0 when the job Completed.
wait_job() {
  local id=$1 deadline=$((SECONDS + $2)) start status entry last=""
  start=$(now)
  : > "$tmp/job-$id.statuses"
  while ((SECONDS < deadline)); do
    read -r status entry < <(job_field "$id" 'job["status"], job["entries"][0]["status"]' 2>/dev/null |
      tr -d "(),'") || true
    if [[ -n "$entry" && "$entry" != "$last" ]]; then
      echo "$(elapsed "$start" "$(now)") $entry" >> "$tmp/job-$id.statuses"
      last=$entry
    fi
    case "$status" in
      Completed) return 0 ;;
      Failed|Aborted) return 1 ;;
    esac
    if ! kill -0 "$qemu_pid" 2>/dev/null; then fail "QEMU exited"; fi
    sleep 0.3
  done
  return 1
}


# The host's power method and console: commands run by the coordinator, as an ipmitool or a
# conserver client would be on a lab's coordinator.
step "power method and console through QEMU's QMP and serial sockets"
cli host power-config "$host" \
  --cycle "/usr/bin/python3 $vm_dir/qmp.py {qmp} cycle" \
  --status "/usr/bin/python3 $vm_dir/qmp.py {qmp} status" \
  --off "/usr/bin/python3 $vm_dir/qmp.py {qmp} off" --on "/usr/bin/python3 $vm_dir/qmp.py {qmp} on" \
  --console "exec /usr/bin/python3 $vm_dir/console_reader.py {serial}" \
  --attr "qmp=$tmp/vm/qmp.sock" --attr "serial=$tmp/vm/serial.sock" > /dev/null ||
  fail "host power-config failed"
power_status=$(cli host power "$host" status) || fail "host power status failed: $power_status"
echo "$power_status" | grep -q "Chassis Power is on" || fail "power status said: $power_status"
echo "power status through QMP: $(echo "$power_status" | tail -n 1)"
console_reading() {
  cli --json host power-config "$host" |
    python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["console_reading"] else 1)'
}
wait_for 30 console_reading || fail "the console reader does not run"

job_field() {
  cli --json job show "$1" | python3 -c "import json, sys; job = json.load(sys.stdin); print($2)"
}
create() {
  local name=$1
  shift
  cli --json job create --name "$name" --hosts "$host" "$@" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
job_status() { job_field "$1" 'job["status"]' 2>/dev/null; }
job_final() { [[ $(job_status "$1") =~ ^(Completed|Failed|Aborted)$ ]]; }

step "a job that hangs the kernel"
printf '%s\n' '#!/bin/sh' 'set -e' \
  'labmesh-test run before-hang -- cat /proc/sys/kernel/random/boot_id' \
  '# No reboot after a panic (panic_on_oops is off too): the kernel stops there, a hang.' \
  'echo 0 > /proc/sys/kernel/panic' \
  'echo "panic_on_oops $(cat /proc/sys/kernel/panic_on_oops)"' \
  'sync' \
  'echo c > /proc/sysrq-trigger' > "$tmp/hang-control.sh"
hang_id=$(create vm-hang --control "$tmp/hang-control.sh") || fail "job create failed"
entry_running() { [[ $(job_field "$hang_id" 'job["entries"][0]["status"]' 2>/dev/null) == Running ]]; }
wait_for 120 entry_running || fail "the hanging job did not start: $(cli job show "$hang_id" 2>&1)"
console_shows_panic() { cli host console "$host" --bytes 65536 2>/dev/null | grep -q "Kernel panic"; }
wait_for 120 console_shows_panic || fail "the console did not show the panic"
t_hang=$(now)
echo "the console shows the panic; the agent is silent from here"
host_is() { [[ $(host_status) == "$1" ]]; }
wait_for 120 host_is Dead || fail "the host did not go Dead: $(host_status)"
dead_s=$(elapsed "$t_hang" "$(now)")
wait_for 60 job_final "$hang_id" || fail "the hung job did not end"
cli --json job show "$hang_id" > "$tmp/job-hang.json"
python3 - "$tmp/job-hang.json" <<'PY' || fail "the hung entry is not a crash: $(cat "$tmp/job-hang.json")"
import json, sys
entry = json.load(open(sys.argv[1]))["entries"][0]
assert entry["status"] == "Failed", entry["status"]
assert entry["crash"], entry
assert "Kernel panic" in entry["crash_line"], entry["crash_line"]
print("the hung entry: %s (%s); crash line: %s" % (entry["status"], entry.get("reason", ""),
                                                  entry["crash_line"]))
PY
power_cycled() {
  cli --json host history "$host" | python3 -c '
import json, sys
items = json.load(sys.stdin)
sys.exit(0 if any(i["name"] == "Power" and i["status"] == "Completed" for i in items) else 1)'
}
wait_for 60 power_cycled || fail "the coordinator did not power cycle the host"
cycle_s=$(elapsed "$t_hang" "$(now)")
wait_for 300 host_ready || fail "the host did not come back Ready after the power cycle: $(host_status)"
ready_s=$(elapsed "$t_hang" "$(now)")
cli --json host history "$host" > "$tmp/history.json"
python3 - "$tmp/history.json" <<'PY' || fail "no Power then Repair in the history: $(cat "$tmp/history.json")"
import json, sys
items = [i for i in json.load(open(sys.argv[1])) if i["type"] == "task"]  # newest first
names = [(i["name"], i["status"]) for i in items]
power = names.index(("Power", "Completed"))
repair = names.index(("Repair", "Completed"))
assert repair < power, names
print("history: %s by %s (%s), then %s %s" % (items[power]["name"], items[power]["requested_by"],
      items[power]["reason"], items[repair]["name"], items[repair]["status"]))
PY
results=$(job_field "$hang_id" 'job["entries"][0]["results_path"]')
console_log="$data/results/$results/console.log"
[[ -f "$console_log" ]] || fail "no console.log in the hung entry's results"

step "the next job runs on the same VM"
next_id=$(create vm-after --command "cat /proc/sys/kernel/random/boot_id") || fail "job create failed"
wait_for 180 job_final "$next_id" || fail "the next job did not end"
[[ $(job_status "$next_id") == Completed ]] || fail "the next job did not complete: $(cli job show "$next_id")"

echo "what the console caught (the hung entry's console.log, $(wc -c < "$console_log") bytes):"
grep -E "sysrq|Kernel panic|Call Trace|RIP:|end Kernel panic" "$console_log" | head -n 8 | sed 's/^/  /'
# The boot after the cycle (the kernel is `quiet`: systemd's and the agent's lines, the login
# prompt) is in the host's rolling log.
cli host console "$host" --bytes 1048576 > "$tmp/rolling-console.log"
after=$(sed -n '/end Kernel panic/,$p' "$tmp/rolling-console.log")
echo "the rolling console log ($(wc -c < "$tmp/rolling-console.log") bytes) after the panic:" \
  "$(grep -c "labmesh-agent" <<< "$after" || true) agent lines of the next boot," \
  "$(grep -c "login:" <<< "$after" || true) login prompt(s)"
kill -KILL "$qemu_pid" 2>/dev/null || true
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""
echo "times: hang (panic on the console) -> Dead ${dead_s}s, -> power cycled ${cycle_s}s," \
  "-> Ready again ${ready_s}s (--dead-after 30s, $accel); first boot to Ready ${ready_first_s}s;" \
  "whole test $(elapsed "$test_start" "$(now)")s"
echo "PASS"
