// HostRegistry over a real store in a temporary directory, with a fake clock: changes are
// committed before memory moves, heartbeats stay in memory until flushed, silence is judged by
// the clock, a reload gives a grace period, and label/delete operations are one commit each.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator_test_util.hpp"
#include "host_registry.hpp"

namespace labmesh::coordinator {
namespace {

using protocol::HostStatus;
using testing::FaultyStore;
using testing::NewCurveKey;
using testing::Packed;
using testing::SampleHost;

constexpr int64_t kDeadAfterMs = 30'000;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  // (Re)opens the store and a fresh registry on it, loading what the store holds.
  void Open() {
    registry_.reset();
    store_.reset();  // one LMDB environment per directory per process
    store_ = testing::OpenStore(tmp_.path());
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
    ASSERT_TRUE(registry_->Load().ok());
  }

  // The host as the store has it (read through the registry's own Store object).
  std::optional<store::Host> Stored(const std::string& hostname) {
    auto host = store_->GetHost(hostname);
    EXPECT_TRUE(host.ok()) << host.status().ToString();
    return host.ok() ? *host : std::nullopt;
  }

  // Adds an accepted Ready host and returns its key.
  std::string AddHost(const std::string& hostname) {
    std::string key = NewCurveKey();
    EXPECT_TRUE(testing::PutNow(*registry_, SampleHost(hostname, key)).ok());
    return key;
  }

