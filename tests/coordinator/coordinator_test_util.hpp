#pragma once
// Helpers shared by the coordinator's unit tests: a real store in a temporary directory behind
// a wrapper that can fail the next commit (fault injection, never sleeping), Curve keys, and
// sample hellos.

#include <gtest/gtest.h>
#include <zmq.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent_service.hpp"
#include "api_routes.hpp"
#include "batch.hpp"
#include "principal.hpp"
#include "api_service.hpp"
#include "host_registry.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "process.hpp"
#include "record_codec.hpp"  // raw MessagePack of protocol messages and store records

namespace labmesh::coordinator::testing {

// A Store that forwards to a real one and can refuse commits: `fail_applies` > 0 makes that many
// next Apply() calls fail with Internal without touching the real store.
class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(std::unique_ptr<store::Store> real) : real_(std::move(real)) {}

  int fail_applies = 0;
  int applies = 0;  // Apply() calls that reached the real store
  int synced_applies = 0;  // of those, the ones with Durability::kSync (an fsync)

  uint32_t schema_version() const override { return real_->schema_version(); }
  uint64_t map_size_bytes() const override { return real_->map_size_bytes(); }
  uint64_t used_bytes() const override { return real_->used_bytes(); }
  Result<std::optional<store::Host>> GetHost(const std::string& hostname) const override {
    return real_->GetHost(hostname);
  }
  Result<std::vector<store::Host>> ListHosts() const override { return real_->ListHosts(); }
  Result<std::optional<store::Label>> GetLabel(const std::string& name) const override {
    return real_->GetLabel(name);
  }
  Result<std::vector<store::Label>> ListLabels() const override { return real_->ListLabels(); }
  Result<std::optional<store::RevokedKey>> GetRevokedKey(const std::string& key) const override {
    return real_->GetRevokedKey(key);
  }
  Result<std::vector<store::RevokedKey>> ListRevokedKeys() const override {
    return real_->ListRevokedKeys();
  }
  Result<std::optional<store::TestDef>> GetTest(const std::string& name) const override {
    return real_->GetTest(name);
  }
  Result<std::vector<store::TestDef>> ListTests() const override { return real_->ListTests(); }
  Result<std::optional<store::Job>> GetJob(uint64_t id) const override {
    return real_->GetJob(id);
  }
  Result<std::vector<store::Job>> ListJobs() const override { return real_->ListJobs(); }
  Result<std::vector<store::Job>> ListJobsAfter(uint64_t after_id, size_t limit) const override {
    return real_->ListJobsAfter(after_id, limit);
  }
  Result<std::optional<store::Entry>> GetEntry(uint64_t id) const override {
    return real_->GetEntry(id);
  }
  Result<std::vector<store::Entry>> GetEntries(const std::vector<uint64_t>& ids) const override {
    return real_->GetEntries(ids);
  }
  Result<std::vector<store::Entry>> ListEntries() const override { return real_->ListEntries(); }
  Result<uint64_t> MaxJobId() const override { return real_->MaxJobId(); }
  Result<uint64_t> MaxEntryId() const override { return real_->MaxEntryId(); }
  Result<std::optional<store::User>> GetUser(const std::string& name) const override {
    return real_->GetUser(name);
  }
  Result<std::vector<store::User>> ListUsers() const override { return real_->ListUsers(); }
  Result<std::vector<store::AclGroup>> ListAclGroups() const override {
    return real_->ListAclGroups();
  }
  Result<std::optional<store::User>> FindUserByTokenHash(const std::string& hash) const override {
    return real_->FindUserByTokenHash(hash);
  }
  Result<std::vector<store::AuditRecord>> ListAudit(const std::string& user, int64_t since_ms,
                                                    size_t limit) const override {
    return real_->ListAudit(user, since_ms, limit);
  }
  Result<uint64_t> MaxAuditId() const override { return real_->MaxAuditId(); }
  Result<std::vector<store::AuditRecord>> OldestAudit(size_t limit) const override {
    return real_->OldestAudit(limit);
  }
  Result<std::optional<store::SpecialTask>> GetTask(uint64_t id) const override {
    return real_->GetTask(id);
  }
  Result<uint64_t> MaxTaskId() const override { return real_->MaxTaskId(); }
  Result<std::vector<store::SpecialTask>> ListHostTasks(const std::string& hostname,
                                                        size_t limit) const override {
    return real_->ListHostTasks(hostname, limit);
  }
  Result<std::vector<store::Entry>> ListHostEntries(const std::string& hostname,
                                                    size_t limit) const override {
    return real_->ListHostEntries(hostname, limit);
  }
  Result<std::optional<store::Package>> GetPackage(const std::string& version) const override {
    return real_->GetPackage(version);
  }
  Result<std::vector<store::Package>> ListPackages() const override {
    return real_->ListPackages();
  }
  Result<store::DesiredVersion> GetDesiredVersion() const override {
    return real_->GetDesiredVersion();
  }
  Result<std::vector<store::Notification>> ListNotifications(uint64_t job_id) const override {
    return real_->ListNotifications(job_id);
  }
  Result<std::vector<store::Notification>> ListPendingNotifications() const override {
    return real_->ListPendingNotifications();
  }
  Result<std::optional<store::Template>> GetTemplate(const std::string& name) const override {
    return real_->GetTemplate(name);
  }
  Result<std::vector<store::Template>> ListTemplates() const override {
    return real_->ListTemplates();
  }
  Result<std::optional<store::Schedule>> GetSchedule(const std::string& name) const override {
    return real_->GetSchedule(name);
  }
  Result<std::vector<store::Schedule>> ListSchedules() const override {
    return real_->ListSchedules();
  }
  Status Sync() override { return real_->Sync(); }
  Status ClaimWriter() override { return real_->ClaimWriter(); }
  Status CheckClaim() override { return real_->CheckClaim(); }
  Status SetActiveRelay(const std::string& endpoint) override {
    return real_->SetActiveRelay(endpoint);
  }
  Result<std::string> ActiveRelay() const override { return real_->ActiveRelay(); }
  Status Apply(const store::WriteBatch& batch,
               Durability durability = Durability::kSync) override {
    if (fail_applies > 0) {
      --fail_applies;
      return Status::Internal("injected: commit failed");
    }
    ++applies;
    if (durability == Durability::kSync) ++synced_applies;
    return real_->Apply(batch, durability);
  }

