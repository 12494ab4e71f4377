#pragma once
// Host health (docs/quarantine.md), as pure functions: a host's score from its history over the
// health window - its entries and special tasks, and its test results against its peers' - and
// the tests that flipped between pass and fail on one host with one build. The HealthService
// (health_service.*) gathers the inputs off the loop and acts on the scores.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/health_messages.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

// What each kind of evidence adds to a score. A lone failure is a failed result of a test that
// passed on the host's peers; at most lone_cap of one test's failures count, so that a test
// run a hundred times does not drown everything else.
struct HealthWeights {
  double lone_failure = 2;
  uint32_t lone_cap = 3;
  double crash = 2;
  double infrastructure = 1;
  double verify = 1;
  double cleanup = 1;
  double repair = 2;
  // Peers: the other hosts with the same labels. A test's failures here are lone only when the
  // peers ran it at least min_peer_runs times and at most max_peer_fail_rate of those failed,
  // and here it failed at least min_lone_failures times and at least min_lone_rate of its runs:
  // one odd failure, or a test that fails now and then, says nothing about the host.
  uint32_t min_peer_runs = 2;
  double max_peer_fail_rate = 0.1;
  uint32_t min_lone_failures = 2;
  double min_lone_rate = 0.5;
};

// One host's history, already limited to its window: its newest entries and tasks that ended
// at or after the window's start (and after health_since_ms).
struct HostHistory {
  std::string hostname;
  std::vector<std::string> labels;  // sorted: hosts with the same list are peers
  std::string status;
  std::string quarantine_reason;
  int64_t quarantined_ms = 0;
  std::vector<store::Entry> entries;
  std::vector<store::SpecialTask> tasks;
};

// A test's results on one host in the window (from the results index's summary).
struct TestRuns {
  std::string test;
  std::string host;
  uint64_t runs = 0;    // every result but TEST_NA
  uint64_t failed = 0;  // FAIL and ERROR
  uint64_t passed = 0;  // GOOD
  int64_t last_us = 0;
};

// A test that both passed and failed on one host with one build.
struct BuildFlip {
  std::string test;
  std::string host;
  std::string build;
};

struct HealthInput {
  std::vector<HostHistory> hosts;
  std::vector<TestRuns> runs;
  std::vector<BuildFlip> flips;
  double threshold = 6;
  HealthWeights weights;
};

struct HealthScores {
  std::vector<protocol::HostHealthInfo> hosts;  // worst first, then by name
  std::vector<protocol::FlakyTestInfo> flaky;   // by test name
};

// What the rest of the coordinator reads of the latest scores (host show, results queries):
// shared, never changed once published.
struct HealthView {
  struct HostScore {
    double score = 0;
    bool suspect = false;
  };
  std::unordered_map<std::string, HostScore> hosts;
  std::set<std::string> flaky_tests;
};

inline constexpr size_t kMaxEvidence = 50;
inline constexpr size_t kMaxFlakyHosts = 20;

HealthScores ScoreHosts(const HealthInput& input);

// The line a quarantine gives as its reason: the score and its heaviest evidence.
std::string QuarantineReason(const protocol::HostHealthInfo& host, double threshold);

// "off", "suggest" or "auto"; InvalidArgument naming the flag otherwise.
Status ValidateQuarantineMode(std::string_view mode);

// The results statuses a score reads: FAIL and ERROR fail, GOOD passes, TEST_NA is no run.
bool IsFailedResult(std::string_view status);

}  // namespace labmesh::coordinator
