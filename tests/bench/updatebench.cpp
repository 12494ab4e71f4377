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
// --mesh (docs/mesh.md): every agent also serves the chunks it holds on a Curve ROUTER of its own
// (127.0.0.1, an ephemeral port; --package is the package file, the bytes they serve), asks the
// coordinator for the chunk SHA-256s and fetches each chunk where the coordinator says: from it,
// from a peer (a Curve DEALER trusting the key the coordinator vouched for, the ticket shown), or
// later. Each chunk is checked against its SHA-256. --bad-percent of the agents are bad peers:
// half serve corrupted chunks, half advertise a socket nobody listens on; fetchers report them
// and the coordinator routes around them.
//
// Printed: update_s (desire sent -> the last agent welcomed on the new version), the bytes the
// coordinator sent on the agent sockets meanwhile (every frame received by the agents), per
// agent and as a multiple of the package size, and the coordinator's CPU time (--watch-pid).

#include <CLI/CLI.hpp>
#include <unistd.h>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <fstream>
#include <iterator>
#include <random>
#include <unordered_map>

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
  bool mesh = false;
  std::string package;  // --mesh: the package file, which the agents serve as they get it
  int bad_percent = 0;
  int64_t peer_timeout_ms = 2'000;
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
  // --mesh
  enum class Bad { kNone, kCorrupt, kDead } bad = Bad::kNone;
  size_t router = static_cast<size_t>(-1);
  std::string peer_endpoint;
  std::string peer_public_key;
  std::string peer_secret;
  bool hashes_asked = false;
  size_t fetch_slot = static_cast<size_t>(-1);
  std::string fetch_to;      // endpoint + key of fetch_slot
  std::string fetch_peer;    // hostname of the peer being fetched from ("" = none)
  uint64_t fetch_request = 0;
  int64_t fetch_started_us = 0;
  int64_t fetch_deadline_us = 0;
  std::string fetch_frame;   // the request, until the connection is up and it went out
  int64_t retry_at_us = 0;   // ask the coordinator again then (0 = not waiting)
};

class UpdateBench {
 public:
  UpdateBench(const Options& options, std::string key)
      : o_(options),
        key_(std::move(key)),
        fleet_(options.agents, "upd", options.mesh ? 2 : 1, options.mesh ? options.agents * 16 : 0),
        agents_(options.agents) {
    fleet_.set_on_frame([this](size_t slot, std::string_view frame, int64_t now) {
      if (slot == api_slot_) return OnApi(frame);
      if (slot >= agents_.size()) return OnPeerAnswer(slot, frame, now);
      OnAgent(slot, frame, now);
    });
    fleet_.set_on_routed([this](size_t slot, const std::string& id, std::string_view frame,
                                int64_t) { Serve(slot, id, frame); });
  }

