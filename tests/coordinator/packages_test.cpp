// Agent packages (docs/update.md): the pure decisions (canary share, target version, upload and
// desire checks), and PackageService over the Jobs fixture: uploads in order with their SHA-256
// checked, versions that never change, the list, desire, and the chunks agents fetch.

#include <gtest/gtest.h>

#include <filesystem>

#include "update_fixture.hpp"

namespace labmesh::coordinator::testing {
namespace {

// ---- pure decisions ----

TEST(PackageRules, CanaryShareIsStableAndOnlyGrows) {
  size_t in_half = 0;
  for (int i = 0; i < 400; ++i) {
    std::string host = "lab-" + std::to_string(i);
    EXPECT_LT(CanaryBucket(host), 100u);
    EXPECT_TRUE(InCanary(host, 100));
    for (uint32_t p = 1; p < 100; ++p) {
      if (InCanary(host, p)) {
        EXPECT_TRUE(InCanary(host, p + 1)) << host << " at " << p;
      }
    }
    if (InCanary(host, 50)) ++in_half;
  }
  // A stable hash spreads hosts evenly enough that half of them is roughly half.
  EXPECT_GT(in_half, 140u);
  EXPECT_LT(in_half, 260u);
}

// Known answers, computed apart from libsodium (Python's hashlib.blake2b(digest_size=32), and
// b2sum -l 256): the bucket is part of the protocol (PROTOCOL.md), so a client in another
// language must find the same hosts in a canary, and a change of hash or byte order fails here.
TEST(PackageRules, CanaryBucketKnownAnswers) {
  EXPECT_EQ(CanaryBucket("lab-0"), 7u);   // BLAKE2b-256 begins 37 22 a7 0f 62 4f 6a 8f
  EXPECT_EQ(CanaryBucket("lab-1"), 63u);  // cb 5e 9d e0 cc c3 d1 e8
  EXPECT_EQ(CanaryBucket("lab-17"), 13u);  // cd 7b 26 17 c4 89 cb 21
  EXPECT_EQ(CanaryBucket("h1"), 80u);
  EXPECT_EQ(CanaryBucket("bench-042"), 58u);
  EXPECT_EQ(CanaryBucket(""), 86u);
  EXPECT_TRUE(InCanary("lab-17", 14));
  EXPECT_FALSE(InCanary("lab-17", 13));
}

TEST(PackageRules, TargetVersion) {
  protocol::DesiredVersion desired{"0.2.0", 100, "root", 1};
  EXPECT_EQ(TargetVersion(desired, "h1", "", true), "0.2.0");
  EXPECT_EQ(TargetVersion(desired, "h1", "0.2.0", true), "");  // failed there: no retry loop
  EXPECT_EQ(TargetVersion(desired, "h1", "0.1.9", true), "0.2.0");
  EXPECT_EQ(TargetVersion(desired, "h1", "", false), "");  // no package
  EXPECT_EQ(TargetVersion(protocol::DesiredVersion{}, "h1", "", true), "");
  // Outside a canary share: left alone.
  std::string outside;
  for (int i = 0; outside.empty(); ++i) {
    if (!InCanary("h" + std::to_string(i), 10)) outside = "h" + std::to_string(i);
  }
  desired.canary_percent = 10;
  EXPECT_EQ(TargetVersion(desired, outside, "", true), "");
}

TEST(PackageRules, UpdateTaskReasonNamesItsTarget) {
  EXPECT_EQ(UpdateTaskReason("0.1.0", "0.2.0"), "version 0.1.0 -> 0.2.0");
  EXPECT_EQ(ParseUpdateTarget(UpdateTaskReason("0.1.0", "0.2.0+build.7")), "0.2.0+build.7");
  EXPECT_EQ(ParseUpdateTarget(UpdateTaskReason("", "1")), "1");
  EXPECT_EQ(ParseUpdateTarget("requested by alice"), std::nullopt);
  EXPECT_EQ(ParseUpdateTarget("version 0.1 -> bad version"), std::nullopt);
}

TEST(PackageRules, UploadChunkChecks) {
  protocol::PackageUploadRequest r;
  r.version = "0.2.0";
  r.sha256 = std::string(64, 'a');
  r.total_bytes = 10;
  r.data.assign(10, 'x');
  EXPECT_TRUE(ValidateUploadChunk(r).ok());
  auto bad = [&](auto change) {
    protocol::PackageUploadRequest copy = r;
    change(copy);
    Status s = ValidateUploadChunk(copy);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  };
  bad([](auto& c) { c.version = "-1"; });
  bad([](auto& c) { c.version = "a b"; });
  bad([](auto& c) { c.version = std::string(65, 'a'); });
  bad([](auto& c) { c.sha256 = std::string(64, 'A'); });
  bad([](auto& c) { c.sha256 = "../../etc/passwd"; });
  bad([](auto& c) { c.total_bytes = 0; });
  bad([](auto& c) { c.total_bytes = protocol::kMaxPackageBytes + 1; });
  bad([](auto& c) { c.offset = 1; });  // past total_bytes
  bad([](auto& c) { c.data.clear(); });
  bad([](auto& c) {
    c.total_bytes = 2 * protocol::kMaxPackageChunkBytes;
    c.data.assign(protocol::kMaxPackageChunkBytes + 1, 'x');
  });
  EXPECT_TRUE(ValidateDesire({"0.2.0", 1}).ok());
  EXPECT_FALSE(ValidateDesire({"0.2.0", 0}).ok());
  EXPECT_FALSE(ValidateDesire({"0.2.0", 101}).ok());
  EXPECT_FALSE(ValidateDesire({"", 100}).ok());
}

// ---- uploads ----

using Packages = Update;

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for (const auto& item : std::filesystem::directory_iterator(dir)) n += item.is_regular_file();
  return n;
}

TEST_F(Packages, UploadInOrderStoresFileAndRecord) {
  std::string content = ContentOf("0.2.0");
  std::string sha = Sha256Hex(content);
  auto first = SendChunk("0.2.0", sha, content.size(), 0, content.substr(0, 10));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->received_bytes, 10u);
  EXPECT_FALSE(first->done);
  EXPECT_EQ(packages_->uploads_in_progress(), 1u);

