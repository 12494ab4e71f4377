#!/usr/bin/env bash
# labmesh barrier benchmark (issue "Multi-host jobs"): barrier release latency, the time from the
# last arrival to every participant having its release, with LABMESH_BENCH_BARRIER_SIZES
# ("100 1000") simulated participants (labmesh-barrierbench: one process speaking the real agent
# protocol, Curve included) in one synchronous job on a real coordinator on 127.0.0.1.
# Target: under 10 ms for 1,000. Per size, a fresh coordinator, and two figures over
# LABMESH_BENCH_BARRIER_ROUNDS (20) rounds each:
#   burst:   all arrivals sent back to back; from the last one sent to the last release received
#            (includes the coordinator draining the arrivals still queued);
#   settled: the last arrival sent once the coordinator counted all others; from it to the last
#            release received (the release alone).
# With each, when the first release arrived (the rest of the time is the fan-out), and per round
# how long the coordinator's threads (its event loop apart) and the simulator's ran and waited for
# a CPU: on a shared machine the waits tell a slow release from one that was not scheduled. Also
# the group's start: job created -> first StartEntry, and the StartEntry spread (first to last).
# With several CPUs the simulator runs on the last one and the coordinator's threads on the others
# (taskset; LABMESH_BENCH_PIN=0: anywhere), so that the release is not waiting for the
# simulator's CPU.
# Called by scripts/bench.sh; runs alone too. Exit 0 when the figures were measured (the target
# is reported, not enforced: the machines are shared).
#
# Environment: LABMESH_SKIP_SETUP=1, LABMESH_BUILD_DIR, LABMESH_BUILD_TYPE, LABMESH_BENCH_KEEP=1,
# LABMESH_BENCH_BARRIER_SIZES, LABMESH_BENCH_BARRIER_ROUNDS, LABMESH_BENCH_PIN,
# LABMESH_BENCH_COORDINATOR_FLAGS (added to the coordinator's, e.g. "--io-threads 2").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
sizes=${LABMESH_BENCH_BARRIER_SIZES:-100 1000}
rounds=${LABMESH_BENCH_BARRIER_ROUNDS:-20}
target_ms=10

log() { echo "bench-barrier: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ ${LABMESH_SKIP_SETUP:-0} != 1 ]]; then
  "$root/scripts/setup.sh"
fi
source "$root/scripts/fast-build.sh"
configure "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" --target labmesh-coordinator labmesh-barrierbench -j"$(nproc)"
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
bench_bin=$build_dir/tests/bench/labmesh-barrierbench

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-barrier.XXXXXX")
coordinator_pid=""
bench_pid=""

# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"

cleanup() {
  stop_pid "$bench_pid"
  stop_pid "$coordinator_pid"
  finish_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM



sim_pin=() pinning="not pinned"
last_cpu=$(($(nproc) - 1))
if ((last_cpu > 0)) && [[ ${LABMESH_BENCH_PIN:-1} == 1 ]]; then
  sim_pin=(taskset -c "$last_cpu")
  others=0
  if ((last_cpu > 1)); then others="0-$((last_cpu - 1))"; fi
  pinning="simulator on CPU $last_cpu, coordinator on CPU $others"
fi

report=""
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $sizes; do
  log "$n participants, $rounds burst + $rounds settled rounds"
  # registering 1,000 agents must not release the hold
  # shellcheck disable=SC2086  # the extra flags are words
  start_coordinator "barrier-$n" --sync-hold 5m ${LABMESH_BENCH_COORDINATOR_FLAGS:-}
  if ((${#sim_pin[@]})); then taskset -a -p -c "$others" "$coordinator_pid" >/dev/null; fi
  out=$work/barrier-$n.log
  # In the background with the script in `wait`, which a signal interrupts at once.
  "${sim_pin[@]}" "$bench_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
    --api "$api_endpoint" --participants "$n" --rounds "$rounds" --settled-rounds "$rounds" \
    --watch-pid "$coordinator_pid" >"$out" 2>&1 &
  bench_pid=$!
  tail -n +1 -f --pid="$bench_pid" "$out" &
  tail_pid=$! rc=0
  wait "$bench_pid" || rc=$?
  wait "$tail_pid" || true
  bench_pid=""
  ((rc == 0)) || die "barrierbench with $n participants failed (exit $rc)"
  line=$(grep '^barrierbench: participants=' "$out")
  burst_cpu=$(grep '^barrierbench: cpu kind=burst' "$out" || true)
  settled_cpu=$(grep '^barrierbench: cpu kind=settled' "$out" || true)
  stop_pid "$coordinator_pid"
  coordinator_pid=""
  verdict=""
  if ((n == 1000)); then
    verdict=$(awk -v v="$(field "$line" release_p99_ms)" -v t="$target_ms" \
      'BEGIN { print (v < t) ? " (target < 10 ms: met)" : " (target < 10 ms: MISSED)" }')
  fi
  report+="barrier release, $n participants: burst p50 $(field "$line" release_p50_ms) ms, p99 $(field "$line" release_p99_ms) ms, max $(field "$line" release_max_ms) ms$verdict (first release p50 $(field "$line" release_first_p50_ms) ms)
barrier release, $n participants: settled p50 $(field "$line" settled_p50_ms) ms, p99 $(field "$line" settled_p99_ms) ms, max $(field "$line" settled_max_ms) ms (first release p50 $(field "$line" settled_first_p50_ms) ms)
  per release (p50): coordinator ran $(field "$settled_cpu" coord_run_ms) ms (event loop $(field "$settled_cpu" coord_main_ms) ms, the rest ZeroMQ I/O) and waited $(field "$settled_cpu" coord_wait_ms) ms for a CPU; simulator ran $(field "$settled_cpu" sim_run_ms) ms, waited $(field "$settled_cpu" sim_wait_ms) ms
  per burst round (p50): coordinator ran $(field "$burst_cpu" coord_run_ms) ms (event loop $(field "$burst_cpu" coord_main_ms) ms) and waited $(field "$burst_cpu" coord_wait_ms) ms; simulator ran $(field "$burst_cpu" sim_run_ms) ms, waited $(field "$burst_cpu" sim_wait_ms) ms
group start, $n participants: job created -> first StartEntry $(field "$line" start_first_ms) ms, StartEntry spread $(field "$line" start_spread_ms) ms (registration $(field "$line" register_s) s)
"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<REPORT

== labmesh bench: barriers ($(nproc) CPUs, $pinning, $build_type, $rounds rounds each, load $load_before -> $load_after) ==
$report
REPORT
