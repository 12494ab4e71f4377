#!/usr/bin/env bash
# The real-VM test of reboots and crash collection (issue 21, docs/testing.md "The real-VM
# test"): a Debian 12 virtual machine under KVM whose installed labmesh-agent works for a real
# coordinator on 127.0.0.1.
#  1. scripts/package.sh packages the ctest build tree (no rebuild); build-image.sh builds or
#     finds in its cache the image holding that agent .deb;
#  2. a coordinator starts on 127.0.0.1 with ports the kernel picks (read back from
#     coordinator.endpoints, so parallel runs never collide) and an enrollment token;
#  3. run-vm.sh boots the VM; its agent, configured through fw_cfg with the coordinator's key
#     file, the token and 10.0.2.100:7710 (QEMU's guestfwd to the coordinator's port), enrols and is
#     Ready;
#  4. a job without reboots completes (boot, network and results upload work) and finds the
#     host's loopback out of reach;
#  5. a job whose control reboots the VM twice, with tests before, between and after: it
#     completes Good and each test saw another boot id;
#  6. a job whose control panics the kernel (sysrq c; panic=1 boots again): the entry fails with
#     "host rebooted unexpectedly (boot id changed)" and its crashinfo/ holds the panic message.
# QEMU is killed by its pid at the end, whatever happened. Every wait has a deadline. Prints the
# times issue 21 asks for: image build, boot to Ready, each reboot's round trip, the whole run.
#
#   vm_test.sh --build-dir DIR
#
# Exits 77 (ctest: skipped) with the reason when /dev/kvm, QEMU, debootstrap or root is missing.
set -euo pipefail

source "$(dirname "$0")/vm_lib.sh" "$@"

test_start=$(now)
vm_package_and_image

# Heartbeats every second; a host is Dead only after 3 minutes, longer than a boot takes (even
# emulated), so that an unexpected reboot is seen as one (the agent returns with another boot id)
# and not as a lost host.
vm_start_coordinator --dead-after 3m

vm_boot

