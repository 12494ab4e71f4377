// End to end: the package mesh (docs/mesh.md). Real agents update through each other: the
// coordinator names a peer for each chunk, the peer serves it on its own Curve socket, the
// fetcher checks it against the chunk SHA-256s. A peer whose package copy is corrupted on disk
// serves bad chunks: the fetcher catches each one, reports the peer, the coordinator avoids it
// (and `host show` says so), and the update still completes.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "labmesh/protocol/mesh_messages.hpp"
#include "update_e2e.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;

class MeshE2e : public UpdateE2e {
 protected:
  // What the agent said when its download ended: "N bytes in C chunks, P from peers" (a
  // successful update sends no report: the new version's registration completes the task).
  std::string Downloaded(const std::string& host) {
    std::string log = AgentLogs(host);
    const std::string mark = "downloaded ";
    size_t at = log.rfind(mark);
    if (at == std::string::npos) return "";
    size_t end = log.find('\n', at);
    return log.substr(at + mark.size(), end == std::string::npos ? end : end - at - mark.size());
  }

  // Flips a byte in every chunk of the package `host` keeps for peers.
  void CorruptCache(const std::string& host, const std::string& sha256) {
    std::string path = cluster_.AgentWorkDir(host) + "/update/cache/" + sha256 + ".tar.gz";
    ASSERT_TRUE(fs::exists(path)) << path;
    uint64_t size = fs::file_size(path);
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    for (uint64_t offset = 100; offset < size; offset += labmesh::protocol::kMeshChunkBytes) {
      file.seekg(static_cast<std::streamoff>(offset));
      char byte = 0;
      file.read(&byte, 1);
      file.seekp(static_cast<std::streamoff>(offset));
      byte = static_cast<char>(byte ^ 0x5a);
      file.write(&byte, 1);
    }
  }

  std::string PackageSha(const std::string& version) {
    auto listed = cluster_.Cli({"--json", "package", "list"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    if (listed.exit_code != 0) return "";
    const nlohmann::json list = nlohmann::json::parse(listed.out);
    for (const auto& package : list["packages"]) {
      if (package.value("version", "") == version) return package.value("sha256", "");
    }
    return "";
  }
};

TEST_F(MeshE2e, AgentsUpdateThroughEachOtherAndACorruptPeerIsCaughtAndAvoided) {
  StartCluster({"mesh-seed"});
  std::string package = MakePackage("v2", LABMESH_AGENT_V2);
  const uint64_t chunks = (fs::file_size(package) + labmesh::protocol::kMeshChunkBytes - 1) /
                          labmesh::protocol::kMeshChunkBytes;
  ASSERT_GE(chunks, 2u) << "the package must span several chunks";
  UploadAndDesire(package, kV2);
  const std::string sha = PackageSha(kV2);
  ASSERT_EQ(sha.size(), 64u);

  // Alone, the seed fetches everything from the coordinator and keeps the package for peers.
  ASSERT_TRUE(WaitForVersion("mesh-seed", kV2)) << AgentLogs("mesh-seed");
  EXPECT_EQ(Downloaded("mesh-seed"),
            std::to_string(fs::file_size(package)) + " bytes in " + std::to_string(chunks) +
                " chunks, 0 from peers");
  auto seed = cluster_.Host("mesh-seed");
  ASSERT_TRUE(seed);
  EXPECT_TRUE((*seed)["mesh"]["peer_endpoint"].get<std::string>().starts_with("tcp://127.0.0.1:"));

  // A new agent gets every chunk from the seed.
  cluster_.StartAgent("mesh-peer");
  ASSERT_TRUE(WaitForVersion("mesh-peer", kV2)) << AgentLogs("mesh-peer");
  EXPECT_EQ(Downloaded("mesh-peer"),
            std::to_string(fs::file_size(package)) + " bytes in " + std::to_string(chunks) +
                " chunks, " + std::to_string(chunks) + " from peers")
      << AgentLogs("mesh-peer");

  // Both holders' copies rot on disk: every chunk they serve is wrong. A third agent is sent to
  // them, catches each bad chunk, reports it, and ends up with the coordinator's bytes.
  CorruptCache("mesh-seed", sha);
  CorruptCache("mesh-peer", sha);
  cluster_.StartAgent("mesh-late");
  ASSERT_TRUE(WaitForVersion("mesh-late", kV2)) << AgentLogs("mesh-late");
  auto tasks = UpdateTasks("mesh-late");
  ASSERT_FALSE(tasks.empty());
  EXPECT_EQ(tasks.front()["status"], "Completed");
  EXPECT_EQ(Downloaded("mesh-late"),
            std::to_string(fs::file_size(package)) + " bytes in " + std::to_string(chunks) +
                " chunks, 0 from peers");
  std::string late_log = AgentLogs("mesh-late");
  EXPECT_NE(late_log.find("corrupt"), std::string::npos) << late_log;
  int reported = 0;
  std::string a_bad_one;
  for (const char* host : {"mesh-seed", "mesh-peer"}) {
    auto shown = cluster_.Host(host);
    ASSERT_TRUE(shown);
    const auto& mesh = (*shown)["mesh"];
    if (mesh["bad_reports"].get<int>() == 0) continue;  // the tracker may never have named it
    ++reported;
    a_bad_one = host;
    EXPECT_TRUE(mesh["avoided"].get<bool>()) << host;
    EXPECT_NE(mesh["last_bad"].get<std::string>().find("corrupt"), std::string::npos) << host;
    EXPECT_NE(mesh["last_bad"].get<std::string>().find("mesh-late"), std::string::npos) << host;
  }
  ASSERT_GE(reported, 1);
  // `host show` says it in words too.
  auto text = cluster_.Cli({"host", "show", a_bad_one});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("peer socket"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("bad peer"), std::string::npos) << text.out;
}

// An agent with the mesh off (--peer-listen "") updates from the coordinator alone, even with
// a holder next to it, and is never named as a peer.
TEST_F(MeshE2e, AnAgentWithoutAPeerSocketUpdatesFromTheCoordinator) {
  StartCluster({"mesh-holder"});
  std::string package = MakePackage("v2", LABMESH_AGENT_V2);
  UploadAndDesire(package, kV2);
  ASSERT_TRUE(WaitForVersion("mesh-holder", kV2)) << AgentLogs("mesh-holder");
  cluster_.StartAgent("mesh-walled", {"--peer-listen", ""});
  ASSERT_TRUE(WaitForVersion("mesh-walled", kV2)) << AgentLogs("mesh-walled");
  EXPECT_EQ(Downloaded("mesh-walled"), std::to_string(fs::file_size(package)) + " bytes");
  auto walled = cluster_.Host("mesh-walled");
  ASSERT_TRUE(walled);
  EXPECT_EQ((*walled)["mesh"]["peer_endpoint"], "");
}

}  // namespace
}  // namespace labmesh::testing
