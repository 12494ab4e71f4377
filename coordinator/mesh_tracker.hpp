#pragma once
// MeshTracker: the coordinator's side of the package mesh (docs/mesh.md). It knows every agent's
// peer socket (from its hello), which chunks of which package each one holds, who is fetching
// from whom, and the peers fetchers reported bad; it answers each mesh chunk request with a peer,
// with "the coordinator serves it" or with "wait".
//
// Rules of Route (one chunk request of one fetcher):
//   - The request itself says the fetcher holds every chunk before the one asked (agents fetch
//     in order and check each chunk), and ends the fetch it had assigned before.
//   - A candidate holds the chunk, serves a peer socket, is usable (connected, accepted, not
//     Dead), is not the fetcher, was not reported bad by this fetcher for this package nor
//     corrupt by anyone, and is not avoided for repeated failures.
//   - A free candidate (fewer than uploads_per_peer fetches assigned) is answered, preferring
//     one sharing the fetcher's locality label (a label starting with locality_prefix), then
//     one nobody reported lately, then the least loaded; a rotating start spreads equal ones.
//     At most kScan holders of the chunk are looked at.
//   - Candidates all busy: wait. No candidate at all: the coordinator serves the chunk itself
//     while fewer than `seeds` fetchers are being served it directly, else wait. A fetcher that
//     has waited max_wait_ms for a chunk is served directly, whatever the rest (a last resort:
//     a crowd waiting on busy holders is progress, not a failure).
// Assignments expire after upload_timeout_ms (a fetcher that went away frees its peer).
//
// A peer's bad record (reports, corrupt packages, avoidance) outlives its agent's restarts.
//
// Event-loop thread only; memory only (a restarted coordinator learns holdings from hellos and
// requests again).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "labmesh/protocol/messages.hpp"

namespace labmesh::coordinator {

struct MeshConfig {
  bool enabled = true;
  uint32_t uploads_per_peer = 4;
  uint32_t seeds = 2;
  std::string locality_prefix = "rack:";
  int64_t upload_timeout_ms = 10'000;
  int64_t max_wait_ms = 30'000;
  uint32_t retry_after_ms = 25;
  // A peer with this many non-corrupt failures reported by distinct fetchers within
  // avoid_ms is avoided by everyone for avoid_ms.
  uint32_t failures_to_avoid = 3;
  int64_t avoid_ms = 60'000;
};

class MeshTracker {
 public:
  static constexpr size_t kScan = 64;

  // `usable(host)`: the host is connected, accepted and not Dead.
  MeshTracker(MeshConfig config, std::function<bool(const std::string&)> usable);

  // A hello: what is known of the host's peer socket and holdings is replaced. `chunks_of(sha)`
  // gives a package's chunk count (0 = unknown package: not recorded).
  void OnHello(const std::string& host, const protocol::AgentHello& hello,
               const std::vector<std::string>& labels,
               const std::function<uint32_t(const std::string&)>& chunks_of);
  // The host is gone (Dead, deleted): it serves nothing and fetches nothing.
  void OnGone(const std::string& host);

  struct Answer {
    enum class Kind { kDirect, kPeer, kWait } kind = Kind::kDirect;
    protocol::PeerSource peer;
    uint32_t retry_after_ms = 0;
  };
  // Chunk `index` of package `sha256` (`chunks` chunks) for `fetcher`.
  Answer Route(const std::string& fetcher, const std::string& sha256, uint32_t index,
               uint32_t chunks, int64_t now_ms);
  // A fetcher's report of a bad peer.
  void OnBad(const std::string& fetcher, const protocol::PeerBadReport& report, int64_t now_ms);

  // The host's mesh fields of HostInfo.
  void Fill(const std::string& host, int64_t now_ms, protocol::HostInfo* info) const;

  struct Stats {
    uint64_t direct = 0;  // chunks the coordinator served to mesh fetchers
    uint64_t peer = 0;    // chunks sent to a peer
    uint64_t wait = 0;
    uint64_t bad_reports = 0;
  };
  const Stats& stats() const { return stats_; }
  const MeshConfig& config() const { return config_; }

 private:
  struct Peer {
    std::string endpoint;
    std::string public_key;
    std::string secret;
    std::string locality;  // its label starting with locality_prefix, "" = none
    std::unordered_map<std::string, uint32_t> held;  // sha256 -> leading chunks held (listed)
    std::unordered_map<std::string, int64_t> uploads;  // fetcher -> assignment expiry
    std::set<std::string> corrupt;                      // packages it served corrupt chunks of
    std::map<std::string, int64_t> failed_by;  // fetcher -> when it reported a failure
    int64_t avoid_until_ms = 0;
    uint32_t bad_reports = 0;
    std::string last_bad;
  };
  struct Fetch {
    std::string sha256;
    std::string assigned;           // the peer serving its current chunk ("" = none)
    bool direct = false;            // the coordinator serves its current chunk
    uint32_t index = 0;
    int64_t waiting_since_ms = 0;   // 0 = not waiting
    std::set<std::string> avoid;    // peers it reported for this package
  };

  void EndFetch(const std::string& fetcher, Fetch* fetch);
  // `host` holds chunks [0, upto) of a package of `chunks` chunks.
  void Hold(const std::string& host, const std::string& sha256, uint32_t upto, uint32_t chunks);
  // Direct serves of (sha256, index) in flight, expired ones dropped.
  size_t DirectInFlight(const std::string& sha256, uint32_t index, int64_t now_ms);

  MeshConfig config_;
  std::function<bool(const std::string&)> usable_;
  std::unordered_map<std::string, Peer> peers_;
  std::unordered_map<std::string, Fetch> fetches_;
  // sha256 -> chunk index -> the serving hosts holding it (in the order they came), so that a
  // route looks only at hosts that hold the chunk asked for. A host is in the lists of each
  // chunk it holds: hosts x chunks names (1,000 hosts and a 30 MiB package: 30,000).
  std::unordered_map<std::string, std::vector<std::vector<std::string>>> holders_;
  // "sha256/index" -> fetcher -> expiry of its direct serve.
  std::unordered_map<std::string, std::unordered_map<std::string, int64_t>> direct_;
  size_t cursor_ = 0;
  Stats stats_;
};

}  // namespace labmesh::coordinator