  auto last = SendChunk("0.2.0", sha, content.size(), 10, content.substr(10));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE(last->done);
  EXPECT_EQ(last->received_bytes, content.size());
  EXPECT_EQ(last->package.version, "0.2.0");
  EXPECT_EQ(last->package.sha256, sha);
  EXPECT_EQ(last->package.bytes, content.size());
  EXPECT_EQ(last->package.uploaded_by, "root");
  EXPECT_EQ(packages_->uploads_in_progress(), 0u);

  auto stored = store_->GetPackage("0.2.0");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->sha256, sha);
  std::string path = dir_.path() + "/packages/" + sha + ".tar.gz";
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::file_size(path), content.size());
  EXPECT_EQ(FilesIn(dir_.path() + "/packages/incoming"), 0u);

  // The same file again is fine (versions are immutable, not unrepeatable).
  auto again = SendChunk("0.2.0", sha, content.size(), 0, content.substr(0, 10));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->done);
  EXPECT_EQ(again->package.sha256, sha);
}

TEST_F(Packages, ChunkThatLeavesAGapIsRefusedWithTheOffsetExpected) {
  std::string content = ContentOf("0.2.0");
  std::string sha = Sha256Hex(content);
  ASSERT_TRUE(SendChunk("0.2.0", sha, content.size(), 0, content.substr(0, 7)).ok());
  auto gap = SendChunk("0.2.0", sha, content.size(), 14, content.substr(14, 7));
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(gap.status().message().find("expected offset 7"), std::string::npos)
      << gap.status().message();
  // Nothing was lost: it continues where its copy ends and completes.
  auto rest = SendChunk("0.2.0", sha, content.size(), 7, content.substr(7));
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_TRUE(rest->done);

  // A chunk of an upload nobody started: offset 0 expected.
  std::string other = ContentOf("0.3.0");
  auto orphan = SendChunk("0.3.0", Sha256Hex(other), other.size(), 7, other.substr(7, 7));
  ASSERT_FALSE(orphan.ok());
  EXPECT_NE(orphan.status().message().find("expected offset 0"), std::string::npos);
}

TEST_F(Packages, HashMismatchDropsTheCopyAndStoresNothing) {
  std::string content = ContentOf("0.2.0");
  auto reply = UploadAs("0.2.0", content, Sha256Hex("something else"));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reply.status().message().find("SHA-256 mismatch"), std::string::npos);
  auto stored = store_->GetPackage("0.2.0");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
  EXPECT_EQ(FilesIn(dir_.path() + "/packages"), 0u);
  EXPECT_EQ(FilesIn(dir_.path() + "/packages/incoming"), 0u);
  EXPECT_EQ(packages_->uploads_in_progress(), 0u);
}

