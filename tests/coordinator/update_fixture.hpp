#pragma once
// The Update fixture: the Jobs fixture (JobService + AgentService on a real store, agents played
// by hand) with a PackageService wired as the coordinator wires it, and helpers to upload
// packages, desire versions and play an agent that updates itself. Shared by packages_test.cpp
// and update_test.cpp.

#include <sodium.h>

#include <memory>
#include <string>

#include "jobs_fixture.hpp"
#include "package_rules.hpp"
#include "package_service.hpp"

namespace labmesh::coordinator::testing {

inline std::string Sha256Hex(const std::string& data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

class Update : public Jobs {
 protected:
  void SetUp() override {
    answer_tasks_ = false;  // the tests play RunTask themselves
    Jobs::SetUp();
    StartPackages();
  }

  void StartPackages() {
    packages_ = std::make_unique<PackageService>(
        dir_.path() + "/packages", &clock_, store_.get(), registry_.get(), &jobs_->updates(),
        [this](const std::string& id, std::string frame) { api_sent_.push_back({id, frame}); });
    ASSERT_TRUE(packages_->Load().ok());
    agents_->set_packages(packages_.get());
  }

  // A coordinator restart: same store and directory, new services.
  void Restart() {
    agents_.reset();
    packages_.reset();
    jobs_.reset();
    registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
    ASSERT_TRUE(registry_->Load().ok());
    StartJobs();
    StartPackages();
  }

  // One package API request as `user` (an admin); the reply after the commit.
  template <typename Reply, typename Request>
  Result<Reply> PackageCall(const Request& request, const std::string& user = "root") {
    api_sent_.clear();
    auto envelope = protocol::DecodeEnvelope(protocol::Encode(request, 9));
    EXPECT_TRUE(envelope.ok());
    packages_->HandleApi("api", *envelope, Principal{user, true, ""});
    Flush();
    EXPECT_EQ(api_sent_.size(), 1u);
    if (api_sent_.empty()) return Status::Internal("no reply");
    EXPECT_EQ(RequestIdOf(api_sent_.back().frame), 9u);
    return protocol::DecodeAs<Reply>(api_sent_.back().frame);
  }

  Result<protocol::PackageUploadReply> SendChunk(const std::string& version,
                                                 const std::string& sha256, uint64_t total,
                                                 uint64_t offset, const std::string& data) {
    protocol::PackageUploadRequest request;
    request.version = version;
    request.sha256 = sha256;
    request.total_bytes = total;
    request.offset = offset;
    request.data.assign(data.begin(), data.end());
    return PackageCall<protocol::PackageUploadReply>(request);
  }

  // Uploads `content` as `version` in chunks of `chunk` bytes, claiming `sha256` (its real
  // hash when empty); the last reply.
  Result<protocol::PackageUploadReply> UploadAs(const std::string& version,
                                                const std::string& content,
                                                std::string sha256 = "", size_t chunk = 7) {
    if (sha256.empty()) sha256 = Sha256Hex(content);
    Result<protocol::PackageUploadReply> reply = Status::Internal("nothing sent");
    for (size_t offset = 0; offset < content.size(); offset += chunk) {
      reply = SendChunk(version, sha256, content.size(), offset, content.substr(offset, chunk));
      if (!reply.ok() || reply->done) break;
    }
    return reply;
  }

  // Uploads the package of `version` (content made from it) and returns its record.
  protocol::PackageInfo Upload(const std::string& version) {
    auto reply = UploadAs(version, ContentOf(version));
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_TRUE(reply.ok() && reply->done);
    return reply.ok() ? reply->package : protocol::PackageInfo{};
  }
  static std::string ContentOf(const std::string& version) {
    return "labmesh-agent package " + version + " (not really a tar.gz)";
  }

  Result<protocol::PackageListReply> Desire(const std::string& version, uint32_t canary = 100) {
    return PackageCall<protocol::PackageListReply>(protocol::PackageDesireRequest{version, canary});
  }

  // Registers `host` running `version` (as a restarted agent would), with `report` as its
  // hello's update_report, and lets it ask for work.
  void RegisterAs(const std::string& host, const std::string& version,
                  protocol::TaskReport report = {}, bool ask_for_work = true) {
    if (keys_.count(host) == 0) keys_[host] = NewCurveKey();
    protocol::AgentHello hello = MakeHello(host, keys_[host], ++incarnation_);
    hello.agent_version = version;
    hello.update_report = std::move(report);
    incarnations_[host] = incarnation_;
    AgentSend(host, hello);
    if (ask_for_work) AgentSend(host, protocol::WorkRequest{incarnation_});
  }

  void AskForWork(const std::string& host) {
    AgentSend(host, protocol::WorkRequest{incarnations_[host]});
  }

  std::vector<protocol::RunTask> TakeTasks(const std::string& host) {
    return TakeSentOf<protocol::RunTask>(host);
  }

  const store::Host& RecordOf(const std::string& host) { return registry_->Find(host)->record; }

  store::SpecialTask TaskById(uint64_t id) {
    auto task = store_->GetTask(id);
    EXPECT_TRUE(task.ok() && task->has_value());
    return task.ok() && task->has_value() ? **task : store::SpecialTask{};
  }

  std::unique_ptr<PackageService> packages_;
};

}  // namespace labmesh::coordinator::testing
