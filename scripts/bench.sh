#!/usr/bin/env bash
# labmesh benchmarks (DESIGN.md: performance is measured here, not by timed tests). Grows with
# later issues. Today: the coordinator under a simulated fleet (labmesh-fleetsim, one process
# opening many agent connections through the real protocol, Curve included):
#   1. steady: LABMESH_BENCH_AGENTS agents (1000) heartbeating every 1 s for LABMESH_BENCH_SECONDS
#      (30): the coordinator's CPU over that window (target: under 20% of one core) and its RSS.
#   2. flood: 200 agents each keeping 16 heartbeats in flight: the most heartbeats/s absorbed.
#   3. jobs: scripts/bench-jobs.sh (submit-to-start latency and job throughput with 8 agents).
#   4. results: scripts/bench-results.sh (results index ingest rate, summary and list latency
#      over 1,000,000 results).
#   5. barriers: scripts/bench-barrier.sh (barrier release latency with 100 and 1,000 simulated
#      participants in one synchronous job).
#   6. update: scripts/bench-update.sh (time and coordinator bytes sent to move 50 simulated
#      agents to a 10 MiB agent package).
#   7. metrics: scripts/bench-metrics.sh (GET /metrics scrape time with 10,000 simulated hosts).
#   8. retention: scripts/bench-retention.sh (sweep speed over 20,000 aged jobs, the longest
#      loop turn it took, query latency during the sweep).
#   9. health: scripts/bench-health.sh (host health score computation over 1,000 hosts and
#      1,000,000 results, and its precision on a synthetic lab).
#  10. queries: scripts/bench-queries.sh (heartbeat ack p99 of 1,000 agents idle and beside
#      results summaries over 1,000,000 results running back to back).
#  11. fleet: scripts/bench-fleet.sh (20,000 agents at 5 s, or as many as the descriptor limit
#      allows, over several simulators: coordinator CPU, RSS per agent, ack p99; then a
#      coordinator restart: time until every agent is welcomed again, hellos retried).
#  12. agent: scripts/bench-agent.sh (one idle agent's RSS, PSS, CPU share and wakeups; the
#      footprint target is for the build the .deb ships, Release).
# Every process runs on 127.0.0.1 and is stopped on exit. Exit status: 0 when the measurements
# ran and the CPU target was met, 1 otherwise.
#
# Environment: LABMESH_SKIP_SETUP=1 (do not run scripts/setup.sh), LABMESH_BUILD_DIR (default
# build/), LABMESH_BUILD_TYPE (RelWithDebInfo: optimised, with symbols for perf),
# LABMESH_BENCH_AGENTS, LABMESH_BENCH_SECONDS, LABMESH_BENCH_FLOOD_AGENTS,
# LABMESH_BENCH_FLOOD_SECONDS, LABMESH_BENCH_KEEP=1 (keep the temp dir with the logs).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
agents=${LABMESH_BENCH_AGENTS:-1000}
seconds=${LABMESH_BENCH_SECONDS:-30}
flood_agents=${LABMESH_BENCH_FLOOD_AGENTS:-200}
flood_seconds=${LABMESH_BENCH_FLOOD_SECONDS:-10}
flood_window=16
cpu_target_pct=20

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ ${LABMESH_SKIP_SETUP:-0} != 1 ]]; then
  "$root/scripts/setup.sh"
fi
source "$root/scripts/fast-build.sh"
configure "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" --target labmesh-coordinator labmesh-fleetsim labmesh-resultsbench \
  labmesh-retentionbench labmesh-healthbench labmesh-querybench \
  -j"$(nproc)"
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
fleetsim_bin=$build_dir/tests/bench/labmesh-fleetsim

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench.XXXXXX")
coordinator_pid=""
fleetsim_pid=""

# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"

