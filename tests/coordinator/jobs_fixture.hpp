#pragma once
// The Jobs fixture: the coordinator's Core (JobService, Scheduler, HostTasks, UpdateScheduler)
// with AgentService on a real store, a fake clock and recording outboxes, with helpers that play agents (register, ask for work, run an entry) and API
// callers. Shared by jobs_test.cpp and groups_test.cpp.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "agent_service.hpp"
#include "coordinator_test_util.hpp"
#include "core.hpp"
#include "job_view.hpp"
#include "labmesh/common/hash.hpp"

namespace labmesh::coordinator::testing {

using protocol::EntryStatus;
using protocol::MessageType;

class Jobs : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.auto_accept = true;
    store_ = OpenStore(dir_.path());
    registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
    ASSERT_TRUE(registry_->Load().ok());
    catalog_ = std::make_unique<TestCatalog>(store_.get(), &clock_);
    results_ = std::make_unique<ResultsRepository>(dir_.path() + "/results");
    StartJobs();
  }

  void StartJobs() {
    agents_.reset();
    jobs_ = std::make_unique<Core>(
        config_, &clock_, store_.get(), registry_.get(), catalog_.get(), results_.get(),
        [this](const std::string& id, std::string frame) { agent_sent_.push_back({id, frame}); },
        [this](const std::string& id, std::string frame) { api_sent_.push_back({id, frame}); });
    ASSERT_TRUE(jobs_->Load().ok());
    agents_ = std::make_unique<AgentService>(
        config_, &clock_, registry_.get(), &jobs_->batch(),
        [this](const std::string& id, std::string frame) { agent_sent_.push_back({id, frame}); },
        jobs_.get());
  }

  // The end of a loop turn, as the coordinator's loop has it: hellos staged, one commit.
  void Flush() {
    agents_->FinishRegistrations();
    (void)jobs_->Flush();
  }

  // Registers `host` (connection "c-<host>") holding `held`, and lets it ask for work.
  void Register(const std::string& host, std::vector<std::string> labels = {},
                std::vector<protocol::HeldEntry> held = {}, bool ask_for_work = true) {
    if (keys_.count(host) == 0) keys_[host] = NewCurveKey();
    protocol::AgentHello hello = MakeHello(host, keys_[host], ++incarnation_, std::move(labels));
    hello.entries = std::move(held);
    incarnations_[host] = incarnation_;
    AgentSend(host, hello);
    if (ask_for_work) AgentSend(host, protocol::WorkRequest{incarnation_});
  }

  void Heartbeat(const std::string& host) {
    AgentSend(host, protocol::Heartbeat{incarnations_[host], ++request_id_, {}});
  }

  // An EntryReport without an incarnation gets the host's current one, as the real agent's
  // do (PROTOCOL.md: the coordinator refuses a report of another incarnation).
  template <typename M>
  void AgentSend(const std::string& host, const M& message) {
    if constexpr (std::is_same_v<M, protocol::EntryReport>) {
      if (message.incarnation == 0) {
        protocol::EntryReport report = message;
        report.incarnation = incarnations_[host];
        agents_->HandleFrame("c-" + host, keys_[host], protocol::Encode(report, ++request_id_));
        Flush();
        AnswerTasks();
        return;
      }
    }
    agents_->HandleFrame("c-" + host, keys_[host], protocol::Encode(message, ++request_id_));
    Flush();
    AnswerTasks();
  }

  // Unless a test plays the tasks itself (answer_tasks_ = false), every RunTask is answered at
  // once with a passed TaskReport, the way an agent with nothing to check would.
  void AnswerTasks() {
    if (!answer_tasks_ || answering_) return;
    answering_ = true;
    for (bool found = true; found;) {
      found = false;
      for (size_t i = 0; i < agent_sent_.size(); ++i) {
        if (TypeOf(agent_sent_[i].frame) != MessageType::kRunTask) continue;
        Sent sent = agent_sent_[i];
        agent_sent_.erase(agent_sent_.begin() + static_cast<std::ptrdiff_t>(i));
        auto run = protocol::DecodeAs<protocol::RunTask>(sent.frame);
        protocol::TaskReport report{run->task_id, run->kind, true, "", {}};
        AgentSend(sent.routing_id.substr(2), report);  // routing ids are "c-<host>"
        found = true;
        break;
      }
    }
    answering_ = false;
  }

  // The route table's job and host-task rows, as the coordinator binds them.
  void HandleApi(const std::string& id, const protocol::Envelope& e, const Principal& who) {
    auto reply = [&](std::string frame) { api_sent_.push_back({id, std::move(frame)}); };
    switch (e.type) {
      case MessageType::kJobCreateRequest: return jobs_->jobs().Create(id, e, who);
      case MessageType::kJobAbortRequest: return jobs_->jobs().Abort(id, e, who);
      case MessageType::kJobListRequest: return reply(JobListFrame(store_.get(), e));
      case MessageType::kJobShowRequest: return reply(jobs_->jobs().Show(e));
      case MessageType::kJobLogRequest: return reply(jobs_->jobs().Log(e));
      case MessageType::kHostAvailRequest: return reply(jobs_->jobs().Avail(e, who));
      case MessageType::kHostTaskRequest: return jobs_->tasks().RequestTask(id, e, who);
      case MessageType::kHostHistoryRequest: return reply(jobs_->tasks().History(e));
      default: ADD_FAILURE() << "not a job request";
    }
  }

  template <typename Reply, typename Request>
  Result<Reply> Call(const Request& request) {
    api_sent_.clear();
    auto envelope = protocol::DecodeEnvelope(protocol::Encode(request, 7));
    EXPECT_TRUE(envelope.ok());
    HandleApi("api", *envelope, PrincipalFor(*envelope));
    Flush();
    AnswerTasks();
    EXPECT_EQ(api_sent_.size(), 1u);
    if (api_sent_.empty()) return Status::Internal("no reply");
    return protocol::DecodeAs<Reply>(api_sent_.back().frame);
  }

  Result<uint64_t> Create(protocol::JobCreateRequest request) {
    if (request.name.empty()) request.name = "job";
    if (request.user.empty()) request.user = "alice";
    if (request.command.empty() && request.control.empty() && request.test.empty()) {
      request.command = "true";
    }
    auto reply = Call<protocol::JobCreateReply>(request);
    if (!reply.ok()) return reply.status();
    return reply->id;
  }

  protocol::JobInfo Show(uint64_t id) {
    auto reply = Call<protocol::JobShowReply>(protocol::JobShowRequest{id});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply->job : protocol::JobInfo{};
  }

  // StartEntry messages sent to `host` since the last call.
  std::vector<protocol::StartEntry> TakeStarts(const std::string& host) {
    std::vector<protocol::StartEntry> starts;
    std::vector<Sent> rest;
    for (Sent& sent : agent_sent_) {
      if (sent.routing_id == "c-" + host && TypeOf(sent.frame) == MessageType::kStartEntry) {
        starts.push_back(*protocol::DecodeAs<protocol::StartEntry>(sent.frame));
      } else {
        rest.push_back(std::move(sent));
      }
    }
    agent_sent_ = std::move(rest);
    return starts;
  }

  template <typename M>
  std::vector<M> TakeSentOf(const std::string& host) {
    std::vector<M> found;
    std::vector<Sent> rest;
    for (Sent& sent : agent_sent_) {
      if (sent.routing_id == "c-" + host && TypeOf(sent.frame) == M::kType) {
        found.push_back(*protocol::DecodeAs<M>(sent.frame));
      } else {
        rest.push_back(std::move(sent));
      }
    }
    agent_sent_ = std::move(rest);
    return found;
  }

  void Chunk(const std::string& host, uint64_t entry, const std::string& path,
             const std::string& data, uint64_t offset = 0) {
    protocol::ResultChunk chunk;
    chunk.entry_id = entry;
    chunk.path = path;
    chunk.offset = offset;
    chunk.data.assign(data.begin(), data.end());
    chunk.hash = Blake2bHex(data);
    AgentSend(host, chunk);
  }

  // Plays the agent's part of one entry: running, exited with `exit_code`, one file uploaded.
  void RunEntry(const std::string& host, uint64_t entry, int exit_code,
                const std::string& log = "hello\n") {
    uint64_t seq = 0;
    protocol::EntryReport report;
    report.entry_id = entry;
    report.phase = "running";
    report.sequence = ++seq;
    report.started_us = clock_.WallUs();
    AgentSend(host, report);
    Chunk(host, entry, "debug/control.log", log);
    report.phase = "exited";
    report.sequence = ++seq;
    report.exit_code = exit_code;
    report.outcome = exit_code == 0 ? "passed" : "failed";
    report.reason = exit_code == 0 ? "" : "exit status " + std::to_string(exit_code);
    AgentSend(host, report);
    report.phase = "uploaded";
    report.sequence = ++seq;
    report.files = {{"debug/control.log", log.size(), Blake2bHex(log)}};
    AgentSend(host, report);
    auto acks = TakeSentOf<protocol::EntryReportAck>(host);
    ASSERT_FALSE(acks.empty());
    EXPECT_TRUE(acks.back().done);
  }

  labmesh::testing::TempDir dir_;
  CoordinatorConfig config_;
  FakeClock clock_;
  std::unique_ptr<FaultyStore> store_;
  std::unique_ptr<HostRegistry> registry_;
  std::unique_ptr<TestCatalog> catalog_;
  std::unique_ptr<ResultsRepository> results_;
  std::unique_ptr<Core> jobs_;  // the core; named for what most tests use it for
  std::unique_ptr<AgentService> agents_;
  std::map<std::string, std::string> keys_;
  std::vector<Sent> agent_sent_;
  std::vector<Sent> api_sent_;
  uint64_t incarnation_ = 0;
  std::map<std::string, uint64_t> incarnations_;
  uint64_t request_id_ = 0;
  bool answer_tasks_ = true;
  bool answering_ = false;
};

}  // namespace labmesh::coordinator::testing
