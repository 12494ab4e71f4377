// The labmesh-sync helper binary: usage errors exit 2, outside a control (or without an agent)
// it exits 1 saying so, and against a SyncRelay served on a thread (with FakeSync as the
// coordinator) it does a round trip: send, wait printing the value's bytes exactly, barrier,
// and failures with the coordinator's or the relay's words on stderr and exit 1.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <zmq.hpp>

#include "fake_coordinator.hpp"
#include "process.hpp"
#include "work/sync_relay.hpp"

namespace labmesh::testing {
namespace {

// A SyncRelay for entry 7 on its own thread, connected to a FakeSync; the test configures the
// FakeSync before Start() and reads it after Stop().
class ServedRelay {
 public:
  explicit ServedRelay(const std::string& dir)
      : relay_(
            context_, SystemClock::Default(), "lab-s", dir + "/sync.sock",
            [this](const std::string& frame) {
              outbox_.push_back(frame);
              return true;
            },
            [](uint64_t entry_id) { return entry_id == 7; }, [this] { return ++ids_; }) {}
  ~ServedRelay() { Stop(); }

  Status Start() {
    LABMESH_RETURN_IF_ERROR(relay_.Bind());
    thread_ = std::thread([this] { Serve(); });
    return Status::Ok();
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::string endpoint() const { return "ipc://" + relay_.socket_path(); }

  FakeSync coordinator;

 private:
  void Serve() {
    relay_.OnWelcome();
    while (!stop_) {
      zmq::pollitem_t item{relay_.socket_handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(5));
      relay_.OnReadable();
      relay_.Service();
      std::vector<std::string> sent;
      sent.swap(outbox_);
      for (const std::string& frame : sent) {
        for (const std::string& reply : coordinator.Handle(frame)) {
          auto envelope = protocol::DecodeEnvelope(reply);
          if (envelope.ok()) (void)relay_.Handle(*envelope);
        }
      }
    }
  }

  zmq::context_t context_;
  std::vector<std::string> outbox_;
  uint64_t ids_ = 0;
  agent::SyncRelay relay_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

CommandResult Sync(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), LABMESH_SYNC_BIN);
  return RunCommand(args, std::chrono::seconds(30), env);
}

// Through sh, for stdin.
CommandResult SyncShell(const std::string& script, std::map<std::string, std::string> env) {
  return RunCommand({"/bin/sh", "-c", script}, std::chrono::seconds(30), env);
}

const std::map<std::string, std::string> kNoControl = {{"LABMESH_SYNC", ""},
                                                       {"LABMESH_ENTRY_ID", ""}};

TEST(LabmeshSync, UsageErrorsExit2) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"jump"},
                                             {"barrier"},
                                             {"barrier", "a", "--timeout", "soon"},
                                             {"barrier", "a", "b"},
                                             {"send", "k"},
                                             {"wait", "k", "--timeout", "-5s"},
                                             {"barrier", ""},
                                             {"wait", std::string(257, 'k')}}) {
    CommandResult r = Sync(args, kNoControl);
    EXPECT_EQ(r.exit_code, 2) << args.size() << " " << r.err;
  }
  std::string bin = LABMESH_SYNC_BIN;
  CommandResult big = SyncShell("head -c 65537 /dev/zero | " + bin + " send k -", kNoControl);
  EXPECT_EQ(big.exit_code, 2) << big.err;
  EXPECT_NE(big.err.find("larger than 65536"), std::string::npos) << big.err;
  EXPECT_EQ(Sync({"--help"}, kNoControl).exit_code, 0);
}

TEST(LabmeshSync, OutsideAControlOrWithoutAnAgentItSaysSo) {
  CommandResult outside = Sync({"barrier", "setup"}, kNoControl);
  EXPECT_EQ(outside.exit_code, 1);
  EXPECT_EQ(outside.err,
            "labmesh-sync: not inside a labmesh control (LABMESH_SYNC and LABMESH_ENTRY_ID are "
            "not set)\n");
  TempDir tmp;
  CommandResult no_agent =
      Sync({"barrier", "setup"},
           {{"LABMESH_SYNC", "ipc://" + tmp.path() + "/sync.sock"}, {"LABMESH_ENTRY_ID", "7"}});
  EXPECT_EQ(no_agent.exit_code, 1);
  EXPECT_NE(no_agent.err.find("is not there (is the agent running?)"), std::string::npos)
      << no_agent.err;
  CommandResult bad_id =
      Sync({"barrier", "setup"},
           {{"LABMESH_SYNC", "ipc://" + tmp.path() + "/sync.sock"}, {"LABMESH_ENTRY_ID", "seven"}});
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_NE(bad_id.err.find("LABMESH_ENTRY_ID 'seven'"), std::string::npos) << bad_id.err;
}

TEST(LabmeshSync, ARoundTripThroughTheRelay) {
  TempDir tmp;
  ServedRelay relay(tmp.path());
  relay.coordinator.fail_barriers["doomed"] =
      "barrier 'doomed' (use 1) timed out after 5s waiting for lab-3, lab-4";
  ASSERT_TRUE(relay.Start().ok());
  std::map<std::string, std::string> env = {{"LABMESH_SYNC", relay.endpoint()},
                                            {"LABMESH_ENTRY_ID", "7"}};
  std::string bin = LABMESH_SYNC_BIN;

  CommandResult send = Sync({"send", "port", "4242"}, env);
  EXPECT_EQ(send.exit_code, 0) << send.err;
  EXPECT_EQ(send.out, "");
  CommandResult wait = Sync({"wait", "port", "--host", "lab-peer", "--timeout", "10s"}, env);
  EXPECT_EQ(wait.exit_code, 0) << wait.err;
  EXPECT_EQ(wait.out, "4242");  // exactly the bytes sent, nothing added
  CommandResult piped =
      SyncShell("printf 'two\\nlines\\n' | " + bin + " send text - && " + bin + " wait text", env);
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, "two\nlines\n");
  CommandResult barrier = Sync({"barrier", "setup", "--timeout", "5s"}, env);
  EXPECT_EQ(barrier.exit_code, 0) << barrier.err;

  CommandResult doomed = Sync({"barrier", "doomed"}, env);
  EXPECT_EQ(doomed.exit_code, 1);
  EXPECT_EQ(doomed.err,
            "labmesh-sync: barrier 'doomed' (use 1) timed out after 5s waiting for lab-3, "
            "lab-4\n");
  env["LABMESH_ENTRY_ID"] = "99";
  CommandResult other = Sync({"barrier", "setup"}, env);
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.err, "labmesh-sync: barrier 'setup': entry 99 has no control running on lab-s\n");

  relay.Stop();
  ASSERT_EQ(relay.coordinator.Requests("barrier").size(), 2u);
  EXPECT_EQ(relay.coordinator.Requests("barrier")[0].timeout_ms, 5'000);
  ASSERT_EQ(relay.coordinator.Requests("wait").size(), 2u);
  EXPECT_EQ(relay.coordinator.Requests("wait")[0].from_host, "lab-peer");
  EXPECT_EQ(relay.coordinator.Requests("wait")[0].timeout_ms, 10'000);
}

}  // namespace
}  // namespace labmesh::testing
