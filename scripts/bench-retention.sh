#!/usr/bin/env bash
# labmesh retention benchmark (issue 23): how fast the sweeper removes results and what it costs
# the event loop. labmesh-retentionbench fills an aged data directory - LABMESH_BENCH_RETENTION_JOBS
# (20,000) finished jobs from 100 days ago, each with 3 files of 4 KiB, a status.log and 5
# indexed results - which `labmesh-coordinator --check` must find clean; then the real
# coordinator starts on it with --results-retention 90d (its first sweep begins 5 s after the
# start) and the bench's probe sends one request at a time (a page of 100 results, a host list)
# until the sweep's summary line is in the log. Reported:
#   - sweep speed: jobs' results, files and index rows removed per second (the sweep's own
#     figures from its log line: what it removed and how long it took);
#   - the longest time one loop turn spent sweeping (the sweeper's own measure);
#   - results list and host list latency before and during the sweep (p50, p99, max): a request
#     waits for whatever the loop holds, so the max during the sweep bounds the longest stall it
#     caused, commits included;
#   - `--check` after the sweep (must be clean).
# Data on disk in $TMPDIR (not tmpfs), removed afterwards.
#
# Builds nothing: build labmesh-coordinator and labmesh-retentionbench first (scripts/bench.sh
# does). Called by scripts/bench.sh; runs alone too.
# Environment: LABMESH_BUILD_DIR (build/), LABMESH_BUILD_TYPE (for the report),
# LABMESH_BENCH_RETENTION_JOBS, LABMESH_BENCH_KEEP=1 (keep the data and logs).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
jobs=${LABMESH_BENCH_RETENTION_JOBS:-20000}

log() { echo "bench-retention: $*" >&2; }
die() { log "$*"; exit 1; }

coordinator_bin=$build_dir/coordinator/labmesh-coordinator
bench_bin=$build_dir/tests/bench/labmesh-retentionbench
[[ -x $coordinator_bin ]] || die "no $coordinator_bin: build the target labmesh-coordinator first"
[[ -x $bench_bin ]] || die "no $bench_bin: build the target labmesh-retentionbench first"

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-retention.XXXXXX")
coordinator_pid=""
# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"
cleanup() {
  stop_pid "$coordinator_pid"
  if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then log "data and logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

probe_line() { grep "^retentionbench: $1 " "$work/probe.log" || die "no $1 figure"; }
latency() {  # latency NAME LABEL
  local l
  l=$(probe_line "$1")
  echo "$2: p50 $(field "$l" p50_ms) ms, p99 $(field "$l" p99_ms) ms, max $(field "$l" max_ms) ms ($(field "$l" n) requests)"
}
check() {  # check LABEL: --check's summary line; dies unless clean
  local out
  out=$("$coordinator_bin" --check "$work/aged" 2>&1 | tail -1) || die "--check $1: $out"
  [[ $out == *": clean: "* ]] || die "--check $1: $out"
  echo "$out"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "filling $jobs aged jobs in $work/aged"
fill_start=$SECONDS
"$bench_bin" fill --data-dir "$work/aged" --jobs "$jobs" --files 3 --file-bytes 4096 \
  --age-days 100 >"$work/fill.log"
log "filled in $((SECONDS - fill_start)) s: $(cat "$work/fill.log")"
check_before=$(check before)
du_before=$(du -sk "$work/aged/results" | cut -f1)

coordinator_log_level=info start_coordinator aged --results-retention 90d \
  --retention-sweep-interval 1h
"$bench_bin" probe --api "$api_endpoint" --log "$work/aged-coordinator.log" \
  --data-dir "$work/aged" --timeout 900 >"$work/probe.log" || die "probe failed: $(tail -3 "$work/probe.log")"
stop_pid "$coordinator_pid"
coordinator_pid=""
sweep=$(grep 'retention sweep:' "$work/aged-coordinator.log" | head -1)
[[ -n $sweep ]] || die "no sweep line in the coordinator's log"
check_after=$(check after)
du_after=$(du -sk "$work/aged/results" | cut -f1)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# "retention sweep: results of N jobs removed (D dirs, F files, X, R index rows), ... longest
# turn L ms; took T s; results held ..."
removed=$(sed -n 's/.*results of \([0-9]*\) jobs removed.*/\1/p' <<<"$sweep")
files=$(sed -n 's/.* \([0-9]*\) files, .*/\1/p' <<<"$sweep")
rows=$(sed -n 's/.* \([0-9]*\) index rows).*/\1/p' <<<"$sweep")
longest=$(sed -n 's/.*longest turn \([0-9.]*\) ms.*/\1/p' <<<"$sweep")
took=$(sed -n 's/.*took \([0-9.]*\) s.*/\1/p' <<<"$sweep")
rate() { awk -v n="$1" -v t="$took" 'BEGIN { printf (t > 0 ? "%.0f" : "-"), n / t }'; }
cat <<REPORT

== labmesh bench: retention sweep ($(nproc) CPUs, $build_type, load $load_before -> $load_after) ==
aged store: $jobs jobs, $((jobs * 4)) files, $((jobs * 5)) indexed results, ${du_before} KiB of results (check before: ${check_before#*: })
sweep: results of $removed jobs removed ($files files, $rows index rows) in $took s: $(rate "$removed") jobs/s, $(rate "$files") files/s, $(rate "$rows") index rows/s
longest loop turn spent sweeping: $longest ms
$(latency results_list_before "results list (100) before the sweep")
$(latency results_list_during "results list (100) during the sweep")
$(latency host_list_before "host list before the sweep")
$(latency host_list_during "host list during the sweep")
results left: ${du_after} KiB; check after: ${check_after#*: }
REPORT
