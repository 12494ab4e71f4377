// MeshTracker (coordinator/mesh_tracker.hpp): routing chunk requests to peers, seeding, waiting,
// bad peers, locality and load spreading, as plain calls with explicit times.

#include "mesh_tracker.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "labmesh/common/hash.hpp"

namespace labmesh::coordinator {
namespace {

using Kind = MeshTracker::Answer::Kind;

const std::string kSha(64, 'a');
constexpr uint32_t kChunks = 10;

class MeshTrackerTest : public ::testing::Test {
 protected:
  MeshTrackerTest() { Make(MeshConfig{}); }

  void Make(MeshConfig config) {
    tracker_ = std::make_unique<MeshTracker>(
        config, [this](const std::string& host) { return gone_.count(host) == 0; });
  }

  // A hello of `host` serving a peer socket (or not), holding the package whole (or not).
  void Hello(const std::string& host, bool serves = true, bool holds = false,
             std::vector<std::string> labels = {}) {
    protocol::AgentHello hello;
    hello.hostname = host;
    if (serves) {
      hello.peer_endpoint = "tcp://127.0.0.1:" + std::to_string(9000 + hellos_++);
      hello.peer_public_key = std::string(40, 'K');
      hello.peer_secret = std::vector<char>(protocol::kPeerSecretBytes, static_cast<char>(host.size()));
    }
    if (holds) hello.packages_held = {kSha, std::string(64, 'f')};  // the second is unknown
    tracker_->OnHello(host, hello, labels,
                      [](const std::string& sha) { return sha == kSha ? kChunks : 0u; });
  }

  MeshTracker::Answer Route(const std::string& fetcher, uint32_t index, int64_t now = 1000) {
    return tracker_->Route(fetcher, kSha, index, kChunks, now);
  }

  void Bad(const std::string& fetcher, const std::string& peer, const std::string& problem,
           int64_t now = 1000) {
    tracker_->OnBad(fetcher, protocol::PeerBadReport{peer, kSha, 0, problem, "test"}, now);
  }

