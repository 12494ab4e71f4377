# Sourced by the real-VM tests (vm_test.sh, vm_hang_test.sh; docs/testing.md "The real-VM
# test") with their arguments: parses --build-dir DIR, exits 77 (ctest: skipped) with the reason
# when /dev/kvm, QEMU, debootstrap or root is missing, picks KVM or emulation, makes the temp dir
# (removed at exit with QEMU and the coordinator killed by their pids) and defines what both tests
# do the same way: fail, step, wait_for, now, elapsed; vm_package_and_image (the ctest build
# tree's agent .deb and the cached image holding it) and vm_start_coordinator FLAGS... (on
# 127.0.0.1 with the ports the kernel picks, an enrollment token, heartbeats every second; sets
# data, token, api, port, host and the cli function).

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


# Packages this build tree's agent and builds or finds the image holding it: sets version,
# agent_deb, image, image_s and image_how.
vm_package_and_image() {
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

}

# Starts the coordinator with FLAGS (at least --dead-after) besides the common ones.
vm_start_coordinator() {
  step "coordinator on 127.0.0.1"
  data="$tmp/coordinator"
  token="vm-test-$RANDOM$RANDOM"
  "$build_dir/coordinator/labmesh-coordinator" --data-dir "$data" \
    --agent-listen "tcp://127.0.0.1:*" --api-listen "tcp://127.0.0.1:*" --http-listen "127.0.0.1:0" \
    --enroll-token "$token" --heartbeat-interval 1s --heartbeat-flush 1s "$@" \
    > "$tmp/coordinator.log" 2>&1 &
  coordinator_pid=$!
  wait_for 30 test -s "$data/coordinator.endpoints" || fail "the coordinator did not start"
  agent_endpoint=$(sed -n 's/^agent=//p' "$data/coordinator.endpoints")
  api=$(sed -n 's/^api=//p' "$data/coordinator.endpoints")
  port=${agent_endpoint##*:}
  wait_for 10 test -s "$data/keys/admin.token" || fail "no admin token"
  host=vm-$RANDOM
}
cli() { "$build_dir/cli/labmesh" --api "$api" --token "$(cat "$data/keys/admin.token")" "$@"; }

# The VM's host as the coordinator sees it, and the jobs the tests make on it.
host_status() {
  cli --json host list 2>/dev/null | python3 -c '
import json, sys
hosts = {h["hostname"]: h for h in json.load(sys.stdin)}
print(hosts.get(sys.argv[1], {}).get("status", ""))' "$host"
}
host_ready() { [[ $(host_status) == Ready ]]; }

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


# Boots the VM with run-vm.sh's extra FLAGS; its agent (configured through fw_cfg) enrols with
# the token and is Ready: sets qemu_pid and ready_s (from QEMU's start).
vm_boot() {
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
    --coordinator-port "$port" "$@" > "$tmp/qemu.log" 2>&1 &
  qemu_pid=$!

  wait_for 240 host_ready || fail "the VM's agent did not become Ready"
  ready_s=$(elapsed "$t0" "$(now)")
  echo "the VM's agent is Ready ${ready_s}s after QEMU started"
}
