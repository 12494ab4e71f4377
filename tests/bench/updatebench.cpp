// labmesh-updatebench: how long a fleet takes to move to a new agent version, and how many bytes
// the coordinator sends for it (docs/update.md; scripts/bench-update.sh runs it).
//
// N simulated agents (SimFleet: the real wire protocol, Curve included) register reporting
// --from-version and ask for work. Then the benchmark desires --version (already uploaded by the
// script) over the API socket. Each agent does what labmesh-agent does on the wire: on RunTask
// "Update" it fetches the package with PackageChunkRequest, --window requests in flight, checks
// the SHA-256 of the whole, and registers again (new incarnation) reporting the new version, as
// the re-executed agent would. Unpacking and re-executing are left out: they are local work that
// does not touch the coordinator.
//
// Printed: update_s (desire sent -> the last agent welcomed on the new version), the bytes the
// coordinator sent on the agent sockets meanwhile (every frame received by the agents), per
// agent and as a multiple of the package size, and the coordinator's CPU time (--watch-pid).

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <random>

#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/flags.hpp"
#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "proc_stats.hpp"
#include "sim_fleet.hpp"

namespace labmesh::bench {
namespace {

struct Options {
  std::string coordinator = "tcp://127.0.0.1:7710";
  std::string coordinator_key;
  std::string api = "tcp://127.0.0.1:7711";
  std::string token;
  int agents = 50;
  std::string from_version = "0.0.0-sim";
  std::string version;
  uint64_t chunk_bytes = 256 * 1024;
  int window = 4;
  int64_t step_timeout_ms = 300'000;
  int watch_pid = 0;
};

struct SimAgent {
  enum class State { kHelloSent, kIdle, kDownloading, kReHello, kDone } state = State::kHelloSent;
  uint64_t request_id = 0;
  uint64_t heartbeat_sequence = 0;
  uint64_t incarnation = 0;
  uint64_t task_id = 0;
  std::string sha256;
  uint64_t total = 0;
  uint64_t requested = 0;  // bytes asked for so far
  uint64_t received = 0;   // bytes in order so far
  Sha256Hasher hasher;
};

class UpdateBench {
 public:
  UpdateBench(const Options& options, std::string key)
      : o_(options), key_(std::move(key)), fleet_(options.agents, "upd", 1), agents_(options.agents) {
    fleet_.set_on_frame([this](size_t slot, std::string_view frame, int64_t now) {
      if (slot == api_slot_) return OnApi(frame);
      OnAgent(slot, frame, now);
    });
  }

  Status Run() {
    LABMESH_RETURN_IF_ERROR(fleet_.Init());
    std::mt19937_64 random(std::random_device{}());
    int64_t start = NowUs();
    int64_t deadline = start + o_.step_timeout_ms * 1000;
    try {
      api_slot_ = fleet_.AddPlain(o_.api);
      for (size_t i = 0; i < agents_.size(); ++i) {
        agents_[i].incarnation = random();
        fleet_.ConnectAgent(i, o_.coordinator, key_);
        SendHello(i, o_.from_version);
      }
      int64_t next_beat = start + 1'000'000;
      while (done_ < agents_.size() && failure_.empty()) {
        int64_t now = NowUs();
        if (now > deadline) {
          return Status::Timeout("registered " + std::to_string(idle_) + ", updated " +
                                 std::to_string(done_) + " of " + std::to_string(agents_.size()));
        }
        if (idle_ == agents_.size() && desire_sent_us_ == 0) Desire(now);
        if (now >= next_beat) {  // everyone stays alive (a heartbeat per second)
          for (size_t i = 0; i < agents_.size(); ++i) {
            protocol::Heartbeat beat = fleet_.Heartbeat(i, ++agents_[i].heartbeat_sequence, 1);
            beat.incarnation = agents_[i].incarnation;
            fleet_.Send(i, protocol::Encode(beat, ++agents_[i].request_id));
          }
          next_beat = now + 1'000'000;
        }
        fleet_.DrainTouched();
        fleet_.Poll(100);
      }
    } catch (const zmq::error_t& e) {
      return Status::Internal(std::string("zmq: ") + e.what());
    }
    if (!failure_.empty()) return Status::Internal(failure_);
    return Status::Ok();
  }

