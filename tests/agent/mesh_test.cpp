// The agent's halves of the package mesh (docs/mesh.md) against each other over 127.0.0.1 (Curve
// needs a real transport): PeerServer serves chunks of a held package to a MeshFetch that shows
// the right ticket; a wrong ticket, a chunk not held, a corrupt copy, an unknown package, a busy
// server and garbage frames are each refused or caught, and the server keeps serving.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <zmq.hpp>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "process.hpp"
#include "update/mesh_fetch.hpp"
#include "update/peer_server.hpp"

namespace labmesh::agent {
namespace {

using labmesh::testing::TempDir;

constexpr uint64_t kBytes = 2 * protocol::kMeshChunkBytes + 12'345;  // three chunks

class MeshAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 random(42);
    bytes_.resize(kBytes);
    for (char& c : bytes_) c = static_cast<char>(random());
    sha_ = Sha256Hex(bytes_);
    std::filesystem::create_directories(tmp_.path() + "/cache");
    WritePackage(bytes_);
    for (uint64_t offset = 0; offset < kBytes; offset += protocol::kMeshChunkBytes) {
      chunks_.chunk_sha256s.push_back(Sha256Hex(std::string_view(bytes_).substr(
          offset, std::min<uint64_t>(protocol::kMeshChunkBytes, kBytes - offset))));
    }
    chunks_.sha256 = sha_;
    chunks_.total_bytes = kBytes;
    chunks_.chunk_bytes = protocol::kMeshChunkBytes;
    PeerServerConfig config{"tcp://127.0.0.1:0", "", 0, 2, tmp_.path() + "/cache"};
    server_ = std::make_unique<PeerServer>(
        config, &context_, &clock_, "holder",
        [this](const std::string& sha) -> std::optional<HeldPackage> {
          if (sha != partial_sha_) return std::nullopt;
          return HeldPackage{partial_path_, partial_have_, kBytes};
        });
    ASSERT_TRUE(server_->Bind().ok());
    server_->FillHello(&hello_);
    fetch_ = std::make_unique<MeshFetch>(&context_, "fetcher", 3'000);
    ASSERT_TRUE(fetch_->SetChunks(chunks_, sha_, kBytes));
  }

  void WritePackage(const std::string& bytes) {
    std::ofstream(tmp_.path() + "/cache/" + sha_ + ".tar.gz", std::ios::binary) << bytes;
  }

  protocol::PeerSource Peer(const std::string& fetcher = "fetcher") const {
    protocol::PeerSource peer{"holder", hello_.peer_endpoint, hello_.peer_public_key, {}};
    std::string ticket = protocol::MeshTicket(
        std::string(hello_.peer_secret.begin(), hello_.peer_secret.end()), sha_, fetcher);
    peer.ticket.assign(ticket.begin(), ticket.end());
    return peer;
  }

  // Runs both sides until the fetch has an outcome (or 10 s pass).
  MeshFetch::Outcome Fetch(const protocol::PeerSource& peer, uint32_t index) {
    fetch_->Start(peer, index, clock_.SteadyMs());
    for (int turn = 0; turn < 1000; ++turn) {
      std::vector<zmq_pollitem_t> items;
      server_->AppendPollItems(&items);
      const size_t server_items = items.size();
      fetch_->AppendPollItems(&items);
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(10));
      server_->OnPolled({items.data(), server_items});
      server_->Service();
      auto outcome = fetch_->Poll({items.data() + server_items, items.size() - server_items},
                                  clock_.SteadyMs());
      if (outcome) return std::move(*outcome);
    }
    ADD_FAILURE() << "no outcome";
    return {};
  }

  std::string Chunk(uint32_t index) const {
    const uint64_t offset = uint64_t{index} * protocol::kMeshChunkBytes;
    return bytes_.substr(offset, std::min<uint64_t>(protocol::kMeshChunkBytes, kBytes - offset));
  }

  TempDir tmp_;
  SystemClock clock_;
  zmq::context_t context_;
  std::string bytes_;
  std::string sha_;
  protocol::PackageChunks chunks_;
  protocol::AgentHello hello_;
  std::unique_ptr<PeerServer> server_;
  std::unique_ptr<MeshFetch> fetch_;
  std::string partial_sha_;
  std::string partial_path_;
  uint64_t partial_have_ = 0;
};

TEST_F(MeshAgentTest, TheHelloAnnouncesTheSocketKeySecretAndWholePackages) {
  EXPECT_TRUE(hello_.peer_endpoint.starts_with("tcp://127.0.0.1:")) << hello_.peer_endpoint;
  EXPECT_NE(hello_.peer_endpoint, "tcp://127.0.0.1:0");
  EXPECT_EQ(hello_.peer_public_key.size(), 40u);
  EXPECT_EQ(hello_.peer_secret.size(), protocol::kPeerSecretBytes);
  EXPECT_EQ(hello_.packages_held, std::vector<std::string>{sha_});
}

TEST_F(MeshAgentTest, ChunksWithTheTicketAreServedAndChecked) {
  for (uint32_t index = 0; index < 3; ++index) {
    auto outcome = Fetch(Peer(), index);
    ASSERT_TRUE(outcome.ok) << outcome.bad.detail;
    EXPECT_EQ(std::string(outcome.data.begin(), outcome.data.end()), Chunk(index)) << index;
  }
  EXPECT_EQ(server_->served_chunks(), 3u);
}

TEST_F(MeshAgentTest, AWrongTicketIsRefused) {
  auto outcome = Fetch(Peer("someone-else"), 0);  // a ticket made for another fetcher
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.bad.problem, "refused");
  EXPECT_NE(outcome.bad.detail.find("no ticket"), std::string::npos) << outcome.bad.detail;
  EXPECT_EQ(outcome.bad.peer, "holder");
  EXPECT_EQ(server_->served_chunks(), 0u);
  EXPECT_TRUE(Fetch(Peer(), 0).ok);  // and the server goes on
}

