#include "sync_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "labmesh/common/duration.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

namespace {

std::string BarrierName(const std::string& name, uint32_t gen) {
  return "barrier '" + name + "' (use " + std::to_string(gen) + ")";
}

}  // namespace

Status ValidateSyncRequest(const protocol::SyncRequest& r) {
  if (r.op != "barrier" && r.op != "send" && r.op != "wait") {
    return Status::InvalidArgument("unknown sync op '" + r.op.substr(0, 32) +
                                   "' (barrier, send, wait)");
  }
  if (r.name.empty() || r.name.size() > protocol::kMaxSyncNameBytes) {
    return Status::InvalidArgument("a barrier name or key has 1 to " +
                                   std::to_string(protocol::kMaxSyncNameBytes) + " bytes");
  }
  if (r.name.find('\0') != std::string::npos) {
    return Status::InvalidArgument("a barrier name or key may not contain NUL");
  }
  if (r.value.size() > protocol::kMaxSyncValueBytes) {
    return Status::InvalidArgument("a value has at most " +
                                   std::to_string(protocol::kMaxSyncValueBytes) + " bytes, not " +
                                   std::to_string(r.value.size()));
  }
  if (r.op == "barrier" && r.generation == 0) {
    return Status::InvalidArgument("a barrier arrival needs its generation (1, 2, ...)");
  }
  if (r.timeout_ms < 0) return Status::InvalidArgument("a timeout may not be negative");
  return Status::Ok();
}

protocol::SyncReply NewReply(uint64_t entry_id, std::string op, std::string name,
                             uint32_t generation) {
  protocol::SyncReply reply;
  reply.entry_id = entry_id;
  reply.op = std::move(op);
  reply.name = std::move(name);
  reply.generation = generation;
  return reply;
}

SyncService::SyncService(const Clock* clock, ReplyFn reply)
    : clock_(clock), reply_(std::move(reply)) {}

int64_t SyncService::DeadlineOf(int64_t timeout_ms) const {
  return timeout_ms > 0 ? clock_->SteadyMs() + timeout_ms : 0;
}

void SyncService::Open(const GroupKey& key, std::vector<std::string> hosts) {
  if (groups_.count(key) > 0) return;
  std::sort(hosts.begin(), hosts.end());
  groups_[key].hosts = std::move(hosts);
}

void SyncService::Close(const GroupKey& key, const std::string& why) {
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  Group& group = it->second;
  for (auto& [name, barrier] : group.barriers) {
    for (auto& [gen, generation] : barrier.waiting) {
      for (auto& [host, waiter] : generation.arrived) AnswerBarrier(host, waiter, name, gen, why);
    }
  }
  for (const ValueWait& wait : group.waits) AnswerWait(wait, nullptr, "", why);
  groups_.erase(it);
}

void SyncService::HostLeft(const GroupKey& key, const std::string& host, const std::string& why) {
  auto it = groups_.find(key);
  if (it == groups_.end() || it->second.left.count(host) > 0) return;
  Group& group = it->second;
  group.left[host] = why;
  std::string error = "host " + host + " left the group: " + why;
  for (auto& [name, barrier] : group.barriers) {
    std::vector<uint32_t> doomed;
    for (auto& [gen, generation] : barrier.waiting) {
      generation.arrived.erase(host);  // its control is gone: nobody to answer
      doomed.push_back(gen);  // it will never arrive at any generation still waiting
    }
    for (uint32_t gen : doomed) FailGeneration(barrier, name, gen, error);
  }
  std::vector<ValueWait> keep;
  for (ValueWait& wait : group.waits) {
    if (wait.host == host) continue;
    bool hopeless = false;
    if (wait.from_host == host) {
      hopeless = true;
    } else if (wait.from_host.empty()) {
      hopeless = std::all_of(group.hosts.begin(), group.hosts.end(), [&](const std::string& h) {
        return group.left.count(h) > 0;
      });
    }
    if (hopeless) {
      AnswerWait(wait, nullptr, "", error + "; '" + wait.key + "' was never sent");
    } else {
      keep.push_back(std::move(wait));
    }
  }
  group.waits.swap(keep);
}

void SyncService::Handle(const GroupKey& key, const std::string& host, uint64_t request_id,
                         const protocol::SyncRequest& request) {
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    protocol::SyncReply reply = NewReply(request.entry_id, request.op, request.name, request.generation);
    reply.error = "the entry's group is not running";
    return reply_(host, request_id, std::move(reply));
  }
  if (request.op == "barrier") return Arrive(it->second, host, request_id, request);
  if (request.op == "send") return Send(it->second, host, request_id, request);
  return Wait(it->second, host, request_id, request);
}