TEST_F(Packages, BadChunksAreRefusedAndChangeNothing) {
  std::string sha = std::string(64, 'b');
  std::string big(protocol::kMaxPackageChunkBytes + 1, 'x');
  auto too_big = SendChunk("0.2.0", sha, 4 * big.size(), 0, big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(SendChunk("not a version", sha, 10, 0, "0123456789").ok());
  EXPECT_FALSE(SendChunk("0.2.0", "abc", 10, 0, "0123456789").ok());
  EXPECT_FALSE(SendChunk("0.2.0", sha, protocol::kMaxPackageBytes + 1, 0, "01").ok());
  EXPECT_EQ(packages_->uploads_in_progress(), 0u);
  EXPECT_EQ(FilesIn(dir_.path() + "/packages/incoming"), 0u);
  auto list = store_->ListPackages();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(Packages, AVersionNeverNamesAnotherFile) {
  Upload("0.2.0");
  auto other = UploadAs("0.2.0", "another build of 0.2.0");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*store_->GetPackage("0.2.0"))->sha256, Sha256Hex(ContentOf("0.2.0")));
}

TEST_F(Packages, UploadsInProgressAreCapped) {
  for (size_t i = 0; i <= PackageService::kMaxUploads; ++i) {
    std::string version = "0." + std::to_string(i);
    std::string content = ContentOf(version);
    ASSERT_TRUE(SendChunk(version, Sha256Hex(content), content.size(), 0, content.substr(0, 5)).ok());
    clock_.AdvanceMs(10);
  }
  EXPECT_EQ(packages_->uploads_in_progress(), PackageService::kMaxUploads);
  EXPECT_EQ(FilesIn(dir_.path() + "/packages/incoming"), PackageService::kMaxUploads);
  // The one left alone the longest (the first) went.
  std::string first = ContentOf("0.0");
  auto resumed = SendChunk("0.0", Sha256Hex(first), first.size(), 5, first.substr(5, 5));
  ASSERT_FALSE(resumed.ok());
  EXPECT_NE(resumed.status().message().find("expected offset 0"), std::string::npos);
}

// ---- list and desire ----

TEST_F(Packages, ListShowsPackagesByUploadTimeDesiredAndHostVersions) {
  RegisterAs("h1", "0.1.0");
  RegisterAs("h2", "0.1.0");
  RegisterAs("h3", "0.3.0");
  Upload("0.3.0");
  clock_.AdvanceMs(1000);
  Upload("0.2.0");  // older version, uploaded later
  auto list = PackageCall<protocol::PackageListReply>(protocol::PackageListRequest{});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->packages.size(), 2u);
  EXPECT_EQ(list->packages[0].version, "0.3.0");
  EXPECT_EQ(list->packages[1].version, "0.2.0");
  EXPECT_EQ(list->desired.version, "");
  EXPECT_EQ(list->host_versions.size(), 2u);
  EXPECT_EQ(list->host_versions["0.1.0"], 2u);
  EXPECT_EQ(list->host_versions["0.3.0"], 1u);

  auto one = PackageCall<protocol::PackageListReply>(protocol::PackageListRequest{"0.2.0"});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->packages.size(), 1u);
  EXPECT_EQ(one->packages[0].version, "0.2.0");
  auto none = PackageCall<protocol::PackageListReply>(protocol::PackageListRequest{"9.9"});
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);

  auto desired = Desire("0.3.0", 40);
  ASSERT_TRUE(desired.ok()) << desired.status().ToString();
  EXPECT_EQ(desired->desired.version, "0.3.0");
  EXPECT_EQ(desired->desired.canary_percent, 40u);
  EXPECT_EQ(desired->desired.set_by, "root");
  EXPECT_EQ(desired->packages.size(), 2u);
  auto stored = store_->GetDesiredVersion();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->version, "0.3.0");
  EXPECT_EQ(stored->canary_percent, 40u);
}

