// The agent's SyncRelay between a helper (a DEALER in the test, as labmesh-sync uses) and a
// fake coordinator (FakeSync, fed what the relay sends): the socket file's mode, barrier
// generations per entry and name, replies relayed under the helper's request id, refusals that
// never reach the coordinator, per-entry bounds, queueing while disconnected and resending after
// every Welcome, the relay's own give-up when the coordinator stays silent, and waiting helpers
// answered when their entry ends. Time is a FakeClock; waits for the ipc hops have deadlines.

#include "work/sync_relay.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <tuple>

#include "fake_coordinator.hpp"
#include "process.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;
using agent::SyncRelay;
using protocol::SyncReply;
using protocol::SyncRequest;

// The relay with a fake coordinator behind a connection the test switches on and off.
class Harness {
 public:
  explicit Harness(const std::string& dir) : socket_path(dir + "/sync.sock") {
    relay = std::make_unique<SyncRelay>(
        context, &clock, "lab-s", socket_path,
        [this](const std::string& frame) {
          if (refuse_sends > 0) {
            refuse_sends--;
            return false;
          }
          outbox.push_back(frame);
          return true;
        },
        [this](uint64_t entry_id) { return running.count(entry_id) > 0; },
        [this] { return ++request_ids; });
  }

  // One turn: helpers' requests, timers, then the coordinator's answers (lost while `lose`).
  void Step() {
    relay->OnReadable();
    relay->Service();
    std::vector<std::string> sent;
    sent.swap(outbox);
    if (lose) return;
    for (const std::string& frame : sent) Deliver(coordinator.Handle(frame));
  }
  void Deliver(const std::vector<std::string>& frames) {
    for (const std::string& frame : frames) {
      auto envelope = protocol::DecodeEnvelope(frame);
      ASSERT_TRUE(envelope.ok());
      EXPECT_TRUE(relay->Handle(*envelope));
    }
  }
  // Turns until `condition` holds (at most 15 s), waiting in poll on the relay's socket rather
  // than sleeping, so that each hop costs no more than it takes.
  bool RunUntil(const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (true) {
      Step();
      if (condition()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (void* socket = relay->socket_handle()) {
        zmq::pollitem_t item{socket, 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(1));
      }
    }
  }

  zmq::context_t context;  // outlives the relay and the helpers
  std::string socket_path;
  FakeClock clock;
  std::set<uint64_t> running{7, 8};
  int refuse_sends = 0;
  bool lose = false;
  uint64_t request_ids = 1000;
  std::vector<std::string> outbox;
  FakeSync coordinator;
  std::unique_ptr<SyncRelay> relay;
};

// A labmesh-sync stand-in: a DEALER on the relay's socket.
class Helper {
 public:
  explicit Helper(Harness& h) : h_(h), socket_(h.context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect("ipc://" + h.socket_path);
  }
  void SendFrame(const std::string& frame) {
    ASSERT_TRUE(socket_.send(zmq::buffer(frame), zmq::send_flags::none).has_value());
  }
  void Send(const SyncRequest& request, uint64_t id) { SendFrame(protocol::Encode(request, id)); }

  // Runs the relay until one reply arrives; its request id in `*id`.
  std::optional<SyncReply> Reply(uint64_t* id = nullptr) {
    std::optional<SyncReply> reply;
    bool got = h_.RunUntil([&] {
      zmq::message_t message;
      if (!socket_.recv(message, zmq::recv_flags::dontwait)) return false;
      auto envelope = protocol::DecodeEnvelope(message.to_string_view());
      EXPECT_TRUE(envelope.ok());
      if (!envelope.ok()) return true;
      if (id) *id = envelope->request_id;
      auto decoded = protocol::DecodeBody<SyncReply>(*envelope);
      EXPECT_TRUE(decoded.ok());
      if (decoded.ok()) reply = *decoded;
      return true;
    });
    EXPECT_TRUE(got) << "no reply from the relay";
    return reply;
  }
  // True when nothing arrives while the relay runs a few turns.
  bool Silent() {
    for (int i = 0; i < 20; ++i) {
      h_.Step();
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(5));
      if (item.revents & ZMQ_POLLIN) return false;
    }
    return true;
  }

 private:
  Harness& h_;
  zmq::socket_t socket_;
};