  labmesh::testing::TempDir tmp_;
  FakeClock clock_;
  std::unique_ptr<FaultyStore> store_;
  std::unique_ptr<HostRegistry> registry_;
};

TEST_F(RegistryTest, PutCommitsToTheStoreAndThenToMemory) {
  std::string key = AddHost("lab-1");
  ASSERT_NE(registry_->Find("lab-1"), nullptr);
  auto stored = Stored("lab-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Packed(*stored), Packed(registry_->Find("lab-1")->record));
  EXPECT_EQ(registry_->FindByKey(key), registry_->Find("lab-1"));
  EXPECT_EQ(registry_->FindByKey(NewCurveKey()), nullptr);
  EXPECT_EQ(registry_->Find("lab-2"), nullptr);
}

TEST_F(RegistryTest, AFailedCommitLeavesMemoryUnchanged) {
  AddHost("lab-1");
  std::string before = Packed(registry_->Find("lab-1")->record);

  store_->fail_applies = 1;
  store::Host changed = registry_->Find("lab-1")->record;
  changed.locked = true;
  changed.lock_reason = "bad fan";
  EXPECT_FALSE(testing::PutNow(*registry_, changed).ok());
  EXPECT_EQ(Packed(registry_->Find("lab-1")->record), before);
  EXPECT_EQ(Packed(*Stored("lab-1")), before);

  store_->fail_applies = 1;
  EXPECT_FALSE(testing::PutNow(*registry_, SampleHost("lab-2", NewCurveKey())).ok());
  EXPECT_EQ(registry_->Find("lab-2"), nullptr);
  EXPECT_FALSE(Stored("lab-2").has_value());

  store_->fail_applies = 1;
  EXPECT_FALSE(testing::MoveNow(*registry_, "lab-1", HostStatus::kRunning, "job 1").ok());
  EXPECT_EQ(registry_->Find("lab-1")->record.status, HostStatus::kReady);

  store_->fail_applies = 1;
  EXPECT_FALSE(testing::Committed(*registry_, registry_->DeleteAndRevoke("lab-1", "gone")).ok());
  ASSERT_NE(registry_->Find("lab-1"), nullptr);
  EXPECT_FALSE(registry_->IsKeyRevoked(registry_->Find("lab-1")->record.public_key));

  store_->fail_applies = 1;
  EXPECT_FALSE(testing::Committed(*registry_, registry_->CreateAdminLabel("gpu", "admin")).ok());
  EXPECT_EQ(registry_->admin_labels().count("gpu"), 0u);
  EXPECT_EQ(registry_->Find("lab-1")->record.agent_labels, SampleHost("x", "k").agent_labels);

  EXPECT_EQ(Packed(registry_->Find("lab-1")->record), before);
  EXPECT_EQ(Packed(*Stored("lab-1")), before);
}

TEST_F(RegistryTest, SetStatusCommitsAnAllowedMoveWithReasonAndTime) {
  AddHost("lab-1");
  clock_.AdvanceMs(5'000);
  ASSERT_TRUE(testing::MoveNow(*registry_, "lab-1", HostStatus::kRunning, "job 7").ok());
  const store::Host& record = registry_->Find("lab-1")->record;
  EXPECT_EQ(record.status, HostStatus::kRunning);
  EXPECT_EQ(record.status_reason, "job 7");
  EXPECT_EQ(record.status_changed_ms, clock_.WallMs());
  auto stored = Stored("lab-1");
  EXPECT_EQ(stored->status, HostStatus::kRunning);
  EXPECT_EQ(stored->status_reason, "job 7");
}

TEST_F(RegistryTest, SetStatusRefusesIllegalMovesAndChangesNothing) {
  AddHost("lab-1");
  std::string before = Packed(registry_->Find("lab-1")->record);
  int applies = store_->applies;

  Status refused = testing::MoveNow(*registry_, "lab-1", HostStatus::kRepairFailed, "no");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("Repair Failed"), std::string::npos) << refused.message();
  EXPECT_EQ(testing::MoveNow(*registry_, "lab-1", HostStatus::kReady, "again").code(),
            StatusCode::kFailedPrecondition);  // no self move
  EXPECT_EQ(testing::MoveNow(*registry_, "nope", HostStatus::kDead, "x").code(), StatusCode::kNotFound);

  EXPECT_EQ(store_->applies, applies);  // nothing even reached the store
  EXPECT_EQ(Packed(registry_->Find("lab-1")->record), before);
  EXPECT_EQ(Packed(*Stored("lab-1")), before);
}

TEST_F(RegistryTest, HeartbeatsStayInMemoryUntilFlushed) {
  AddHost("lab-1");
  AddHost("lab-2");
  int64_t registered_wall = Stored("lab-1")->last_heartbeat_ms;
  clock_.AdvanceMs(1'234);
  protocol::HostHealth health;
  health.load1 = 1.5;
  health.mem_total_bytes = 8ull << 30;
  health.uptime_s = 99;
  registry_->RecordHeartbeat("lab-1", health);
  registry_->RecordHeartbeat("nobody", health);  // unknown: ignored

  const HostState& state = *registry_->Find("lab-1");
  EXPECT_TRUE(state.heartbeat_dirty);
  EXPECT_EQ(state.record.last_heartbeat_ms, clock_.WallMs());
  EXPECT_EQ(state.record.health.uptime_s, 99u);
  EXPECT_EQ(state.last_seen_steady_ms, clock_.SteadyMs());
  // Not in the store yet.
  EXPECT_EQ(Stored("lab-1")->last_heartbeat_ms, registered_wall);
  EXPECT_EQ(Stored("lab-1")->health.uptime_s, 0u);

  int applies = store_->applies;
  ASSERT_TRUE(registry_->FlushHeartbeats().ok());
  EXPECT_EQ(store_->applies, applies + 1);  // every dirty host in one commit
  EXPECT_FALSE(registry_->Find("lab-1")->heartbeat_dirty);
  EXPECT_EQ(Stored("lab-1")->last_heartbeat_ms, clock_.WallMs());
  EXPECT_EQ(Stored("lab-1")->health.uptime_s, 99u);
  EXPECT_DOUBLE_EQ(Stored("lab-1")->health.load1, 1.5);

  // Nothing dirty: no commit at all.
  ASSERT_TRUE(registry_->FlushHeartbeats().ok());
  EXPECT_EQ(store_->applies, applies + 1);
}

TEST_F(RegistryTest, AHeartbeatRoundIsWrittenAFewHostsAtATime) {
  for (int i = 1; i <= 5; ++i) AddHost("lab-" + std::to_string(i));
  for (int i = 1; i <= 5; ++i) registry_->RecordHeartbeat("lab-" + std::to_string(i), {});
  store::WriteBatch none;
  EXPECT_FALSE(registry_->WriteTo(none, 2));  // no round open: no heartbeat written
  EXPECT_TRUE(none.empty());

  registry_->StartHeartbeatRound();
  std::vector<size_t> slices;
  while (registry_->HeartbeatRoundOpen()) {
    store::WriteBatch batch;
    EXPECT_FALSE(registry_->WriteTo(batch, 2));  // heartbeats alone need no durable commit
    slices.push_back(batch.size());
    ASSERT_TRUE(store_->Apply(batch, store::Store::Durability::kLazy).ok());
    registry_->Adopt();
    // lab-1 beats again after the round passed it: it waits for the next round.
    if (slices.size() == 1) registry_->RecordHeartbeat("lab-1", {});
  }
  EXPECT_EQ(slices, (std::vector<size_t>{2, 2, 1}));
  EXPECT_TRUE(registry_->Find("lab-1")->heartbeat_dirty);
  for (int i = 2; i <= 5; ++i) {
    EXPECT_FALSE(registry_->Find("lab-" + std::to_string(i))->heartbeat_dirty) << i;
  }
  ASSERT_TRUE(registry_->FlushHeartbeats().ok());  // a whole round at once (tests, shutdown)
  EXPECT_FALSE(registry_->Find("lab-1")->heartbeat_dirty);
}

TEST_F(RegistryTest, ASoftRegistrationNeedsNoDurableCommitUnlessSomethingElseChanged) {
  AddHost("lab-1");
  AddHost("lab-2");
  store::Host again = *registry_->Staged("lab-1");
  again.incarnation = 77;  // the agent restarted: soft state only
  registry_->StageRegistration(again, /*durable=*/false);
  store::WriteBatch soft;
  EXPECT_FALSE(registry_->WriteTo(soft, 0));
  EXPECT_EQ(soft.size(), 1u);  // written all the same, without an fsync
  ASSERT_TRUE(store_->Apply(soft, store::Store::Durability::kLazy).ok());
  registry_->Adopt();
  EXPECT_EQ(Stored("lab-1")->incarnation, 77u);

  // A soft hello beside a real change of the same host, or of another, is durable.
  registry_->StageRegistration(again, /*durable=*/false);
  registry_->Stage("lab-1")->locked = true;
  store::WriteBatch same;
  EXPECT_TRUE(registry_->WriteTo(same, 0));
  registry_->Discard();
  registry_->StageRegistration(again, /*durable=*/false);
  store::Host other = *registry_->Staged("lab-2");
  registry_->StageRegistration(other, /*durable=*/true);
  store::WriteBatch both;
  EXPECT_TRUE(registry_->WriteTo(both, 0));
  registry_->Discard();
}

TEST_F(RegistryTest, AFailedFlushKeepsTheHeartbeatsDirtyForTheNextOne) {
  AddHost("lab-1");
  protocol::HostHealth health;
  health.uptime_s = 42;
  registry_->RecordHeartbeat("lab-1", health);
  store_->fail_applies = 1;
  EXPECT_FALSE(registry_->FlushHeartbeats().ok());
  EXPECT_TRUE(registry_->Find("lab-1")->heartbeat_dirty);
  EXPECT_EQ(Stored("lab-1")->health.uptime_s, 0u);
  ASSERT_TRUE(registry_->FlushHeartbeats().ok());
  EXPECT_EQ(Stored("lab-1")->health.uptime_s, 42u);
}

TEST_F(RegistryTest, SilentHostsAreThoseNotHeardFromForLongerThanDeadAfter) {
  AddHost("lab-1");
  AddHost("lab-2");
  store::Host pending = SampleHost("newbie", NewCurveKey());
  pending.enrollment = store::Enrollment::kPending;
  ASSERT_TRUE(testing::PutNow(*registry_, pending).ok());
  AddHost("corpse");
  ASSERT_TRUE(testing::MoveNow(*registry_, "corpse", HostStatus::kDead, "test").ok());

  clock_.AdvanceMs(kDeadAfterMs);
  EXPECT_TRUE(registry_->SilentHosts(kDeadAfterMs).empty());  // exactly dead_after: not yet
  registry_->RecordHeartbeat("lab-2", {});
  clock_.AdvanceMs(1);
  // Pending enrollments and hosts already Dead are never reported; lab-2 just spoke.
  EXPECT_EQ(registry_->SilentHosts(kDeadAfterMs), (std::vector<std::string>{"lab-1"}));
  clock_.AdvanceMs(kDeadAfterMs);
  EXPECT_EQ(registry_->SilentHosts(kDeadAfterMs), (std::vector<std::string>{"lab-1", "lab-2"}));
  // A (re)connection counts as being heard from.
  registry_->SetConnection("lab-1", "conn-1");
  EXPECT_EQ(registry_->SilentHosts(kDeadAfterMs), (std::vector<std::string>{"lab-2"}));
}

TEST_F(RegistryTest, LoadAfterReopenKeepsEverythingAndGivesAGracePeriod) {
  std::string key1 = AddHost("lab-1");
  std::string key2 = AddHost("lab-2");
  ASSERT_TRUE(testing::Committed(*registry_, registry_->CreateAdminLabel("pool:prod", "admin")).ok());
  ASSERT_TRUE(testing::Committed(*registry_, registry_->DeleteAndRevoke("lab-2", "stolen")).ok());
  protocol::HostHealth health;
  health.uptime_s = 7;
  registry_->RecordHeartbeat("lab-1", health);
  ASSERT_TRUE(registry_->FlushHeartbeats().ok());
  registry_->SetConnection("lab-1", "conn-1");
  std::string before = Packed(registry_->Find("lab-1")->record);

  // Long silence before the restart: the coordinator was down for a while.
  clock_.AdvanceMs(10 * kDeadAfterMs);
  Open();

  ASSERT_EQ(registry_->hosts().size(), 1u);
  const HostState* lab1 = registry_->Find("lab-1");
  ASSERT_NE(lab1, nullptr);
  EXPECT_EQ(Packed(lab1->record), before);
  EXPECT_EQ(lab1->record.health.uptime_s, 7u);
  EXPECT_TRUE(lab1->routing_id.empty());  // connections do not survive a restart
  EXPECT_EQ(registry_->FindByRoutingId("conn-1"), nullptr);
  EXPECT_EQ(registry_->admin_labels(), (std::set<std::string>{"pool:prod"}));
  EXPECT_TRUE(registry_->IsKeyRevoked(key2));
  EXPECT_FALSE(registry_->IsKeyRevoked(key1));

  // The grace period: silent right after the load only once dead_after has passed again.
  EXPECT_TRUE(registry_->SilentHosts(kDeadAfterMs).empty());
  clock_.AdvanceMs(kDeadAfterMs);
  EXPECT_TRUE(registry_->SilentHosts(kDeadAfterMs).empty());
  clock_.AdvanceMs(1);
  EXPECT_EQ(registry_->SilentHosts(kDeadAfterMs), (std::vector<std::string>{"lab-1"}));
}

TEST_F(RegistryTest, UnflushedHeartbeatsAreLostByAReloadButNothingElseIs) {
  AddHost("lab-1");
  ASSERT_TRUE(testing::MoveNow(*registry_, "lab-1", HostStatus::kVerifying, "verify").ok());
  protocol::HostHealth health;
  health.uptime_s = 5;
  registry_->RecordHeartbeat("lab-1", health);
  Open();
  EXPECT_EQ(registry_->Find("lab-1")->record.status, HostStatus::kVerifying);
  EXPECT_EQ(registry_->Find("lab-1")->record.health.uptime_s, 0u);
}

TEST_F(RegistryTest, ConnectionsMapRoutingIdsToHosts) {
  AddHost("lab-1");
  AddHost("lab-2");
  registry_->SetConnection("lab-1", "conn-a");
  EXPECT_EQ(registry_->FindByRoutingId("conn-a"), registry_->Find("lab-1"));
  EXPECT_TRUE(registry_->ToInfo(*registry_->Find("lab-1")).connected);
  // A new connection replaces the old one.
  registry_->SetConnection("lab-1", "conn-b");
  EXPECT_EQ(registry_->FindByRoutingId("conn-a"), nullptr);
  EXPECT_EQ(registry_->FindByRoutingId("conn-b"), registry_->Find("lab-1"));
  registry_->SetConnection("ghost", "conn-c");  // unknown host: ignored
  EXPECT_EQ(registry_->FindByRoutingId("conn-c"), nullptr);
  registry_->DropConnection("lab-1");
  EXPECT_EQ(registry_->FindByRoutingId("conn-b"), nullptr);
  EXPECT_TRUE(registry_->Find("lab-1")->routing_id.empty());
  EXPECT_FALSE(registry_->ToInfo(*registry_->Find("lab-1")).connected);
}

TEST_F(RegistryTest, DeleteAndRevokeRemovesTheHostAndRevokesItsKeyInOneCommit) {
  std::string key = AddHost("lab-1");
  AddHost("lab-2");
  registry_->SetConnection("lab-1", "conn-1");
  int applies = store_->applies;
  ASSERT_TRUE(testing::Committed(*registry_, registry_->DeleteAndRevoke("lab-1", "decommissioned")).ok());
  EXPECT_EQ(store_->applies, applies + 1);
  EXPECT_EQ(registry_->Find("lab-1"), nullptr);
  EXPECT_EQ(registry_->FindByRoutingId("conn-1"), nullptr);
  EXPECT_EQ(registry_->FindByKey(key), nullptr);
  EXPECT_TRUE(registry_->IsKeyRevoked(key));
  EXPECT_FALSE(Stored("lab-1").has_value());
  auto revoked = store_->GetRevokedKey(key);
  ASSERT_TRUE(revoked.ok());
  ASSERT_TRUE(revoked->has_value());
  EXPECT_EQ((*revoked)->hostname, "lab-1");
  EXPECT_EQ((*revoked)->reason, "decommissioned");
  EXPECT_EQ((*revoked)->revoked_ms, clock_.WallMs());
  EXPECT_NE(registry_->Find("lab-2"), nullptr);  // the other host is untouched

  EXPECT_EQ(testing::Committed(*registry_, registry_->DeleteAndRevoke("lab-1", "again")).code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, CreatingAnAdminLabelStripsItFromAgentLabels) {
  AddHost("lab-1");  // agent labels include "gpu"
  store::Host other = SampleHost("lab-2", NewCurveKey());
  other.agent_labels = {"arch:x86_64"};
  ASSERT_TRUE(testing::PutNow(*registry_, other).ok());
  std::string lab2_before = Packed(*Stored("lab-2"));

  int applies = store_->applies;
  ASSERT_TRUE(testing::Committed(*registry_, registry_->CreateAdminLabel("gpu", "alice")).ok());
  EXPECT_EQ(store_->applies, applies + 1);
  EXPECT_EQ(registry_->admin_labels().count("gpu"), 1u);
  const auto& agent_labels = registry_->Find("lab-1")->record.agent_labels;
  EXPECT_EQ(std::count(agent_labels.begin(), agent_labels.end(), "gpu"), 0);
  EXPECT_EQ(Stored("lab-1")->agent_labels, agent_labels);
  EXPECT_EQ(Packed(*Stored("lab-2")), lab2_before);
  auto label = store_->GetLabel("gpu");
  ASSERT_TRUE(label.ok() && label->has_value());
  EXPECT_EQ((*label)->created_by, "alice");

  EXPECT_EQ(testing::Committed(*registry_, registry_->CreateAdminLabel("gpu", "bob")).code(), StatusCode::kAlreadyExists);
}

TEST_F(RegistryTest, DeletingAnAdminLabelStripsItFromEveryHost) {
  ASSERT_TRUE(testing::Committed(*registry_, registry_->CreateAdminLabel("pool:prod", "alice")).ok());
  for (const char* name : {"lab-1", "lab-2"}) {
    store::Host host = SampleHost(name, NewCurveKey());
    host.admin_labels = {"pool:prod", "rack:7"};
    ASSERT_TRUE(testing::PutNow(*registry_, host).ok());
  }
  ASSERT_TRUE(testing::Committed(*registry_, registry_->DeleteAdminLabel("pool:prod")).ok());
  EXPECT_EQ(registry_->admin_labels().count("pool:prod"), 0u);
  for (const char* name : {"lab-1", "lab-2"}) {
    EXPECT_EQ(registry_->Find(name)->record.admin_labels, (std::vector<std::string>{"rack:7"}));
    EXPECT_EQ(Stored(name)->admin_labels, (std::vector<std::string>{"rack:7"}));
  }
  auto label = store_->GetLabel("pool:prod");
  ASSERT_TRUE(label.ok());
  EXPECT_FALSE(label->has_value());
  EXPECT_EQ(testing::Committed(*registry_, registry_->DeleteAdminLabel("pool:prod")).code(), StatusCode::kNotFound);
  EXPECT_EQ(testing::Committed(*registry_, registry_->DeleteAdminLabel("gpu")).code(), StatusCode::kNotFound);  // agent label
}

TEST_F(RegistryTest, ToInfoShowsPendingEnrollmentsAndEffectiveLabels) {
  store::Host host = SampleHost("newbie", NewCurveKey());
  host.enrollment = store::Enrollment::kPending;
  host.admin_labels = {"rack:7"};
  ASSERT_TRUE(testing::PutNow(*registry_, host).ok());
  protocol::HostInfo info = registry_->ToInfo(*registry_->Find("newbie"));
  EXPECT_EQ(info.status, "Pending Approval");
  EXPECT_EQ(info.labels,
            (std::vector<std::string>{"arch:x86_64", "cpus:4", "gpu", "os:debian-12", "rack:7"}));
  EXPECT_EQ(info.admin_labels, (std::vector<std::string>{"rack:7"}));
  EXPECT_EQ(info.public_key, host.public_key);
  EXPECT_EQ(info.facts.address, "10.0.0.7");
  EXPECT_FALSE(info.connected);

  AddHost("lab-1");
  ASSERT_TRUE(testing::MoveNow(*registry_, "lab-1", HostStatus::kRepairing, "disk").ok());
  ASSERT_TRUE(testing::MoveNow(*registry_, "lab-1", HostStatus::kRepairFailed, "disk").ok());
  EXPECT_EQ(registry_->ToInfo(*registry_->Find("lab-1")).status, "Repair Failed");
}

}  // namespace
}  // namespace labmesh::coordinator
