#!/usr/bin/env bash
# labmesh benchmark: the command-line client from a shell loop (issue 24, "the CLI"). Against a
# real coordinator on 127.0.0.1 with its data directory on disk ($TMPDIR) and on tmpfs
# (/dev/shm), LABMESH_BENCH_CLI_RUNS (500) runs each, one after the other from bash:
#   1. `labmesh --version`: the process alone (loading, flag set-up, exit), the floor;
#   2. `labmesh job create --command true --label cli-bench --count 1`: a job created and its
#      reply received after the coordinator's commit (the one host with the label, a real agent,
#      is locked: the jobs stay Queued and nothing else runs).
# Prints runs per second and the mean per run. Target: job create at 300+/s. Reported, not
# enforced (shared machines).
#
# Environment: LABMESH_SKIP_SETUP=1, LABMESH_BUILD_DIR, LABMESH_BUILD_TYPE, LABMESH_BENCH_KEEP=1,
# LABMESH_BENCH_CLI_RUNS, LABMESH_BENCH_NO_BUILD=1 (use the binaries in LABMESH_BUILD_DIR as
# they are).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
runs=${LABMESH_BENCH_CLI_RUNS:-500}

log() { echo "bench-cli: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"
bench_prepare labmesh-coordinator labmesh-agent labmesh
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
cli_bin=$build_dir/cli/labmesh
agent_bin=$build_dir/agent/labmesh-agent

coordinator_pid=""
agent_pid=""
work=""
finish() {
  stop_pid "$agent_pid"
  stop_pid "$coordinator_pid"
  agent_pid=""
  coordinator_pid=""
  if [[ -n $work ]]; then
    if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
  fi
  work=""
}
trap finish EXIT
trap 'exit 130' INT TERM

# rate NAME CMD...: runs CMD $runs times; prints "NAME: R/s, M ms per run".
rate() {
  local name=$1 start end i
  shift
  start=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do
    "$@" >/dev/null || die "$name failed: $*"
  done
  end=$(date +%s%N)
  awk -v n="$runs" -v ns=$((end - start)) -v name="$name" \
    'BEGIN { printf "%s: %.0f/s, %.2f ms per run\n", name, n / (ns / 1e9), ns / 1e6 / n }'
}

report=""
run_in() {  # run_in WHERE DIR
  work=$(mktemp -d "$2/labmesh-bench-cli.XXXXXX")
  start_coordinator coordinator
  export LABMESH_API=$api_endpoint
  "$agent_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
    --hostname cli-bench --work-dir "$work/agent" --labels cli-bench --peer-listen "" \
    --log-level warn >"$work/agent.log" 2>&1 &
  agent_pid=$!
  local deadline=$((SECONDS + 30))
  until "$cli_bin" --json host list 2>/dev/null | grep -q '"status": *"Ready"'; do
    ((SECONDS < deadline)) || die "the agent did not become Ready within 30 s"
    sleep 0.1
  done
  "$cli_bin" host lock cli-bench --reason "bench: jobs stay queued" >/dev/null || die "host lock failed"
  "$cli_bin" job create --name warm-up --command true --label cli-bench --count 1 >/dev/null ||
    die "job create failed"
  report+="$1: $(rate "labmesh --version" "$cli_bin" --version)
$1: $(rate "labmesh job create" "$cli_bin" job create --name bench --command true --label cli-bench --count 1)
"
  finish
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_in disk "${TMPDIR:-/tmp}"
if [[ -d /dev/shm && -w /dev/shm ]]; then run_in tmpfs /dev/shm; fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cat <<REPORT

== labmesh bench: the CLI from a shell loop ($(nproc) CPUs, $build_type, $runs runs each, load $load_before -> $load_after) ==
${report}target: job create at 300+/s
REPORT
