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
#include "work/sync_rules.hpp"

namespace {

namespace protocol = labmesh::protocol;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
// Waiting longer than the request's own timeout: the agent answers by then (it gives up 5 s
// after the timeout when the coordinator does not answer).
constexpr int64_t kGuardMs = 10'000;
constexpr uint64_t kRequestId = 1;  // one request per process

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

// Sends `request` to the agent at `endpoint` and waits for its answer (at most `guard_ms`;
// 0 = no limit). Returns the exit code.
int Exchange(const std::string& endpoint, const protocol::SyncRequest& request, int64_t guard_ms) {
  const std::string what = labmesh::agent::DescribeSyncRequest(request);
  try {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::maxmsgsize,
               static_cast<int64_t>(protocol::kMaxSyncValueBytes + 64 * 1024));
    socket.set(zmq::sockopt::sndtimeo, 5'000);
    socket.connect(endpoint);
    const std::string frame = protocol::Encode(request, kRequestId);
    if (!socket.send(zmq::buffer(frame), zmq::send_flags::none)) {
      return Fail(what + ": the agent did not take the request (" + endpoint + ")");
    }
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> deadline;
    if (guard_ms > 0) deadline = Clock::now() + std::chrono::milliseconds(guard_ms);
    while (true) {
      long wait_ms = -1;
      if (deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
        if (left.count() <= 0) {
          return Fail(what + ": no answer from the agent within " +
                      labmesh::FormatDurationMs(guard_ms));
        }
        wait_ms = static_cast<long>(left.count());
      }
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(wait_ms));
      if ((item.revents & ZMQ_POLLIN) == 0) continue;
      zmq::message_t message;
      if (!socket.recv(message, zmq::recv_flags::dontwait)) continue;
      auto envelope = protocol::DecodeEnvelope(message.to_string_view());
      if (!envelope.ok() || envelope->request_id != kRequestId) continue;
      auto reply = protocol::DecodeAs<protocol::SyncReply>(message.to_string_view());
      if (!reply.ok()) return Fail(what + ": " + reply.status().message());
      if (!reply->ok) {
        return Fail(reply->error.empty() ? what + ": failed" : reply->error);
      }
      if (request.op == "wait" &&
          !WriteAll(STDOUT_FILENO, reply->value.data(), reply->value.size())) {
        return Fail(what + ": cannot write the value to stdout: " + std::strerror(errno));
      }
      return kExitOk;
    }
  } catch (const zmq::error_t& e) {
    return Fail(what + ": " + e.what());
  }
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

  const char* sync = std::getenv("LABMESH_SYNC");
  const char* entry = std::getenv("LABMESH_ENTRY_ID");
  if (sync == nullptr || *sync == '\0' || entry == nullptr || *entry == '\0') {
    return Fail("not inside a labmesh control (LABMESH_SYNC and LABMESH_ENTRY_ID are not set)");
  }
  std::string_view entry_text(entry);
  auto [end, ec] =
      std::from_chars(entry_text.data(), entry_text.data() + entry_text.size(), request.entry_id);
  if (ec != std::errc() || end != entry_text.data() + entry_text.size() || request.entry_id == 0) {
    return Fail("LABMESH_ENTRY_ID '" + std::string(entry_text) + "' is not an entry id");
  }
  const std::string endpoint = sync;
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.rfind(kIpc, 0) != 0) {
    return Fail("LABMESH_SYNC '" + endpoint + "' is not an ipc:// endpoint");
  }
  // Connecting to a missing socket would wait forever: say so instead.
  const std::string path = endpoint.substr(kIpc.size());
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return Fail("the agent's sync socket " + path + " is not there (is the agent running?)");
  }
  return Exchange(endpoint, request, request.timeout_ms > 0 ? request.timeout_ms + kGuardMs : 0);
}
