// JobService, results import (`labmesh results import`, docs/kernel-lab.md "The client by
// hand"): a results directory made without a coordinator becomes a finished job with one
// entry, filled and checked as an agent's upload would be, then parsed into the index.

#include <spdlog/spdlog.h>

#include "job_rules.hpp"
#include "job_service.hpp"
#include "labels.hpp"
#include "results_repository.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;

namespace {

constexpr size_t kMaxImportFiles = 100'000;

}  // namespace

void JobService::ImportBegin(const std::string& routing_id, const protocol::Envelope& e,
                             const Principal& who) {
  auto refuse = [&](const Status& status) {
    to_api_(routing_id, protocol::ErrorFrame(e.request_id, status));
  };
  auto request = protocol::DecodeBody<protocol::ResultsImportRequest>(e);
  if (!request.ok()) return refuse(request.status());
  if (Status s = ValidateHostname(request->host); !s.ok()) return refuse(s);
  if (request->job_name.size() > kMaxJobNameBytes) {
    return refuse(Status::InvalidArgument("the job name is longer than " +
                                          std::to_string(kMaxJobNameBytes) + " bytes"));
  }
  if (request->files.empty()) return refuse(Status::InvalidArgument("no files to import"));
  if (request->files.size() > kMaxImportFiles) {
    return refuse(Status::InvalidArgument("more than " + std::to_string(kMaxImportFiles) +
                                          " files"));
  }
  for (const protocol::FileDigest& file : request->files) {
    if (Status s = ValidateResultPath(file.path); !s.ok()) return refuse(s);
  }
  int64_t now = clock_->WallUs();
  store::Job job;
  job.id = ++last_job_id_;
  job.name = request->job_name.empty() ? std::string("import") : request->job_name;
  job.owner = who.user;
  job.control_kind = kImportKind;
  job.hosts = {request->host};
  job.created_us = now;
  store::Entry entry;
  entry.id = ++last_entry_id_;
  entry.job_id = job.id;
  entry.hostname = request->host;
  entry.queued_us = now;
  entry.started_us = now;
  entry.outcome = "passed";  // the tests' results decide (FinishParsed)
  // Born Gathering: nothing was queued or ran here, its files are on their way.
  entry.status = EntryStatus::kGathering;
  entry.status_reason = "imported by " + who.user + ": " +
                        std::to_string(request->files.size()) + " files of a hand run";
  entry.history.push_back({entry.status, now, entry.status_reason});
  job.entry_ids.push_back(entry.id);
  const size_t file_count = request->files.size();
  imports_[entry.id] = std::move(request->files);
  protocol::ResultsImportReply reply{job.id, entry.id,
                                     ResultsRepository::EntryDir(job.id, job.owner, entry.hostname)};
  jobs_.emplace(job.id, ActiveJob{job, {}, 1});
  dirty_entries_.insert(entry.id);
  entries_.emplace(entry.id, std::move(entry));
  dirty_jobs_.insert(job.id);
  spdlog::info("job={} import by {} of {} files from {}", job.id, job.owner, file_count,
               request->host);
  batch_->ToApi(routing_id, protocol::Encode(reply, e.request_id), e.request_id);
}

std::string JobService::ImportChunk(const protocol::Envelope& e, const Principal& who) {
  auto chunk = protocol::DecodeBody<protocol::ResultsImportChunkRequest>(e);
  if (!chunk.ok()) return protocol::ErrorFrame(e.request_id, chunk.status());
  auto it = entries_.find(chunk->entry_id);
  if (it == entries_.end() || imports_.count(chunk->entry_id) == 0 ||
      jobs_.at(it->second.job_id).job.owner != who.user) {
    return protocol::ErrorFrame(
        e.request_id, Status::NotFound("no import " + std::to_string(chunk->entry_id) + " of " +
                                       who.user + " under way"));
  }
  const store::Job& job = jobs_.at(it->second.job_id).job;
  const std::string dir = ResultsRepository::EntryDir(job.id, job.owner, it->second.hostname);
  protocol::ResultChunk data{chunk->entry_id, chunk->path, chunk->offset, std::move(chunk->data),
                             chunk->hash};
  uint64_t held = 0;
  Status written = disk_ != nullptr ? disk_->Admit() : Status::Ok();
  if (written.ok()) {
    written = results_->WriteChunk(dir, data, &held);
    if (disk_ != nullptr) disk_->OnWriteFailed(written);
  }
  return protocol::Encode(protocol::ResultsImportChunkReply{chunk->entry_id, chunk->path, held,
                                                     written.ok() ? "" : written.message()},
                          e.request_id);
}

void JobService::ImportDone(const std::string& routing_id, const protocol::Envelope& e,
                            const Principal& who) {
  auto refuse = [&](const Status& status) {
    to_api_(routing_id, protocol::ErrorFrame(e.request_id, status));
  };
  auto done = protocol::DecodeBody<protocol::ResultsImportDoneRequest>(e);
  if (!done.ok()) return refuse(done.status());
  auto it = entries_.find(done->entry_id);
  auto files = imports_.find(done->entry_id);
  if (it == entries_.end() || files == imports_.end() ||
      jobs_.at(it->second.job_id).job.owner != who.user) {
    return refuse(Status::NotFound("no import " + std::to_string(done->entry_id) + " of " +
                                   who.user + " under way"));
  }
  store::Entry& entry = it->second;
  ActiveJob& job = jobs_.at(entry.job_id);
  const std::string dir = ResultsRepository::EntryDir(job.job.id, job.job.owner, entry.hostname);
  std::string bad_path;
  uint64_t held = 0;
  if (Status s = results_->Verify(dir, files->second, &bad_path, &held); !s.ok()) {
    // The client sends that file again from `held` and says done again.
    return refuse(Status::FailedPrecondition(s.message() + " (" + bad_path + ": the coordinator holds " +
                                             std::to_string(held) + " bytes)"));
  }
  for (const protocol::FileDigest& file : files->second) job.job.result_bytes += file.size;
  imports_.erase(files);
  dirty_jobs_.insert(job.job.id);
  Move(entry, EntryStatus::kParsing, "results imported; parsing");
  if (parse_) {
    to_parse_.push_back(ParseWorkFor(entry, job));
  } else {
    FinishParsed(entry, nullptr);
  }
  batch_->ToApi(routing_id,
                protocol::Encode(protocol::ResultsImportReply{job.job.id, entry.id, dir},
                                 e.request_id),
                e.request_id);
}

}  // namespace labmesh::coordinator
