// The agent running entries over ZeroMQ: a fake coordinator (a CurveZMQ ROUTER in the test on
// tcp://127.0.0.1:*) welcomes it, hands out StartEntry on WorkRequest, acknowledges reports
// and chunks (FakeResults keeps the files in memory) and says done after "uploaded". Proves a
// whole entry end to end, streaming and abort, the held entries in the hello after a restart,
// a run of many short entries, and a control using labmesh-sync through its agent (FakeSync
// answers the SyncRequests). Waits have deadlines.

#include <gtest/gtest.h>

#include "labmesh/common/hash.hpp"
#include <zmq.h>

#include <deque>
#include <filesystem>
#include <thread>
#include <zmq.hpp>

#include "fake_coordinator.hpp"
#include "labmesh/agent/agent.hpp"
#include "labmesh/protocol/task_messages.hpp"
#include "process.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;

class FakeCoordinator : public CurveRouter {
 public:
  // Receives for up to `ms` and answers everything: hello -> Welcome, heartbeat -> ack, work
  // messages through FakeResults; a WorkRequest gets the next queued StartEntry.
  void Poll(int ms) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(ms));
    while (true) {
      zmq::message_t identity, body;
      if (!socket_.recv(identity, zmq::recv_flags::dontwait)) break;
      if (!socket_.recv(body, zmq::recv_flags::dontwait)) break;
      identity_ = identity.to_string();
      std::string frame = body.to_string();
      auto envelope = protocol::DecodeEnvelope(frame);
      if (!envelope.ok()) continue;
      if (envelope->type == protocol::MessageType::kAgentHello) {
        protocol::Welcome welcome;
        welcome.hostname = "lab-w";
        welcome.heartbeat_interval_ms = 1'000;
        Send(protocol::Encode(welcome));
      } else if (envelope->type == protocol::MessageType::kHeartbeat) {
        Send(protocol::Encode(protocol::HeartbeatAck{}));
      }
      if (envelope->type == protocol::MessageType::kTaskReport) {
        auto report = protocol::DecodeBody<protocol::TaskReport>(*envelope);
        if (report.ok()) task_reports.push_back(*report);
      }
      int requests = results.work_requests;
      for (const std::string& reply : results.Handle(frame)) Send(reply);
      for (const std::string& reply : sync.Handle(frame)) Send(reply);
      if (results.work_requests > requests && !queue.empty()) {
        Send(protocol::Encode(queue.front()));
        queue.pop_front();
      }
    }
  }

  void Send(const std::string& frame) {
    socket_.send(zmq::buffer(identity_), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(frame), zmq::send_flags::none);
  }

  // Serves the agent until `condition` holds or `timeout` passes. Waits in poll (not a sleep):
  // every answer goes out as soon as the agent's message arrives.
  bool RunUntil(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      Poll(5);
    }
    return true;
  }

  FakeResults results;
  FakeSync sync;
  std::deque<protocol::StartEntry> queue;  // handed out one per WorkRequest
  std::vector<protocol::TaskReport> task_reports;

 private:
  std::string identity_;
};

// The agent of these tests: lab-w, with a short kill grace.
agent::AgentConfig WorkConfig(const std::string& work_dir, const std::string& address = "") {
  agent::AgentConfig config;
  config.hostname = "lab-w";
  config.peer_listen = "tcp://127.0.0.1:0";
  config.work_dir = work_dir;
  config.kill_grace_ms = 500;
  config.address = address;
  return config;
}

protocol::StartEntry Command(uint64_t id, const std::string& command) {
  protocol::StartEntry start;
  start.entry_id = id;
  start.job_id = 100 + id;
  start.job_name = "wire";
  start.owner = "ann";
  start.hostname = "lab-w";
  start.hosts = {"lab-w"};
  start.control_kind = "command";
  start.control = command;
  return start;
}