TEST_F(Packages, DesireOfAnUnknownVersionOrBadShareIsRefused) {
  Upload("0.2.0");
  auto unknown = Desire("0.9.0");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("no package of version 0.9.0"), std::string::npos);
  EXPECT_EQ(Desire("0.2.0", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Desire("0.2.0", 101).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetDesiredVersion()->version, "");
  EXPECT_EQ(jobs_->updates().desired_version().version, "");
}

TEST_F(Packages, DesireThatIsNotStoredIsNotInForce) {
  Upload("0.2.0");
  store_->fail_applies = 1;
  auto refused = Desire("0.2.0");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(jobs_->updates().desired_version().version, "");  // reloaded from the store
  EXPECT_EQ(store_->GetDesiredVersion()->version, "");
}

// ---- chunks for agents ----

TEST_F(Packages, ChunksAreServedByRange) {
  RegisterAs("h1", "0.1.0");
  protocol::PackageInfo package = Upload("0.2.0");
  std::string content = ContentOf("0.2.0");
  // The chunk or the error h1 got for one request.
  auto fetch = [&](const std::string& sha, uint64_t offset, uint32_t max) {
    agent_sent_.clear();
    AgentSend("h1", protocol::PackageChunkRequest{sha, offset, max});
    std::vector<protocol::PackageChunk> chunks;
    std::vector<protocol::ErrorReply> errors;
    for (const Sent& sent : agent_sent_) {
      EXPECT_EQ(RequestIdOf(sent.frame), request_id_);
      if (auto error = ErrorIn(sent.frame)) {
        errors.push_back(*error);
      } else if (TypeOf(sent.frame) == MessageType::kPackageChunk) {
        chunks.push_back(*protocol::DecodeAs<protocol::PackageChunk>(sent.frame));
      }
    }
    EXPECT_EQ(chunks.size() + errors.size(), 1u);
    agent_sent_.clear();
    return std::make_pair(chunks, errors);
  };
  auto [head, e1] = fetch(package.sha256, 0, 8);
  ASSERT_EQ(head.size(), 1u);
  EXPECT_EQ(std::string(head[0].data.begin(), head[0].data.end()), content.substr(0, 8));
  EXPECT_EQ(head[0].total_bytes, content.size());
  EXPECT_EQ(head[0].offset, 0u);

  auto [tail, e2] = fetch(package.sha256, content.size() - 3, 8);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(std::string(tail[0].data.begin(), tail[0].data.end()), content.substr(content.size() - 3));

  auto [all, e3] = fetch(package.sha256, 0, 0);  // 0 = as much as allowed
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].data.size(), content.size());

  auto [end, e4] = fetch(package.sha256, content.size(), 8);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_TRUE(end[0].data.empty());

  auto [past, past_error] = fetch(package.sha256, content.size() + 1, 8);
  ASSERT_EQ(past_error.size(), 1u);
  EXPECT_EQ(past_error[0].code, static_cast<uint32_t>(StatusCode::kInvalidArgument));
  auto [unknown, unknown_error] = fetch(std::string(64, 'c'), 0, 8);
  ASSERT_EQ(unknown_error.size(), 1u);
  EXPECT_EQ(unknown_error[0].code, static_cast<uint32_t>(StatusCode::kNotFound));
  auto [bad, bad_error] = fetch("../../db/data.mdb", 0, 8);
  ASSERT_EQ(bad_error.size(), 1u);
}

TEST_F(Packages, ChunkErrorsCarryTheRequestId) {
  RegisterAs("h1", "0.1.0");
  agent_sent_.clear();
  agents_->HandleFrame("c-h1", keys_["h1"],
                       protocol::Encode(protocol::PackageChunkRequest{std::string(64, 'd'), 0, 1},
                                        4242));
  ASSERT_EQ(agent_sent_.size(), 1u);
  EXPECT_EQ(RequestIdOf(agent_sent_[0].frame), 4242u);
  EXPECT_TRUE(ErrorIn(agent_sent_[0].frame).has_value());
}

TEST_F(Packages, StoredPackagesAreServedAfterARestart) {
  protocol::PackageInfo package = Upload("0.2.0");
  Restart();
  RegisterAs("h1", "0.1.0");
  AgentSend("h1", protocol::PackageChunkRequest{package.sha256, 0, 4});
  auto chunks = TakeSentOf<protocol::PackageChunk>("h1");
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].data.size(), 4u);
}

}  // namespace
}  // namespace labmesh::coordinator::testing
