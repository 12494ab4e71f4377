#!/usr/bin/env bash
# labmesh benchmark: agent traffic beside heavy queries (issue 24, "queries off the loop").
# A coordinator whose results index holds LABMESH_BENCH_QUERY_RESULTS (1,000,000) results (filled
# by labmesh-resultsbench before the coordinator starts) and LABMESH_BENCH_QUERY_AGENTS (1,000)
# simulated agents heartbeating every 1 s (labmesh-fleetsim, the real protocol, Curve included):
#   1. idle: heartbeat ack p50/p99 over a LABMESH_BENCH_SECONDS (20) s window, no queries;
#   2. busy: the same window while LABMESH_BENCH_QUERY_CLIENTS (1) labmesh-querybench clients
#      each ask for results summaries over every result (one label, by host) back to back, and
#      the summaries' own latency. (A shell loop of `labmesh results summary` would measure the
#      CLI processes' start-up competing for the 2 cores instead: alone, with empty summaries,
#      it already lifts the ack p99 to 4 ms.)
# Target: the busy ack p99 within 2 x the idle p99. Reported, not enforced (shared machines).
#
# Environment: LABMESH_SKIP_SETUP=1, LABMESH_BUILD_DIR, LABMESH_BUILD_TYPE, LABMESH_BENCH_KEEP=1,
# LABMESH_BENCH_QUERY_RESULTS, LABMESH_BENCH_QUERY_AGENTS, LABMESH_BENCH_QUERY_CLIENTS,
# LABMESH_BENCH_SECONDS, LABMESH_BENCH_NO_BUILD=1 (use the binaries in LABMESH_BUILD_DIR as they
# are, e.g. a copy of an older build to compare), LABMESH_BENCH_COORDINATOR_FLAGS (added to the
# coordinator's command line, e.g. "--query-threads 1").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
results=${LABMESH_BENCH_QUERY_RESULTS:-1000000}
agents=${LABMESH_BENCH_QUERY_AGENTS:-1000}
clients=${LABMESH_BENCH_QUERY_CLIENTS:-1}
seconds=${LABMESH_BENCH_SECONDS:-20}

log() { echo "bench-queries: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"
bench_prepare labmesh-coordinator labmesh-fleetsim labmesh-resultsbench labmesh-querybench
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
fleetsim_bin=$build_dir/tests/bench/labmesh-fleetsim
resultsbench_bin=$build_dir/tests/bench/labmesh-resultsbench
querybench_bin=$build_dir/tests/bench/labmesh-querybench

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-queries.XXXXXX")
coordinator_pid=""
fleetsim_pid=""
query_pids=()

stop_queries() {
  for pid in "${query_pids[@]}"; do stop_pid "$pid"; done
  query_pids=()
}
cleanup() {
  stop_queries
  stop_pid "$fleetsim_pid"
  stop_pid "$coordinator_pid"
  if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then log "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

window() {  # window NAME: one fleetsim steady window; prints its summary line
  "$fleetsim_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
    --watch-pid "$coordinator_pid" --mode steady --agents "$agents" --interval 1s --prefix "$1-" \
    --duration "${seconds}s" >"$work/$1.log" 2>&1 &
  fleetsim_pid=$!
  local rc=0
  wait "$fleetsim_pid" || rc=$?
  fleetsim_pid=""
  ((rc == 0)) || die "fleetsim ($1) failed (exit $rc): $(tail -3 "$work/$1.log")"
  grep '^fleetsim: agents=' "$work/$1.log"
}



load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "indexing $results results into the coordinator's data dir"
mkdir -p "$work/coordinator"
"$resultsbench_bin" --results "$results" --batch 20000 --runs 1 \
  --dir "$work/coordinator/results-index" --keep >"$work/index.log" 2>&1 ||
  die "resultsbench failed: $(tail -3 "$work/index.log")"

# shellcheck disable=SC2086 # word splitting wanted: extra flags
start_coordinator coordinator ${LABMESH_BENCH_COORDINATOR_FLAGS:-}
log "idle: $agents agents @1s, ${seconds} s"
idle=$(window idle)
log "busy: the same with $clients summary client(s)"
for i in $(seq "$clients"); do
  "$querybench_bin" --api "$api_endpoint" --seconds $((seconds + 15)) >"$work/queries-$i.log" 2>&1 &
  query_pids+=($!)
done
busy=$(window busy)
for pid in "${query_pids[@]}"; do wait "$pid" || die "querybench failed: $(cat "$work"/queries-*.log)"; done
query_pids=()
queries=$(grep -h '^querybench: ' "$work"/queries-*.log)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

idle_p99=$(field "$idle" p99_ms)
busy_p99=$(field "$busy" p99_ms)
ratio=$(awk -v b="$busy_p99" -v i="$idle_p99" 'BEGIN { printf "%.1f", (i > 0) ? b / i : 0 }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 2) ? "met" : "MISSED" }')
cat <<REPORT

== labmesh bench: heartbeats beside queries ($(nproc) CPUs, $build_type, $results results, load $load_before -> $load_after) ==
idle: $agents agents @1s: ack p50 $(field "$idle" p50_ms) ms, p99 $idle_p99 ms ($(field "$idle" acked)/$(field "$idle" sent) acked)
busy: the same beside $clients summary client(s): ack p50 $(field "$busy" p50_ms) ms, p99 $busy_p99 ms ($(field "$busy" acked)/$(field "$busy" sent) acked)
busy p99 / idle p99: $ratio (target <= 2: $verdict)
summaries (client 1): $(field "$queries" summaries) answered, p50 $(field "$queries" p50_ms) ms, p99 $(field "$queries" p99_ms) ms, $(field "$queries" rows) rows each
REPORT