 private:
  std::unique_ptr<store::Store> real_;
};

// Opens (or reopens) the store in DIR/db. One open environment per directory per process: the
// previous FaultyStore on the same directory must be destroyed first.
inline std::unique_ptr<FaultyStore> OpenStore(const std::string& dir) {
  auto opened = store::Store::Open(dir + "/db");
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return nullptr;
  return std::make_unique<FaultyStore>(std::move(opened).value());
}

// A fresh Curve public key (Z85, 40 characters).
inline std::string NewCurveKey() {
  char public_key[41] = {};
  char secret_key[41] = {};
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return public_key;
}

inline protocol::HostFacts SampleFacts() {
  protocol::HostFacts facts;
  facts.arch = "x86_64";
  facts.os = "debian";
  facts.os_version = "12";
  facts.kernel = "6.1.0-18-amd64";
  facts.cpus = 4;
  facts.memory_bytes = 8ull << 30;
  facts.address = "10.0.0.7";
  return facts;
}

// An accepted, Ready host record as a registration would make it.
inline store::Host SampleHost(const std::string& hostname, const std::string& key) {
  store::Host host;
  host.hostname = hostname;
  host.public_key = key;
  host.enrollment = store::Enrollment::kAccepted;
  host.status = protocol::HostStatus::kReady;
  host.status_reason = "registered";
  host.agent_labels = {"arch:x86_64", "cpus:4", "gpu", "os:debian-12"};
  host.agent_version = "0.1.0";
  host.facts = SampleFacts();
  host.incarnation = 11;
  return host;
}

// Encodes a value the way the wire would, for comparing structs that have no operator==.
template <typename T>
std::string Packed(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  return std::string(buffer.data(), buffer.size());
}

// ---- raw frames, for input no encoder of ours would produce ----

using Packer = msgpack::packer<msgpack::sbuffer>;

// [version, type, request_id, <body written by `body`>].
inline std::string RawFrame(uint32_t version, uint32_t type, uint64_t request_id,
                            const std::function<void(Packer&)>& body) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_array(4);
  packer.pack(version);
  packer.pack(type);
  packer.pack(request_id);
  body(packer);
  return std::string(buffer.data(), buffer.size());
}

// A current-version frame of `type` whose body is the map {key: <value written by `value`>}.
inline std::string FrameWithField(protocol::MessageType type, uint64_t request_id,
                                  const std::string& key,
                                  const std::function<void(Packer&)>& value) {
  return RawFrame(protocol::kProtocolVersion, static_cast<uint32_t>(type), request_id,
                  [&](Packer& p) {
                    p.pack_map(1);
                    p.pack(key);
                    value(p);
                  });
}