  void Report(const ProcSample& before, const ProcSample& after) const {
    double seconds = static_cast<double>(last_done_us_ - desire_sent_us_) / 1e6;
    double total_mib = static_cast<double>(bytes_after_desire_) / (1 << 20);
    std::printf(
        "updatebench: agents=%zu package_bytes=%" PRIu64 " update_s=%.2f "
        "coordinator_bytes_sent=%" PRIu64 " per_agent_mib=%.2f package_multiple=%.3f "
        "rate_mib_s=%.1f first_done_s=%.2f coordinator_cpu_s=%.2f send_failures=%" PRIu64 "\n",
        agents_.size(), package_bytes_, seconds, bytes_after_desire_,
        total_mib / static_cast<double>(agents_.size()),
        package_bytes_ == 0 ? 0.0
                            : static_cast<double>(bytes_after_desire_) /
                                  static_cast<double>(package_bytes_ * agents_.size()),
        seconds > 0 ? total_mib / seconds : 0.0,
        static_cast<double>(first_done_us_ - desire_sent_us_) / 1e6,
        before.ok && after.ok ? after.cpu_s - before.cpu_s : -1.0, fleet_.send_failures());
    std::fflush(stdout);
  }

 private:
  void SendHello(size_t i, const std::string& version) {
    protocol::AgentHello hello = fleet_.Hello(i, {});
    hello.agent_version = version;
    hello.incarnation = agents_[i].incarnation;
    fleet_.Send(i, protocol::Encode(hello, ++agents_[i].request_id));
  }

  void Desire(int64_t now) {
    protocol::PackageDesireRequest desire;
    desire.version = o_.version;
    desire_sent_us_ = now;
    fleet_.Send(api_slot_, protocol::Encode(desire, 1, {"", o_.token, "", "", ""}));
  }

  void OnApi(std::string_view frame) {
    auto e = protocol::DecodeEnvelope(frame, limits_);
    if (e.ok() && e->type == protocol::MessageType::kError) {
      auto error = protocol::DecodeBody<protocol::ErrorReply>(*e);
      failure_ = "desire refused: " + (error.ok() ? error->message : std::string("?"));
    }
  }

  void RequestMore(size_t i) {
    SimAgent& a = agents_[i];
    while (a.requested < a.total &&
           a.requested - a.received < o_.chunk_bytes * static_cast<uint64_t>(o_.window)) {
      protocol::PackageChunkRequest request;
      request.sha256 = a.sha256;
      request.offset = a.requested;
      request.max_bytes = static_cast<uint32_t>(std::min(o_.chunk_bytes, a.total - a.requested));
      a.requested += request.max_bytes;
      fleet_.Send(i, protocol::Encode(request, ++a.request_id));
    }
  }