step "a job without reboots"
# `isolated`: the host's loopback, which QEMU's user network would reach at 10.0.2.2 without
# restrict=on, is out of the guest's reach (the coordinator's API port listens there).
api_port=${api##*:}
cat > "$tmp/hello-control.sh" <<EOF
#!/bin/sh
set -e
labmesh-test run hello -- uname -r
labmesh-test run isolated -- sh -c "! timeout 5 bash -c 'exec 3<>/dev/tcp/10.0.2.2/$api_port'"
EOF
id=$(create vm-hello --control "$tmp/hello-control.sh") || fail "job create failed"
wait_job "$id" 120 || fail "the job without reboots did not complete: $(cli job show "$id" 2>&1)"
dir=$(results_dir "$id")
grep -qF "$(cat "$image/kernel-version")" "$dir/hello/output.log" ||
  fail "the test did not run on the VM's kernel: $(cat "$dir/hello/output.log")"

step "a job that reboots the VM twice"
# Each test prints the boot it ran in. The timing files record, once, when the control asked for
# each reboot and when it went on after it (the control runs again from the top after a boot;
# `labmesh-test run` of a finished test and `labmesh-test reboot` of a done reboot return at once).
cat > "$tmp/reboot-control.sh" <<'EOF'
#!/bin/sh
set -e
mark() { [ -e "$LABMESH_RESULTS_DIR/timing/$1" ] || date +%s.%N > "$LABMESH_RESULTS_DIR/timing/$1"; }
mkdir -p "$LABMESH_RESULTS_DIR/timing"
labmesh-test run before -- cat /proc/sys/kernel/random/boot_id
mark reboot1-asked
labmesh-test reboot --timeout 5m
mark reboot1-resumed
labmesh-test run between -- cat /proc/sys/kernel/random/boot_id
mark reboot2-asked
labmesh-test reboot --timeout 5m
mark reboot2-resumed
labmesh-test run after -- cat /proc/sys/kernel/random/boot_id
echo "boot count ${LABMESH_BOOT_COUNT:-unset}"
EOF
id=$(create vm-reboot --control "$tmp/reboot-control.sh") || fail "job create failed"
wait_job "$id" 600 || fail "the rebooting job did not complete: $(cli job show "$id" 2>&1)"
echo "the entry's statuses (seconds since created): $(paste -sd, "$tmp/job-$id.statuses")"
dir=$(results_dir "$id")
boots=()
for t in before between after; do
  [[ -f "$dir/$t/output.log" ]] || fail "no $t/output.log in $dir"
  boots+=("$(tr -d '[:space:]' < "$dir/$t/output.log")")
done
echo "boot ids: ${boots[*]}"
[[ ${boots[0]} != "${boots[1]}" && ${boots[1]} != "${boots[2]}" && ${boots[0]} != "${boots[2]}" ]] ||
  fail "the tests did not see three boots: ${boots[*]}"
for n in 1 2; do
  [[ -f "$dir/timing/reboot$n-asked" && -f "$dir/timing/reboot$n-resumed" ]] ||
    fail "no timing of reboot $n in $dir/timing"
  echo "reboot $n round trip, the guest's clock (control asked -> control resumed): $(elapsed \
    "$(cat "$dir/timing/reboot$n-asked")" "$(cat "$dir/timing/reboot$n-resumed")")s"
done
# The coordinator's view: from each Rebooting to the Running after it.
awk '$2 == "Rebooting" { t = $1 } $2 == "Running" && t != "" {
       printf "reboot round trip, the coordinator'"'"'s view (Rebooting -> Running): %.1fs\n", $1 - t; t = "" }' \
  "$tmp/job-$id.statuses"
wait_for 120 host_ready || fail "the host is not Ready after the rebooting job"

step "a job that panics the kernel"
cat > "$tmp/panic-control.sh" <<'EOF'
#!/bin/sh
set -e
labmesh-test run before-panic -- cat /proc/sys/kernel/random/boot_id
sync
echo c > /proc/sysrq-trigger
EOF
t0=$(now)
id=$(create vm-panic --control "$tmp/panic-control.sh") || fail "job create failed"
wait_job "$id" 300 && fail "the panicking job completed"
cli --json job show "$id" > "$tmp/job-panic.json" || fail "job show failed"
panic_s=$(elapsed "$t0" "$(now)")
python3 - "$tmp/job-panic.json" <<'PY' || fail "the entry did not fail as an unexpected reboot: $(cat "$tmp/job-panic.json")"
import json, sys
entry = json.load(open(sys.argv[1]))["entries"][0]
text = json.dumps(entry)
assert entry["status"] == "Failed", entry["status"]
assert "host rebooted unexpectedly (boot id changed)" in text, text
PY
dir=$(results_dir "$id")
[[ -d "$dir/crashinfo" ]] || fail "no crashinfo/ in $dir"
echo "crashinfo/ (${panic_s}s from job create to the failed entry):"
(cd "$dir/crashinfo" && find . -type f -printf '  %p %s bytes\n' | sort)
panic_files=$(grep -rlE 'Kernel panic|sysrq triggered crash|SysRq : Trigger a crash' \
  "$dir/crashinfo" || true)
[[ -n "$panic_files" ]] || fail "no file of crashinfo/ holds the panic message"
echo "the panic message is in: $(echo "$panic_files" | sed "s|$dir/||" | paste -sd' ')"
grep -hE -m1 'Kernel panic' $panic_files | head -n 1 | sed 's/^/  /'

kill -KILL "$qemu_pid" 2>/dev/null || true
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""
echo "times: image ${image_s}s ($image_how), boot to Ready ${ready_s}s, panic job ${panic_s}s," \
  "whole test $(elapsed "$test_start" "$(now)")s"
echo "PASS"
