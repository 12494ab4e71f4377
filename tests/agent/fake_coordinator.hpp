#pragma once
// Test helper: the coordinator's side of the entry protocol, without sockets. Feed it every
// frame the agent sent; it records WorkRequests, EntryReports and the result files (written
// into memory at each chunk's offset, refusing bad hashes and gaps like the real one) and
// returns the frames to answer with. Single-threaded: the test thread that owns it.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "work/spool.hpp"

namespace labmesh::testing {

class FakeResults {
 public:
  // Answer "uploaded" reports with done=true (the agent then drops the entry).
  bool done_on_uploaded = true;
  // Refuse the chunk with this number (1 = the first chunk received) as a bad hash.
  int refuse_chunk = 0;

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

}  // namespace labmesh::testing
