#!/usr/bin/env bash
# The labmesh demo: sets up, builds, starts a coordinator (data in ./var/labmesh) and three local
# agents with different hostnames and labels, waits until they are Ready, and prints where to
# look. Everything keeps running afterwards; `scripts/demo.sh stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
var="$root/var"
pids="$var/demo.pids"
build_dir=${LABMESH_BUILD_DIR:-build}

stop_demo() {
  if [[ -f $pids ]]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$pids"
    # Wait (bounded) for them to exit, so ports are free for a new start.
    for _ in $(seq 1 50); do
      alive=0
      while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$pids"
      ((alive == 0)) && break
      sleep 0.1
    done
    rm -f "$pids"
  fi
}

if [[ ${1:-} == stop ]]; then
  stop_demo
  echo "demo stopped"
  exit 0
fi

bash scripts/setup.sh
source scripts/fast-build.sh
configure "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target labmesh-coordinator labmesh-agent labmesh labmesh-test

stop_demo
mkdir -p "$var/log"
coordinator="$root/$build_dir/coordinator/labmesh-coordinator"
agent="$root/$build_dir/agent/labmesh-agent"
cli="$root/$build_dir/cli/labmesh"

token=demo-enroll-token
rm -f "$var/labmesh/coordinator.endpoints"
"$coordinator" --data-dir "$var/labmesh" --enroll-token "$token" \
  --heartbeat-interval 2s --dead-after 15s >"$var/log/coordinator.log" 2>&1 &
echo $! >"$pids"
for _ in $(seq 1 100); do
  [[ -f $var/labmesh/coordinator.endpoints ]] && break
  if ! kill -0 "$(head -n1 "$pids")" 2>/dev/null; then
    echo "the coordinator did not start:"; cat "$var/log/coordinator.log"; exit 1
  fi
  sleep 0.1
done

# Every API request names its user: the demo acts as the admin the first start created.
LABMESH_TOKEN=$(cat "$var/labmesh/keys/admin.token")
export LABMESH_TOKEN

declare -A labels=([demo-1]="gpu,rack:a" [demo-2]="gpu,rack:b" [demo-3]="usb,rack:b")
for host in demo-1 demo-2 demo-3; do
  "$agent" --coordinator tcp://127.0.0.1:7710 --coordinator-key "$var/labmesh/keys/coordinator.pub" \
    --hostname "$host" --work-dir "$var/agents/$host" --labels "${labels[$host]}" \
    --enroll-token "$token" --heartbeat-interval 2s --peer-listen tcp://127.0.0.1:0 >"$var/log/agent-$host.log" 2>&1 &
  echo $! >>"$pids"
done

echo "waiting for the three agents to be Ready..."
for _ in $(seq 1 150); do
  # Connected, not only Ready: a data dir from an earlier demo lists its hosts Ready at once.
  ready=$("$cli" --json host list --status Ready 2>/dev/null | grep -o '"connected": *true' |
    wc -l || true)
  [[ $ready -ge 3 ]] && break
  sleep 0.2
done
"$cli" host list

# A sample job on every demo agent: three named tests, one of them failing on purpose.
control="$var/sample-control.sh"
cat >"$control" <<'CONTROL'
#!/bin/sh
# labmesh sample control: runs on each host of the job, in a fresh results directory.
echo "sample job $LABMESH_JOB_ID on $LABMESH_HOST (hosts: $LABMESH_HOSTS)"
labmesh-test run kernel-version -- uname -r
labmesh-test run disk-space -- df -h .
labmesh-test keyval disk-space free_kb="$(df -k . | awk 'NR==2 {print $4}')"
labmesh-test run known-bug -- sh -c 'echo "this test fails on purpose"; exit 1'
CONTROL
chmod +x "$control"
"$cli" test add sample --control "$control" --description "demo: three tests, one failing" >/dev/null
job=$("$cli" --json job create --name sample --test sample --hosts demo-1,demo-2,demo-3 |
  sed -n 's/.*"id": *\([0-9]*\).*/\1/p')
echo
echo "submitted sample job $job; waiting for it:"
"$cli" job wait "$job" --timeout 60s || true
"$cli" job show "$job"
cat <<EOT

labmesh is running:
  web page      http://127.0.0.1:7780/   (log in as admin with the token below)
  admin token   $var/labmesh/keys/admin.token
                export LABMESH_TOKEN=\$(cat $var/labmesh/keys/admin.token)
  JSON API      curl -H "Authorization: Bearer \$LABMESH_TOKEN" http://127.0.0.1:7780/api/v1/hosts
  CLI           $cli job list
                $cli job show $job
                $cli job log $job --host demo-1
                $cli job create --name hello --command 'echo hello from \$LABMESH_HOST' --label gpu --count 2
                $cli host list
                $cli host show demo-1
                $cli --json label list
                $cli host lock demo-3 --reason "trying it out"
                $cli user create alice; $cli acl list; $cli audit
  results       $var/labmesh/results/
  logs          $var/log/
  enrol more    $agent --coordinator tcp://127.0.0.1:7710 \\
                  --coordinator-key $var/labmesh/keys/coordinator.pub \\
                  --hostname demo-4 --work-dir $var/agents/demo-4 \\
                  --peer-listen tcp://127.0.0.1:0
                (then: $cli host pending; $cli host accept demo-4)
  stop it all   scripts/demo.sh stop
EOT