SyncRequest Request(uint64_t entry, const std::string& op, const std::string& name,
                    const std::string& value = "") {
  SyncRequest r;
  r.entry_id = entry;
  r.op = op;
  r.name = name;
  r.value.assign(value.begin(), value.end());
  return r;
}

// Sends one request and returns its reply (which must carry the helper's request id).
SyncReply Ask(Helper& helper, const SyncRequest& request) {
  static uint64_t next_id = 1;
  const uint64_t id = next_id++;
  helper.Send(request, id);
  uint64_t got_id = 0;
  std::optional<SyncReply> reply = helper.Reply(&got_id);
  EXPECT_EQ(got_id, id);
  return reply.value_or(SyncReply{});
}

TEST(SyncRelay, TheSocketIsPrivateAndReplacesAStaleFile) {
  TempDir tmp;
  Harness h(tmp.path());
  {
    std::ofstream stale(h.socket_path);
    stale << "left over";
  }
  ASSERT_TRUE(h.relay->Bind().ok());
  struct stat st {};
  ASSERT_EQ(lstat(h.socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& dirent : fs::directory_iterator(tmp.path())) {
    EXPECT_EQ(dirent.path().filename().string(), "sync.sock");  // the bind directory is gone
  }
  h.relay.reset();
  EXPECT_FALSE(fs::exists(h.socket_path));

  Harness deep(tmp.path() + "/" + std::string(100, 'd'));
  Status s = deep.relay->Bind();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("too long for a unix socket"), std::string::npos) << s.message();
  EXPECT_EQ(deep.relay->socket_handle(), nullptr);
}

TEST(SyncRelay, BarrierUsesAreCountedPerEntryAndName) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.relay->Bind().ok());
  h.relay->OnWelcome();
  Helper helper(h);
  for (auto [entry, name, generation] : std::vector<std::tuple<uint64_t, std::string, uint32_t>>{
           {7, "setup", 1}, {7, "setup", 2}, {7, "run", 1}, {8, "setup", 1}, {7, "setup", 3}}) {
    SyncRequest request = Request(entry, "barrier", name);
    request.generation = 42;  // the helper's number is not trusted
    request.timeout_ms = 5'000;
    SyncReply reply = Ask(helper, request);
    EXPECT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.entry_id, entry);
    EXPECT_EQ(reply.name, name);
    EXPECT_EQ(reply.generation, generation) << entry << " " << name;
    ASSERT_FALSE(h.coordinator.requests.empty());
    const auto& [id, forwarded] = h.coordinator.requests.back();
    EXPECT_GT(id, 1000u);  // the relay's own request id
    EXPECT_EQ(forwarded.generation, generation);
    EXPECT_EQ(forwarded.timeout_ms, 5'000);
  }
  EXPECT_EQ(h.relay->outstanding(), 0u);
}

TEST(SyncRelay, ValuesAndRefusalsFromTheCoordinatorAreRelayed) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.relay->Bind().ok());
  h.relay->OnWelcome();
  Helper helper(h);
  // A wait before the value: answered when the send arrives.
  SyncRequest wait = Request(7, "wait", "port");
  wait.from_host = "lab-peer";
  wait.value = {'x'};  // not part of a wait: dropped
  helper.Send(wait, 50);
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.waiting.size() == 1; }));
  EXPECT_EQ(h.coordinator.waiting[0].second.from_host, "lab-peer");
  EXPECT_TRUE(h.coordinator.waiting[0].second.value.empty());
  SyncReply sent = Ask(helper, Request(8, "send", "port", std::string("42\0\n", 4)));
  EXPECT_TRUE(sent.ok) << sent.error;
  uint64_t id = 0;
  std::optional<SyncReply> value = helper.Reply(&id);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(id, 50u);
  EXPECT_TRUE(value->ok);
  EXPECT_EQ(std::string(value->value.begin(), value->value.end()), std::string("42\0\n", 4));
  EXPECT_EQ(value->from_host, "lab-peer");

  h.coordinator.error_for_key["bad"] = "value refused";
  SyncReply refused = Ask(helper, Request(7, "send", "bad", "v"));
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error, "send 'bad': refused by the coordinator: value refused");
  h.coordinator.fail_barriers["setup"] =
      "barrier 'setup' (use 1) timed out after 5s waiting for lab-3, lab-4";
  SyncReply failed = Ask(helper, Request(7, "barrier", "setup"));
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.error, "barrier 'setup' (use 1) timed out after 5s waiting for lab-3, lab-4");
  EXPECT_EQ(h.relay->outstanding(), 0u);
}

