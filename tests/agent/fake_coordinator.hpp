#pragma once
// Test helper: the coordinator's side of the entry protocol, without sockets. Feed it every
// frame the agent sent; it records WorkRequests, EntryReports and the result files (written
// into memory at each chunk's offset, refusing bad hashes and gaps like the real one) and
// returns the frames to answer with. Single-threaded: the test thread that owns it.

#include <gtest/gtest.h>
#include <zmq.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "labmesh/agent/agent.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "work/spool.hpp"

namespace labmesh::testing {

// The agent socket of a coordinator played by a test: a CurveZMQ ROUTER on tcp://127.0.0.1:*
// (port read back) with a key pair of its own. The fake coordinators of the agent tests build
// on it; only the test thread touches it.
class CurveRouter {
 public:
  CurveRouter() {
    char public_key[41] = {};
    char secret_key[41] = {};
    EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
    public_key_ = public_key;
    socket_.set(zmq::sockopt::curve_server, 1);
    socket_.set(zmq::sockopt::curve_secretkey, std::string(secret_key));
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& public_key() const { return public_key_; }

 protected:
  zmq::context_t context_;
  zmq::socket_t socket_{context_, zmq::socket_type::router};

 private:
  std::string endpoint_;
  std::string public_key_;
};

// The production agent on its own thread, talking to `router`, stopped and joined by the
// destructor (or Join()). The config gets the router's endpoint and key, a fast reconnect and
// the helpers' directory (LABMESH_TEST_BIN's, which a test using this must define).
class RunningAgent {
 public:
  RunningAgent(const CurveRouter& router, agent::AgentConfig config) {
    config.coordinator = router.endpoint();
    config.coordinator_key = router.public_key();
    config.reconnect_initial_ms = 10;
    config.helper_dir = std::filesystem::path(LABMESH_TEST_BIN).parent_path().string();
    auto created = agent::Agent::Create(config, SystemClock::Default());
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return;
    agent_ = std::move(*created);
    thread_ = std::thread([this] {
      (void)agent_->Run();
      returned_ = true;
    });
  }
  ~RunningAgent() { Join(); }
  RunningAgent(const RunningAgent&) = delete;
  RunningAgent& operator=(const RunningAgent&) = delete;

  void Join() {
    if (agent_) agent_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return agent_ != nullptr; }
  bool returned() const { return returned_; }  // Run() came back (Stop, or an update's exec)
  agent::Agent& agent() { return *agent_; }

 private:
  std::unique_ptr<agent::Agent> agent_;
  std::thread thread_;
  std::atomic<bool> returned_{false};
};

class FakeResults {
 public:
  // Answer "uploaded" reports with done=true (the agent then drops the entry).
  bool done_on_uploaded = true;
  // Refuse the chunk with this number (1 = the first chunk received) as a bad hash.
  int refuse_chunk = 0;
  // Refuse the first "uploaded" report as the real coordinator does when a file differs
  // (PROTOCOL.md): drop this file's copy and answer with a ResultAck instead of an ack.
  std::string refuse_uploaded_file;

  std::vector<std::string> Handle(const std::string& frame) {
    std::vector<std::string> replies;
    auto envelope = protocol::DecodeEnvelope(frame);
    if (!envelope.ok()) {
      errors.push_back("undecodable frame");
      return replies;
    }
    using T = protocol::MessageType;
    switch (envelope->type) {
      case T::kAgentHello: {
        auto hello = protocol::DecodeBody<protocol::AgentHello>(*envelope);
        if (hello.ok()) hellos.push_back(*hello);
        break;
      }
      case T::kWorkRequest:
        work_requests++;
        break;
      case T::kEntryReport: {
        auto report = protocol::DecodeBody<protocol::EntryReport>(*envelope);
        if (!report.ok()) break;
        reports.push_back(*report);
        if (report->phase == "uploaded" && !refuse_uploaded_file.empty()) {
          files[report->entry_id][refuse_uploaded_file].clear();
          replies.push_back(protocol::Encode(
              protocol::ResultAck{report->entry_id, refuse_uploaded_file, 0,
                                  refuse_uploaded_file + " differs from the agent's file"},
              envelope->request_id));
          refuse_uploaded_file.clear();
          break;
        }
        protocol::EntryReportAck ack;
        ack.entry_id = report->entry_id;
        ack.sequence = report->sequence;
        ack.done = done_on_uploaded && report->phase == "uploaded";
        if (ack.done) done_sent[report->entry_id] = true;
        replies.push_back(protocol::Encode(ack));
        break;
      }
      case T::kResultChunk: {
        auto chunk = protocol::DecodeBody<protocol::ResultChunk>(*envelope);
        if (!chunk.ok()) break;
        chunks++;
        std::string& file = files[chunk->entry_id][chunk->path];
        protocol::ResultAck ack;
        ack.entry_id = chunk->entry_id;
        ack.path = chunk->path;
        std::string data(chunk->data.begin(), chunk->data.end());
        if (labmesh::Blake2bHex(data) != chunk->hash || chunks == refuse_chunk) {
          ack.error = "bad hash";
        } else if (chunk->offset > file.size()) {
          ack.error = "gap";
        } else {
          if (file.size() < chunk->offset + data.size()) file.resize(chunk->offset + data.size());
          file.replace(chunk->offset, data.size(), data);
        }
        ack.next_offset = file.size();
        replies.push_back(protocol::Encode(ack));
        break;
      }
      default:
        break;
    }
    return replies;
  }