  std::unique_ptr<MeshTracker> tracker_;
  std::set<std::string> gone_;
  int hellos_ = 0;
};

TEST_F(MeshTrackerTest, NobodyHoldsIt_TheCoordinatorSeedsThenFetchersWait) {
  for (const char* host : {"a", "b", "c"}) Hello(host);
  EXPECT_EQ(Route("a", 0).kind, Kind::kDirect);
  EXPECT_EQ(Route("b", 0).kind, Kind::kDirect);  // seeds = 2
  auto third = Route("c", 0);
  EXPECT_EQ(third.kind, Kind::kWait);
  EXPECT_GE(third.retry_after_ms, 25u);
  EXPECT_LT(third.retry_after_ms, 50u);
  // a's next request says it holds chunk 0: c is sent to a, with a ticket a can check.
  EXPECT_EQ(Route("a", 1).kind, Kind::kDirect);
  auto peer = Route("c", 0);
  ASSERT_EQ(peer.kind, Kind::kPeer);
  EXPECT_EQ(peer.peer.hostname, "a");
  EXPECT_EQ(peer.peer.public_key, std::string(40, 'K'));
  EXPECT_EQ(std::string(peer.peer.ticket.begin(), peer.peer.ticket.end()),
            protocol::MeshTicket(std::string(protocol::kPeerSecretBytes, 1), kSha, "c"));
  EXPECT_EQ(tracker_->stats().direct, 3u);
  EXPECT_EQ(tracker_->stats().peer, 1u);
}

TEST_F(MeshTrackerTest, AWholePackageFromTheHelloIsServedAndUnknownPackagesAreNot) {
  Hello("holder", true, true);
  Hello("f");
  auto answer = Route("f", 9);
  ASSERT_EQ(answer.kind, Kind::kPeer);
  EXPECT_EQ(answer.peer.hostname, "holder");
  EXPECT_EQ(tracker_->Route("f", std::string(64, 'f'), 0, 1, 1000).kind, Kind::kDirect);
}

TEST_F(MeshTrackerTest, APeerTakesAtMostUploadsPerPeerFetchesAtOnce) {
  Hello("holder", true, true);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Route("f" + std::to_string(i), 0).kind, Kind::kPeer) << i;
  }
  // Busy: a holder exists, so the coordinator does not serve it; the fetcher waits.
  EXPECT_EQ(Route("f4", 0).kind, Kind::kWait);
  // f0's next request ends its fetch: the slot is free again.
  EXPECT_EQ(Route("f0", 1).kind, Kind::kPeer);
  EXPECT_EQ(Route("f4", 0).kind, Kind::kWait);  // f0 took it again for chunk 1
  // An assignment whose fetcher went quiet expires.
  EXPECT_EQ(Route("f5", 0, 1000 + 10'001).kind, Kind::kPeer);
}

TEST_F(MeshTrackerTest, AFetcherWaitingTooLongIsServedByTheCoordinator) {
  Hello("holder", true, true);
  for (int i = 0; i < 4; ++i) Route("f" + std::to_string(i), 0, 1000);
  EXPECT_EQ(Route("late", 0, 1000).kind, Kind::kWait);
  EXPECT_EQ(Route("late", 0, 3000).kind, Kind::kWait);  // the holder's slots are still taken
  EXPECT_EQ(Route("late", 0, 31'000).kind, Kind::kDirect);
}

TEST_F(MeshTrackerTest, ACorruptPeerServesThatPackageToNobodyAndHostShowTellsIt) {
  Hello("liar", true, true);
  Hello("f1");
  Hello("f2");
  ASSERT_EQ(Route("f1", 0).peer.hostname, "liar");
  Bad("f1", "liar", "corrupt");
  EXPECT_EQ(Route("f1", 0).kind, Kind::kDirect);
  EXPECT_EQ(Route("f2", 0).kind, Kind::kDirect);  // avoided for everyone
  protocol::HostInfo info;
  tracker_->Fill("liar", 1000, &info);
  EXPECT_EQ(info.mesh_bad_reports, 1u);
  EXPECT_TRUE(info.mesh_avoided);
  EXPECT_NE(info.mesh_last_bad.find("corrupt (chunk 0"), std::string::npos) << info.mesh_last_bad;
  EXPECT_NE(info.mesh_last_bad.find("reported by f1"), std::string::npos);
  EXPECT_FALSE(info.peer_endpoint.empty());
  // Its restart does not mend its disk: still avoided for that package.
  Hello("liar", true, true);
  protocol::HostInfo again;
  tracker_->Fill("liar", 1000, &again);
  EXPECT_EQ(again.mesh_bad_reports, 1u);
  EXPECT_TRUE(again.mesh_avoided);
  EXPECT_EQ(Route("f2", 1).kind, Kind::kDirect);
}

TEST_F(MeshTrackerTest, ATimeoutAvoidsThePeerForThatFetcherThenForAllAfterThreeFetchers) {
  Hello("slow", true, true);
  Hello("good", true, true);
  for (const char* f : {"f1", "f2", "f3", "f4"}) Hello(f);
  // Find which holder f1 gets; make "slow" fail it.
  std::map<std::string, int> got;
  for (const char* f : {"f1", "f2", "f3"}) {
    auto answer = Route(f, 0);
    ASSERT_EQ(answer.kind, Kind::kPeer);
    if (answer.peer.hostname == "slow") {
      Bad(f, "slow", "timeout");
      EXPECT_EQ(Route(f, 0).peer.hostname, "good") << f;  // never slow again for it
    }
    Bad(f, "slow", "timeout");  // each of the three reports it
  }
  protocol::HostInfo info;
  tracker_->Fill("slow", 1000, &info);
  EXPECT_TRUE(info.mesh_avoided);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Route("f4", 0).peer.hostname, "good");
  // The avoidance ends.
  tracker_->Fill("slow", 1000 + 60'001, &info);
  EXPECT_FALSE(info.mesh_avoided);
}

TEST_F(MeshTrackerTest, GoneHostsAndUnusableOnesAreNotNamed) {
  Hello("holder", true, true);
  Hello("f");
  gone_.insert("holder");  // disconnected: not usable
  EXPECT_EQ(Route("f", 0).kind, Kind::kDirect);
  gone_.clear();
  EXPECT_EQ(Route("f", 0).kind, Kind::kPeer);
  tracker_->OnGone("holder");
  EXPECT_EQ(Route("f", 0).kind, Kind::kDirect);
}

TEST_F(MeshTrackerTest, AnAgentWithoutAPeerSocketFetchesButIsNeverNamed) {
  Hello("firewalled", /*serves=*/false);
  Hello("f");
  EXPECT_EQ(Route("firewalled", 0).kind, Kind::kDirect);
  EXPECT_EQ(Route("firewalled", 5).kind, Kind::kDirect);  // "holds" 0..4, but serves nothing
  EXPECT_EQ(Route("f", 0).kind, Kind::kDirect);
  EXPECT_EQ(Route("f", 1).kind, Kind::kDirect);
}

TEST_F(MeshTrackerTest, SameRackPeersComeFirstAndLoadSpreads) {
  Hello("far", true, true, {"rack:b"});
  Hello("near", true, true, {"rack:a"});
  Hello("me", true, false, {"rack:a", "gpu"});
  EXPECT_EQ(Route("me", 0).peer.hostname, "near");
  EXPECT_EQ(Route("me", 1).peer.hostname, "near");
  // Without locality: the least loaded of equal holders.
  Make(MeshConfig{});
  for (const char* h : {"h1", "h2", "h3"}) Hello(h, true, true);
  std::map<std::string, int> count;
  for (int i = 0; i < 9; ++i) ++count[Route("f" + std::to_string(i), 0).peer.hostname];
  EXPECT_EQ(count["h1"], 3);
  EXPECT_EQ(count["h2"], 3);
  EXPECT_EQ(count["h3"], 3);
}

TEST_F(MeshTrackerTest, MeshOffServesEverything) {
  MeshConfig config;
  config.enabled = false;
  Make(config);
  Hello("holder", true, true);
  EXPECT_EQ(Route("f", 0).kind, Kind::kDirect);
}

}  // namespace
}  // namespace labmesh::coordinator