cleanup() {
  stop_pid "$fleetsim_pid"
  stop_pid "$coordinator_pid"
  finish_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# run_fleetsim LOG ARGS...: runs the simulator against the current coordinator, output to LOG
# (shown live); fails the benchmark if it does. Everything runs in the background and the script
# sits in `wait`, which a signal interrupts at once (a foreground child would delay the trap).
run_fleetsim() {
  local out=$1
  shift
  "$fleetsim_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
    --watch-pid "$coordinator_pid" "$@" >"$out" 2>&1 &
  fleetsim_pid=$!
  tail -n +1 -f --pid="$fleetsim_pid" "$out" &
  local tail_pid=$! rc=0
  wait "$fleetsim_pid" || rc=$?
  wait "$tail_pid" || true  # ends by itself within a second of the simulator
  fleetsim_pid=""
  ((rc == 0)) || die "fleetsim $* failed (exit $rc)"
}


# Other work on the machine skews every figure (the flood rate most): show how busy it was.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "steady: $agents agents, heartbeat every 1 s, ${seconds} s window"
start_coordinator steady
run_fleetsim "$work/steady.log" --mode steady --agents "$agents" --interval 1s \
  --duration "${seconds}s"
steady_watch=$(grep '^fleetsim: watch ' "$work/steady.log" || true)
steady_summary=$(grep '^fleetsim: agents=' "$work/steady.log")
[[ -n $steady_watch && $steady_watch != *unreadable* ]] || die "no coordinator sample"
stop_pid "$coordinator_pid"
coordinator_pid=""

log "flood: $flood_agents agents, $flood_window heartbeats in flight each, ${flood_seconds} s"
start_coordinator flood
run_fleetsim "$work/flood.log" --mode flood --agents "$flood_agents" --window "$flood_window" \
  --duration "${flood_seconds}s"
flood_watch=$(grep '^fleetsim: watch ' "$work/flood.log" || true)
flood_summary=$(grep '^fleetsim: agents=' "$work/flood.log")
stop_pid "$coordinator_pid"
coordinator_pid=""

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(field "$steady_watch" cpu_pct)
verdict=$(awk -v c="$cpu" -v t="$cpu_target_pct" 'BEGIN { print (c < t) ? "met" : "MISSED" }')
cat <<EOF

== labmesh bench: coordinator with a simulated fleet ($(nproc) CPUs, $build_type, load $load_before -> $load_after) ==
registration of $agents agents: $(field "$steady_summary" register_s) s ($(field "$steady_summary" hello_retries) hellos retried)
coordinator CPU with $agents agents @1s: $cpu% of one core (target < $cpu_target_pct%: $verdict)
coordinator RSS: $(field "$steady_watch" rss_mib) MiB (peak $(field "$steady_watch" hwm_mib) MiB)
heartbeats @1s: $(field "$steady_summary" acked)/$(field "$steady_summary" sent) acked, ack p50 $(field "$steady_summary" p50_ms) ms, p99 $(field "$steady_summary" p99_ms) ms
max heartbeats absorbed: $(field "$flood_summary" rate) ($flood_agents agents x $flood_window in flight; coordinator CPU $(field "$flood_watch" cpu_pct)%, simulator $(field "$flood_summary" sim_cpu_pct)%; ack p50 $(field "$flood_summary" p50_ms) ms)
EOF

LABMESH_SKIP_SETUP=1 LABMESH_BUILD_DIR=$build_dir LABMESH_BUILD_TYPE=$build_type \
  "$root/scripts/bench-jobs.sh"
LABMESH_BUILD_DIR=$build_dir LABMESH_BUILD_TYPE=$build_type "$root/scripts/bench-results.sh"
LABMESH_SKIP_SETUP=1 LABMESH_BUILD_DIR=$build_dir LABMESH_BUILD_TYPE=$build_type \
  "$root/scripts/bench-barrier.sh"
LABMESH_SKIP_SETUP=1 LABMESH_BUILD_DIR=$build_dir LABMESH_BUILD_TYPE=$build_type \
  "$root/scripts/bench-update.sh"
LABMESH_SKIP_SETUP=1 LABMESH_BUILD_DIR=$build_dir LABMESH_BUILD_TYPE=$build_type \
  "$root/scripts/bench-metrics.sh"
LABMESH_BUILD_DIR=$build_dir LABMESH_BUILD_TYPE=$build_type "$root/scripts/bench-retention.sh"
LABMESH_BUILD_DIR=$build_dir LABMESH_BUILD_TYPE=$build_type "$root/scripts/bench-health.sh"
LABMESH_SKIP_SETUP=1 LABMESH_BENCH_NO_BUILD=1 LABMESH_BUILD_DIR=$build_dir \
  LABMESH_BUILD_TYPE=$build_type "$root/scripts/bench-queries.sh"
LABMESH_SKIP_SETUP=1 LABMESH_BENCH_NO_BUILD=1 LABMESH_BUILD_DIR=$build_dir \
  LABMESH_BUILD_TYPE=$build_type LABMESH_BENCH_AGENTS=20000 LABMESH_BENCH_SECONDS=30 \
  "$root/scripts/bench-fleet.sh"
LABMESH_SKIP_SETUP=1 LABMESH_BENCH_NO_BUILD=1 LABMESH_BUILD_DIR=$build_dir \
  LABMESH_BUILD_TYPE=$build_type LABMESH_BENCH_SECONDS=60 "$root/scripts/bench-agent.sh"
[[ $verdict == met ]]
