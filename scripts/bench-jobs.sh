#!/usr/bin/env bash
# labmesh job benchmarks (issue "Jobs"): a real coordinator and LABMESH_BENCH_JOB_AGENTS (8) real
# agents on 127.0.0.1, driven by labmesh-jobbench:
#   1. submit-to-start latency on an idle system: 200 jobs one at a time, job created ->
#      control spawned on the agent, p50 and p99 (targets: p50 < 5 ms, p99 < 20 ms);
#   2. end-to-end throughput: 2,000 jobs whose command is `true`, from the first submission to
#      the last entry Completed with its results uploaded (target: >= 500 jobs/s).
# Both figures are taken twice: with the data and work directories on disk ($TMPDIR) and on
# tmpfs (/dev/shm). On the shared Debian VMs the disk run is dominated by ext4 inode allocation
# (every entry creates and deletes a spool directory on the agent and creates its results
# directories on the coordinator); the tmpfs run shows what labmesh itself costs.
# Called by scripts/bench.sh; runs alone too. Exit 0 when the figures were measured (targets are
# reported, not enforced: the machines are shared).
#
# LABMESH_BENCH_STORE=postgresql runs the coordinator with --store on a PostgreSQL 15 server of
# its own (tests/support/pg_test_server.sh, fsync on, its data under /tmp on disk in both runs;
# a database per run) instead of LMDB in its data directory (docs/scale-out.md).
# LABMESH_BENCH_COORDINATORS=N (with postgresql) adds N-1 standbys that relay to the active
# coordinator (--standby, --relay-listen): agent i starts at coordinator i mod N, so the agents
# are spread over all of them; jobbench submits and polls through the active coordinator's API.
#
# Environment: LABMESH_SKIP_SETUP=1, LABMESH_BUILD_DIR, LABMESH_BUILD_TYPE, LABMESH_BENCH_KEEP=1,
# LABMESH_BENCH_JOB_AGENTS (8), LABMESH_BENCH_JOBS (2000), LABMESH_BENCH_LATENCY_JOBS (200),
# LABMESH_BENCH_STORE (lmdb), LABMESH_BENCH_COORDINATORS (1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
agents=${LABMESH_BENCH_JOB_AGENTS:-8}
jobs=${LABMESH_BENCH_JOBS:-2000}
latency_jobs=${LABMESH_BENCH_LATENCY_JOBS:-200}
store=${LABMESH_BENCH_STORE:-lmdb}
[[ $store == lmdb || $store == postgresql ]] || { echo "bench-jobs: LABMESH_BENCH_STORE: lmdb or postgresql" >&2; exit 2; }
coordinators=${LABMESH_BENCH_COORDINATORS:-1}
[[ $coordinators =~ ^[1-9]$ ]] || { echo "bench-jobs: LABMESH_BENCH_COORDINATORS: 1 to 9" >&2; exit 2; }
[[ $coordinators == 1 || $store == postgresql ]] ||
  { echo "bench-jobs: LABMESH_BENCH_COORDINATORS > 1 needs LABMESH_BENCH_STORE=postgresql" >&2; exit 2; }

log() { echo "bench-jobs: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ ${LABMESH_SKIP_SETUP:-0} != 1 ]]; then
  "$root/scripts/setup.sh"
fi
source "$root/scripts/fast-build.sh"
configure "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" --target labmesh-coordinator labmesh-agent labmesh-test \
  labmesh-jobbench -j"$(nproc)"
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
agent_bin=$build_dir/agent/labmesh-agent
jobbench_bin=$build_dir/tests/bench/labmesh-jobbench

report=""
pids=()
work=""
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
  if [[ -n $work ]]; then
    if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then log "logs kept in $work"; else rm -rf "$work"; fi
  fi
  work=""
}
pg_state=""
stop_pg() {
  if [[ -n $pg_state ]]; then
    "$root/tests/support/pg_test_server.sh" stop "$pg_state" || true
    rm -rf "$pg_state"
  fi
}
trap 'stop_all; stop_pg' EXIT
trap 'exit 130' INT TERM

field() { sed -n "s/.*[ :]$2=\([^ ]*\).*/\1/p" <<<"$1"; }

