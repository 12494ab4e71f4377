#pragma once
// Host health and quarantine (issue 26): each host's score from its history over the health
// window, the evidence behind it, the tests found flaky, and an admin's quarantine or release.
// docs/quarantine.md tells the rules; PROTOCOL.md the wire format.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

// One reason a host scored. kind:
//   "lone-failure"  a test failed here that passed on the host's peers (hosts with the same
//                   labels) in the window: test, failed/runs here, peers_* over there
//   "infrastructure" an entry ended failed or error as an infrastructure fault
//   "crash"         an entry saw an unexpected reboot or a panic (its crash flag)
//   "verify" / "repair"  a special task of that kind failed
struct HealthEvidenceInfo {
  std::string kind;
  double weight = 0;  // what it added to the score
  uint64_t job_id = 0;
  uint64_t entry_id = 0;
  uint64_t task_id = 0;
  std::string test;
  std::string detail;  // a line saying what happened
  int64_t time_us = 0;
  uint64_t failed = 0;  // lone-failure: results of the test that failed here
  uint64_t runs = 0;    // ... out of these
  uint64_t peer_hosts = 0;   // lone-failure: peers that ran the test
  uint64_t peer_runs = 0;    // their results of it
  uint64_t peer_failed = 0;  // of which failed
  std::vector<std::string> peers_passed;  // a few peers where it passed
};

struct HostHealthInfo {
  std::string hostname;
  std::string status;
  std::vector<std::string> labels;
  double score = 0;
  bool suspect = false;  // score >= the threshold
  uint64_t entries = 0;  // entries counted in the window
  uint64_t results = 0;  // results counted in the window
  std::vector<HealthEvidenceInfo> evidence;  // heaviest first, at most 50
  std::string quarantine_reason;             // "" when not quarantined
  int64_t quarantined_ms = 0;
};

// A test that both passed and failed on one host with one build (the keyval named by
// --flaky-build-key, else the job's name) in the window.
struct FlakyTestInfo {
  std::string test;
  std::vector<std::string> hosts;  // where it flipped (at most 20)
  std::string build;               // one build it flipped on
  uint64_t passed = 0;             // results in the window, every host
  uint64_t failed = 0;
};

// Scores of every host (or of the hosts with `label`, or one `host`), worst first.
struct HostFlakyRequest {
  static constexpr MessageType kType = MessageType::kHostFlakyRequest;
  std::string label;
  std::string host;
  uint32_t limit = 0;  // 0 = every host
};

struct HostFlakyReply {
  static constexpr MessageType kType = MessageType::kHostFlakyReply;
  int64_t computed_ms = 0;  // when the scores were computed (0 = not yet)
  int64_t window_ms = 0;
  uint32_t window_entries = 0;
  std::string mode;         // "off", "suggest" or "auto"
  double threshold = 0;
  std::vector<HostHealthInfo> hosts;
  std::vector<FlakyTestInfo> flaky_tests;
  uint64_t compute_ms = 0;  // how long the computation took
};

// An admin quarantines a host by hand (release false: with `reason`) or releases it (release
// true: Ready again, its score counted afresh from now). Reply: HostShowReply.
struct HostQuarantineRequest {
  static constexpr MessageType kType = MessageType::kHostQuarantineRequest;
  std::string hostname;
  bool release = false;
  std::string reason;  // at most 256 bytes
};

}  // namespace labmesh::protocol
