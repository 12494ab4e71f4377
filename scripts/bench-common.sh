# Shared by the benchmark scripts (sourced, not run): setting up and building, stopping a
# process and starting a fresh coordinator on 127.0.0.1. The sourcing script defines log, die,
# $root, $build_dir, $build_type, and for start_coordinator $work and $coordinator_bin.

# bench_prepare TARGET...: scripts/setup.sh (unless LABMESH_SKIP_SETUP=1), then the targets built
# in $build_dir as $build_type (unless LABMESH_BENCH_NO_BUILD=1: the binaries there as they are,
# e.g. a copy of an older build to compare).
bench_prepare() {
  if [[ ${LABMESH_SKIP_SETUP:-0} != 1 ]]; then
    "$root/scripts/setup.sh"
  fi
  if [[ ${LABMESH_BENCH_NO_BUILD:-0} != 1 ]]; then
    source "$root/scripts/fast-build.sh"
    configure "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
    cmake --build "$build_dir" --target "$@" -j"$(nproc)"
  fi
}

# finish_work: removes $work, or with LABMESH_BENCH_KEEP=1 keeps it and says where (the logs).
finish_work() {
  if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then
    log "logs kept in $work"
  else
    rm -rf "$work"
  fi
}

# status_kib PID KEY: a kB figure of /proc/PID/status (VmRSS, RssAnon, VmHWM...).
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# field LINE KEY: the value of KEY=value in LINE (the benchmark programs' report lines).
field() { sed -n "s/.*[ :]$2=\([^ ]*\).*/\1/p" <<<"$1"; }

stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL if it is still there after 5 s
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# start_coordinator NAME [FLAGS...]: a fresh coordinator on its own data dir ($work/NAME), with
# FLAGS added and its log at $coordinator_log_level (default warn); sets coordinator_pid,
# agent_endpoint, api_endpoint, http_endpoint and coordinator_key once it has written its
# endpoints (that is, bound), and exports LABMESH_TOKEN (its admin's token). The web server is off
# unless $bench_http_listen says where (127.0.0.1:0); $bench_heartbeat_interval and
# $bench_dead_after replace the 1 s and 30 s; $bench_agent_listen replaces tcp://127.0.0.1:* (a
# restart on the same data dir and port). The log is appended to.
start_coordinator() {
  local name=$1
  shift
  local data=$work/$name
  local endpoints=$data/coordinator.endpoints deadline=$((SECONDS + 60))
  rm -f "$endpoints"  # a restart: wait for the new one's, not the old
  "$coordinator_bin" --data-dir "$data" --auto-accept --http-listen "${bench_http_listen:-}" \
    --heartbeat-interval "${bench_heartbeat_interval:-1s}" --dead-after "${bench_dead_after:-30s}" \
    --agent-listen "${bench_agent_listen:-tcp://127.0.0.1:*}" --api-listen 'tcp://127.0.0.1:*' \
    --log-level "${coordinator_log_level:-warn}" "$@" >>"$work/$name-coordinator.log" 2>&1 &
  coordinator_pid=$!
  until [[ -s $endpoints ]]; do
    kill -0 "$coordinator_pid" 2>/dev/null ||
      die "coordinator exited at start: $(tail -5 "$work/$name-coordinator.log")"
    ((SECONDS < deadline)) || die "coordinator wrote no $endpoints within 60 s"
    sleep 0.05
  done
  agent_endpoint=$(sed -n 's/^agent=//p' "$endpoints")
  api_endpoint=$(sed -n 's/^api=//p' "$endpoints")
  coordinator_key=$(sed -n 's/^public_key=//p' "$endpoints")
  http_endpoint=$(sed -n 's/^http=//p' "$endpoints")
  [[ -n $agent_endpoint && -n $api_endpoint && -n $coordinator_key ]] || die "incomplete $endpoints"
  LABMESH_TOKEN=$(cat "$data/keys/admin.token")
  export LABMESH_TOKEN
}
