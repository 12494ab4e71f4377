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
# LABMESH_BENCH_UPDATE_AGENTS, LABMESH_BENCH_UPDATE_MIB.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
agents=${LABMESH_BENCH_UPDATE_AGENTS:-50}
mib=${LABMESH_BENCH_UPDATE_MIB:-10}

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

cleanup() {
  stop_pid "$bench_pid"
  stop_pid "$coordinator_pid"
  if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then
    log "logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() { sed -n "s/.*[ :]$2=\([^ ]*\).*/\1/p" <<<"$1"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_coordinator update
head -c "$((mib << 20))" /dev/urandom >"$work/package.tar.gz"
"$cli_bin" --api "$api_endpoint" package upload "$work/package.tar.gz" --version 9.9.9-bench \
  >/dev/null || die "upload failed"
log "$agents simulated agents move to a $mib MiB package"
out=$work/update.log
"$bench_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
  --api "$api_endpoint" --agents "$agents" --version 9.9.9-bench \
  --watch-pid "$coordinator_pid" >"$out" 2>&1 &
bench_pid=$!
rc=0
wait "$bench_pid" || rc=$?
bench_pid=""
cat "$out"
((rc == 0)) || die "updatebench failed (exit $rc)"
summary=$(grep '^updatebench: agents=' "$out")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cat <<EOF

== labmesh bench: self-update of $agents simulated agents to a $mib MiB package ($(nproc) CPUs, $build_type, load $load_before -> $load_after) ==
time to update all: $(field "$summary" update_s) s (first agent done after $(field "$summary" first_done_s) s)
coordinator bytes sent: $(field "$summary" coordinator_bytes_sent) ($(field "$summary" per_agent_mib) MiB per agent, $(field "$summary" package_multiple) x the package bytes; $(field "$summary" rate_mib_s) MiB/s)
coordinator CPU for it: $(field "$summary" coordinator_cpu_s) s
EOF