TEST(SyncRelay, BadRequestsAreRefusedAtOnceAndNeverForwarded) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.relay->Bind().ok());
  h.relay->OnWelcome();
  Helper helper(h);
  auto refusal = [&](const SyncRequest& request) {
    SyncReply reply = Ask(helper, request);
    EXPECT_FALSE(reply.ok);
    return reply.error;
  };
  EXPECT_EQ(refusal(Request(9, "barrier", "a")),
            "barrier 'a': entry 9 has no control running on lab-s");
  EXPECT_EQ(refusal(Request(0, "barrier", "a")),
            "barrier 'a': entry 0 has no control running on lab-s");
  EXPECT_EQ(refusal(Request(7, "jump", "a")), "unknown sync op 'jump' (barrier, send or wait)");
  EXPECT_EQ(refusal(Request(7, "barrier", "")),
            "barrier '': the barrier name must be 1..256 bytes, not 0");
  EXPECT_NE(refusal(Request(7, "wait", std::string(257, 'k'))).find("the key must be 1..256 bytes"),
            std::string::npos);
  EXPECT_EQ(refusal(Request(7, "send", "big", std::string(64 * 1024 + 1, 'v'))),
            "send 'big': the value of 65537 bytes is larger than 65536");
  SyncRequest negative = Request(7, "wait", "k");
  negative.timeout_ms = -1;
  EXPECT_EQ(refusal(negative), "wait 'k': negative timeout");
  // Not a SyncRequest at all, and not even an envelope.
  helper.SendFrame(protocol::Encode(protocol::WorkRequest{}, 77));
  uint64_t id = 0;
  std::optional<SyncReply> wrong = helper.Reply(&id);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(id, 77u);
  EXPECT_NE(wrong->error.find("expected a SyncRequest"), std::string::npos) << wrong->error;
  helper.SendFrame("garbage");
  std::optional<SyncReply> garbage = helper.Reply();
  ASSERT_TRUE(garbage.has_value());
  EXPECT_EQ(garbage->error.rfind("bad request: ", 0), 0u) << garbage->error;
  EXPECT_TRUE(h.coordinator.requests.empty());
  // Exactly 64 KiB is fine.
  EXPECT_TRUE(Ask(helper, Request(7, "send", "big", std::string(64 * 1024, 'v'))).ok);
}

TEST(SyncRelay, EachEntryHasAtMost256WaitingRequestsAnd256Values) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.relay->Bind().ok());
  h.relay->OnWelcome();
  Helper helper(h);
  for (uint64_t i = 0; i < 256; ++i)
    helper.Send(Request(7, "wait", "never-" + std::to_string(i)), 1 + i);
  ASSERT_TRUE(h.RunUntil([&] { return h.relay->outstanding() == 256; }));
  SyncReply full = Ask(helper, Request(7, "barrier", "one-more"));
  EXPECT_EQ(full.error,
            "barrier 'one-more': entry 7 already has 256 sync requests waiting "
            "(the most allowed)");
  EXPECT_TRUE(Ask(helper, Request(8, "barrier", "other-entry")).ok);  // per entry
  h.relay->EntryEnded(7, "");
  for (int i = 0; i < 256; ++i) (void)helper.Reply();  // "the entry ended" for each

  for (int i = 0; i < 256; ++i) {
    ASSERT_TRUE(Ask(helper, Request(7, "send", "k" + std::to_string(i), "v")).ok) << i;
  }
  EXPECT_EQ(Ask(helper, Request(7, "send", "k256", "v")).error,
            "send 'k256': entry 7 already sent 256 values (the most allowed)");
}

