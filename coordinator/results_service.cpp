#include "results_service.hpp"

#include <spdlog/spdlog.h>

#include "results_repository.hpp"

namespace labmesh::coordinator {

using protocol::MessageType;

namespace {

protocol::TestResultInfo ToInfo(store::ResultRecord r) {
  protocol::TestResultInfo info;
  info.id = r.id;
  info.job_id = r.job_id;
  info.entry_id = r.entry_id;
  info.host = std::move(r.hostname);
  info.labels = std::move(r.labels);
  info.test = std::move(r.test);
  info.status = std::move(r.status);
  info.reason = std::move(r.reason);
  info.start_us = r.start_us;
  info.end_us = r.end_us;
  info.duration_us = r.duration_us;
  info.keyvals = std::move(r.keyvals);
  info.perf = std::move(r.perf);
  info.file = std::move(r.file);
  info.link = std::move(r.link);
  return info;
}

Status CheckStatusName(const std::string& status) {
  if (status.empty() || store::ParseResultStatus(status)) return Status::Ok();
  return Status::InvalidArgument("unknown result status '" + status.substr(0, 32) +
                                 "' (GOOD, FAIL, ERROR, ABORT, WARN, TEST_NA)");
}

Status CheckWindow(int64_t since_us, int64_t until_us) {
  if (since_us < 0 || until_us < 0) return Status::InvalidArgument("times may not be negative");
  if (until_us != 0 && until_us <= since_us) {
    return Status::InvalidArgument("the window ends before it starts");
  }
  return Status::Ok();
}

}  // namespace

ResultsService::ResultsService(const CoordinatorConfig& config, const Clock* clock,
                               store::Store* store, store::ResultsIndex* index,
                               ResultsIntake* intake, HostRegistry* registry,
                               FrameOutbox to_api,
                               std::function<void(const ParseDone&)> on_first_parse)
    : config_(config),
      clock_(clock),
      store_(store),
      index_(index),
      intake_(intake),
      registry_(registry),
      to_api_(std::move(to_api)),
      on_first_parse_(std::move(on_first_parse)) {
  limits_.max_frame_bytes = config.max_frame_bytes;
}

void ResultsService::HandleApi(const std::string& routing_id, const protocol::Envelope& e,
                               const Principal& who) {
  switch (e.type) {
    case MessageType::kResultsReparseRequest: return Reparse(routing_id, e, who);
    default:
      to_api_(routing_id,
              protocol::ErrorFrame(e.request_id, Status::Unsupported("not a results reparse")));
  }
}

bool ResultsService::IsQuery(MessageType type) {
  return type == MessageType::kResultsListRequest || type == MessageType::kResultsSummaryRequest ||
         type == MessageType::kResultsSeriesRequest;
}

QueryPool::Work ResultsService::Query(const protocol::Envelope& e) const {
  // Members read there: index_ (thread-safe reads) only; the health view is an immutable
  // snapshot the registry replaces, never changes.
  return [this, e, health = registry_->health()]() -> std::string {
    switch (e.type) {
      case MessageType::kResultsListRequest: return List(e, health.get());
      case MessageType::kResultsSummaryRequest: return Summary(e, health.get());
      case MessageType::kResultsSeriesRequest: return Series(e);
      default:
        return protocol::ErrorFrame(e.request_id, Status::Unsupported("not a results query"));
    }
  };
}

std::string ResultsService::List(const protocol::Envelope& e, const HealthView* health) const {
  auto request = protocol::DecodeBody<protocol::ResultsListRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (Status s = CheckStatusName(request->status); !s.ok())
    return protocol::ErrorFrame(e.request_id, s);
  if (Status s = CheckWindow(request->since_us, request->until_us); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  if (request->limit > store::kMaxQueryLimit) {
    return protocol::ErrorFrame(
        e.request_id,
        Status::InvalidArgument("--limit is at most " + std::to_string(store::kMaxQueryLimit)));
  }
  store::ResultFilter filter;
  if (request->job_id != 0) filter.job_id = request->job_id;
  filter.host = request->host;
  filter.label = request->label;
  filter.test = request->test;
  filter.status = request->status;
  filter.since_us = request->since_us;
  filter.until_us = request->until_us;
  filter.limit = request->limit;
  filter.cursor = request->cursor;
  auto page = index_->Query(filter);
  if (!page.ok()) return protocol::ErrorFrame(e.request_id, page.status());
  protocol::ResultsListReply reply;
  reply.results.reserve(page->records.size());
  // `health`: the flaky tests (docs/quarantine.md)
  for (store::ResultRecord& r : page->records) {
    protocol::TestResultInfo& info = reply.results.emplace_back(ToInfo(std::move(r)));
    info.flaky = health != nullptr && health->flaky_tests.count(info.test) > 0;
  }
  reply.next_cursor = page->next_cursor;
  return protocol::Encode(reply, e.request_id);
}

std::string ResultsService::Summary(const protocol::Envelope& e,
                                    const HealthView* health) const {
  auto request = protocol::DecodeBody<protocol::ResultsSummaryRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (request->group_by != "host" && request->group_by != "label") {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("group results by 'host' or 'label', not '" +
                                              request->group_by.substr(0, 32) + "'"));
  }
  if (Status s = CheckWindow(request->since_us, request->until_us); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  store::SummaryFilter filter;
  filter.group_by =
      request->group_by == "label" ? store::SummaryGroup::kLabel : store::SummaryGroup::kHost;
  filter.test = request->test;
  filter.test_prefix = request->test_prefix;
  filter.host = request->host;
  filter.label = request->label;
  filter.since_us = request->since_us;
  filter.until_us = request->until_us;
  auto rows = index_->Summary(filter);
  if (!rows.ok()) return protocol::ErrorFrame(e.request_id, rows.status());
  protocol::ResultsSummaryReply reply;
  for (const store::SummaryRow& row : *rows) {
    protocol::SummaryRowInfo info;
    info.test = row.test;
    info.group = row.group;
    info.total = row.total;
    for (size_t i = 0; i < store::kResultStatusCount; ++i) {
      auto status = static_cast<store::ResultStatus>(i);
      if (row.counts[status] > 0) {
        info.counts[std::string(store::ResultStatusName(status))] = row.counts[status];
      }
    }
    info.pass_rate = row.pass_rate.value_or(-1);
    info.first_us = row.first_us;
    info.last_us = row.last_us;
    info.flaky = health != nullptr && health->flaky_tests.count(row.test) > 0;
    reply.rows.push_back(std::move(info));
  }
  return protocol::Encode(reply, e.request_id);
}

std::string ResultsService::Series(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::ResultsSeriesRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (request->test.empty() || request->key.empty()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::InvalidArgument("a series needs a test and a key"));
  }
  if (Status s = CheckWindow(request->since_us, request->until_us); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  if (request->limit > 100'000) {
    return protocol::ErrorFrame(e.request_id,
                                Status::InvalidArgument("a series has at most 100000 points"));
  }
  store::SeriesFilter filter;
  filter.test = request->test;
  filter.key = request->key;
  filter.host = request->host;
  filter.label = request->label;
  filter.since_us = request->since_us;
  filter.until_us = request->until_us;
  if (request->limit != 0) filter.limit = request->limit;
  auto points = index_->KeyvalSeries(filter);
  if (!points.ok()) return protocol::ErrorFrame(e.request_id, points.status());
  protocol::ResultsSeriesReply reply;
  for (const store::SeriesPoint& p : *points) {
    reply.points.push_back({p.time_us, p.value, p.job_id, p.hostname, p.link});
  }
  return protocol::Encode(reply, e.request_id);
}

void ResultsService::Reparse(const std::string& routing_id, const protocol::Envelope& e,
                             const Principal& who) {
  auto request = protocol::DecodeBody<protocol::ResultsReparseRequest>(e);
  if (!request.ok())
    return to_api_(routing_id, protocol::ErrorFrame(e.request_id, request.status()));
  auto job = store_->GetJob(request->job_id);
  if (!job.ok()) return to_api_(routing_id, protocol::ErrorFrame(e.request_id, job.status()));
  if (!job->has_value()) {
    return to_api_(routing_id,
                   protocol::ErrorFrame(
                       e.request_id,
                       Status::NotFound("job " + std::to_string(request->job_id) + " not found")));
  }
  if (Status s = who.MayChangeJob((*job)->owner, request->job_id); !s.ok()) {
    return to_api_(routing_id, protocol::ErrorFrame(e.request_id, s));
  }
  if ((*job)->results_state != store::ResultsState::kPresent) {
    return to_api_(routing_id,
                   protocol::ErrorFrame(e.request_id,
                                        Status::FailedPrecondition(
                                            "the results of job " +
                                            std::to_string(request->job_id) + " were removed (" +
                                            (*job)->results_removed_reason + ")")));
  }
  auto entries = store_->GetEntries((*job)->entry_ids);
  if (!entries.ok())
    return to_api_(routing_id, protocol::ErrorFrame(e.request_id, entries.status()));
  uint64_t token = ++last_reparse_;
  PendingReparse pending{routing_id, e.request_id, 0, {}};
  pending.reply.job_id = request->job_id;
  for (const store::Entry& entry : *entries) {
    // Only entries whose files are complete: a running one is parsed when it ends.
    if (entry.hostname.empty() || !protocol::IsFinal(entry.status)) continue;
    ParseWork work = ParseWorkOf(entry, (*job)->owner, *registry_,
                                 entry.started_us != 0 ? entry.started_us : entry.finished_us);
    work.reparse = token;
    intake_->Submit(std::move(work));
    ++pending.left;
  }
  spdlog::info("job={} reparse of {} entries asked by {}", request->job_id, pending.left,
               who.user);
  if (pending.left == 0) return to_api_(routing_id, protocol::Encode(pending.reply, e.request_id));
  reparses_.emplace(token, std::move(pending));
}

bool ResultsService::Reparsing(uint64_t job_id) const {
  for (const auto& [token, pending] : reparses_) {
    if (pending.reply.job_id == job_id) return true;
  }
  return false;
}

void ResultsService::OnIntakeReady() {
  for (const ParseDone& done : intake_->TakeDone()) {
    if (done.work.reparse == 0) {
      on_first_parse_(done);
      continue;
    }
    auto it = reparses_.find(done.work.reparse);
    if (it == reparses_.end()) continue;
    PendingReparse& pending = it->second;
    if (!done.status.ok()) {
      to_api_(pending.routing_id, protocol::ErrorFrame(pending.request_id, done.status));
      reparses_.erase(it);
      continue;
    }
    ++pending.reply.entries;
    pending.reply.results += done.results;
    pending.reply.warnings += static_cast<uint32_t>(done.warnings.size());
    if (--pending.left == 0) {
      to_api_(pending.routing_id, protocol::Encode(pending.reply, pending.request_id));
      reparses_.erase(it);
    }
  }
}

}  // namespace labmesh::coordinator
