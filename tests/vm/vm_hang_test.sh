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

source "$(dirname "$0")/vm_lib.sh" "$@"

test_start=$(now)
vm_package_and_image

# A host silent for 30 s is lost (Dead) and power cycled (long enough that an emulated guest
# under load is not taken for hung). The quiet period is short (a test), the boot timeout long
# enough for an emulated boot.
vm_start_coordinator --dead-after 30s --power-quiet 1s --power-boot-timeout 5m \
  --power-cycle-limit 3

vm_boot --serial-socket "$tmp/vm/serial.sock" --qmp-socket "$tmp/vm/qmp.sock"
ready_first_s=$ready_s

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
