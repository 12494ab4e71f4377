#!/usr/bin/python3
"""Chaos run of labmesh (docs/chaos.md): real coordinator and agents on 127.0.0.1, a mix of jobs,
kill -9 of the coordinator and of agents at chosen moments, then proof that nothing was lost or
run twice and that the store is consistent.

Usage: chaos.py --build-dir DIR [--jobs 500] [--agents 8] [--coordinator-kills 6]
                [--agent-kills 10] [--seed N] [--keep]

Jobs: one-host jobs on a named host (--retry 2), label+count jobs (--label pool --count 2,
--retry 2) and synchronous jobs (--label pool --count 3 --synch-count 3) whose controls meet at
two labmesh-sync barriers. Every control writes data files of chosen sizes (their content is a
function of the entry, the size random per job) and one labmesh-test result, and appends to a
ledger outside the results (LEDGER/HOST.log): "start ENTRY HOST PID" when it starts, a "file
ENTRY HOST NAME SHA256" line per file and "done ENTRY HOST" at the end.

Kills happen at fixed points of progress (after a share of the jobs became final) plus a random
delay, so a small run is deterministic in what it asserts: every job final (lost = 0); no entry
started more often than 1 + its retries (run twice = 0); every file of an entry whose upload
completed present under DATA_DIR/results with the hash its control recorded (files missing = 0,
files bad = 0); each passed entry has its one GOOD result; `labmesh-coordinator --check` clean.
Prints one summary line and exits 0 when all holds, 1 otherwise.
"""

import argparse
import collections
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

FINAL = {"Completed", "Failed", "Aborted"}

CONTROL = r"""#!/bin/sh
# chaos control: LEDGER SIZE...
ledger=$1; shift
log="$ledger/$LABMESH_HOST.log"
echo "start $LABMESH_ENTRY_ID $LABMESH_HOST $$" >>"$log"
if [ "${LABMESH_SYNCH_COUNT:-1}" -gt 1 ]; then
  labmesh-sync barrier setup --timeout 60s || exit 3
fi
mkdir -p data
i=0
for size in "$@"; do
  yes "entry $LABMESH_ENTRY_ID file $i" | head -c "$size" >"data/f$i.bin"
  i=$((i + 1))
done
labmesh-test run chaos/write -- true
if [ "${LABMESH_SYNCH_COUNT:-1}" -gt 1 ]; then
  labmesh-sync barrier done --timeout 60s || exit 3
fi
for f in data/*.bin; do
  [ -e "$f" ] || continue
  echo "file $LABMESH_ENTRY_ID $LABMESH_HOST ${f#data/} $(sha256sum "$f" | cut -d' ' -f1)" >>"$log"
done
echo "done $LABMESH_ENTRY_ID $LABMESH_HOST" >>"$log"
"""


