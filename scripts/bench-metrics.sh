#!/usr/bin/env bash
# GET /metrics under a large fleet (issue 23, docs/monitoring.md): the time one scrape takes
# with LABMESH_BENCH_HOSTS (10,000) simulated agents connected and heartbeating every
# LABMESH_BENCH_INTERVAL (5 s, the production default), measured from the client (curl's total
# time: the request through civetweb, the API socket, the event loop building the text, and
# back) over LABMESH_BENCH_SCRAPES (50) scrapes one after another, next to the same with no
# hosts. The fleet is labmesh-fleetsim (the real protocol, Curve included), split over two
# processes of half the hosts each: one process holding 10,000 ZeroMQ sockets would need more
# file descriptors than the usual limit of 20,000.
#
# Environment: LABMESH_SKIP_SETUP=1, LABMESH_BUILD_DIR (build/), LABMESH_BUILD_TYPE
# (RelWithDebInfo), LABMESH_BENCH_HOSTS, LABMESH_BENCH_INTERVAL, LABMESH_BENCH_SCRAPES,
# LABMESH_BENCH_KEEP=1 (keep the temp dir with the logs and the last scrape).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
build_type=${LABMESH_BUILD_TYPE:-RelWithDebInfo}
hosts=${LABMESH_BENCH_HOSTS:-10000}
interval=${LABMESH_BENCH_INTERVAL:-5s}
scrapes=${LABMESH_BENCH_SCRAPES:-50}

log() { echo "bench-metrics: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ ${LABMESH_SKIP_SETUP:-0} != 1 ]]; then
  "$root/scripts/setup.sh"
fi
source "$root/scripts/fast-build.sh"
configure "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" --target labmesh-coordinator labmesh-fleetsim -j"$(nproc)"
coordinator_bin=$build_dir/coordinator/labmesh-coordinator
fleetsim_bin=$build_dir/tests/bench/labmesh-fleetsim

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-metrics.XXXXXX")
coordinator_pid=""
fleet_pids=()

# shellcheck source=scripts/bench-common.sh
source "$root/scripts/bench-common.sh"

cleanup() {
  for pid in "${fleet_pids[@]}"; do stop_pid "$pid"; done
  stop_pid "$coordinator_pid"
  finish_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# sample NAME FILE: the value of the unlabelled sample NAME in a scrape.
sample() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }

# measure LABEL: $scrapes scrapes in a row; prints one summary line.
measure() {
  local times=$work/times-$1.txt
  : >"$times"
  for _ in $(seq "$scrapes"); do
    curl -sf -o "$work/scrape.txt" -w '%{time_total} %{size_download}\n' \
      "http://$http_endpoint/metrics" >>"$times" || die "scrape failed"
  done
  sort -n "$times" | awk -v label="$1" '
    { t[NR] = $1 * 1000; bytes = $2 }
    END {
      p50 = t[int((NR - 1) * 0.50) + 1]; p99 = t[int((NR - 1) * 0.99) + 1]
      printf "%s: %d scrapes, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d bytes, %d lines\n",
        label, NR, p50, p99, t[NR], bytes, 0
    }' | sed "s/, 0 lines/, $(wc -l <"$work/scrape.txt") lines/"
}

bench_http_listen=127.0.0.1:0 bench_heartbeat_interval=$interval bench_dead_after=120s \
  start_coordinator metrics
[[ -n $http_endpoint ]] || die "the coordinator serves no HTTP"
log "coordinator on http://$http_endpoint; scraping with no hosts"
empty=$(measure "no hosts")

half=$((hosts / 2))
for part in a b; do
  count=$half
  [[ $part == b ]] && count=$((hosts - half))
  "$fleetsim_bin" --coordinator "$agent_endpoint" --coordinator-key "$coordinator_key" \
    --mode steady --agents "$count" --prefix "sim$part-" --interval "$interval" \
    --duration 3600s --ramp-batch 250 --ramp-every 100ms --register-timeout 600s \
    >"$work/fleetsim-$part.log" 2>&1 &
  fleet_pids+=($!)
done

log "waiting for $hosts agents to connect"
deadline=$((SECONDS + 900))
connect_start=$SECONDS
while :; do
  curl -sf -o "$work/poll.txt" "http://$http_endpoint/metrics" || die "scrape failed"
  connected=$(sample labmesh_agents_connected "$work/poll.txt")
  [[ ${connected%.*} -ge $hosts ]] && break
  for pid in "${fleet_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "a fleetsim exited: $(tail -3 "$work"/fleetsim-*.log)"
  done
  ((SECONDS < deadline)) || die "only $connected of $hosts agents connected within 900 s"
  sleep 2
done
connect_s=$((SECONDS - connect_start))
log "$hosts agents connected after ${connect_s} s; scraping"
full=$(measure "$hosts hosts")
lag=$(sample labmesh_heartbeat_lag_max_seconds "$work/scrape.txt")
turns=$(awk '$1 ~ /^labmesh_loop_turn_seconds_(sum|count)$/ { v[$1] = $2 }
  END { if (v["labmesh_loop_turn_seconds_count"] > 0)
          printf "%.3f", 1000 * v["labmesh_loop_turn_seconds_sum"] / v["labmesh_loop_turn_seconds_count"] }' \
  "$work/scrape.txt")

cat <<EOF

== labmesh bench: GET /metrics ($(nproc) CPUs, $build_type, heartbeat every $interval, load $(cut -d' ' -f1-3 /proc/loadavg)) ==
$empty
$full
$hosts agents connected in ${connect_s} s; during the scrapes: longest heartbeat silence ${lag} s, mean busy loop turn ${turns} ms
EOF
