#!/usr/bin/env bash
# labmesh results index benchmark (issue 8), run by labmesh-resultsbench on its own (no
# coordinator): LABMESH_BENCH_RESULTS (1,000,000) synthetic results - 2,000 tests, 1,000 hosts
# with 4 of 50 labels, 90% GOOD, spread over 30 days - are indexed entry by entry in groups of
# LABMESH_BENCH_RESULTS_BATCH (20,000) results per synced write transaction (the parser's group
# commit), then over that index, p50/p99 of 50 runs each:
#   summaries: pass rates per test x host for one label over 7 days, per test x label over 30
#              days for one test and for one suite (a test prefix);
#   lists of 100: test=X host=Y, label=L status=FAIL, test=X.
# A second, short ingest at 1,000 results per transaction shows what small groups cost.
# Targets: ingest >= 100,000 results/s; summary < 50 ms; filtered list of 100 < 5 ms (reported,
# not enforced: the machines are shared). The index lives on disk in $TMPDIR (not tmpfs) and is
# removed afterwards.
#
# Builds nothing: build labmesh-resultsbench first (scripts/bench.sh does). Called by
# scripts/bench.sh; runs alone too.
# Environment: LABMESH_BUILD_DIR (build/), LABMESH_BUILD_TYPE (for the report),
# LABMESH_BENCH_RESULTS, LABMESH_BENCH_RESULTS_BATCH, LABMESH_BENCH_KEEP=1 (keep the index).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
results=${LABMESH_BENCH_RESULTS:-1000000}
batch=${LABMESH_BENCH_RESULTS_BATCH:-20000}
small_results=$((results / 5))

log() { echo "bench-results: $*" >&2; }
die() { log "$*"; exit 1; }

bench_bin=$build_dir/tests/bench/labmesh-resultsbench
[[ -x $bench_bin ]] || die "no $bench_bin: build the target labmesh-resultsbench first"

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-results.XXXXXX")
cleanup() {
  if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then log "index and logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() { sed -n "s/.*[ :]$2=\([^ ]*\).*/\1/p" <<<"$1"; }
line() { grep "^resultsbench: $1 " "$work/main.log" || die "no $1 figure"; }
latency() {  # latency NAME LABEL TARGET_MS
  local l
  l=$(line "$1")
  echo "$2: p50 $(field "$l" p50_ms) ms, p99 $(field "$l" p99_ms) ms, $(field "$l" mean_rows) rows (target < $3 ms)"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "$results results, $batch per transaction, index in $work"
"$bench_bin" --results "$results" --batch "$batch" --dir "$work/index" | tee "$work/main.log"
log "$small_results results, 1000 per transaction"
"$bench_bin" --results "$small_results" --batch 1000 --runs 1 --dir "$work/small" |
  tee "$work/small.log"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ingest=$(line ingest)
small=$(grep '^resultsbench: ingest ' "$work/small.log" || die "no small ingest figure")
cat <<REPORT

== labmesh bench: results index ($(nproc) CPUs, $build_type, load $load_before -> $load_after) ==
ingest $(field "$ingest" results) results, $batch per synced transaction: $(field "$ingest" rate) results/s (target >= 100000; $(field "$ingest" cpu_us_per_result) us CPU per result; index $(field "$ingest" db_mib) MiB)
ingest $(field "$small" results) results, 1000 per synced transaction: $(field "$small" rate) results/s
$(latency summary_host_by_label_7d "summary per test x host, one label, 7 days" 50)
$(latency summary_label_by_test_30d "summary per test x label, one test, 30 days" 50)
$(latency summary_label_by_suite_30d "summary per test x label, one suite (50 tests), 30 days" 50)
$(latency list_test_host "list of 100, test=X host=Y" 5)
$(latency list_label_fail "list of 100, label=L status=FAIL" 5)
$(latency list_test "list of 100, test=X" 5)
REPORT