class Cluster:
    def __init__(self, args, root):
        self.args = args
        self.root = root
        self.data = os.path.join(root, "coordinator")
        self.ledger = os.path.join(root, "ledger")
        os.makedirs(self.ledger)
        self.bin = {
            "coordinator": os.path.join(args.build_dir, "coordinator/labmesh-coordinator"),
            "agent": os.path.join(args.build_dir, "agent/labmesh-agent"),
            "cli": os.path.join(args.build_dir, "cli/labmesh"),
        }
        self.endpoints = {"agent": "tcp://127.0.0.1:*", "api": "tcp://127.0.0.1:*"}
        self.coordinator = None
        self.coordinator_runs = 0
        self.agents = {}
        self.agent_runs = collections.Counter()
        self.lock = threading.Lock()  # the processes: the killer thread and the main thread

    def start_coordinator(self):
        path = os.path.join(self.data, "coordinator.endpoints")
        if os.path.exists(path):
            os.remove(path)
        self.coordinator_runs += 1
        log = open(os.path.join(self.root, f"coordinator-{self.coordinator_runs}.log"), "wb")
        self.coordinator = subprocess.Popen(
            [self.bin["coordinator"], "--data-dir", self.data,
             "--agent-listen", self.endpoints["agent"], "--api-listen", self.endpoints["api"],
             "--http-listen", "", "--auto-accept", "--heartbeat-interval", "200ms",
             "--dead-after", "3s", "--restart-grace", "3s", "--heartbeat-flush", "200ms",
             "--sync-hold", "10s", "--verify-interval", "0"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            if self.coordinator.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the coordinator did not start (run {self.coordinator_runs})")
            time.sleep(0.02)
        for line in open(path):
            key, _, value = line.strip().partition("=")
            if key in self.endpoints:
                self.endpoints[key] = value

    def kill_coordinator(self):
        self.coordinator.send_signal(signal.SIGKILL)
        self.coordinator.wait()

    def start_agent(self, host, labels):
        self.agent_runs[host] += 1
        log = open(os.path.join(self.root, f"agent-{host}-{self.agent_runs[host]}.log"), "wb")
        scripts = os.path.join(self.root, "scripts-" + host)
        self.agents[host] = subprocess.Popen(
            [self.bin["agent"], "--coordinator", self.endpoints["agent"],
             "--coordinator-key", os.path.join(self.data, "keys/coordinator.pub"),
             "--hostname", host, "--work-dir", os.path.join(self.root, "agent-" + host),
             "--heartbeat-interval", "200ms", "--address", "127.0.0.1",
             "--peer-listen", "tcp://127.0.0.1:0",
             "--labels", labels, "--verify-dir", scripts + "/verify.d",
             "--repair-dir", scripts + "/repair.d", "--cleanup-dir", scripts + "/cleanup.d"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill_agent(self, host):
        self.agents[host].send_signal(signal.SIGKILL)
        self.agents[host].wait()

    def cli(self, *args, timeout=60):
        token = open(os.path.join(self.data, "keys/admin.token")).read().strip()
        env = dict(os.environ, HOME=self.root, LABMESH_CREDENTIALS="none", LABMESH_USER="",
                   LABMESH_TOKEN="", LABMESH_SERVER_KEY="", XDG_CONFIG_HOME="")
        return subprocess.run([self.bin["cli"], "--api", self.endpoints["api"], "--token", token,
                               "--json", *args], capture_output=True, text=True, env=env,
                              timeout=timeout)

    def cli_json(self, *args):
        result = self.cli(*args)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)

    def stop(self):
        for proc in list(self.agents.values()) + [self.coordinator]:
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in list(self.agents.values()) + [self.coordinator]:
            if proc:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_for(condition, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def plan_jobs(rng, count, hosts):
    """The jobs: (name, create arguments, file sizes)."""
    jobs = []
    for i in range(count):
        kind = rng.choices(["one", "label", "sync"], weights=[60, 25, 15])[0]
        sizes = []
        for _ in range(rng.randint(0, 4)):
            band = rng.choices(["empty", "small", "medium", "large"], weights=[10, 50, 35, 5])[0]
            sizes.append({"empty": 0, "small": rng.randint(1, 4096),
                          "medium": rng.randint(4097, 300_000),
                          "large": rng.randint(300_001, 2_000_000)}[band])
        if kind == "one":
            where = ["--hosts", rng.choice(hosts), "--retry", "2"]
        elif kind == "label":
            where = ["--label", "pool", "--count", "2", "--retry", "2"]
        else:
            where = ["--label", "pool", "--count", "3", "--synch-count", "3"]
        jobs.append((f"chaos-{i}", where, sizes))
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--coordinator-kills", type=int, default=6)
    parser.add_argument("--agent-kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the whole run")
    parser.add_argument("--keep", action="store_true", help="keep the directory of the run")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    args.build_dir = os.path.abspath(args.build_dir)
    root = tempfile.mkdtemp(prefix="labmesh-chaos-")
    print(f"chaos: seed {seed}, directory {root}", flush=True)
    cluster = Cluster(args, root)
    started = time.monotonic()
    failures = []
    try:
        failures = run(cluster, args, rng, started)
    except Exception as e:  # the summary still says what happened
        failures = [f"aborted: {e!r}"]
    finally:
        cluster.stop()
    if failures or args.keep:
        print(f"chaos: the run's directory (logs, data) is kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


def run(cluster, args, rng, started):
    control = os.path.join(cluster.root, "control.sh")
    with open(control, "w") as f:
        f.write(CONTROL)
    hosts = [f"chaos-{i + 1}" for i in range(args.agents)]
    cluster.start_coordinator()
    for host in hosts:
        cluster.start_agent(host, "pool")
    if not wait_for(lambda: len([h for h in (cluster.cli_json("host", "list") or [])
                                 if h.get("status") == "Ready"]) == len(hosts), 60):
        return ["the agents did not all become Ready"]

    plan = plan_jobs(rng, args.jobs, hosts)
    # Kill points: a share of the jobs final; coordinator and agent kills interleaved.
    points = []
    for k in range(args.coordinator_kills):
        points.append(((k + 1) / (args.coordinator_kills + 1), "coordinator"))
    for k in range(args.agent_kills):
        points.append(((k + 0.5) / (args.agent_kills + 0.5), "agent"))
    points.sort()
    kills = collections.Counter()

    ids = {}  # name -> job id
    pending_create = list(plan)
    final = {}
    deadline = started + args.timeout

    def create_some(limit):
        while pending_create and limit > 0:
            name, where, sizes = pending_create[0]
            command = "sh " + control + " " + cluster.ledger + " " + " ".join(map(str, sizes))
            result = cluster.cli("job", "create", "--name", name,
                                 "--command", command, *where)
            if result.returncode == 0:
                ids[name] = json.loads(result.stdout)["id"]
            elif result.returncode != 3:  # 3: unreachable or silent; anything else is a refusal
                raise RuntimeError(f"job {name} refused: {result.stderr.strip()}")
            else:
                # The coordinator may have committed the job and died before answering: look.
                listed = cluster.cli_json("job", "list", "--limit", "0")
                if listed is None:
                    return  # down: try again later
                found = [j["id"] for j in listed if j["name"] == name]
                if len(found) > 1:
                    raise RuntimeError(f"job {name} created twice")
                if not found:
                    return
                ids[name] = found[0]
            pending_create.pop(0)
            limit -= 1

    def poll_final():
        listed = cluster.cli_json("job", "list", "--limit", "0")
        if listed is None:
            return False
        for job in listed:
            if job["status"] in FINAL:
                final[job["id"]] = job["status"]
        return True

    while True:
        if time.monotonic() > deadline:
            break
        create_some(max(20, 4 * len(hosts)))
        poll_final()
        done = len([i for i in ids.values() if i in final])
        while points and done >= points[0][0] * len(plan):
            _, what = points.pop(0)
            time.sleep(rng.uniform(0, 0.5))  # a random moment near the point
            if what == "coordinator":
                cluster.kill_coordinator()
                kills["coordinator"] += 1
                time.sleep(rng.uniform(0, 1.0))
                cluster.start_coordinator()
            else:
                host = rng.choice(hosts)
                cluster.kill_agent(host)
                kills["agent"] += 1
                time.sleep(rng.uniform(0, 1.5))
                cluster.start_agent(host, "pool")
        if not pending_create and all(i in final for i in ids.values()) and not points:
            break
        time.sleep(0.3)

    return verify(cluster, args, plan, ids, final, kills, started)


def read_ledger(ledger_dir):
    starts = collections.Counter()  # entry -> starts
    files = {}  # (entry, host) -> {name: sha256} of the last run that finished
    current = {}
    for name in os.listdir(ledger_dir):
        for line in open(os.path.join(ledger_dir, name)):
            words = line.split()
            if not words:
                continue
            if words[0] == "start":
                starts[int(words[1])] += 1
                current[(int(words[1]), words[2])] = {}
            elif words[0] == "file":
                current.setdefault((int(words[1]), words[2]), {})[words[3]] = words[4]
            elif words[0] == "done":
                key = (int(words[1]), words[2])
                files[key] = current.get(key, {})
    return starts, files


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(cluster, args, plan, ids, final, kills, started):
    failures = []
    lost = [name for name, _, _ in plan if name not in ids or ids[name] not in final]
    if lost:
        failures.append(f"{len(lost)} jobs not final: {', '.join(lost[:10])}")
    starts, ledger_files = read_ledger(cluster.ledger)
    run_twice = []
    files_missing, files_bad, files_checked, results_missing = [], [], 0, []
    entries = 0
    statuses = collections.Counter()
    listed = cluster.cli_json("job", "list", "--limit", "0") or []
    by_id = {job["id"]: job for job in listed}
    for name, _, sizes in plan:
        if name not in ids:
            continue
        job = by_id.get(ids[name])
        if job is None:
            failures.append(f"job {name} ({ids[name]}) is not listed")
            continue
        statuses[job["status"]] += 1
        for entry in job["entries"]:
            entries += 1
            if starts[entry["id"]] > 1 + entry["retries"]:
                run_twice.append(f"entry {entry['id']} (job {job['id']}) started "
                                 f"{starts[entry['id']]} times with {entry['retries']} retries")
            # An entry whose files were parsed has its counts; the files of its last finished
            # run on its host must be there with the hashes its control recorded.
            if not entry["result_counts"]:
                continue
            if entry["status"] == "Completed" and entry["result_counts"].get("GOOD") != 1:
                results_missing.append(f"entry {entry['id']}: {entry['result_counts']}")
            recorded = ledger_files.get((entry["id"], entry["host"]))
            if recorded is None:
                # A control stopped early (an aborted group) uploads what it had: nothing the
                # ledger knows. A Completed entry's control must have finished.
                if entry["status"] == "Completed":
                    files_missing.append(f"entry {entry['id']}: Completed, but its control "
                                         "never finished")
                continue
            if len(recorded) != len(sizes):
                files_missing.append(f"entry {entry['id']}: the control wrote {len(recorded)} "
                                     f"of {len(sizes)} files")
            base = os.path.join(cluster.data, "results", entry["results_path"], "data")
            for fname, digest in recorded.items():
                files_checked += 1
                path = os.path.join(base, fname)
                if not os.path.isfile(path):
                    files_missing.append(path)
                elif sha256(path) != digest:
                    files_bad.append(path)
    for what, items in (("run twice", run_twice), ("files missing", files_missing),
                        ("files bad", files_bad), ("results missing", results_missing)):
        if items:
            failures.append(f"{what}: {len(items)}: " + "; ".join(items[:5]))

    # The store check beside the still running coordinator, then after a clean stop.
    check = subprocess.run([cluster.bin["coordinator"], "--check", cluster.data],
                           capture_output=True, text=True)
    cluster.stop()
    check_after = subprocess.run([cluster.bin["coordinator"], "--check", cluster.data],
                                 capture_output=True, text=True)
    for name, result in (("live", check), ("stopped", check_after)):
        if result.returncode != 0:
            failures.append(f"--check ({name}) exit {result.returncode}: "
                            + (result.stdout + result.stderr).strip()[-2000:])
    for failure in failures:
        print("chaos: FAIL " + failure)
    elapsed = time.monotonic() - started
    summary = (f"chaos: {len(plan)} jobs ({entries} entries; jobs "
               + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
               + f") on {args.agents} agents, {kills['coordinator']} coordinator kills, "
               f"{kills['agent']} agent kills: lost = {len(lost)}, run twice = {len(run_twice)}, "
               f"files checked = {files_checked}, files missing = {len(files_missing)}, "
               f"files bad = {len(files_bad)}, check "
               + ("clean" if check.returncode == 0 and check_after.returncode == 0 else "FAILED")
               + f", {elapsed:.1f} s")
    print(summary, flush=True)
    return failures


if __name__ == "__main__":
    sys.exit(main())
