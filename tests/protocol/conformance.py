#!/usr/bin/python3
"""Protocol conformance (issue 20): a third-party client written from protocol/PROTOCOL.md
alone drives a real labmesh-coordinator process over 127.0.0.1.

Usage: /usr/bin/python3 conformance.py --coordinator PATH/labmesh-coordinator

It starts the coordinator on ports the kernel picks (tcp://127.0.0.1:*, read back from
DATA_DIR/coordinator.endpoints, so parallel tests never collide) and plays, with pyzmq and
msgpack only:
  registration  an agent with the enrollment token is welcomed; one without it waits for
                approval and is pushed a Welcome when the admin accepts it over the API; a hello
                whose public_key is not the handshake's key is rejected; heartbeats are acked
  entry         a job submitted over the API socket, taken with WorkRequest, reported running,
                exited and uploaded (the "uploaded" report without exit_code / outcome), with
                debug/control.log streamed, an empty file uploaded, a file left out of `files`
                (recorded as a parse warning), a mismatching "uploaded" report refused with a
                ResultAck and then accepted, and a repeat of an applied report only acked
  tasks         a failed entry's Cleanup (RunTask) answered with a TaskReport; an unanswered
                Cleanup fails after --task-deadline and the host is repaired
  errors        a frame over 16 MiB (TooLarge, the connection kept), a body nested too deep
                (the request id echoed), a chunk of 256 KiB + 1, a bad chunk hash, a report of
                another incarnation, an "exited" report without an outcome, a field of the wrong
                type (no C++ exception name in the text)
  metrics       MetricsRequest on the plain (loopback) API socket: the Prometheus text, with
                the connected agents, their hosts and the entries that ran

Each wait has a deadline (no fixed sleeps). Prints one line per step; exits 0 when all pass,
else prints what failed and the coordinator's log, and exits 1.
"""

import argparse
import hashlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

# §5 type numbers.
ERROR, AGENT_HELLO, WELCOME, PENDING_APPROVAL, REJECT = 1, 10, 11, 12, 13
HEARTBEAT, HEARTBEAT_ACK = 14, 15
WORK_REQUEST, START_ENTRY, ENTRY_REPORT, ENTRY_REPORT_ACK = 20, 21, 22, 23
RESULT_CHUNK, RESULT_ACK, RUN_TASK, TASK_REPORT = 24, 25, 29, 30
HOST_SHOW_REQUEST, HOST_SHOW_REPLY, HOST_ACTION_REQUEST, OK_REPLY = 102, 103, 105, 110
HOST_HISTORY_REQUEST, HOST_HISTORY_REPLY = 113, 114
JOB_CREATE_REQUEST, JOB_CREATE_REPLY, JOB_SHOW_REQUEST, JOB_SHOW_REPLY = 130, 131, 134, 135
METRICS_REQUEST, METRICS_REPLY = 200, 201
# §4 status codes.
INVALID_ARGUMENT, FAILED_PRECONDITION, TOO_LARGE = 1, 5, 10

ENROLL_TOKEN = "conformance-token"
TIMEOUT_S = 30
MIB = 1 << 20


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


def blake2b(data):
    """BLAKE2b-256, lower-case hex (§5 FileDigest, ResultChunk)."""
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def pack(msg_type, request_id, body, credentials=None):
    envelope = [1, msg_type, request_id, body]
    if credentials is not None:
        envelope.append(credentials)
    return msgpack.packb(envelope, use_bin_type=True)