void SyncService::Arrive(Group& group, const std::string& host, uint64_t request_id,
                         const protocol::SyncRequest& r) {
  Barrier& barrier = group.barriers[r.name];
  Waiter waiter{r.entry_id, request_id, DeadlineOf(r.timeout_ms), r.timeout_ms};
  if (r.generation <= barrier.released) {
    return AnswerBarrier(host, waiter, r.name, r.generation, "");  // a repeat after the release
  }
  if (auto failed = barrier.failed.find(r.generation); failed != barrier.failed.end()) {
    return AnswerBarrier(host, waiter, r.name, r.generation, failed->second);
  }
  // Arriving at G means this host passed every earlier generation, so all hosts did.
  if (r.generation > 1) Release(barrier, r.name, r.generation - 1);
  Generation& generation = barrier.waiting[r.generation];
  auto [slot, fresh] = generation.arrived.try_emplace(host, waiter);
  if (!fresh) {
    // A repeat (after a reconnect): the newest request is the one to answer; its deadline is
    // kept from the first arrival.
    slot->second.request_id = request_id;
    slot->second.entry_id = r.entry_id;
  }
  std::vector<std::string> gone;
  for (const auto& [name, why] : group.left) {
    if (generation.arrived.count(name) == 0) gone.push_back(name);
  }
  if (!gone.empty()) {
    return FailGeneration(barrier, r.name, r.generation,
                          "host " + gone.front() + " left the group: " + group.left[gone.front()]);
  }
  if (generation.arrived.size() == group.hosts.size()) Release(barrier, r.name, r.generation);
}

void SyncService::Release(Barrier& barrier, const std::string& name, uint32_t gen) {
  if (gen <= barrier.released) return;
  barrier.released = gen;
  while (!barrier.waiting.empty() && barrier.waiting.begin()->first <= gen) {
    auto node = barrier.waiting.extract(barrier.waiting.begin());
    for (const auto& [host, waiter] : node.mapped().arrived) {
      AnswerBarrier(host, waiter, name, node.key(), "");
    }
  }
  barrier.failed.erase(barrier.failed.begin(), barrier.failed.upper_bound(gen));
}

void SyncService::FailGeneration(Barrier& barrier, const std::string& name, uint32_t gen,
                                 const std::string& why) {
  barrier.failed[gen] = why;
  auto it = barrier.waiting.find(gen);
  if (it == barrier.waiting.end()) return;
  for (const auto& [host, waiter] : it->second.arrived) AnswerBarrier(host, waiter, name, gen, why);
  barrier.waiting.erase(it);
}

void SyncService::Send(Group& group, const std::string& host, uint64_t request_id,
                       const protocol::SyncRequest& r) {
  protocol::SyncReply reply = NewReply(r.entry_id, r.op, r.name, 0);
  auto& by_host = group.values[r.name];
  auto it = by_host.find(host);
  size_t old_bytes = it == by_host.end() ? 0 : it->second.data.size();
  size_t values = 0;
  for (const auto& [key, hosts] : group.values) values += hosts.size();
  if (it == by_host.end() && values >= kMaxValuesPerGroup) {
    if (by_host.empty()) group.values.erase(r.name);
    reply.error = "the group holds " + std::to_string(kMaxValuesPerGroup) + " values already";
    return reply_(host, request_id, std::move(reply));
  }
  if (group.value_bytes - old_bytes + r.value.size() > kMaxValueBytesPerGroup) {
    if (by_host.empty()) group.values.erase(r.name);
    reply.error = "the group's values would exceed " +
                  std::to_string(kMaxValueBytesPerGroup >> 20) + " MiB";
    return reply_(host, request_id, std::move(reply));
  }
  group.value_bytes = group.value_bytes - old_bytes + r.value.size();
  if (it == by_host.end()) {
    by_host[host] = Value{r.value, group.next_order++};
  } else {
    it->second.data = r.value;
  }
  reply.ok = true;
  reply_(host, request_id, std::move(reply));
  // Waits this value answers.
  std::vector<ValueWait> keep;
  for (ValueWait& wait : group.waits) {
    std::string sender;
    const Value* value = wait.key == r.name ? Find(group, wait.key, wait.from_host, &sender)
                                            : nullptr;
    if (value != nullptr) {
      AnswerWait(wait, value, sender, "");
    } else {
      keep.push_back(std::move(wait));
    }
  }
  group.waits.swap(keep);
}

const SyncService::Value* SyncService::Find(const Group& group, const std::string& key,
                                            const std::string& from_host,
                                            std::string* sender) const {
  auto it = group.values.find(key);
  if (it == group.values.end()) return nullptr;
  const Value* best = nullptr;
  for (const auto& [host, value] : it->second) {
    if (!from_host.empty() && host != from_host) continue;
    if (best == nullptr || value.order < best->order) {
      best = &value;
      *sender = host;
    }
  }
  return best;
}