TEST(AgentWork, AnEntryRunsAndItsResultsAreUploadedOverTheSocket) {
  TempDir tmp;
  FakeCoordinator coordinator;
  coordinator.queue.push_back(Command(
      1, "echo hello; labmesh-test run inner -- echo in; labmesh-test keyval inner k=v"));
  RunningAgent agent(coordinator, WorkConfig(tmp.path() + "/work"));
  ASSERT_TRUE(agent.ok());
  FakeResults& r = coordinator.results;
  ASSERT_TRUE(coordinator.RunUntil([&] { return r.done_sent.count(1) > 0; }));
  ASSERT_FALSE(r.hellos.empty());
  EXPECT_TRUE(r.hellos[0].entries.empty());
  // Done: the spool is removed and the agent asks for work again.
  ASSERT_TRUE(coordinator.RunUntil([&] {
    return !fs::exists(tmp.path() + "/work/spool/1") && r.work_requests >= 2;
  }));

  const protocol::EntryReport* exited = r.Report(1, "exited");
  ASSERT_NE(exited, nullptr);
  EXPECT_EQ(exited->outcome, "passed");
  auto& files = r.files[1];
  EXPECT_EQ(files["debug/control.log"], "hello\nin\n");
  EXPECT_EQ(files["inner/output.log"], "in\n");
  EXPECT_EQ(files["inner/keyval"], "k=v\n");
  EXPECT_NE(files["status.log"].find("END GOOD\t----\tinner\t"), std::string::npos);
  const protocol::EntryReport* uploaded = r.Report(1, "uploaded");
  ASSERT_NE(uploaded, nullptr);
  EXPECT_EQ(uploaded->files.size(), 4u);
  for (const auto& digest : uploaded->files) {
    EXPECT_EQ(digest.size, files[digest.path].size()) << digest.path;
    EXPECT_EQ(digest.hash, labmesh::Blake2bHex(files[digest.path])) << digest.path;
  }
  EXPECT_TRUE(r.errors.empty());
}

TEST(AgentWork, ARunTaskIsAnsweredWithATaskReportAndARepeatWithItAgain) {
  TempDir tmp;
  FakeCoordinator coordinator;
  RunningAgent agent(coordinator, WorkConfig(tmp.path() + "/work"));
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.results.work_requests > 0; }));
  protocol::RunTask run;
  run.task_id = 31;
  run.kind = "Verify";
  run.coordinator_ms = SystemClock::Default()->WallMs();
  coordinator.Send(protocol::Encode(run));
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.task_reports.size() == 1; }));
  const protocol::TaskReport report = coordinator.task_reports[0];  // a copy: the vector grows
  EXPECT_EQ(report.task_id, 31u);
  EXPECT_EQ(report.kind, "Verify");
  ASSERT_GE(report.checks.size(), 4u);
  EXPECT_EQ(report.checks[0].name, "free-space");
  EXPECT_EQ(report.checks[3].name, "leftover-processes");
  EXPECT_TRUE(report.checks[1].passed) << report.checks[1].output;  // spool-writable
  EXPECT_TRUE(report.checks[2].passed) << report.checks[2].output;  // clock-skew
  EXPECT_TRUE(fs::is_directory(tmp.path() + "/work/tasks/31"));

  coordinator.Send(protocol::Encode(run));
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.task_reports.size() == 2; }));
  EXPECT_EQ(coordinator.task_reports[1].task_id, 31u);
  EXPECT_EQ(coordinator.task_reports[1].checks.size(), report.checks.size());
}

TEST(AgentWork, OutputIsStreamedWhileRunningAndAbortEndsTheEntry) {
  TempDir tmp;
  FakeCoordinator coordinator;
  coordinator.queue.push_back(Command(2, "echo started; sleep 300"));
  RunningAgent agent(coordinator, WorkConfig(tmp.path() + "/work"));
  ASSERT_TRUE(agent.ok());
  FakeResults& r = coordinator.results;
  ASSERT_TRUE(coordinator.RunUntil([&] { return r.files[2]["debug/control.log"] == "started\n"; }));
  EXPECT_EQ(r.Report(2, "exited"), nullptr);  // still running: this came from the stream

  protocol::AbortEntry abort;
  abort.entry_id = 2;
  abort.reason = "job aborted by ann";
  coordinator.Send(protocol::Encode(abort));
  ASSERT_TRUE(coordinator.RunUntil([&] { return r.done_sent.count(2) > 0; }));
  const protocol::EntryReport* exited = r.Report(2, "exited");
  ASSERT_NE(exited, nullptr);
  EXPECT_EQ(exited->outcome, "aborted");
  EXPECT_EQ(exited->reason, "job aborted by ann");
  ASSERT_TRUE(coordinator.RunUntil([&] { return !fs::exists(tmp.path() + "/work/spool/2"); }));
}