class Peer:
    """One DEALER connection: sends frames, receives them, keeps what nobody waited for yet."""

    def __init__(self, socket):
        self.socket = socket
        self.ids = itertools.count(1)
        self.pending = []  # (type, request_id, body) received but not yet taken

    def send_raw(self, frame):
        self.socket.send(frame)

    def send(self, msg_type, body, request_id=None, credentials=None):
        request_id = next(self.ids) if request_id is None else request_id
        self.send_raw(pack(msg_type, request_id, body, credentials))
        return request_id

    def take(self, match, what, timeout_s=TIMEOUT_S):
        """The first message (type, request_id, body) for which match() holds."""
        deadline = time.monotonic() + timeout_s
        while True:
            for i, message in enumerate(self.pending):
                if match(*message):
                    return self.pending.pop(i)
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                raise Failure(f"no {what} within {timeout_s}s; received {self.pending}")
            if self.socket.poll(left_ms, zmq.POLLIN):
                # §2: the first four elements; a reply never carries credentials.
                version, msg_type, request_id, body = msgpack.unpackb(
                    self.socket.recv(), raw=False)[:4]
                check(version == 1, f"protocol version {version}")
                self.pending.append((msg_type, request_id, body))

    def reply_to(self, request_id, msg_type, what):
        """The reply to request_id: msg_type, or an Error (returned as such)."""
        return self.take(lambda t, r, b: r == request_id and t in (msg_type, ERROR), what)


    def error_for(self, request_id, what):
        """The Error answering request_id: (code, message)."""
        t, _, body = self.take(lambda t, r, b: r == request_id, what)
        check(t == ERROR, f"{what}: expected an Error, got {t} {body}")
        message = body.get("message", "")
        check("std::" not in message and "bad_cast" not in message,
              f"{what}: a C++ exception name in the error text: {message}")
        return body.get("code"), message


class Api(Peer):
    def __init__(self, context, endpoint, token):
        socket = context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.connect(endpoint)
        super().__init__(socket)
        self.credentials = {"token": token}

    def call(self, msg_type, body, reply_type):
        request_id = self.send(msg_type, body, credentials=self.credentials)
        t, _, reply = self.reply_to(request_id, reply_type, f"reply to API type {msg_type}")
        check(t == reply_type, f"API type {msg_type} answered {t}: {reply}")
        return reply

    def job(self, job_id):
        return self.call(JOB_SHOW_REQUEST, {"id": job_id}, JOB_SHOW_REPLY).get("job", {})

    def host(self, hostname):
        return self.call(HOST_SHOW_REQUEST, {"hostname": hostname}, HOST_SHOW_REPLY).get("host", {})

    def wait_for(self, condition, what, timeout_s=TIMEOUT_S):
        deadline = time.monotonic() + timeout_s
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise Failure(f"{what}: not within {timeout_s}s")
            # Polling the API; the wait is bounded by the deadline, not by this pause.
            self.socket.poll(50)


class Agent(Peer):
    """An agent-socket client: CurveZMQ with its own key pair (§1)."""

    def __init__(self, context, endpoint, server_key, hostname):
        socket = context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        self.public, secret = zmq.curve_keypair()
        socket.curve_publickey = self.public
        socket.curve_secretkey = secret
        socket.curve_serverkey = server_key
        socket.connect(endpoint)
        super().__init__(socket)
        self.hostname = hostname
        self.incarnation = int.from_bytes(os.urandom(8), "little") or 1
        self.heartbeats = itertools.count(1)

    def hello(self, token="", public_key=None):
        return self.send(AGENT_HELLO, {
            "hostname": self.hostname, "agent_version": "conformance-1",
            "incarnation": self.incarnation,
            "public_key": self.public.decode() if public_key is None else public_key,
            "enroll_token": token, "labels": [], "facts": {"arch": "x86_64", "cpus": 1}})

    def heartbeat(self):
        sequence = next(self.heartbeats)
        request_id = self.send(HEARTBEAT, {"incarnation": self.incarnation, "sequence": sequence})
        t, _, body = self.reply_to(request_id, HEARTBEAT_ACK, "HeartbeatAck")
        check(t == HEARTBEAT_ACK and body.get("sequence") == sequence, f"heartbeat: {t} {body}")

    def report(self, entry_id, sequence, phase, **fields):
        body = {"entry_id": entry_id, "sequence": sequence, "incarnation": self.incarnation,
                "phase": phase}
        body.update(fields)
        return self.send(ENTRY_REPORT, body)

    def report_ack(self, request_id, entry_id, sequence):
        t, _, body = self.reply_to(request_id, ENTRY_REPORT_ACK, "EntryReportAck")
        check(t == ENTRY_REPORT_ACK, f"report {sequence} answered {t}: {body}")
        check(body.get("entry_id") == entry_id and body.get("sequence") == sequence,
              f"ack of another report: {body}")
        return body.get("done", False)

    def chunk(self, entry_id, path, offset, data, digest=None):
        request_id = self.send(RESULT_CHUNK, {
            "entry_id": entry_id, "path": path, "offset": offset, "data": data,
            "hash": blake2b(data) if digest is None else digest})
        t, _, body = self.reply_to(request_id, RESULT_ACK, "ResultAck")
        check(t == RESULT_ACK, f"chunk of {path} answered {t}: {body}")
        return body



