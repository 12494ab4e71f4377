#include "results_intake.hpp"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <span>

#include "labmesh/common/disk_space.hpp"
#include "labmesh/common/hash.hpp"
#include "host_registry.hpp"
#include "labels.hpp"
#include "labmesh/parsers/parsers.hpp"
#include "results_repository.hpp"

namespace labmesh::coordinator {

namespace {

bool Passed(store::ResultStatus s) {
  return s != store::ResultStatus::kFail && s != store::ResultStatus::kError &&
         s != store::ResultStatus::kAbort;
}

// A test name the index can key: longer names keep a prefix and get a hash of the whole.
std::string IndexableName(const std::string& name) {
  if (name.size() <= store::kMaxTestNameBytes) return name;
  std::string hash = Blake2bHex(name).substr(0, 16);
  size_t keep = store::kMaxTestNameBytes - hash.size() - 1;
  while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80) --keep;  // UTF-8
  return name.substr(0, keep) + "~" + hash;
}

}  // namespace

ParseWork ParseWorkOf(const store::Entry& entry, const std::string& owner,
                      const HostRegistry& registry, int64_t default_start_us) {
  ParseWork work;
  work.job_id = entry.job_id;
  work.entry_id = entry.id;
  work.host = entry.hostname;
  auto host = registry.hosts().find(entry.hostname);
  if (host != registry.hosts().end()) {
    work.labels = EffectiveLabels(host->second.record.agent_labels, host->second.record.admin_labels);
  }
  work.entry_dir = ResultsRepository::EntryDir(entry.job_id, owner, entry.hostname);
  work.default_start_us = default_start_us;
  return work;
}

std::vector<store::ResultRecord> ParseEntryFiles(const std::string& results_root,
                                                 const ParseWork& work,
                                                 std::vector<std::string>* warnings) {
  parsers::ParseOutput parsed = parsers::ParseResultsDir(results_root + "/" + work.entry_dir);
  *warnings = std::move(parsed.warnings);
  std::vector<std::string> labels;
  for (const std::string& label : work.labels) {
    if (!label.empty() && label.size() <= store::kMaxResultLabelBytes) labels.push_back(label);
  }
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  std::vector<store::ResultRecord> records;
  records.reserve(parsed.results.size());
  for (parsers::TestResult& r : parsed.results) {
    store::ResultRecord record;
    record.hostname = work.host;
    record.labels = labels;
    record.test = IndexableName(r.test);
    record.status = r.status;
    record.reason = std::move(r.reason);
    record.start_us = r.start_us > 0 ? r.start_us : work.default_start_us;
    record.end_us = r.end_us;
    record.duration_us = r.duration_us;
    record.keyvals = std::move(r.keyvals);
    record.perf = std::move(r.perf);
    record.link = "/results/" + work.entry_dir + "/" + r.file;
    record.file = std::move(r.file);
    if (Status s = store::ValidateResultRecord(record); !s.ok()) {
      warnings->push_back(record.file + ": result '" + record.test.substr(0, 80) +
                          "' not indexed: " + s.message());
      continue;
    }
    records.push_back(std::move(record));
  }
  return records;
}

ResultsIntake::ResultsIntake(std::string results_root, store::ResultsIndex* index)
    : results_root_(std::move(results_root)), index_(index) {}

ResultsIntake::~ResultsIntake() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (event_fd_ >= 0) close(event_fd_);
}

Status ResultsIntake::Start() {
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) return Status::Internal("eventfd failed");
  worker_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ResultsIntake::Submit(ParseWork work) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
}

size_t ResultsIntake::backlog() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::vector<ParseDone> ResultsIntake::TakeDone() {
  uint64_t ignored;
  (void)!read(event_fd_, &ignored, sizeof ignored);  // clears the eventfd
  std::lock_guard lock(mu_);
  std::vector<ParseDone> done;
  done.swap(done_);
  return done;
}

void ResultsIntake::Run() {
  for (;;) {
    std::vector<ParseWork> batch;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      while (!queue_.empty() && batch.size() < kMaxEntriesPerCommit) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Process(std::move(batch));
  }
}

void ResultsIntake::Process(std::vector<ParseWork> batch) {
  std::vector<ParseDone> done(batch.size());
  std::vector<store::EntryResults> entries(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    ParseDone& d = done[i];
    d.work = std::move(batch[i]);
    entries[i].job_id = d.work.job_id;
    entries[i].entry_id = d.work.entry_id;
    entries[i].records = ParseEntryFiles(results_root_, d.work, &d.warnings);
    for (const store::ResultRecord& r : entries[i].records) {
      auto status = store::ParseResultStatus(r.status);
      if (!status) continue;
      ++d.counts[*status];
      if (!Passed(*status) && d.failed.size() < 5) d.failed.push_back(r.test);
    }
    d.results = entries[i].records.size();
    d.crash_line = parsers::FindCrashInfoLine(results_root_ + "/" + d.work.entry_dir);
    if (d.warnings.size() > kMaxWarningsKept) {
      size_t dropped = d.warnings.size() - kMaxWarningsKept;
      d.warnings.resize(kMaxWarningsKept);
      d.warnings.push_back("... and " + std::to_string(dropped) + " more warnings");
    }
  }
  Status written = index_->ReplaceEntries(std::span<store::EntryResults>(entries));
  if (IsDiskFull(written)) {
    // Nothing was written and the files are still there: the entries stay Parsing and are
    // parsed again once there is room (docs/decisions.md "Running out of disk").
    spdlog::error("results of {} entries wait for room: {}", entries.size(), written.ToString());
    std::unique_lock lock(mu_);
    for (auto it = done.rbegin(); it != done.rend(); ++it) queue_.push_front(std::move(it->work));
    wake_.wait_for(lock, std::chrono::milliseconds(kDiskFullRetryMs), [&] { return stopping_; });
    return;
  }
  if (!written.ok()) {
    spdlog::error("results of {} entries not indexed: {}", entries.size(), written.ToString());
  }
  for (ParseDone& d : done) d.status = written;
  {
    std::lock_guard lock(mu_);
    for (ParseDone& d : done) done_.push_back(std::move(d));
  }
  uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
}

}  // namespace labmesh::coordinator