TEST_F(MeshAgentTest, ACorruptCopyIsCaughtByTheFetcher) {
  std::string rotten = bytes_;
  rotten[protocol::kMeshChunkBytes + 7] ^= 1;
  WritePackage(rotten);
  EXPECT_TRUE(Fetch(Peer(), 0).ok);
  auto outcome = Fetch(Peer(), 1);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.bad.problem, "corrupt");
  EXPECT_EQ(outcome.bad.index, 1u);
  EXPECT_EQ(outcome.bad.sha256, sha_);
  EXPECT_NE(outcome.bad.detail.find("hashes to"), std::string::npos) << outcome.bad.detail;
}

TEST_F(MeshAgentTest, ADownloadInProgressServesOnlyTheChunksItHas) {
  std::filesystem::remove(tmp_.path() + "/cache/" + sha_ + ".tar.gz");
  partial_sha_ = sha_;
  partial_path_ = tmp_.path() + "/part";
  std::ofstream(partial_path_, std::ios::binary) << bytes_.substr(0, protocol::kMeshChunkBytes);
  partial_have_ = protocol::kMeshChunkBytes;
  EXPECT_TRUE(Fetch(Peer(), 0).ok);
  auto outcome = Fetch(Peer(), 1);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.bad.detail.find("not here yet"), std::string::npos) << outcome.bad.detail;
  partial_sha_.clear();
  outcome = Fetch(Peer(), 0);
  EXPECT_NE(outcome.bad.detail.find("no such package"), std::string::npos) << outcome.bad.detail;
}

TEST_F(MeshAgentTest, APeerNobodyListensOnIsGivenUpWithinTheConnectTime) {
  protocol::PeerSource peer = Peer();
  peer.endpoint = "tcp://127.0.0.1:9";
  auto outcome = Fetch(peer, 0);  // the fetch timeout is 3 s; connecting gets 1 s
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.bad.problem, "refused");
  EXPECT_NE(outcome.bad.detail.find("cannot connect"), std::string::npos) << outcome.bad.detail;
}

TEST_F(MeshAgentTest, APeerThatTakesTheRequestAndNeverAnswersTimesOut) {
  fetch_ = std::make_unique<MeshFetch>(&context_, "fetcher", 300);
  ASSERT_TRUE(fetch_->SetChunks(chunks_, sha_, kBytes));
  // A Curve server that reads requests and answers nothing.
  zmq::socket_t mute(context_, zmq::socket_type::router);
  char public_z85[41], secret_z85[41];
  ASSERT_EQ(zmq_curve_keypair(public_z85, secret_z85), 0);
  mute.set(zmq::sockopt::curve_server, 1);
  mute.set(zmq::sockopt::curve_secretkey, std::string(secret_z85));
  mute.set(zmq::sockopt::linger, 0);
  mute.bind("tcp://127.0.0.1:*");
  protocol::PeerSource peer = Peer();
  peer.endpoint = mute.get(zmq::sockopt::last_endpoint);
  peer.public_key = public_z85;
  auto outcome = Fetch(peer, 0);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.bad.problem, "timeout");
}

TEST_F(MeshAgentTest, ChunkHashesThatDoNotFitThePackageAreRefused) {
  protocol::PackageChunks short_list = chunks_;
  short_list.chunk_sha256s.pop_back();
  EXPECT_FALSE(fetch_->SetChunks(short_list, sha_, kBytes));
  EXPECT_FALSE(fetch_->SetChunks(chunks_, std::string(64, 'e'), kBytes));
  EXPECT_FALSE(fetch_->SetChunks(chunks_, sha_, kBytes + 1));
  protocol::PackageChunks bad_hash = chunks_;
  bad_hash.chunk_sha256s[0] = "not hex";
  EXPECT_FALSE(fetch_->SetChunks(bad_hash, sha_, kBytes));
}

TEST_F(MeshAgentTest, GarbageAndOtherMessagesGetAnErrorAndTheServerGoesOn) {
  zmq::socket_t raw(context_, zmq::socket_type::dealer);
  char public_z85[41], secret_z85[41];
  ASSERT_EQ(zmq_curve_keypair(public_z85, secret_z85), 0);
  raw.set(zmq::sockopt::curve_serverkey, hello_.peer_public_key);
  raw.set(zmq::sockopt::curve_publickey, std::string(public_z85));
  raw.set(zmq::sockopt::curve_secretkey, std::string(secret_z85));
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(hello_.peer_endpoint);
  for (const std::string& frame :
       {std::string("\xc1\xc1garbage"), protocol::Encode(protocol::OkReply{"hi"}, 5)}) {
    raw.send(zmq::buffer(frame));
    zmq::message_t answer;
    for (int turn = 0; turn < 500; ++turn) {
      std::vector<zmq_pollitem_t> items;
      server_->AppendPollItems(&items);
      items.push_back(zmq_pollitem_t{raw.handle(), 0, ZMQ_POLLIN, 0});
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(10));
      server_->OnPolled({items.data(), 1});
      server_->Service();
      if (raw.recv(answer, zmq::recv_flags::dontwait)) break;
    }
    auto envelope = protocol::DecodeEnvelope(answer.to_string_view());
    ASSERT_TRUE(envelope.ok()) << frame.size();
    EXPECT_EQ(envelope->type, protocol::MessageType::kError);
  }
  EXPECT_TRUE(Fetch(Peer(), 2).ok);
}

}  // namespace
}  // namespace labmesh::agent