# run_once WHERE DIR: one coordinator and $agents agents with their directories under DIR.
run_once() {
  local where=$1
  work=$(mktemp -d "$2/labmesh-bench-jobs.XXXXXX")
  local data=$work/coordinator store_flags=()
  if [[ $store == postgresql ]]; then
    local url database=bench_$where
    url=$(<"$pg_state/url")
    psql -q "$url" -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" ||
      die "cannot create database $database"
    store_flags=(--store "${url%/*}/$database")
  fi
  local relay_flags=()
  ((coordinators > 1)) && relay_flags=(--relay-listen 'tcp://127.0.0.1:*')
  "$coordinator_bin" --data-dir "$data" "${store_flags[@]}" "${relay_flags[@]}" --auto-accept \
    --http-listen "" --heartbeat-interval 1s --dead-after 30s \
    --agent-listen 'tcp://127.0.0.1:*' --api-listen 'tcp://127.0.0.1:*' \
    --log-level warn >"$work/coordinator.log" 2>&1 &
  pids+=($!)
  local endpoints=$data/coordinator.endpoints deadline=$((SECONDS + 20))
  until [[ -s $endpoints ]]; do
    kill -0 "${pids[0]}" 2>/dev/null || die "coordinator exited: $(tail -5 "$work/coordinator.log")"
    ((SECONDS < deadline)) || die "coordinator wrote no $endpoints within 20 s"
    sleep 0.05
  done
  local agent_endpoint api_endpoint key
  agent_endpoint=$(sed -n 's/^agent=//p' "$endpoints")
  api_endpoint=$(sed -n 's/^api=//p' "$endpoints")
  key=$(sed -n 's/^public_key=//p' "$endpoints")
  LABMESH_TOKEN=$(cat "$data/keys/admin.token")  # jobbench creates jobs as the admin
  export LABMESH_TOKEN
  # The standbys: each relays to the active coordinator on ports of its own.
  local agent_endpoints=("$agent_endpoint") c
  for ((c = 2; c <= coordinators; c++)); do
    local ports
    ports=($(/usr/bin/python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))'))
    "$coordinator_bin" --standby --data-dir "$data" "${store_flags[@]}" --auto-accept \
      --http-listen "" --heartbeat-interval 1s --dead-after 30s \
      --agent-listen "tcp://127.0.0.1:${ports[0]}" --api-listen "tcp://127.0.0.1:${ports[1]}" \
      >"$work/standby-$c.log" 2>&1 &
    pids+=($!)
    agent_endpoints+=("tcp://127.0.0.1:${ports[0]}")
    deadline=$((SECONDS + 20))
    until grep -q "the active coordinator answers" "$work/standby-$c.log"; do
      kill -0 "${pids[-1]}" 2>/dev/null || die "standby exited: $(tail -5 "$work/standby-$c.log")"
      ((SECONDS < deadline)) || die "standby $c reached no active coordinator within 20 s"
      sleep 0.05
    done
  done
  for i in $(seq "$agents"); do
    # Agent i starts at coordinator i mod N and lists the others after it.
    local list="" k
    for ((k = 0; k < coordinators; k++)); do
      list+="${list:+,}${agent_endpoints[$(((i + k) % coordinators))]}"
    done
    "$agent_bin" --coordinator "$list" --coordinator-key "$key" --hostname "bench-$i" \
      --work-dir "$work/agent-$i" --labels bench --heartbeat-interval 1s --log-level warn \
      --peer-listen tcp://127.0.0.1:0 \
      >"$work/agent-$i.log" 2>&1 &
    pids+=($!)
  done
  log "$where: $agents agents, $latency_jobs latency jobs, $jobs throughput jobs"
  "$jobbench_bin" --api "$api_endpoint" --label bench --hosts "$agents" \
    --latency-jobs "$latency_jobs" --jobs "$jobs" | tee "$work/jobbench.log"
  local latency throughput
  latency=$(grep '^jobbench: latency' "$work/jobbench.log" || true)
  throughput=$(grep '^jobbench: throughput' "$work/jobbench.log" || true)
  [[ -n $throughput ]] || die "no throughput figure"
  if [[ $store == postgresql ]]; then
    where+=" (postgresql, $coordinators coordinator"
    ((coordinators == 1)) || where+="s"
    where+=")"
  fi
  report+="$where: submit-to-start latency ($latency_jobs jobs, idle) p50 $(field "$latency" p50_ms) ms, p99 $(field "$latency" p99_ms) ms (targets < 5 ms, < 20 ms)
$where: throughput $jobs jobs of \`true\` in $(field "$throughput" seconds) s = $(field "$throughput" rate) jobs/s (target >= 500; submission $(field "$throughput" submit_s) s; failed $(field "$throughput" failed))
"
  stop_all
}

if [[ $store == postgresql ]]; then
  pg_state=$(mktemp -d)
  LABMESH_PG_FSYNC=on "$root/tests/support/pg_test_server.sh" start "$pg_state" ||
    die "cannot start a PostgreSQL server"
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_once disk "${TMPDIR:-/tmp}"
if [[ -d /dev/shm && -w /dev/shm ]]; then run_once tmpfs /dev/shm; fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<REPORT

== labmesh bench: jobs ($(nproc) CPUs, $build_type, $agents agents, store $store, $coordinators coordinator(s), load $load_before -> $load_after) ==
$report
REPORT