  // The latest report of `entry_id` in `phase`, or nullptr.
  const protocol::EntryReport* Report(uint64_t entry_id, const std::string& phase) const {
    for (auto it = reports.rbegin(); it != reports.rend(); ++it) {
      if (it->entry_id == entry_id && it->phase == phase) return &*it;
    }
    return nullptr;
  }

  std::vector<protocol::AgentHello> hellos;
  int work_requests = 0;
  int chunks = 0;
  std::vector<protocol::EntryReport> reports;
  std::map<uint64_t, std::map<std::string, std::string>> files;  // entry -> path -> bytes
  std::map<uint64_t, bool> done_sent;
  std::vector<std::string> errors;
};

// Test helper: the coordinator's side of sync for one group, without sockets. Feed it every
// frame the agent sent; it records each SyncRequest with its request id and returns the frames
// to answer with: a send is stored and answered ok (and releases waits for its key), a wait is
// answered when its value exists, a barrier at once unless `hold_barriers` (Release answers the
// held ones). Single-threaded: the test thread that owns it.
class FakeSync {
 public:
  bool hold_barriers = false;
  // Barrier name -> the error it fails with (a timeout naming missing hosts, say).
  std::map<std::string, std::string> fail_barriers;
  // Keys whose send is answered with an Error envelope (a request the coordinator refuses).
  std::map<std::string, std::string> error_for_key;
  std::string sender = "lab-peer";  // from_host of the values

  std::vector<std::string> Handle(const std::string& frame) {
    std::vector<std::string> replies;
    auto envelope = protocol::DecodeEnvelope(frame);
    if (!envelope.ok() || envelope->type != protocol::MessageType::kSyncRequest) return replies;
    auto request = protocol::DecodeBody<protocol::SyncRequest>(*envelope);
    if (!request.ok()) return replies;
    const uint64_t id = envelope->request_id;
    requests.emplace_back(id, *request);
    if (request->op == "send") {
      if (auto error = error_for_key.find(request->name); error != error_for_key.end()) {
        replies.push_back(protocol::Encode(
            protocol::ErrorReply::FromStatus(Status::InvalidArgument(error->second)), id));
        return replies;
      }
      values[request->name] = std::string(request->value.begin(), request->value.end());
      replies.push_back(Answer(id, *request, true));
      for (auto it = waiting.begin(); it != waiting.end();) {
        if (it->second.op == "wait" && it->second.name == request->name) {
          replies.push_back(Answer(it->first, it->second, true));
          it = waiting.erase(it);
        } else {
          ++it;
        }
      }
    } else if (request->op == "wait") {
      if (values.count(request->name)) {
        replies.push_back(Answer(id, *request, true));
      } else {
        waiting.emplace_back(id, *request);
      }
    } else if (auto fail = fail_barriers.find(request->name); fail != fail_barriers.end()) {
      protocol::SyncReply reply = Reply(*request, false);
      reply.error = fail->second;
      replies.push_back(protocol::Encode(reply, id));
    } else if (hold_barriers) {
      waiting.emplace_back(id, *request);
    } else {
      replies.push_back(Answer(id, *request, true));
    }
    return replies;
  }

  // Answers every held barrier ok.
  std::vector<std::string> Release() {
    std::vector<std::string> replies;
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (it->second.op == "barrier") {
        replies.push_back(Answer(it->first, it->second, true));
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    return replies;
  }

  // The requests received with this op (in arrival order).
  std::vector<protocol::SyncRequest> Requests(const std::string& op) const {
    std::vector<protocol::SyncRequest> out;
    for (const auto& [id, r] : requests) {
      if (r.op == op) out.push_back(r);
    }
    return out;
  }

  std::vector<std::pair<uint64_t, protocol::SyncRequest>> requests;
  std::vector<std::pair<uint64_t, protocol::SyncRequest>> waiting;
  std::map<std::string, std::string> values;

 private:
  protocol::SyncReply Reply(const protocol::SyncRequest& request, bool ok) const {
    protocol::SyncReply reply;
    reply.entry_id = request.entry_id;
    reply.op = request.op;
    reply.name = request.name;
    reply.generation = request.generation;
    reply.ok = ok;
    return reply;
  }
  std::string Answer(uint64_t id, const protocol::SyncRequest& request, bool ok) const {
    protocol::SyncReply reply = Reply(request, ok);
    if (request.op == "wait") {
      const std::string& value = values.at(request.name);
      reply.value.assign(value.begin(), value.end());
      reply.from_host = sender;
    }
    return protocol::Encode(reply, id);
  }
};

}  // namespace labmesh::testing
