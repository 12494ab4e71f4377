#include "mesh_tracker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <tuple>

#include "labmesh/common/hash.hpp"

namespace labmesh::coordinator {

MeshTracker::MeshTracker(MeshConfig config, std::function<bool(const std::string&)> usable)
    : config_(std::move(config)), usable_(std::move(usable)) {}

void MeshTracker::OnGone(const std::string& host) {
  auto fetch = fetches_.find(host);
  if (fetch != fetches_.end()) {
    EndFetch(host, &fetch->second);
    fetches_.erase(fetch);
  }
  auto peer = peers_.find(host);
  if (peer == peers_.end()) return;
  for (const auto& [sha, count] : peer->second.held) {
    auto holders = holders_.find(sha);
    if (holders == holders_.end()) continue;
    for (uint32_t c = 0; c < count && c < holders->second.size(); ++c) {
      std::erase(holders->second[c], host);
    }
  }
  // What it reported bad about others stays with them; its own record goes.
  peers_.erase(peer);
}

void MeshTracker::OnHello(const std::string& host, const protocol::AgentHello& hello,
                          const std::vector<std::string>& labels,
                          const std::function<uint32_t(const std::string&)>& chunks_of) {
  // The bad record outlives the agent's restarts: a restart does not mend a rotten disk, and a
  // lying agent stays known as one.
  Peer record;
  if (auto it = peers_.find(host); it != peers_.end()) {
    record.corrupt = std::move(it->second.corrupt);
    record.failed_by = std::move(it->second.failed_by);
    record.avoid_until_ms = it->second.avoid_until_ms;
    record.bad_reports = it->second.bad_reports;
    record.last_bad = std::move(it->second.last_bad);
  }
  OnGone(host);
  // An agent without a usable peer socket (none, or one described wrongly) is only a fetcher.
  const bool serves = hello.peer_endpoint.starts_with("tcp://") &&
                      hello.peer_endpoint.size() <= 300 && hello.peer_public_key.size() == 40 &&
                      hello.peer_secret.size() == protocol::kPeerSecretBytes;
  Peer& peer = peers_[host] = std::move(record);
  if (!config_.enabled || !serves) return;  // only a fetcher (its record kept for host show)
  peer.endpoint = hello.peer_endpoint;
  peer.public_key = hello.peer_public_key;
  peer.secret.assign(hello.peer_secret.begin(), hello.peer_secret.end());
  for (const std::string& label : labels) {
    if (!config_.locality_prefix.empty() && label.starts_with(config_.locality_prefix)) {
      peer.locality = label;
      break;
    }
  }
  for (const std::string& sha : hello.packages_held) {
    if (uint32_t chunks = chunks_of(sha); chunks > 0) Hold(host, sha, chunks, chunks);
  }
}

void MeshTracker::Hold(const std::string& host, const std::string& sha256, uint32_t upto,
                       uint32_t chunks) {
  auto peer = peers_.find(host);
  if (peer == peers_.end() || peer->second.endpoint.empty()) return;
  upto = std::min(upto, chunks);
  uint32_t& held = peer->second.held[sha256];
  if (upto <= held) return;
  std::vector<std::vector<std::string>>& lists = holders_[sha256];
  if (lists.size() < chunks) lists.resize(chunks);
  for (uint32_t c = held; c < upto; ++c) lists[c].push_back(host);
  held = upto;
}

void MeshTracker::EndFetch(const std::string& fetcher, Fetch* fetch) {
  if (!fetch->assigned.empty()) {
    if (auto peer = peers_.find(fetch->assigned); peer != peers_.end()) {
      peer->second.uploads.erase(fetcher);
    }
    fetch->assigned.clear();
  }
  if (fetch->direct) {
    auto it = direct_.find(fetch->sha256 + "/" + std::to_string(fetch->index));
    if (it != direct_.end()) {
      it->second.erase(fetcher);
      if (it->second.empty()) direct_.erase(it);
    }
    fetch->direct = false;
  }
}

size_t MeshTracker::DirectInFlight(const std::string& sha256, uint32_t index, int64_t now_ms) {
  auto it = direct_.find(sha256 + "/" + std::to_string(index));
  if (it == direct_.end()) return 0;
  std::erase_if(it->second, [&](const auto& item) { return item.second <= now_ms; });
  return it->second.size();
}

MeshTracker::Answer MeshTracker::Route(const std::string& fetcher, const std::string& sha256,
                                       uint32_t index, uint32_t chunks, int64_t now_ms) {
  Fetch& fetch = fetches_[fetcher];
  EndFetch(fetcher, &fetch);
  if (fetch.sha256 != sha256) {
    fetch = Fetch{};
    fetch.sha256 = sha256;
  }
  if (fetch.index != index) fetch.waiting_since_ms = 0;
  fetch.index = index;
  Hold(fetcher, sha256, index, chunks);

  auto direct = [&]() {
    ++stats_.direct;
    fetch.direct = true;
    fetch.waiting_since_ms = 0;
    direct_[sha256 + "/" + std::to_string(index)][fetcher] = now_ms + config_.upload_timeout_ms;
    return Answer{};
  };
  auto wait = [&]() {
    ++stats_.wait;
    if (fetch.waiting_since_ms == 0) fetch.waiting_since_ms = now_ms;
    // A little spread so that a crowd of waiters does not come back in one burst.
    uint32_t spread = static_cast<uint32_t>(std::hash<std::string>{}(fetcher) % 25);
    return Answer{Answer::Kind::kWait, {}, config_.retry_after_ms + spread};
  };
  if (!config_.enabled) return direct();
  if (fetch.waiting_since_ms != 0 && now_ms - fetch.waiting_since_ms >= config_.max_wait_ms) {
    return direct();
  }

  const Peer* self = nullptr;
  if (auto it = peers_.find(fetcher); it != peers_.end()) self = &it->second;
  Peer* best = nullptr;
  const std::string* best_name = nullptr;
  std::tuple<int, int, size_t> best_rank{2, 2, 0};
  size_t busy = 0;
  auto holders = holders_.find(sha256);
  if (holders != holders_.end() && index < holders->second.size() &&
      !holders->second[index].empty()) {
    const std::vector<std::string>& list = holders->second[index];
    const size_t n = list.size();
    const size_t start = cursor_++ % n;
    size_t free_found = 0;
    for (size_t k = 0; k < std::min(n, kScan) && free_found < 8; ++k) {
      const std::string& name = list[(start + k) % n];
      if (name == fetcher || fetch.avoid.count(name) != 0) continue;
      auto it = peers_.find(name);
      if (it == peers_.end()) continue;
      Peer& peer = it->second;
      if (peer.corrupt.count(sha256) != 0 || peer.avoid_until_ms > now_ms) continue;
      if (!usable_(name)) continue;
      std::erase_if(peer.uploads, [&](const auto& item) { return item.second <= now_ms; });
      if (peer.uploads.size() >= config_.uploads_per_peer) {
        ++busy;
        continue;
      }
      ++free_found;
      int near = self != nullptr && !self->locality.empty() && self->locality == peer.locality ? 0 : 1;
      // A peer another fetcher reported lately comes after the others (a dead one costs each
      // fetcher a timeout).
      int reported = peer.failed_by.empty() ? 0 : 1;
      std::tuple<int, int, size_t> rank{near, reported, peer.uploads.size()};
      if (best == nullptr || rank < best_rank) {
        best = &peer;
        best_name = &name;
        best_rank = rank;
      }
    }
  }
  if (best != nullptr) {
    ++stats_.peer;
    fetch.assigned = *best_name;
    fetch.waiting_since_ms = 0;
    best->uploads[fetcher] = now_ms + config_.upload_timeout_ms;
    Answer answer{Answer::Kind::kPeer, {}, 0};
    answer.peer.hostname = *best_name;
    answer.peer.endpoint = best->endpoint;
    answer.peer.public_key = best->public_key;
    const std::string ticket = protocol::MeshTicket(best->secret, sha256, fetcher);
    answer.peer.ticket.assign(ticket.begin(), ticket.end());
    return answer;
  }
  if (busy > 0) return wait();
  if (DirectInFlight(sha256, index, now_ms) < config_.seeds) return direct();
  return wait();
}

void MeshTracker::OnBad(const std::string& fetcher, const protocol::PeerBadReport& report,
                        int64_t now_ms) {
  auto it = peers_.find(report.peer);
  if (it == peers_.end() || report.peer == fetcher) return;
  ++stats_.bad_reports;
  Peer& peer = it->second;
  ++peer.bad_reports;
  peer.last_bad = report.problem + " (chunk " + std::to_string(report.index) + " of " +
                  report.sha256.substr(0, 12) + ", reported by " + fetcher + "): " +
                  report.detail.substr(0, 200);
  peer.uploads.erase(fetcher);
  auto fetch = fetches_.find(fetcher);
  if (fetch != fetches_.end() && fetch->second.sha256 == report.sha256) {
    fetch->second.avoid.insert(report.peer);
    if (fetch->second.assigned == report.peer) fetch->second.assigned.clear();
  }
  if (report.problem == "corrupt") {
    peer.corrupt.insert(report.sha256);
    spdlog::warn("mesh: host={} served a corrupt chunk {} of {} to {}; it serves that package to "
                 "nobody any more", report.peer, report.index, report.sha256, fetcher);
    return;
  }
  peer.failed_by[fetcher] = now_ms;
  std::erase_if(peer.failed_by,
                [&](const auto& item) { return now_ms - item.second > config_.avoid_ms; });
  if (peer.failed_by.size() >= config_.failures_to_avoid && peer.avoid_until_ms <= now_ms) {
    peer.avoid_until_ms = now_ms + config_.avoid_ms;
    spdlog::warn("mesh: host={} failed {} fetchers ({}); avoided for {} s", report.peer,
                 peer.failed_by.size(), peer.last_bad, config_.avoid_ms / 1000);
  }
}

void MeshTracker::Fill(const std::string& host, int64_t now_ms, protocol::HostInfo* info) const {
  auto it = peers_.find(host);
  if (it == peers_.end()) return;
  const Peer& peer = it->second;
  info->peer_endpoint = peer.endpoint;
  info->mesh_bad_reports = peer.bad_reports;
  info->mesh_last_bad = peer.last_bad;
  info->mesh_avoided = !peer.corrupt.empty() || peer.avoid_until_ms > now_ms;
}

}  // namespace labmesh::coordinator