  Status Run() {
    LABMESH_RETURN_IF_ERROR(fleet_.Init());
    std::mt19937_64 random(std::random_device{}());
    int64_t start = NowUs();
    int64_t deadline = start + o_.step_timeout_ms * 1000;
    try {
      api_slot_ = fleet_.AddPlain(o_.api);
      if (o_.mesh) LABMESH_RETURN_IF_ERROR(StartPeers());
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
        if (o_.mesh) Timers(now);
        fleet_.DrainTouched();
        fleet_.Poll(o_.mesh ? 5 : 100);
      }
    } catch (const zmq::error_t& e) {
      return Status::Internal(std::string("zmq: ") + e.what());
    }
    if (!failure_.empty()) return Status::Internal(failure_);
    return Status::Ok();
  }

  // `self_*`: this process's own CPU (the simulated agents' hashing and Curve).
  void Report(const ProcSample& before, const ProcSample& after, const ProcSample& self_before,
              const ProcSample& self_after) const {
    double seconds = static_cast<double>(last_done_us_ - desire_sent_us_) / 1e6;
    double total_mib = static_cast<double>(bytes_after_desire_) / (1 << 20);
    std::printf(
        "updatebench: agents=%zu package_bytes=%" PRIu64 " update_s=%.2f "
        "coordinator_bytes_sent=%" PRIu64 " per_agent_mib=%.2f package_multiple=%.3f "
        "rate_mib_s=%.1f first_done_s=%.2f coordinator_cpu_s=%.2f send_failures=%" PRIu64
        " mesh=%d bad_percent=%d peer_chunks=%" PRIu64 " coordinator_chunks=%" PRIu64
        " waits=%" PRIu64 " bad_reports=%" PRIu64 " simulator_cpu_s=%.2f\n",
        agents_.size(), package_bytes_, seconds, bytes_after_desire_,
        total_mib / static_cast<double>(agents_.size()),
        package_bytes_ == 0 ? 0.0
                            : static_cast<double>(bytes_after_desire_) /
                                  static_cast<double>(package_bytes_ * agents_.size()),
        seconds > 0 ? total_mib / seconds : 0.0,
        static_cast<double>(first_done_us_ - desire_sent_us_) / 1e6,
        before.ok && after.ok ? after.cpu_s - before.cpu_s : -1.0, fleet_.send_failures(),
        o_.mesh ? 1 : 0, o_.bad_percent, peer_chunks_, coordinator_chunks_, waits_, bad_reports_,
        self_after.ok && self_before.ok ? self_after.cpu_s - self_before.cpu_s : -1.0);
    std::fflush(stdout);
  }

 private:
  void SendHello(size_t i, const std::string& version) {
    protocol::AgentHello hello = fleet_.Hello(i, {});
    hello.agent_version = version;
    hello.incarnation = agents_[i].incarnation;
    if (o_.mesh) {
      const SimAgent& a = agents_[i];
      hello.peer_endpoint = a.peer_endpoint;
      hello.peer_public_key = a.peer_public_key;
      hello.peer_secret.assign(a.peer_secret.begin(), a.peer_secret.end());
      if (a.state == SimAgent::State::kReHello) hello.packages_held = {a.sha256};
    }
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
        if (o_.mesh) {
          a.hashes_asked = true;
          fleet_.Send(i, protocol::Encode(protocol::PackageChunksRequest{a.sha256}, ++a.request_id));
          break;
        }
        RequestMore(i);
        break;
      }
      case T::kPackageChunks: {
        auto chunks = protocol::DecodeBody<protocol::PackageChunks>(*e);
        if (!chunks.ok() || chunks->chunk_sha256s.empty()) {
          return void(failure_ = "agent " + std::to_string(i) + ": bad PackageChunks");
        }
        chunk_hashes_ = chunks->chunk_sha256s;
        if (a.hashes_asked) {
          a.hashes_asked = false;
          AskMesh(i);
        }
        break;
      }
      case T::kPackageChunk: {
        auto chunk = protocol::DecodeBody<protocol::PackageChunk>(*e);
        if (o_.mesh && chunk.ok()) return OnMeshChunk(i, *chunk, now);
        if (!chunk.ok() || chunk->offset != a.received) {
          return void(failure_ = "agent " + std::to_string(i) + ": chunk out of order");
        }
        Accept(i, std::string_view(chunk->data.data(), chunk->data.size()));
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

  // ---- --mesh ----

  Status StartPeers() {
    std::ifstream in(o_.package, std::ios::binary);
    package_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (package_.empty()) return Status::InvalidArgument("--package " + o_.package + ": empty");
    std::mt19937_64 random(7);
    for (size_t i = 0; i < agents_.size(); ++i) {
      SimAgent& a = agents_[i];
      // Bad peers spread over the fleet: every (100 / bad_percent)-th agent.
      if (o_.bad_percent > 0 && (i * static_cast<size_t>(o_.bad_percent)) % 100 <
                                    static_cast<size_t>(o_.bad_percent)) {
        a.bad = (bad_count_++ % 2 == 0) ? SimAgent::Bad::kCorrupt : SimAgent::Bad::kDead;
      }
      char public_z85[41], secret_z85[41];
      zmq_curve_keypair(public_z85, secret_z85);
      a.peer_public_key = public_z85;
      a.peer_secret.resize(protocol::kPeerSecretBytes);
      for (char& c : a.peer_secret) c = static_cast<char>(random());
      if (a.bad == SimAgent::Bad::kDead) {
        a.peer_endpoint = "tcp://127.0.0.1:9";  // nothing listens: fetches time out
        continue;
      }
      std::string bound;
      a.router = fleet_.AddRouter("tcp://127.0.0.1:*", secret_z85, &bound);
      router_agent_[a.router] = i;
      a.peer_endpoint = bound;
    }
    return Status::Ok();
  }

  uint32_t IndexOf(const SimAgent& a) const {
    return static_cast<uint32_t>(a.received / protocol::kMeshChunkBytes);
  }

  void AskMesh(size_t i) {
    SimAgent& a = agents_[i];
    a.retry_at_us = 0;
    protocol::PackageChunkRequest request;
    request.sha256 = a.sha256;
    request.offset = a.received;
    request.max_bytes = static_cast<uint32_t>(protocol::kMeshChunkBytes);
    request.mesh = true;
    fleet_.Send(i, protocol::Encode(request, ++a.request_id));
  }

  // "" when `data` is chunk `index`.
  std::string CheckChunk(uint32_t index, std::string_view data) const {
    if (index >= chunk_hashes_.size()) return "no such chunk";
    return Sha256Hex(data) == chunk_hashes_[index] ? "" : "SHA-256 mismatch";
  }

  void OnMeshChunk(size_t i, const protocol::PackageChunk& chunk, int64_t now) {
    SimAgent& a = agents_[i];
    if (!chunk.data.empty()) {
      ++coordinator_chunks_;
      std::string_view data(chunk.data.data(), chunk.data.size());
      if (!CheckChunk(IndexOf(a), data).empty()) {
        return void(failure_ = "agent " + std::to_string(i) + ": the coordinator's chunk is bad");
      }
      return Accept(i, data);
    }
    if (!chunk.peer.hostname.empty()) return StartFetch(i, chunk.peer, now);
    ++waits_;
    a.retry_at_us = now + int64_t{chunk.retry_after_ms} * 1000;
  }

  void StartFetch(size_t i, const protocol::PeerSource& peer, int64_t now) {
    SimAgent& a = agents_[i];
    const std::string to = peer.endpoint + " " + peer.public_key;
    if (a.fetch_slot == static_cast<size_t>(-1) || a.fetch_to != to) {
      if (a.fetch_slot != static_cast<size_t>(-1)) fleet_.Close(a.fetch_slot);
      a.fetch_slot = fleet_.AddCurveDealer(i, peer.endpoint, peer.public_key);
      dealer_agent_[a.fetch_slot] = i;
      a.fetch_to = to;
    }
    a.fetch_peer = peer.hostname;
    a.fetch_request = ++a.request_id;
    a.fetch_started_us = now;
    a.fetch_deadline_us = now + o_.peer_timeout_ms * 1000;
    protocol::PeerChunkRequest request{a.sha256, IndexOf(a), fleet_.identity(i).hostname,
                                       peer.ticket};
    a.fetch_frame = protocol::Encode(request, a.fetch_request);
    if (fleet_.TrySend(a.fetch_slot, a.fetch_frame)) a.fetch_frame.clear();
  }

  void FetchFailed(size_t i, const std::string& problem, const std::string& detail) {
    SimAgent& a = agents_[i];
    ++bad_reports_;
    protocol::PeerBadReport report{a.fetch_peer, a.sha256, IndexOf(a), problem, detail};
    a.fetch_peer.clear();
    fleet_.Close(a.fetch_slot);  // a late answer must not count
    a.fetch_slot = static_cast<size_t>(-1);
    a.fetch_to.clear();
    fleet_.Send(i, protocol::Encode(report, ++a.request_id));
    AskMesh(i);
  }

  void OnPeerAnswer(size_t slot, std::string_view frame, int64_t) {
    auto owner = dealer_agent_.find(slot);
    if (owner == dealer_agent_.end()) return;
    size_t i = owner->second;
    SimAgent& a = agents_[i];
    if (a.fetch_slot != slot || a.fetch_peer.empty()) return;
    auto e = protocol::DecodeEnvelope(frame, limits_);
    if (!e.ok() || e->request_id != a.fetch_request) return;
    if (e->type != protocol::MessageType::kPeerChunk) return FetchFailed(i, "refused", "error");
    auto chunk = protocol::DecodeBody<protocol::PeerChunk>(*e);
    if (!chunk.ok()) return FetchFailed(i, "refused", "undecodable");
    std::string_view data(chunk->data.data(), chunk->data.size());
    if (chunk->index != IndexOf(a) || !CheckChunk(chunk->index, data).empty()) {
      return FetchFailed(i, "corrupt", "chunk SHA-256 mismatch");
    }
    ++peer_chunks_;
    a.fetch_peer.clear();
    Accept(i, data);
  }

  void Accept(size_t i, std::string_view data) {
    SimAgent& a = agents_[i];
    // With --mesh every chunk was checked against the coordinator's chunk SHA-256s, which were
    // made from the file of that whole SHA-256: the simulated agent does not hash the bytes a
    // second time (labmesh-agent does), so that both modes hash every byte once here - the
    // simulator's CPU is one machine's, the fleet's is a thousand.
    if (!o_.mesh) a.hasher.Update(data);
    a.received += data.size();
    if (a.received < a.total) return o_.mesh ? AskMesh(i) : RequestMore(i);
    if (!o_.mesh && a.hasher.Hex() != a.sha256) {
      return void(failure_ = "agent " + std::to_string(i) + ": sha256 mismatch");
    }
    // What the re-executed agent does: a new incarnation registers on the new version.
    a.state = SimAgent::State::kReHello;
    a.incarnation ^= 0x5bd1e995u;
    SendHello(i, o_.version);
  }

  // A peer's ROUTER: one chunk of what that agent holds, for a fetcher with its ticket.
  void Serve(size_t slot, const std::string& routing_id, std::string_view frame) {
    auto owner = router_agent_.find(slot);
    if (owner == router_agent_.end()) return;
    const SimAgent& a = agents_[owner->second];
    auto e = protocol::DecodeEnvelope(frame, limits_);
    if (!e.ok()) return;
    auto request = protocol::DecodeBody<protocol::PeerChunkRequest>(*e);
    auto refuse = [&](const std::string& why) {
      fleet_.SendTo(slot, routing_id,
                    protocol::ErrorFrame(e->request_id, Status::PermissionDenied(why)));
    };
    if (!request.ok()) return refuse("undecodable");
    if (!SecretEquals(std::string(request->ticket.begin(), request->ticket.end()),
                      protocol::MeshTicket(a.peer_secret, request->sha256, request->fetcher))) {
      return refuse("bad ticket");
    }
    const uint64_t offset = uint64_t{request->index} * protocol::kMeshChunkBytes;
    const uint64_t size = std::min<uint64_t>(protocol::kMeshChunkBytes,
                                             package_.size() - std::min<uint64_t>(offset, package_.size()));
    const bool holds = a.state == SimAgent::State::kReHello || a.state == SimAgent::State::kDone ||
                       offset + size <= a.received;
    if (size == 0 || !holds) return refuse("not held");
    protocol::PeerChunk chunk{request->sha256, request->index,
                              std::vector<char>(package_.begin() + static_cast<ptrdiff_t>(offset),
                                                package_.begin() + static_cast<ptrdiff_t>(offset + size))};
    if (a.bad == SimAgent::Bad::kCorrupt) chunk.data[size / 2] ^= 0x55;
    fleet_.SendTo(slot, routing_id, protocol::Encode(chunk, e->request_id));
  }

  void Timers(int64_t now) {
    for (size_t i = 0; i < agents_.size(); ++i) {
      SimAgent& a = agents_[i];
      if (a.state != SimAgent::State::kDownloading) continue;
      if (!a.fetch_peer.empty() && !a.fetch_frame.empty()) {
        // As labmesh-agent: the request goes out once the connection is up, within 1 s.
        if (fleet_.TrySend(a.fetch_slot, a.fetch_frame)) {
          a.fetch_frame.clear();
        } else if (now >= a.fetch_started_us + 1'000'000) {
          FetchFailed(i, "refused", "cannot connect");
        }
      } else if (!a.fetch_peer.empty() && now >= a.fetch_deadline_us) {
        FetchFailed(i, "timeout", "no answer");
      } else if (a.retry_at_us != 0 && now >= a.retry_at_us) {
        AskMesh(i);
      }
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
  // --mesh
  std::vector<char> package_;
  std::vector<std::string> chunk_hashes_;
  std::unordered_map<size_t, size_t> router_agent_;  // router slot -> agent
  std::unordered_map<size_t, size_t> dealer_agent_;  // fetch slot -> agent
  size_t bad_count_ = 0;
  uint64_t peer_chunks_ = 0;
  uint64_t coordinator_chunks_ = 0;
  uint64_t waits_ = 0;
  uint64_t bad_reports_ = 0;
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
  app.add_flag("--mesh", options.mesh, "fetch through the package mesh (docs/mesh.md)");
  flags::Add(app, "package", options.package, "--mesh: the package file the agents serve");
  flags::Add(app, "bad-percent", options.bad_percent,
             "--mesh: agents that are bad peers (half corrupt, half unreachable)")
      ->check(CLI::Range(0, 90));
  flags::AddDuration(app, "peer-timeout", options.peer_timeout_ms,
                     "--mesh: a peer fetch unanswered this long is reported and retried");
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
  auto self_before = labmesh::bench::ReadProc(getpid());
  labmesh::Status status = bench.Run();
  auto after = labmesh::bench::ReadProc(options.watch_pid);
  auto self_after = labmesh::bench::ReadProc(getpid());
  if (!status.ok()) {
    std::cerr << "labmesh-updatebench: " << status.ToString() << "\n";
    return 1;
  }
  bench.Report(before, after, self_before, self_after);
  return 0;
}