void SyncService::Wait(Group& group, const std::string& host, uint64_t request_id,
                       const protocol::SyncRequest& r) {
  ValueWait wait{host, r.entry_id, request_id, r.name, r.from_host, DeadlineOf(r.timeout_ms),
                 r.timeout_ms};
  if (!r.from_host.empty() &&
      !std::binary_search(group.hosts.begin(), group.hosts.end(), r.from_host)) {
    return AnswerWait(wait, nullptr, "",
                      "host " + r.from_host + " is not in this group (" + Join(group.hosts, ", ") + ")");
  }
  std::string sender;
  if (const Value* value = Find(group, r.name, r.from_host, &sender)) {
    return AnswerWait(wait, value, sender, "");
  }
  if (!r.from_host.empty() && group.left.count(r.from_host) > 0) {
    return AnswerWait(wait, nullptr, "",
                      "host " + r.from_host + " left the group without sending '" + r.name +
                          "': " + group.left[r.from_host]);
  }
  for (ValueWait& existing : group.waits) {
    if (existing.host == host && existing.key == r.name && existing.from_host == r.from_host) {
      existing.request_id = request_id;  // a repeat after a reconnect
      existing.entry_id = r.entry_id;
      return;
    }
  }
  size_t mine = std::count_if(group.waits.begin(), group.waits.end(),
                              [&](const ValueWait& w) { return w.host == host; });
  if (mine >= kMaxWaitersPerHost) {
    return AnswerWait(wait, nullptr, "",
                      "host " + host + " already waits for " + std::to_string(mine) + " values");
  }
  group.waits.push_back(std::move(wait));
}

void SyncService::CheckTimeouts() {
  int64_t now = clock_->SteadyMs();
  for (auto& [key, group] : groups_) {
    for (auto& [name, barrier] : group.barriers) {
      std::vector<std::pair<uint32_t, std::string>> expired;
      for (const auto& [gen, generation] : barrier.waiting) {
        for (const auto& [host, waiter] : generation.arrived) {
          if (waiter.deadline_ms == 0 || waiter.deadline_ms > now) continue;
          std::vector<std::string> missing;
          for (const std::string& h : group.hosts) {
            if (generation.arrived.count(h) == 0) missing.push_back(h);
          }
          expired.emplace_back(gen, BarrierName(name, gen) + " timed out after " +
                                        FormatDurationMs(waiter.timeout_ms) +
                                        " waiting for " + Join(missing, ", "));
          break;
        }
      }
      for (const auto& [gen, why] : expired) {
        spdlog::info("job={} group={} {}", key.job_id, key.group, why);
        FailGeneration(barrier, name, gen, why);
      }
    }
    std::vector<ValueWait> keep;
    for (ValueWait& wait : group.waits) {
      if (wait.deadline_ms != 0 && wait.deadline_ms <= now) {
        std::string from = wait.from_host.empty() ? "any host of " + Join(group.hosts, ", ")
                                                  : wait.from_host;
        AnswerWait(wait, nullptr, "",
                   "wait for '" + wait.key + "' timed out after " +
                       FormatDurationMs(wait.timeout_ms) + ": nothing sent by " + from);
      } else {
        keep.push_back(std::move(wait));
      }
    }
    group.waits.swap(keep);
  }
}

int64_t SyncService::NextDeadlineMs() const {
  int64_t next = std::numeric_limits<int64_t>::max();
  for (const auto& [key, group] : groups_) {
    for (const auto& [name, barrier] : group.barriers) {
      for (const auto& [gen, generation] : barrier.waiting) {
        for (const auto& [host, waiter] : generation.arrived) {
          if (waiter.deadline_ms != 0) next = std::min(next, waiter.deadline_ms);
        }
      }
    }
    for (const ValueWait& wait : group.waits) {
      if (wait.deadline_ms != 0) next = std::min(next, wait.deadline_ms);
    }
  }
  return next;
}

std::string SyncService::WaitingIn(const GroupKey& key, const std::string& host) const {
  auto it = groups_.find(key);
  if (it == groups_.end()) return "";
  const Group& group = it->second;
  for (const auto& [name, barrier] : group.barriers) {
    for (const auto& [gen, generation] : barrier.waiting) {
      if (generation.arrived.count(host) == 0) continue;
      return BarrierName(name, gen) + ": " + std::to_string(generation.arrived.size()) + "/" +
             std::to_string(group.hosts.size()) + " arrived";
    }
  }
  for (const ValueWait& wait : group.waits) {
    if (wait.host != host) continue;
    return "wait for '" + wait.key + "'" + (wait.from_host.empty() ? "" : " from " + wait.from_host);
  }
  return "";
}

void SyncService::AnswerBarrier(const std::string& host, const Waiter& waiter,
                                const std::string& name, uint32_t gen, const std::string& error) {
  protocol::SyncReply reply = NewReply(waiter.entry_id, "barrier", name, gen);
  reply.ok = error.empty();
  reply.error = error;
  reply_(host, waiter.request_id, std::move(reply));
}

void SyncService::AnswerWait(const ValueWait& wait, const Value* value, const std::string& sender,
                             const std::string& error) {
  protocol::SyncReply reply = NewReply(wait.entry_id, "wait", wait.key, 0);
  reply.ok = value != nullptr;
  reply.error = error;
  if (value != nullptr) reply.value = value->data;
  reply.from_host = sender;
  reply_(wait.host, wait.request_id, std::move(reply));
}

}  // namespace labmesh::coordinator