// The type of an encoded frame (kError when it does not even decode).
inline protocol::MessageType TypeOf(std::string_view frame) {
  auto envelope = protocol::DecodeEnvelope(frame);
  return envelope.ok() ? envelope->type : protocol::MessageType::kError;
}

inline uint64_t RequestIdOf(std::string_view frame) {
  auto envelope = protocol::DecodeEnvelope(frame);
  return envelope.ok() ? envelope->request_id : 0;
}

// The ErrorReply in `frame`, or nullopt when it is something else.
inline std::optional<protocol::ErrorReply> ErrorIn(std::string_view frame) {
  auto envelope = protocol::DecodeEnvelope(frame);
  if (!envelope.ok() || envelope->type != protocol::MessageType::kError) return std::nullopt;
  auto error = protocol::DecodeBody<protocol::ErrorReply>(*envelope);
  if (!error.ok()) return std::nullopt;
  return *error;
}

// ---- the coordinator's services without sockets ----

// Test shortcuts for the registry outside a loop turn: a change staged and committed at once.
inline Status Committed(HostRegistry& registry, Status staged) {
  if (!staged.ok()) return staged;
  return registry.Commit();
}
inline Status PutNow(HostRegistry& registry, const store::Host& host) {
  registry.StageMany({host}, {});
  return registry.Commit();
}
inline Status MoveNow(HostRegistry& registry, const std::string& hostname,
                      protocol::HostStatus to, const std::string& reason) {
  return Committed(registry, registry.Transition(hostname, to, reason));
}

// One frame the services asked the event loop to send to an agent connection.
struct Sent {
  std::string routing_id;
  std::string frame;
};

// The end of a loop turn without the job side (core.hpp does it with it): the hellos of the
// turn are staged, the registry's changes go into the batch, the batch commits once and its
// frames are "sent" into `sent` (API frames too, under their routing id).
inline Status EndTurn(AgentService& agents, HostRegistry& registry, store::Store& store,
                      Batch& batch, std::vector<Sent>& sent) {
  agents.FinishRegistrations();
  if (registry.WriteTo(batch.writes(), /*heartbeats=*/false)) batch.MarkDurable();
  auto record = [&sent](const std::string& id, std::string frame) {
    sent.push_back(Sent{id, std::move(frame)});
  };
  Batch::Senders senders{
      [&registry, &sent](const std::string& hostname, std::string frame) {
        const HostState* host = registry.Find(hostname);
        if (host != nullptr && !host->routing_id.empty()) {
          sent.push_back(Sent{host->routing_id, std::move(frame)});
        }
      },
      record, record};
  return batch.Commit(&store, senders, [&registry] { registry.Adopt(); },
                      [&registry] { registry.Discard(); });
}

// The admitted user of a request in these tests: the `user` its body names (the CLI still sends
// one), else alice; an admin, so that the rules of admission stay out of the way.
inline Principal PrincipalFor(const protocol::Envelope& envelope) {
  std::string user = "alice";
  const msgpack::object& body = protocol::BodyObject(envelope);
  if (body.type == msgpack::type::MAP) {
    for (uint32_t i = 0; i < body.via.map.size; ++i) {
      const auto& kv = body.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR && kv.key.as<std::string>() == "user" &&
          kv.val.type == msgpack::type::STR && kv.val.via.str.size > 0) {
        user = kv.val.as<std::string>();
      }
    }
  }
  return Principal{user, /*admin=*/true, ""};
}

// A HostRegistry on a real store, an AgentService and an ApiService wired as the coordinator
// wires them, with a fake clock and an outbox that records instead of sending.
class Services {
 public:
  Services(const std::string& dir, CoordinatorConfig config)
      : config_(std::move(config)) {
    store_ = OpenStore(dir);
    registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
    EXPECT_TRUE(registry_->Load().ok());
    agents_ = std::make_unique<AgentService>(
        config_, &clock_, registry_.get(), &batch_,
        [this](const std::string& routing_id, std::string frame) {
          sent_.push_back(Sent{routing_id, std::move(frame)});
        });
    catalog_ = std::make_unique<TestCatalog>(store_.get(), &clock_);
    api_ = std::make_unique<ApiService>(&clock_, registry_.get(), agents_.get(), catalog_.get());
  }

  FakeClock& clock() { return clock_; }
  FaultyStore& store() { return *store_; }
  HostRegistry& registry() { return *registry_; }
  AgentService& agents() { return *agents_; }
  Batch& batch() { return batch_; }
  // The end of the loop turn (see EndTurn); what it sent is in TakeSent().
  Status EndOfTurn() { return EndTurn(*agents_, *registry_, *store_, batch_, sent_); }
  ApiService& api() { return *api_; }
  const CoordinatorConfig& config() const { return config_; }