TEST(AgentWork, ARestartedAgentListsItsEntryAndEndsItInError) {
  TempDir tmp;
  FakeCoordinator coordinator;
  FakeResults& r = coordinator.results;
  coordinator.queue.push_back(Command(3, "echo before; sleep 300"));
  {
    RunningAgent agent(coordinator, WorkConfig(tmp.path() + "/work"));
    ASSERT_TRUE(agent.ok());
    ASSERT_TRUE(coordinator.RunUntil([&] { return r.files[3]["debug/control.log"] == "before\n"; }));
  }  // the agent stops while the control runs
  size_t hellos = r.hellos.size();
  RunningAgent again(coordinator, WorkConfig(tmp.path() + "/work"));
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(coordinator.RunUntil([&] { return r.hellos.size() > hellos; }));
  ASSERT_EQ(r.hellos.back().entries.size(), 1u);
  EXPECT_EQ(r.hellos.back().entries[0].entry_id, 3u);
  EXPECT_EQ(r.hellos.back().entries[0].phase, "exited");
  ASSERT_TRUE(coordinator.RunUntil([&] { return r.done_sent.count(3) > 0; }));
  const protocol::EntryReport* exited = r.Report(3, "exited");
  ASSERT_NE(exited, nullptr);
  EXPECT_EQ(exited->outcome, "error");
  EXPECT_EQ(exited->reason, "agent restarted while the control ran");
  EXPECT_EQ(r.files[3]["debug/control.log"], "before\n");
  EXPECT_NE(r.files[3]["status.log"].find("END FAIL\t----\twire\t"), std::string::npos);
  // Nothing asked for while the restarted agent still uploaded; after the done ack it asks.
  EXPECT_EQ(r.work_requests, 1);
  ASSERT_TRUE(coordinator.RunUntil([&] {
    return r.work_requests == 2 && !fs::exists(tmp.path() + "/work/spool/3");
  }));
}

TEST(AgentWork, ManyShortEntriesRunOneAfterAnother) {
  TempDir tmp;
  FakeCoordinator coordinator;
  constexpr uint64_t kEntries = 200;
  for (uint64_t id = 1; id <= kEntries; ++id) coordinator.queue.push_back(Command(id, "true"));
  RunningAgent agent(coordinator, WorkConfig(tmp.path() + "/work"));
  ASSERT_TRUE(agent.ok());
  FakeResults& r = coordinator.results;
  ASSERT_TRUE(coordinator.RunUntil([&] { return r.done_sent.size() == kEntries; },
                                   std::chrono::seconds(60)));
  for (uint64_t id = 1; id <= kEntries; ++id) {
    const protocol::EntryReport* exited = r.Report(id, "exited");
    ASSERT_NE(exited, nullptr) << id;
    EXPECT_EQ(exited->outcome, "passed") << id;
  }
  // Nothing is left but spool/free/, the finished spools kept for reuse.
  ASSERT_TRUE(coordinator.RunUntil([&] {
    for (const auto& dirent : fs::directory_iterator(tmp.path() + "/work/spool")) {
      if (dirent.path().filename() != "free") return false;
    }
    return true;
  }));
}

TEST(AgentWork, AControlPassesValuesAndBarriersThroughItsAgent) {
  TempDir tmp;
  FakeCoordinator coordinator;
  protocol::StartEntry start = Command(
      5,
      "labmesh-sync send port 4242 && v=$(labmesh-sync wait port --timeout 10s) && "
      "labmesh-sync barrier go && labmesh-sync barrier go && echo \"got $v\"; "
      "echo \"group=$LABMESH_GROUP of $LABMESH_SYNCH_COUNT peers=$LABMESH_PEERS\"; "
      "stat -c 'mode=%a' \"${LABMESH_SYNC#ipc://}\"");
  start.synch_count = 2;
  start.group = 1;
  start.hosts = {"lab-v", "lab-w"};
  start.peers = {{"lab-w", "10.1.0.2"}, {"lab-v", "10.1.0.1"}};
  coordinator.queue.push_back(start);
  RunningAgent agent(coordinator, WorkConfig(tmp.path() + "/work", "10.1.0.2"));
  ASSERT_TRUE(agent.ok());
  FakeResults& r = coordinator.results;
  ASSERT_TRUE(coordinator.RunUntil([&] { return r.done_sent.count(5) > 0; }));
  ASSERT_FALSE(r.hellos.empty());
  EXPECT_EQ(r.hellos[0].facts.address, "10.1.0.2");  // --address
  const std::string log = r.files[5]["debug/control.log"];
  for (const char* line :
       {"got 4242\n", "group=1 of 2 peers=lab-v=10.1.0.1,lab-w=10.1.0.2\n", "mode=600\n"}) {
    EXPECT_NE(log.find(line), std::string::npos) << line << " not in:\n" << log;
  }
  std::vector<protocol::SyncRequest> barriers = coordinator.sync.Requests("barrier");
  ASSERT_EQ(barriers.size(), 2u);
  EXPECT_EQ(barriers[0].entry_id, 5u);
  EXPECT_EQ(barriers[0].generation, 1u);
  EXPECT_EQ(barriers[1].generation, 2u);
  EXPECT_EQ(coordinator.sync.values["port"], "4242");
}

}  // namespace
}  // namespace labmesh::testing