TEST(SyncRelay, RequestsWaitForTheConnectionAndAreResentAfterEveryWelcome) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.relay->Bind().ok());
  Helper helper(h);
  // Not connected yet: the barrier waits in the relay.
  h.coordinator.hold_barriers = true;
  helper.Send(Request(7, "barrier", "start"), 1);
  ASSERT_TRUE(h.RunUntil([&] { return h.relay->outstanding() == 1; }));
  EXPECT_TRUE(helper.Silent());
  EXPECT_TRUE(h.coordinator.requests.empty());
  h.relay->OnWelcome();
  h.Step();
  ASSERT_EQ(h.coordinator.Requests("barrier").size(), 1u);
  const uint64_t barrier_id = h.coordinator.requests[0].first;
  EXPECT_TRUE(Ask(helper, Request(7, "send", "port", "4242")).ok);

  // The connection breaks (what was sent is lost) and comes back: the value goes again first,
  // then the barrier, with the same request id and generation.
  h.relay->OnDisconnected();
  h.coordinator = FakeSync{};  // a coordinator that restarted
  h.coordinator.hold_barriers = true;
  h.relay->OnWelcome();
  h.Step();
  ASSERT_EQ(h.coordinator.requests.size(), 2u);
  EXPECT_EQ(h.coordinator.requests[0].second.op, "send");
  EXPECT_EQ(h.coordinator.values["port"], "4242");
  EXPECT_EQ(h.coordinator.requests[1].first, barrier_id);
  EXPECT_EQ(h.coordinator.requests[1].second.generation, 1u);
  h.Deliver(h.coordinator.Release());
  std::optional<SyncReply> released = helper.Reply();
  ASSERT_TRUE(released.has_value());
  EXPECT_TRUE(released->ok);
  EXPECT_EQ(released->generation, 1u);

  // A refused send (queue full) is retried; a later Welcome resends only the value.
  h.refuse_sends = 1;
  h.relay->OnWelcome();
  EXPECT_TRUE(h.outbox.empty());
  EXPECT_EQ(h.relay->NextDeadlineMs(), h.clock.SteadyMs() + 10);
  h.clock.AdvanceMs(10);
  size_t before = h.coordinator.requests.size();
  h.Step();
  ASSERT_EQ(h.coordinator.requests.size(), before + 1);
  EXPECT_EQ(h.coordinator.requests.back().second.op, "send");
}

TEST(SyncRelay, WithoutAnAnswerTheRelayGivesUpAfterTheTimeoutAndAGrace) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.relay->Bind().ok());
  Helper helper(h);
  SyncRequest wait = Request(7, "wait", "never");
  wait.timeout_ms = 2'000;
  helper.Send(wait, 5);
  ASSERT_TRUE(h.RunUntil([&] { return h.relay->outstanding() == 1; }));
  EXPECT_EQ(h.relay->NextDeadlineMs(), h.clock.SteadyMs() + 7'000);
  h.clock.AdvanceMs(6'999);
  EXPECT_TRUE(helper.Silent());
  h.clock.AdvanceMs(1);
  std::optional<SyncReply> reply = helper.Reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->ok);
  EXPECT_EQ(reply->error,
            "wait 'never': no answer from the coordinator 5.0s after the timeout "
            "of 2.0s (the agent is not connected to it)");
  h.relay->OnWelcome();
  h.Step();
  EXPECT_TRUE(h.coordinator.requests.empty());  // given up: not sent any more
}

TEST(SyncRelay, WhenTheEntryEndsItsHelpersAreAnsweredAndItsStateDropped) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.relay->Bind().ok());
  h.relay->OnWelcome();
  Helper helper(h);
  EXPECT_TRUE(Ask(helper, Request(7, "barrier", "loop")).ok);
  EXPECT_TRUE(Ask(helper, Request(7, "send", "k", "v")).ok);
  helper.Send(Request(7, "wait", "never"), 10);
  helper.Send(Request(8, "wait", "never"), 11);
  ASSERT_TRUE(h.RunUntil([&] { return h.relay->outstanding() == 2; }));
  h.relay->EntryEnded(7, "job aborted by ann");
  uint64_t id = 0;
  std::optional<SyncReply> ended = helper.Reply(&id);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(id, 10u);
  EXPECT_FALSE(ended->ok);
  EXPECT_EQ(ended->error, "the entry ended: job aborted by ann");
  EXPECT_EQ(h.relay->outstanding(), 1u);  // entry 8's wait is still there
  // Its values are not sent again, and a new control of the same entry counts from 1.
  size_t before = h.coordinator.requests.size();
  h.relay->OnWelcome();
  h.Step();
  ASSERT_EQ(h.coordinator.requests.size(), before + 1);
  EXPECT_EQ(h.coordinator.requests.back().second.entry_id, 8u);
  EXPECT_EQ(Ask(helper, Request(7, "barrier", "loop")).generation, 1u);
}

}  // namespace
}  // namespace labmesh::testing