def start_coordinator(binary, data_dir, log):
    endpoints = os.path.join(data_dir, "coordinator.endpoints")
    process = subprocess.Popen(
        [binary, "--data-dir", data_dir, "--agent-listen", "tcp://127.0.0.1:*",
         "--api-listen", "tcp://127.0.0.1:*", "--http-listen", "",
         "--enroll-token", ENROLL_TOKEN, "--heartbeat-interval", "1s", "--dead-after", "5m",
         "--task-deadline", "8s"],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + TIMEOUT_S
    while not os.path.exists(endpoints):
        if process.poll() is not None:
            raise Failure(f"the coordinator exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise Failure("the coordinator wrote no endpoints file")
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
    values = dict(line.split("=", 1) for line in open(endpoints).read().splitlines() if "=" in line)
    return process, values


def register(agent, token):
    request_id = agent.hello(token)
    t, _, body = agent.reply_to(request_id, WELCOME, "Welcome")
    check(t == WELCOME, f"hello answered {t}: {body}")
    check(body.get("hostname") == agent.hostname, f"welcome: {body}")
    return body


def step_registration(context, coordinator, api):
    server_key = coordinator["public_key"].encode()
    agent = Agent(context, coordinator["agent"], server_key, "conf-a")
    welcome = register(agent, ENROLL_TOKEN)
    check(welcome.get("heartbeat_interval_ms") == 1000, f"interval: {welcome}")
    agent.heartbeat()
    agent.heartbeat()

    pending = Agent(context, coordinator["agent"], server_key, "conf-b")
    request_id = pending.hello("")
    t, _, body = pending.reply_to(request_id, PENDING_APPROVAL, "PendingApproval")
    check(t == PENDING_APPROVAL, f"hello without token answered {t}: {body}")
    api.call(HOST_ACTION_REQUEST, {"hostname": "conf-b", "action": "accept"}, OK_REPLY)
    t, _, body = pending.take(lambda t, r, b: t == WELCOME, "pushed Welcome")
    check(body.get("hostname") == "conf-b", f"pushed welcome: {body}")

    # §6.1: a public_key that is not the handshake's key is refused with Reject.
    liar = Agent(context, coordinator["agent"], server_key, "conf-liar")
    request_id = liar.hello(ENROLL_TOKEN, public_key=pending.public.decode())
    t, _, body = liar.reply_to(request_id, REJECT, "Reject")
    check(t == REJECT and "key" in body.get("reason", ""), f"mismatched key: {t} {body}")
    return agent


def create_job(api, command, hostname, cleanup):
    reply = api.call(JOB_CREATE_REQUEST, {"name": "conformance", "command": command,
                                          "hosts": [hostname], "cleanup": cleanup},
                     JOB_CREATE_REPLY)
    check(reply.get("id", 0) > 0, f"job create: {reply}")
    return reply["id"]


def take_start(agent):
    agent.send(WORK_REQUEST, {"incarnation": agent.incarnation})
    _, _, start = agent.take(lambda t, r, b: t == START_ENTRY, "StartEntry")
    check(start.get("entry_id", 0) > 0 and start.get("hostname") == agent.hostname,
          f"start: {start}")
    return start


def step_entry(agent, api):
    job_id = create_job(api, "echo hello", agent.hostname, "never")
    start = take_start(agent)
    check(start.get("job_id") == job_id and start.get("control") == "echo hello", f"{start}")
    entry = start["entry_id"]

    check(agent.report_ack(agent.report(entry, 1, "running", started_us=int(time.time() * 1e6)),
                           entry, 1) is False, "running acked as done")
    log = b"hello\n" * 1000
    ack = agent.chunk(entry, "debug/control.log", 0, log[:4000])
    check(ack.get("next_offset") == 4000 and ack.get("error", "") == "", f"chunk: {ack}")

    # Refused chunks: ResultAck with an error and how much the coordinator holds.
    ack = agent.chunk(entry, "debug/control.log", 4000, b"x" * (256 * 1024 + 1))
    check(ack.get("next_offset") == 4000 and "256 KiB" in ack.get("error", ""), f"big: {ack}")
    ack = agent.chunk(entry, "debug/control.log", 4000, log[4000:], digest="00" * 32)
    check(ack.get("next_offset") == 4000 and "hash" in ack.get("error", ""), f"hash: {ack}")
    ack = agent.chunk(entry, "debug/control.log", 9000, log[4000:])
    check(ack.get("next_offset") == 4000 and "gap" in ack.get("error", ""), f"gap: {ack}")
    ack = agent.chunk(entry, "debug/control.log", 4000, log[4000:])
    check(ack.get("next_offset") == len(log) and ack.get("error", "") == "", f"rest: {ack}")
    # Exactly 256 KiB is accepted.
    big = os.urandom(256 * 1024)
    ack = agent.chunk(entry, "data/big.bin", 0, big)
    check(ack.get("next_offset") == len(big) and ack.get("error", "") == "", f"256 KiB: {ack}")

    # Reports the coordinator refuses: Error with the request's id, nothing applied.
    code, message = agent.error_for(
        agent.send(ENTRY_REPORT, {"entry_id": entry, "sequence": 2, "phase": "exited",
                                  "incarnation": agent.incarnation ^ 1, "outcome": "passed",
                                  "exit_code": 0}), "report of another incarnation")
    check(code == FAILED_PRECONDITION and "incarnation" in message, f"incarnation: {message}")
    code, message = agent.error_for(agent.report(entry, 2, "exited", exit_code=0),
                                    "exited without outcome")
    check(code == INVALID_ARGUMENT and "outcome" in message, f"no outcome: {message}")
    code, message = agent.error_for(agent.report(entry, 2, "exited", exit_code="0"),
                                    "exit_code of the wrong type")
    check(code == INVALID_ARGUMENT and "exit_code" in message, f"wrong type: {message}")

    check(agent.report_ack(agent.report(entry, 2, "exited", exit_code=0, signal=0,
                                        outcome="passed", ended_us=int(time.time() * 1e6)),
                           entry, 2) is False, "exited acked as done")
    # §6.3: an empty file is one chunk of no bytes at offset 0, with the hash of nothing.
    ack = agent.chunk(entry, "empty.txt", 0, b"")
    check(ack.get("next_offset") == 0 and ack.get("error", "") == "", f"empty file: {ack}")
    ack = agent.chunk(entry, "unlisted.txt", 0, b"not in files\n")
    check(ack.get("error", "") == "", f"unlisted: {ack}")

    files = [{"path": "debug/control.log", "size": len(log), "hash": blake2b(log)},
             {"path": "data/big.bin", "size": len(big), "hash": blake2b(big)},
             {"path": "empty.txt", "size": 0, "hash": blake2b(b"")}]
    # A file the coordinator holds less of: the report is refused with a ResultAck (the
    # report's request id) saying from where to send the file again; no EntryReportAck.
    longer = log + b"more\n"
    wrong = [dict(files[0], size=len(longer), hash=blake2b(longer))] + files[1:]
    request_id = agent.report(entry, 3, "uploaded", files=wrong)
    t, _, body = agent.reply_to(request_id, RESULT_ACK, "ResultAck refusing the report")
    check(t == RESULT_ACK and body.get("path") == "debug/control.log" and
          body.get("next_offset") == len(log) and body.get("error"), f"mismatch: {t} {body}")
    check(api.job(job_id)["entries"][0]["status"] == "Gathering", "refused report applied")

    # The same sequence, now right, without exit_code / outcome (kept from "exited").
    done = agent.report_ack(agent.report(entry, 3, "uploaded", files=files), entry, 3)
    check(done is True, "uploaded not acked done")
    # A repeat of an applied report is only acknowledged, as the first time.
    done = agent.report_ack(agent.report(entry, 3, "uploaded", files=files), entry, 3)
    check(done is True, "repeated uploaded not acked done")

    job = api.wait_for(lambda: (lambda j: j if j.get("status") == "Completed" else None)(
        api.job(job_id)), f"job {job_id} Completed")
    info = job["entries"][0]
    check(info.get("exit_code") == 0 and info.get("fault", "") == "", f"entry: {info}")
    warnings = info.get("parse_warnings", [])
    check(any("unlisted.txt" in w and "not in the agent's file list" in w for w in warnings),
          f"the unlisted file is not recorded: {warnings}")
    for key in ("retries",):
        check(key in info, f"EntryInfo.{key} missing")
    for key in ("cleanup", "retry"):
        check(key in job, f"JobInfo.{key} missing")
    print(f"ok entry: job {job_id} Completed, empty file and 256 KiB chunk accepted, "
          f"refusals answered")


def run_failing_entry(agent, api):
    job_id = create_job(api, "exit 3", agent.hostname, "on-failure")
    start = take_start(agent)
    entry = start["entry_id"]
    log = b"failing\n"
    agent.report_ack(agent.report(entry, 1, "running", started_us=1), entry, 1)
    agent.chunk(entry, "debug/control.log", 0, log)
    agent.report_ack(agent.report(entry, 2, "exited", exit_code=3, outcome="failed",
                                  reason="exit status 3"), entry, 2)
    files = [{"path": "debug/control.log", "size": len(log), "hash": blake2b(log)}]
    check(agent.report_ack(agent.report(entry, 3, "uploaded", files=files), entry, 3),
          "uploaded not done")
    return job_id


def step_tasks(agent, api):
    # A Cleanup follows an entry that did not pass; the agent MUST answer it.
    job_id = run_failing_entry(agent, api)
    _, _, run = agent.take(lambda t, r, b: t == RUN_TASK, "RunTask Cleanup")
    check(run.get("kind") == "Cleanup" and run.get("task_id", 0) > 0, f"run task: {run}")
    # Answered at once: this test's --task-deadline is short.
    agent.send(TASK_REPORT, {"task_id": run["task_id"], "kind": "Cleanup", "passed": True,
                             "reason": "", "checks": [{"name": "kill-leftovers", "passed": True,
                                                        "output": "", "duration_ms": 1}]})
    host = api.wait_for(lambda: (lambda h: h if h.get("status") == "Ready" else None)(
        api.host(agent.hostname)), "host Ready after the Cleanup")
    last = host.get("last_task", {})
    check(last.get("id") == run["task_id"] and last.get("status") == "Completed", f"{last}")
    check(host.get("protection") == "none", f"protection: {host.get('protection')}")
    for key in ("last_known_good", "update_failed_version"):
        check(key in host, f"HostInfo.{key} missing")
    job = api.wait_for(lambda: (lambda j: j if j.get("status") == "Failed" else None)(
        api.job(job_id)), "failing job Failed")
    check(job["entries"][0].get("exit_code") == 3, f"{job['entries'][0]}")

    # A Cleanup nobody answers fails after --task-deadline (8s here: ample for the first
    # Cleanup, answered at once, even on a loaded machine); a Repair follows.
    run_failing_entry(agent, api)
    _, _, ignored = agent.take(lambda t, r, b: t == RUN_TASK, "second RunTask Cleanup")
    _, _, repair = agent.take(lambda t, r, b: t == RUN_TASK and b.get("kind") == "Repair",
                              "RunTask Repair after the deadline")
    agent.send(TASK_REPORT, {"task_id": repair["task_id"], "kind": "Repair", "passed": True})
    api.wait_for(lambda: api.host(agent.hostname).get("status") == "Ready",
                 "host Ready after the Repair")
    items = api.call(HOST_HISTORY_REQUEST, {"hostname": agent.hostname, "limit": 10},
                     HOST_HISTORY_REPLY).get("items", [])
    late = [i for i in items if i.get("id") == ignored["task_id"] and i.get("type") == "task"]
    check(late and late[0].get("status") == "Failed" and
          "--task-deadline" in late[0].get("reason", ""), f"unanswered cleanup: {late}")
    print("ok tasks: Cleanup answered; an unanswered Cleanup failed at its deadline, "
          "then repaired")


def step_errors(agent, api):
    # §4: a frame over 16 MiB gets TooLarge with its request id; the connection stays.
    frame = pack(HEARTBEAT, 4242, {"incarnation": agent.incarnation, "pad": b"x" * (16 * MIB)})
    check(len(frame) > 16 * MIB, "frame not over the limit")
    agent.send_raw(frame)
    code, message = agent.error_for(4242, "too large frame")
    check(code == TOO_LARGE, f"too large: {code} {message}")
    agent.heartbeat()  # the same connection still works

    # A body nested deeper than 32 containers: InvalidArgument, the request id echoed.
    body = None
    for _ in range(40):
        body = {"k": body}
    agent.send_raw(pack(HEARTBEAT, 930, body))
    code, message = agent.error_for(930, "too deep body")
    check(code == INVALID_ARGUMENT, f"too deep: {code} {message}")

    # The same on the API socket.
    request_id = next(api.ids)
    api.send_raw(pack(HOST_SHOW_REQUEST, request_id, {"hostname": "x", "pad": b"x" * (16 * MIB)},
                      api.credentials))
    code, message = api.error_for(request_id, "too large API frame")
    check(code == TOO_LARGE, f"API too large: {code} {message}")
    api.host(agent.hostname)
    print("ok errors: TooLarge with the request id and the connection kept; "
          "too deep body echoes its id")


def step_metrics(api):
    text = api.call(METRICS_REQUEST, {"token": ""}, METRICS_REPLY).get("text", "")
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    # The two agents of the registration step (one welcomed at once, one accepted).
    check(samples.get("labmesh_agents_connected") == 2, f"metrics: agents connected: {text}")
    check(samples.get('labmesh_hosts{status="Ready"}') == 2, f"metrics: hosts: {text}")
    check(samples.get("labmesh_entries_started_total", 0) >= 1, f"metrics: entries: {text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coordinator", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="labmesh-conformance-")
    log_path = os.path.join(data_dir, "coordinator.log")
    context = zmq.Context()
    process = None
    failed = None
    with open(log_path, "wb") as log:
        try:
            process, coordinator = start_coordinator(args.coordinator, data_dir, log)
            token = open(os.path.join(data_dir, "keys", "admin.token")).read().strip()
            api = Api(context, coordinator["api"], token)
            agent = step_registration(context, coordinator, api)
            print("ok registration: Welcome, PendingApproval then pushed Welcome, Reject, "
                  "heartbeats")
            step_entry(agent, api)
            step_tasks(agent, api)
            step_errors(agent, api)
            step_metrics(api)
            print("ok metrics: the text format over the API socket")
        except (Failure, KeyError, TypeError, ValueError) as e:
            failed = f"{type(e).__name__}: {e}"
        finally:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            context.destroy(linger=0)
    if failed:
        print(f"FAILED: {failed}")
        print("---- coordinator log (tail) ----")
        print(open(log_path, errors="replace").read()[-8000:])
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
