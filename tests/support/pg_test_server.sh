#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL 15 server for the PostgreSQL-backed tests (a CTest
# fixture: one test runs `start`, the tests connect to the URL in STATE_DIR/url, one runs `stop`).
#   pg_test_server.sh start STATE_DIR  writes STATE_DIR/url (postgresql://labmesh@127.0.0.1:PORT/postgres)
#                                      and STATE_DIR/datadir; first stops a server left by STATE_DIR
#   pg_test_server.sh stop STATE_DIR   stops that server, removes its data directory and the state files
#   pg_test_server.sh restart STATE_DIR  restarts that server (fast shutdown: sessions are cut),
#                                      same port and data (the PostgreSQL restart test)
# The server listens on 127.0.0.1 only, on a port the kernel picks, trusts every connection and
# does not fsync (LABMESH_PG_FSYNC=on: it does, for benchmarks). As root it runs as the postgres system user (initdb and postgres refuse root).
set -euo pipefail

bin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
if (($# != 2)) || [[ $1 != start && $1 != stop && $1 != restart ]]; then
  echo "usage: $0 start|stop|restart STATE_DIR" >&2
  exit 2
fi
state=$2
data=""

# Runs a PostgreSQL command as the data directory's owner when root, else as the current user.
as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u "$(stat -c %U "$data")" -- "$@")
  else
    "$@"
  fi
}

stop_server() {
  if [[ -f $state/datadir ]]; then
    data=$(<"$state/datadir")
    # Only ever delete what start created.
    if [[ $data == /tmp/labmesh-pg.* && -d $data ]]; then
      local pid=""
      [[ -f $data/postmaster.pid ]] && pid=$(head -n 1 "$data/postmaster.pid")
      # Is it a live postmaster of $data? pg_ctl alone would take a killed one that is still a
      # zombie (parent does not reap) or a reused pid for a running server.
      if [[ -n $pid && $(ps -o args= -p "$pid" || true) == *" -D $data" ]]; then
        as_owner "$bin/pg_ctl" stop -D "$data" -m immediate -s
      fi
      rm -rf -- "$data"
    fi
  fi
  rm -f -- "$state/url" "$state/url.tmp" "$state/datadir"
}

fail() {
  echo "pg_test_server: $*" >&2
  if [[ -f $data/server.log ]]; then
    echo "--- tail of $data/server.log:" >&2
    tail -n 40 "$data/server.log" >&2
  fi
  stop_server || true
  exit 1
}

start_server() {
  mkdir -p -- "$state"
  stop_server
  data=$(mktemp -d /tmp/labmesh-pg.XXXXXX)
  echo "$data" >"$state/datadir"
  if ((EUID == 0)); then chown postgres:postgres "$data"; fi
  local out port deadline
  out=$(as_owner "$bin/initdb" -D "$data" --auth=trust -U labmesh --no-sync -E UTF8 --locale=C 2>&1) ||
    fail "initdb failed: $out"
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
fsync = ${LABMESH_PG_FSYNC:-off}
full_page_writes = ${LABMESH_PG_FSYNC:-off}
synchronous_commit = on
max_connections = 200
EOF
  as_owner "$bin/pg_ctl" start -D "$data" -l "$data/server.log" -w -t 60 -s || fail "pg_ctl start failed"
  deadline=$((SECONDS + 30))
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; do
    ((SECONDS < deadline)) || fail "server on port $port does not accept connections"
    sleep 0.1
  done
  echo "postgresql://labmesh@127.0.0.1:$port/postgres" >"$state/url.tmp"
  mv -f -- "$state/url.tmp" "$state/url"
}

restart_server() {
  data=$(<"$state/datadir")
  as_owner "$bin/pg_ctl" restart -D "$data" -m fast -w -t 60 -s -l "$data/server.log"
}

case $1 in
  start) start_server ;;
  restart) restart_server ;;
  *) stop_server ;;
esac
