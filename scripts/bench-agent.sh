#!/usr/bin/env bash
# bench-agent.sh: an idle agent's footprint (issue 24: at or under 6 MiB of RSS and under 0.1% of
# a core, with the build the .deb ships: Release, -O2). A real coordinator and one real agent on
# 127.0.0.1, both with their default intervals (heartbeat every 5 s). Once the agent is
# Registered and LABMESH_BENCH_SETTLE (5) s more have passed, over LABMESH_BENCH_SECONDS (60) s:
#   - its CPU: the time all its threads were on a CPU (/proc/PID/task/*/schedstat), as a share
#     of one core;
#   - its wakeups: the voluntary context switches of all its threads, per second;
#   - at the end, its RSS split into anonymous and file-backed pages (/proc/PID/status) and its
#     PSS (/proc/PID/smaps_rollup: a shared library's pages divided among the processes that map
#     them), and the file-backed mappings that hold the most of it (/proc/PID/smaps).
# Called by scripts/bench.sh; runs alone too. Exit 0 when measured (the targets are reported,
# not enforced: the machines are shared).
#
# Environment: LABMESH_SKIP_SETUP=1, LABMESH_BENCH_NO_BUILD=1, LABMESH_BUILD_DIR (build/),
# LABMESH_BUILD_TYPE (Release), LABMESH_BENCH_SECONDS, LABMESH_BENCH_SETTLE, LABMESH_BENCH_KEEP=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-Release}
seconds=${LABMESH_BENCH_SECONDS:-60}
settle=${LABMESH_BENCH_SETTLE:-5}

log() { echo "bench-agent: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"
bench_prepare labmesh-coordinator labmesh-agent
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
agent_bin=$build_dir/agent/labmesh-agent

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-agent.XXXXXX")
coordinator_pid="" agent_pid=""
cleanup() {
  stop_pid "$agent_pid"
  stop_pid "$coordinator_pid"
  finish_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The time on a CPU (ns) and the voluntary context switches of every thread of PID.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
wakeups() {
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}

bench_heartbeat_interval=5s  # the coordinator's default
start_coordinator idle
log "agent connecting to $agent_endpoint"
"$agent_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
  --hostname bench-idle --work-dir "$work/agent" --peer-listen tcp://127.0.0.1:0 \
  --log-level info >"$work/agent.log" 2>&1 &
agent_pid=$!
deadline=$((SECONDS + 60))
until grep -q -- '-> Registered' "$work/agent.log"; do
  kill -0 "$agent_pid" 2>/dev/null || die "the agent exited: $(tail -5 "$work/agent.log")"
  ((SECONDS < deadline)) || die "the agent was not Registered within 60 s"
  sleep 0.1
done
sleep "$settle"

log "agent $agent_pid Registered; measuring for $seconds s"
cpu_before=$(cpu_ns "$agent_pid") wake_before=$(wakeups "$agent_pid") started=$(date +%s%N)
sleep "$seconds"
cpu_after=$(cpu_ns "$agent_pid") wake_after=$(wakeups "$agent_pid") ended=$(date +%s%N)
kill -0 "$agent_pid" 2>/dev/null || die "the agent exited: $(tail -5 "$work/agent.log")"

rss=$(status_kib "$agent_pid" VmRSS)
anon=$(status_kib "$agent_pid" RssAnon)
file=$(status_kib "$agent_pid" RssFile)
shmem=$(status_kib "$agent_pid" RssShmem)
pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$agent_pid/smaps_rollup")
threads=$(ls "/proc/$agent_pid/task" | wc -l)
# The file-backed mappings holding the most resident pages, summed per file.
top_files=$(awk '
  /^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "" ; next }
  $1 == "Rss:" && name ~ /^\// { rss[name] += $2 }
  END { for (n in rss) printf "%d %s\n", rss[n], n }' "/proc/$agent_pid/smaps" |
  sort -rn | head -8 | awk '{ n = split($2, p, "/"); printf "%s %d KiB, ", p[n], $1 }')

wall_ns=$((ended - started))
cpu_pct=$(awk -v c="$((cpu_after - cpu_before))" -v w="$wall_ns" 'BEGIN { printf "%.3f", 100 * c / w }')
wake_rate=$(awk -v n="$((wake_after - wake_before))" -v w="$wall_ns" 'BEGIN { printf "%.1f", n * 1e9 / w }')
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rss_verdict=$(awk -v r="$rss" 'BEGIN { print (r <= 6144) ? "met" : "MISSED" }')
cpu_verdict=$(awk -v c="$cpu_pct" 'BEGIN { print (c < 0.1) ? "met" : "MISSED" }')

cat <<REPORT

== labmesh bench-agent: one idle agent ($(nproc) CPUs, $build_type, heartbeat every 5 s, $seconds s, $threads threads) ==
idle agent RSS: $(mib "$rss") MiB (target <= 6 MiB: $rss_verdict): anonymous $(mib "$anon") MiB, file-backed $(mib "$file") MiB, shared memory $(mib "$shmem") MiB; PSS $(mib "$pss") MiB
  largest file-backed: ${top_files%, }
idle agent CPU: $cpu_pct% of one core (target < 0.1%: $cpu_verdict), $wake_rate wakeups/s
REPORT