  // What the services sent since the last call.
  std::vector<Sent> TakeSent() { return std::exchange(sent_, {}); }

  // One frame on the agent socket; returns what was sent in answer.
  std::vector<Sent> AgentFrame(const std::string& routing_id, const std::string& curve_key,
                               std::string_view frame) {
    sent_.clear();
    agents_->HandleFrame(routing_id, curve_key, frame);
    (void)EndOfTurn();  // as the event loop does after each batch of agent messages
    return TakeSent();
  }

  // One API frame, decoded and handed over as the event loop does (as an admin: admission is
  // AuthService's, tested on its own); returns the reply frame.
  std::string Frame(std::string_view frame) {
    protocol::DecodeLimits limits;
    limits.max_frame_bytes = config_.max_frame_bytes;
    auto envelope = protocol::DecodeEnvelope(frame, limits);
    if (!envelope.ok()) {
      return protocol::Encode(protocol::ErrorReply::FromStatus(envelope.status()),
                              protocol::PeekRequestId(frame, limits));
    }
    // As the route table has it: a change to hosts is answered after the turn's commit.
    std::string reply = api_->Handle(*envelope, PrincipalFor(*envelope));
    const ApiRouteFlags* route = FindApiRoute(envelope->type);
    if (route != nullptr && route->mutating) {
      batch_.ToApi("api", std::move(reply), envelope->request_id);
      std::vector<Sent> before = TakeSent();
      (void)EndOfTurn();
      std::vector<Sent> now = TakeSent();
      sent_ = std::move(before);
      for (Sent& s : now) {
        if (s.routing_id == "api") {
          reply = std::move(s.frame);
        } else {
          sent_.push_back(std::move(s));
        }
      }
    }
    return reply;
  }

  // An API request; the reply decoded as Reply (an ErrorReply becomes its Status).
  template <typename Reply, typename Request>
  Result<Reply> Call(const Request& request, uint64_t request_id = 1) {
    std::string reply = Frame(protocol::Encode(request, request_id));
    EXPECT_EQ(RequestIdOf(reply), request_id);
    return protocol::DecodeAs<Reply>(reply);
  }

  Status Action(const std::string& hostname, const std::string& action,
                const std::string& reason = "", const std::string& user = "alice") {
    auto reply = Call<protocol::OkReply>(protocol::HostActionRequest{hostname, action, reason, user});
    return reply.ok() ? Status::Ok() : reply.status();
  }

  Result<protocol::HostInfo> Show(const std::string& hostname) {
    auto reply = Call<protocol::HostShowReply>(protocol::HostShowRequest{hostname});
    if (!reply.ok()) return reply.status();
    return reply->host;
  }

  // Everything a reader can see, in memory and in the store, as bytes: equal before and after
  // a request means the request changed nothing.
  std::string Snapshot() {
    std::string out;
    out += Packed(Call<protocol::HostListReply>(protocol::HostListRequest{}, 900)->hosts);
    out += Packed(Call<protocol::HostListReply>(protocol::HostPendingRequest{}, 901)->hosts);
    out += Packed(Call<protocol::LabelListReply>(protocol::LabelListRequest{}, 902)->labels);
    out += Packed(*store_->ListHosts());
    out += Packed(*store_->ListLabels());
    out += Packed(*store_->ListRevokedKeys());
    out += Packed(*store_->ListTests());
    for (const auto& [name, state] : registry_->hosts()) out += state.routing_id + ";";
    return out;
  }

 private:
  CoordinatorConfig config_;  // AgentService keeps a reference
  FakeClock clock_;
  std::unique_ptr<FaultyStore> store_;
  std::unique_ptr<HostRegistry> registry_;
  Batch batch_;
  std::unique_ptr<AgentService> agents_;
  std::unique_ptr<TestCatalog> catalog_;
  std::unique_ptr<ApiService> api_;
  std::vector<Sent> sent_;
};

inline protocol::AgentHello MakeHello(const std::string& hostname, const std::string& key,
                                      uint64_t incarnation = 1,
                                      std::vector<std::string> labels = {},
                                      std::string enroll_token = "") {
  protocol::AgentHello hello;
  hello.hostname = hostname;
  hello.agent_version = "0.1.0";
  hello.incarnation = incarnation;
  hello.public_key = key;
  hello.enroll_token = std::move(enroll_token);
  hello.labels = std::move(labels);
  hello.facts = SampleFacts();
  return hello;
}

}  // namespace labmesh::coordinator::testing
