#!/usr/bin/env bash
# labmesh host health benchmark (issue 26), run by labmesh-healthbench on its own (no
# coordinator): a synthetic lab of LABMESH_BENCH_HEALTH_HOSTS (1,000) hosts in 10 peer groups
# and LABMESH_BENCH_HEALTH_RESULTS (1,000,000) results over the 7-day health window, in a real
# store and results index, with planted faults - 10 hosts where one test fails 90% of the time
# (only there), 10 hosts whose entries fail as infrastructure, 5 tests broken everywhere, 10
# flaky everywhere - and 0.3% background noise (any result may fail). Then the score
# computation (what the coordinator's worker thread runs every --health-interval) is timed, and
# its precision reported: planted hosts caught, good hosts flagged (must be 0).
#
# Builds nothing: build labmesh-healthbench first (scripts/bench.sh does). Called by
# scripts/bench.sh; runs alone too.
# Environment: LABMESH_BUILD_DIR (build/), LABMESH_BUILD_TYPE (for the report),
# LABMESH_BENCH_HEALTH_HOSTS, LABMESH_BENCH_HEALTH_RESULTS, LABMESH_BENCH_KEEP=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
hosts=${LABMESH_BENCH_HEALTH_HOSTS:-1000}
results=${LABMESH_BENCH_HEALTH_RESULTS:-1000000}

log() { echo "bench-health: $*" >&2; }
die() { log "$*"; exit 1; }

bench_bin=$build_dir/tests/bench/labmesh-healthbench
[[ -x $bench_bin ]] || die "no $bench_bin: build the target labmesh-healthbench first"

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-health.XXXXXX")
cleanup() {
  if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then log "data kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$bench_bin" --hosts "$hosts" --results "$results" --dir "$work/data" | tee "$work/out.log"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

field() { sed -n "s/.*[ :]$2=\([^ ]*\).*/\1/p" <<<"$1"; }
line() { grep "^healthbench: $1 " "$work/out.log" || die "no $1 figure"; }
lab=$(line lab)
compute=$(line compute)
precision=$(line precision)
cat <<REPORT

== labmesh bench: host health ($(nproc) CPUs, $build_type, load $load_before -> $load_after) ==
lab: $(field "$lab" hosts) hosts in $(field "$lab" groups) peer groups, $(field "$lab" results) results in $(field "$lab" entries) entries over 7 days ($(field "$lab" failed) failed; noise $(field "$lab" noise)), filled in $(field "$lab" fill_s) s
score computation: p50 $(field "$compute" p50_ms) ms, max $(field "$compute" max_ms) ms over $(field "$compute" runs) runs ($(field "$compute" hosts) hosts scored, $(field "$compute" flaky_tests) tests flaky)
precision: bad hosts caught $(field "$precision" bad_caught), infrastructure hosts caught $(field "$precision" infra_caught), good hosts flagged $(field "$precision" good_flagged) (target 0); planted flaky tests found $(field "$precision" flaky_found), other tests flaky (noise that passed and failed with one build) $(field "$precision" other_tests_flaky)
REPORT
