// labmesh-sync: barriers and small values between the hosts of a job group, called by a control
// (shared/CLI.md "Inside a running job", docs/sync.md "labmesh-sync").
//   labmesh-sync barrier NAME [--timeout D]        wait until every host of the group reached NAME
//   labmesh-sync send KEY VALUE                     store VALUE (`-`: stdin) under KEY
//   labmesh-sync wait KEY [--host H] [--timeout D]  print the value under KEY once it exists
// It talks only to its own agent: one SyncRequest over a DEALER to $LABMESH_SYNC (the agent's
// local ipc socket), one SyncReply back. Exit 0 ok, 1 failed (the reason on stderr), 2 usage.
// `wait` writes the value's bytes to stdout exactly as sent, with nothing added.

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "sync_client.hpp"
#include "work/sync_rules.hpp"

namespace {

namespace protocol = labmesh::protocol;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
// Waiting longer than the request's own timeout: the agent answers by then (it gives up 5 s
// after the timeout when the coordinator does not answer).
constexpr int64_t kGuardMs = 10'000;

int Fail(const std::string& message, int code = kExitFailed) {
  std::cerr << "labmesh-sync: " << message << "\n";
  return code;
}

// --timeout D, parsed like every labmesh duration. Not flags::AddDuration: a helper inside a
// control must not pick up LABMESH_TIMEOUT from the environment.
void AddTimeout(CLI::App* command, int64_t& timeout_ms) {
  command->add_option_function<std::string>(
      "--timeout",
      [&timeout_ms](const std::string& text) {
        auto parsed = labmesh::ParseDurationMs(text);
        if (!parsed.ok()) throw CLI::ValidationError("--timeout", parsed.status().message());
        timeout_ms = *parsed;
      },
      "give up after D (500ms, 5s, 10m, 2h; default: no limit but the job's max runtime)");
}

// Reads all of stdin, at most `limit` + 1 bytes (so that too much is noticed).
bool ReadStdin(size_t limit, std::string* out, std::string* error) {
  char buf[16384];
  while (out->size() <= limit) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::string("cannot read stdin: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Asks the agent and prints a `wait`'s value. Returns the exit code.
int Exchange(const std::string& endpoint, const protocol::SyncRequest& request, int64_t guard_ms) {
  const std::string what = labmesh::agent::DescribeSyncRequest(request);
  auto reply = labmesh::agent::AskAgent(endpoint, request, guard_ms);
  if (!reply.ok()) return Fail(reply.status().message());
  if (!reply->ok) return Fail(reply->error.empty() ? what + ": failed" : reply->error);
  if (request.op == "wait" && !WriteAll(STDOUT_FILENO, reply->value.data(), reply->value.size())) {
    return Fail(what + ": cannot write the value to stdout: " + std::strerror(errno));
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "labmesh-sync: barriers and values between the hosts of a job group; runs "
      "inside a labmesh control and talks to the local agent ($LABMESH_SYNC)"};
  app.require_subcommand(1);
  std::string name, value, host;
  int64_t timeout_ms = 0;
  CLI::App* barrier = app.add_subcommand(
      "barrier",
      "wait until every host of the group has reached NAME (each use of NAME is a "
      "new round)");
  barrier->add_option("name", name, "barrier name (1..256 bytes)")->required();
  AddTimeout(barrier, timeout_ms);
  CLI::App* send = app.add_subcommand("send", "store VALUE under KEY for the hosts of the group");
  send->add_option("key", name, "key (1..256 bytes)")->required();
  send->add_option("value", value, "the value (at most 64 KiB); - reads it from stdin")->required();
  CLI::App* wait = app.add_subcommand(
      "wait", "wait for the value under KEY and print it to stdout exactly (no newline added)");
  wait->add_option("key", name, "key (1..256 bytes)")->required();
  wait->add_option("--host", host, "only the value this host sent");
  AddTimeout(wait, timeout_ms);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  protocol::SyncRequest request;
  request.name = name;
  if (barrier->parsed()) {
    request.op = "barrier";
    request.timeout_ms = timeout_ms;
  } else if (send->parsed()) {
    request.op = "send";
    if (value == "-") {
      std::string error;
      value.clear();
      if (!ReadStdin(protocol::kMaxSyncValueBytes, &value, &error)) return Fail(error);
    }
    request.value.assign(value.begin(), value.end());
  } else {
    request.op = "wait";
    request.from_host = host;
    request.timeout_ms = timeout_ms;
  }
  // A request no agent would take is a usage error, found before looking for the agent.
  if (auto s = labmesh::agent::ValidateSyncRequest(request); !s.ok()) {
    return Fail(s.message(), kExitUsage);
  }

  auto agent = labmesh::agent::FindLocalAgent();
  if (!agent.ok()) return Fail(agent.status().message());
  request.entry_id = agent->entry_id;
  const std::string& endpoint = agent->endpoint;
  return Exchange(endpoint, request, request.timeout_ms > 0 ? request.timeout_ms + kGuardMs : 0);
}
