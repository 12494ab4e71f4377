#!/usr/bin/env bash
# labmesh self-update benchmark (issue "Agent self-update"): the time and the bytes the
# coordinator sends to move LABMESH_BENCH_UPDATE_AGENTS (50) simulated agents (labmesh-updatebench:
# the real agent protocol, Curve included) to a LABMESH_BENCH_UPDATE_MIB (10) MiB package, on a
# real coordinator on 127.0.0.1. The package is random bytes uploaded with `labmesh package
# upload` (the coordinator stores and serves it without looking inside; the simulated agents
# check its SHA-256 and register again on the new version, as the real agent does after it
# re-executes itself). Called by scripts/bench.sh; runs alone too. Exit 0 when measured.
#
# Environment: LABMESH_SKIP_SETUP=1, LABMESH_BUILD_DIR, LABMESH_BUILD_TYPE, LABMESH_BENCH_KEEP=1,
# LABMESH_BENCH_UPDATE_AGENTS, LABMESH_BENCH_UPDATE_MIB, LABMESH_BENCH_UPDATE_BAD_PERCENT (10),
# LABMESH_BENCH_UPDATE_PEER_TIMEOUT (10s).
#
# Three runs, each on a fresh coordinator: the coordinator serves every chunk (--mesh off), the
# package mesh (docs/mesh.md: the simulated agents fetch from each other), and the mesh with
# LABMESH_BENCH_UPDATE_BAD_PERCENT of the agents bad peers (half serve corrupt chunks, half are
# unreachable).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
agents=${LABMESH_BENCH_UPDATE_AGENTS:-50}
mib=${LABMESH_BENCH_UPDATE_MIB:-10}
bad=${LABMESH_BENCH_UPDATE_BAD_PERCENT:-10}
# How long a simulated agent waits for a peer's chunk: the simulator is one process serving and
# fetching for the whole fleet, so a busy moment holds answers far longer than a real peer would.
peer_timeout=${LABMESH_BENCH_UPDATE_PEER_TIMEOUT:-10s}

log() { echo "bench-update: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ ${LABMESH_SKIP_SETUP:-0} != 1 ]]; then
  "$root/scripts/setup.sh"
fi
source "$root/scripts/fast-build.sh"
configure "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" --target labmesh-coordinator labmesh labmesh-updatebench -j"$(nproc)"
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
cli_bin=$build_dir/cli/labmesh
bench_bin=$build_dir/tests/bench/labmesh-updatebench

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-update.XXXXXX")
coordinator_pid=""
bench_pid=""

# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"
# A thousand agents fetching 10 GB from one coordinator wait their turn for longer than the
# usual 30 s: the coordinator-only path must not declare them Dead for it (this measures
# updates, not dead detection).
bench_dead_after=${bench_dead_after:-5m}

cleanup() {
  stop_pid "$bench_pid"
  stop_pid "$coordinator_pid"
  finish_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM


head -c "$((mib << 20))" /dev/urandom >"$work/package.tar.gz"

# run_mode NAME COORDINATOR_FLAGS BENCH_FLAGS: a fresh coordinator, the upload, one update of the
# fleet; prints one line of figures.
run_mode() {
  local name=$1 cflags=$2 bflags=$3
  local load_before load_after out rc=0 summary
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  # shellcheck disable=SC2086
  start_coordinator "$name" $cflags
  "$cli_bin" --api "$api_endpoint" package upload "$work/package.tar.gz" --version 9.9.9-bench \
    >/dev/null || die "upload failed"
  out=$work/$name.log
  # shellcheck disable=SC2086
  "$bench_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
    --api "$api_endpoint" --agents "$agents" --version 9.9.9-bench \
    --watch-pid "$coordinator_pid" $bflags >"$out" 2>&1 &
  bench_pid=$!
  wait "$bench_pid" || rc=$?
  bench_pid=""
  stop_pid "$coordinator_pid"
  coordinator_pid=""
  ((rc == 0)) || { cat "$out" >&2; die "updatebench ($name) failed (exit $rc)"; }
  summary=$(grep '^updatebench: agents=' "$out")
  echo "$summary" >&2
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '%-24s update all %6s s (first %5s s); coordinator sent %7s x the package; coordinator CPU %5s s; chunks from peers %s, from the coordinator %s; waits %s; bad-peer reports %s (load %s -> %s)\n' \
    "$name" "$(field "$summary" update_s)" "$(field "$summary" first_done_s)" \
    "$(awk -v b="$(field "$summary" coordinator_bytes_sent)" -v p="$(field "$summary" package_bytes)" \
      'BEGIN { printf "%.2f", b / p }')" \
    "$(field "$summary" coordinator_cpu_s)" \
    "$(field "$summary" peer_chunks)" "$(field "$summary" coordinator_chunks)" \
    "$(field "$summary" waits)" "$(field "$summary" bad_reports)" "$load_before" "$load_after"
}

log "$agents simulated agents move to a $mib MiB package: coordinator only, mesh, mesh with $bad% bad peers"
results=$(
  run_mode coordinator-only "--mesh off" ""
  run_mode mesh "" "--mesh --package $work/package.tar.gz --peer-timeout $peer_timeout"
  run_mode "mesh-$bad%-bad-peers" "" \
    "--mesh --package $work/package.tar.gz --peer-timeout $peer_timeout --bad-percent $bad"
)
cat <<EOF

== labmesh bench: self-update of $agents simulated agents to a $mib MiB package ($(nproc) CPUs, $build_type) ==
(coordinator sent: the bytes the coordinator sent on the agent socket while they updated, as a
 multiple of one package; the coordinator-only path sends every agent the whole package)
$results
EOF