  void OnAgent(size_t i, std::string_view frame, int64_t now) {
    if (desire_sent_us_ != 0) bytes_after_desire_ += frame.size();
    auto e = protocol::DecodeEnvelope(frame, limits_);
    if (!e.ok()) return void(failure_ = "undecodable frame: " + e.status().ToString());
    SimAgent& a = agents_[i];
    using T = protocol::MessageType;
    switch (e->type) {
      case T::kWelcome:
        if (a.state == SimAgent::State::kHelloSent) {
          a.state = SimAgent::State::kIdle;
          ++idle_;
          fleet_.Send(i, protocol::Encode(protocol::WorkRequest{a.incarnation}, ++a.request_id));
        } else if (a.state == SimAgent::State::kReHello) {
          a.state = SimAgent::State::kDone;
          if (done_++ == 0) first_done_us_ = now;
          last_done_us_ = now;
        }
        break;
      case T::kRunTask: {
        auto run = protocol::DecodeBody<protocol::RunTask>(*e);
        if (!run.ok() || run->kind != "Update" || a.state != SimAgent::State::kIdle) break;
        a.state = SimAgent::State::kDownloading;
        a.task_id = run->task_id;
        a.sha256 = run->package_sha256;
        a.total = run->package_bytes;
        package_bytes_ = a.total;
        RequestMore(i);
        break;
      }
      case T::kPackageChunk: {
        auto chunk = protocol::DecodeBody<protocol::PackageChunk>(*e);
        if (!chunk.ok() || chunk->offset != a.received) {
          return void(failure_ = "agent " + std::to_string(i) + ": chunk out of order");
        }
        a.hasher.Update(std::string_view(chunk->data.data(), chunk->data.size()));
        a.received += chunk->data.size();
        if (a.received < a.total) return RequestMore(i);
        if (a.hasher.Hex() != a.sha256) {
          return void(failure_ = "agent " + std::to_string(i) + ": sha256 mismatch");
        }
        // What the re-executed agent does: a new incarnation registers on the new version.
        a.state = SimAgent::State::kReHello;
        a.incarnation ^= 0x5bd1e995u;
        SendHello(i, o_.version);
        break;
      }
      case T::kError: {
        auto error = protocol::DecodeBody<protocol::ErrorReply>(*e);
        failure_ = "agent " + std::to_string(i) + ": " + (error.ok() ? error->message : "?");
        break;
      }
      default:
        break;  // heartbeat acks, work that never comes
    }
  }

  const Options o_;
  const std::string key_;
  SimFleet fleet_;
  std::vector<SimAgent> agents_;
  protocol::DecodeLimits limits_;
  size_t api_slot_ = static_cast<size_t>(-1);
  size_t idle_ = 0;
  size_t done_ = 0;
  int64_t desire_sent_us_ = 0;
  int64_t first_done_us_ = 0;
  int64_t last_done_us_ = 0;
  uint64_t bytes_after_desire_ = 0;
  uint64_t package_bytes_ = 0;
  std::string failure_;
};

}  // namespace
}  // namespace labmesh::bench

int main(int argc, char** argv) {
  namespace flags = labmesh::flags;
  labmesh::bench::Options options;
  CLI::App app{"labmesh-updatebench: a simulated fleet moves to a new agent version"};
  flags::Add(app, "coordinator", options.coordinator, "the coordinator's agent endpoint");
  flags::Add(app, "coordinator-key", options.coordinator_key,
             "the coordinator's public key (Z85) or the file holding it")
      ->required();
  flags::Add(app, "api", options.api, "the coordinator's API endpoint");
  app.add_option("--token", options.token, "an admin's API token")->envname("LABMESH_TOKEN");
  flags::Add(app, "agents", options.agents, "simulated agents")->check(CLI::Range(1, 10'000));
  flags::Add(app, "from-version", options.from_version, "the version the agents start on");
  flags::Add(app, "version", options.version, "the uploaded version to desire")->required();
  flags::Add(app, "chunk", options.chunk_bytes, "bytes per PackageChunkRequest")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 20));
  flags::Add(app, "window", options.window, "chunk requests in flight per agent")
      ->check(CLI::Range(1, 64));
  flags::AddDuration(app, "step-timeout", options.step_timeout_ms, "give up after this long");
  flags::Add(app, "watch-pid", options.watch_pid, "the coordinator, for its CPU time");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return flags::ExitForParseError(app, e);
  }
  auto key = labmesh::ResolveCurveKey(options.coordinator_key);
  if (!key.ok()) {
    std::cerr << "labmesh-updatebench: --coordinator-key: " << key.status().ToString() << "\n";
    return 2;
  }
  labmesh::bench::RaiseFileLimit();
  labmesh::bench::UpdateBench bench(options, *key);
  auto before = labmesh::bench::ReadProc(options.watch_pid);
  labmesh::Status status = bench.Run();
  auto after = labmesh::bench::ReadProc(options.watch_pid);
  if (!status.ok()) {
    std::cerr << "labmesh-updatebench: " << status.ToString() << "\n";
    return 1;
  }
  bench.Report(before, after);
  return 0;
}
