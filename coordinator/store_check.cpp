// The store check (store_check.hpp): jobs <-> entries <-> hosts, each entry's status against
// its history, the results index against the store and the files, and the results tree
// against the jobs. Each check adds a line per problem; nothing here writes.

#include "store_check.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "entry_status.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "results_repository.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;
using protocol::HostStatus;

namespace {

std::string_view StatusText(EntryStatus status) { return protocol::EntryStatusName(status); }

// An entry in one of these holds its host: no other entry may hold it at the same time.
bool HoldsItsHost(EntryStatus s) {
  return s == EntryStatus::kStarting || s == EntryStatus::kVerifying ||
         s == EntryStatus::kPending || s == EntryStatus::kRunning ||
         s == EntryStatus::kGathering || s == EntryStatus::kRebooting;
}

bool EverWas(const store::Entry& entry, EntryStatus status) {
  return std::any_of(entry.history.begin(), entry.history.end(),
                     [&](const store::StatusChange& c) { return c.status == status; });
}

// The entry's final status was decided by the parse of its files (Parsing -> final, not a
// failure or abort that cut the parse short): then its counts are the index's.
bool FinishedByParse(const store::Entry& entry) {
  size_t n = entry.history.size();
  return n >= 2 && protocol::IsFinal(entry.status) &&
         entry.history[n - 2].status == EntryStatus::kParsing &&
         (entry.status == EntryStatus::kCompleted || !entry.result_counts.empty());
}

bool NotIndexedOnPurpose(const store::Entry& entry) {
  return std::any_of(entry.parse_warnings.begin(), entry.parse_warnings.end(),
                     [](const std::string& w) { return w.starts_with("results not indexed"); });
}

std::string CountsText(const store::StatusCounts& counts) {
  std::string out;
  for (size_t i = 0; i < store::kResultStatusCount; ++i) {
    if (counts.by_status[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", counts.by_status[i],
                       store::ResultStatusName(static_cast<store::ResultStatus>(i)));
  }
  return out.empty() ? "none" : out;
}

store::StatusCounts CountsOf(const std::map<std::string, uint64_t>& by_name) {
  store::StatusCounts counts;
  for (const auto& [name, n] : by_name) {
    if (auto status = store::ParseResultStatus(name)) counts[*status] = n;
  }
  return counts;
}

class Checker {
 public:
  Checker(const std::string& data_dir, const std::string& store, StoreCheckReport* report)
      : data_dir_(data_dir), store_spec_(store), report_(report) {}

  Status Run() {
    store::StoreOptions options;
    options.read_only = true;
    std::error_code ec;
    if (store_spec_.empty() && !std::filesystem::exists(data_dir_ + "/db/data.mdb", ec)) {
      return Status::NotFound("no coordinator store in " + data_dir_ + " (no db/data.mdb)");
    }
    auto store = store::Store::Open(store_spec_.empty() ? data_dir_ + "/db" : store_spec_, options);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    LABMESH_RETURN_IF_ERROR(Load());
    CheckJobs();
    CheckEntries();
    CheckHosts();
    LABMESH_RETURN_IF_ERROR(CheckIndex());
    LABMESH_RETURN_IF_ERROR(CheckResultsTree());
    return Status::Ok();
  }

 private:
  template <typename... Args>
  void Problem(fmt::format_string<Args...> format, Args&&... args) {
    report_->problems.push_back(fmt::format(format, std::forward<Args>(args)...));
  }

  Status Load() {
    auto jobs = store_->ListJobs();
    if (!jobs.ok()) return jobs.status();
    for (store::Job& job : *jobs) jobs_.emplace(job.id, std::move(job));
    auto entries = store_->ListEntries();
    if (!entries.ok()) return entries.status();
    for (store::Entry& entry : *entries) entries_.emplace(entry.id, std::move(entry));
    auto hosts = store_->ListHosts();
    if (!hosts.ok()) return hosts.status();
    for (store::Host& host : *hosts) hosts_.emplace(host.hostname, std::move(host));
    report_->jobs = jobs_.size();
    report_->entries = entries_.size();
    report_->hosts = hosts_.size();
    return Status::Ok();
  }

  // Jobs <-> entries: each lists only its own entries, each entry is listed by its job, and a
  // job is finished exactly when all of its entries are.
  void CheckJobs() {
    for (const auto& [id, job] : jobs_) {
      bool all_final = !job.entry_ids.empty();
      std::set<uint64_t> seen;
      for (uint64_t entry_id : job.entry_ids) {
        if (!seen.insert(entry_id).second) Problem("job {}: lists entry {} twice", id, entry_id);
        auto it = entries_.find(entry_id);
        if (it == entries_.end()) {
          Problem("job {}: lists entry {}, which does not exist", id, entry_id);
          all_final = false;
          continue;
        }
        if (it->second.job_id != id) {
          Problem("job {}: lists entry {}, which belongs to job {}", id, entry_id,
                  it->second.job_id);
        }
        if (!protocol::IsFinal(it->second.status)) all_final = false;
      }
      if (job.finished_us != 0 && !all_final) {
        Problem("job {}: finished, but not all of its entries are final", id);
      } else if (job.finished_us == 0 && all_final) {
        Problem("job {}: every entry is final, but the job is not finished", id);
      }
    }
  }

  // Each entry: its job, its status against its history, its host.
  void CheckEntries() {
    for (const auto& [id, entry] : entries_) {
      auto job = jobs_.find(entry.job_id);
      if (job == jobs_.end()) {
        Problem("entry {}: belongs to job {}, which does not exist", id, entry.job_id);
      } else if (std::find(job->second.entry_ids.begin(), job->second.entry_ids.end(), id) ==
                 job->second.entry_ids.end()) {
        Problem("entry {} (job {}): not listed by its job", id, entry.job_id);
      }
      CheckHistory(entry);
      if (entry.status != EntryStatus::kQueued && entry.hostname.empty()) {
        Problem("entry {} (job {}): {} without a host", id, entry.job_id, StatusText(entry.status));
      }
      if (job != jobs_.end() && entry.retries > job->second.retry) {
        Problem("entry {} (job {}): retried {} times, the job allows {}", id, entry.job_id,
                entry.retries, job->second.retry);
      }
      if (HoldsItsHost(entry.status)) {
        if (!hosts_.count(entry.hostname)) {
          Problem("entry {} (job {}): {} on host {}, which does not exist", id, entry.job_id,
                  StatusText(entry.status), entry.hostname);
        }
        auto [held, fresh] = holder_.emplace(entry.hostname, id);
        if (!fresh) {
          Problem("host {}: held by entry {} and entry {} at once", entry.hostname, held->second,
                  id);
        }
      }
    }
  }

  void CheckHistory(const store::Entry& entry) {
    const auto& h = entry.history;
    if (h.empty()) {
      Problem("entry {} (job {}): no history", entry.id, entry.job_id);
      return;
    }
    if (h.front().status != EntryStatus::kQueued) {
      Problem("entry {} (job {}): history starts with {}, not Queued", entry.id, entry.job_id,
              StatusText(h.front().status));
    }
    for (size_t i = 1; i < h.size(); ++i) {
      if (!CanTransition(h[i - 1].status, h[i].status)) {
        Problem("entry {} (job {}): history moves {} -> {}, which is not allowed", entry.id,
                entry.job_id, StatusText(h[i - 1].status), StatusText(h[i].status));
      }
      if (h[i].at_us < h[i - 1].at_us) {
        Problem("entry {} (job {}): history goes back in time at {}", entry.id, entry.job_id,
                StatusText(h[i].status));
      }
    }
    if (h.back().status != entry.status) {
      Problem("entry {} (job {}): status {} but history ends in {}", entry.id, entry.job_id,
              StatusText(entry.status), StatusText(h.back().status));
    }
    bool final = protocol::IsFinal(entry.status);
    if (final && entry.finished_us == 0) {
      Problem("entry {} (job {}): {} without a finish time", entry.id, entry.job_id,
              StatusText(entry.status));
    } else if (!final && entry.finished_us != 0) {
      Problem("entry {} (job {}): {} but has a finish time", entry.id, entry.job_id,
              StatusText(entry.status));
    }
  }

  // Hosts <-> entries: a Running or Pending host is held by an entry, an entry's hold is
  // matched by its host's status, and the host's last task exists.
  void CheckHosts() {
    for (const auto& [name, host] : hosts_) {
      auto held = holder_.find(name);
      if ((host.status == HostStatus::kRunning || host.status == HostStatus::kPending) &&
          held == holder_.end()) {
        Problem("host {}: {} but no entry holds it", name, protocol::HostStatusName(host.status));
      }
      if (host.last_task_id != 0) {
        auto task = store_->GetTask(host.last_task_id);
        if (task.ok() && !task->has_value()) {
          Problem("host {}: last task {} does not exist", name, host.last_task_id);
        } else if (task.ok() && (*task)->hostname != name) {
          Problem("host {}: last task {} is of host {}", name, host.last_task_id,
                  (*task)->hostname);
        }
      }
    }
    auto max_task = store_->MaxTaskId();
    if (max_task.ok()) report_->tasks = *max_task;
  }

  std::string EntryDirOf(const store::Entry& entry) const {
    const store::Job& job = jobs_.at(entry.job_id);
    return ResultsRepository::EntryDir(job.id, job.owner, entry.hostname);
  }

  // The results index against the store and the files: every indexed entry exists, its
  // records name its host and files that exist, its counts are the entry's; every entry whose
  // status came from its parse is indexed.
  Status CheckIndex() {
    store::ResultsIndexOptions options;
    options.read_only = true;
    auto index = store::ResultsIndex::Open(data_dir_ + "/results-index", options);
    std::set<uint64_t> indexed;
    if (!index.ok() && index.status().code() != StatusCode::kNotFound) return index.status();
    if (index.ok()) {
      auto listed = (*index)->ListEntries();
      if (!listed.ok()) return listed.status();
      report_->indexed_entries = listed->size();
      for (const store::IndexedEntry& ie : *listed) {
        indexed.insert(ie.entry_id);
        report_->results += ie.record_ids.size();
        auto it = entries_.find(ie.entry_id);
        if (it == entries_.end() || it->second.job_id != ie.job_id ||
            !jobs_.count(ie.job_id)) {
          Problem("results index: entry {} of job {} is not in the store", ie.entry_id,
                  ie.job_id);
          continue;
        }
        const store::Entry& entry = it->second;
        const store::ResultsState state = jobs_.at(ie.job_id).results_state;
        if (state == store::ResultsState::kRemoved) {
          Problem("results index: entry {} of job {} is indexed, but the job's results were "
                  "removed",
                  ie.entry_id, ie.job_id);
          continue;
        }
        if (state == store::ResultsState::kRemoving) continue;  // retention is under way
        if (!EverWas(entry, EntryStatus::kParsing)) {
          Problem("results index: entry {} (job {}) is indexed but was never parsed", entry.id,
                  entry.job_id);
        }
        if (FinishedByParse(entry) && CountsOf(entry.result_counts) != ie.counts) {
          Problem("entry {} (job {}): counts {} but the results index has {}", entry.id,
                  entry.job_id, CountsText(CountsOf(entry.result_counts)),
                  CountsText(ie.counts));
        }
        std::set<std::string> files_checked;
        for (uint64_t record_id : ie.record_ids) {
          auto record = (*index)->Get(record_id);
          if (!record.ok()) return record.status();
          if (!record->has_value()) {
            Problem("results index: record {} of entry {} is missing", record_id, entry.id);
            continue;
          }
          const store::ResultRecord& r = **record;
          if (r.job_id != entry.job_id || r.entry_id != entry.id ||
              r.hostname != entry.hostname) {
            Problem("results index: record {} names job {} entry {} host {}, not {} {} {}",
                    record_id, r.job_id, r.entry_id, r.hostname, entry.job_id, entry.id,
                    entry.hostname);
          }
          if (r.file.empty() || !files_checked.insert(r.file).second) continue;
          std::error_code ec;
          std::string path = data_dir_ + "/results/" + EntryDirOf(entry) + "/" + r.file;
          if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(path, ec))) {
            Problem("results index: record {} of entry {} (job {}) comes from {}, which is "
                    "missing",
                    record_id, entry.id, entry.job_id, EntryDirOf(entry) + "/" + r.file);
          }
        }
      }
    }
    for (const auto& [id, entry] : entries_) {
      if (FinishedByParse(entry) && !indexed.count(id) && !NotIndexedOnPurpose(entry) &&
          ResultsPresent(entry.job_id)) {
        Problem("entry {} (job {}): {} from its results, but they are not in the results index",
                id, entry.job_id, StatusText(entry.status));
      }
    }
    return Status::Ok();
  }

  // The results tree against the jobs: DATA_DIR/results/<job>-<owner>/<host> for a job that
  // exists and a host one of its entries was given, and one for every entry that uploaded.
  Status CheckResultsTree() {
    namespace fs = std::filesystem;
    const fs::path root = data_dir_ + "/results";
    std::error_code ec;
    std::set<std::string> dirs;
    if (fs::is_directory(root, ec)) {
      for (const fs::directory_entry& job_dir : fs::directory_iterator(root, ec)) {
        std::string name = job_dir.path().filename().string();
        size_t dash = name.find('-');
        uint64_t job_id = 0;
        try {
          if (dash != std::string::npos) job_id = std::stoull(name.substr(0, dash));
        } catch (const std::exception&) {
          job_id = 0;
        }
        auto job = jobs_.find(job_id);
        if (job == jobs_.end() ||
            ResultsRepository::EntryDir(job_id, job->second.owner, "x") != name + "/x") {
          Problem("results/{}: no such job", name);
          continue;
        }
        if (job->second.results_state == store::ResultsState::kRemoved) {
          Problem("results/{}: the job's results were removed ({})", name,
                  job->second.results_removed_reason);
        }
        for (const fs::directory_entry& host_dir : fs::directory_iterator(job_dir.path(), ec)) {
          std::string host = host_dir.path().filename().string();
          dirs.insert(name + "/" + host);
          ++report_->result_dirs;
          if (!GivenTo(job->second, host)) {
            Problem("results/{}/{}: no entry of job {} was given host {}", name, host, job_id,
                    host);
          }
        }
      }
      if (ec) return Status::Internal("read " + root.string() + ": " + ec.message());
    }
    for (const auto& [id, entry] : entries_) {
      if (EverWas(entry, EntryStatus::kParsing) && ResultsPresent(entry.job_id) &&
          !dirs.count(EntryDirOf(entry))) {
        Problem("entry {} (job {}): uploaded, but results/{} is missing", id, entry.job_id,
                EntryDirOf(entry));
      }
    }
    return Status::Ok();
  }

  // Whether the job exists and its results were not removed (nor are being removed) by
  // retention (docs/retention.md): only then must its files and index rows be there.
  bool ResultsPresent(uint64_t job_id) const {
    auto job = jobs_.find(job_id);
    return job != jobs_.end() && job->second.results_state == store::ResultsState::kPresent;
  }

  // Whether an entry of `job` was ever given `host` (its host now, or before a retry).
  bool GivenTo(const store::Job& job, const std::string& host) {
    for (uint64_t id : job.entry_ids) {
      auto it = entries_.find(id);
      if (it != entries_.end() && it->second.hostname == host) return true;
    }
    auto given = store_->ListHostEntries(host, SIZE_MAX);
    return given.ok() && std::any_of(given->begin(), given->end(), [&](const store::Entry& e) {
             return e.job_id == job.id;
           });
  }

  std::string data_dir_;
  std::string store_spec_;  // --store; "" = DATA_DIR/db
  StoreCheckReport* report_;
  std::unique_ptr<store::Store> store_;
  std::map<uint64_t, store::Job> jobs_;
  std::map<uint64_t, store::Entry> entries_;
  std::map<std::string, store::Host> hosts_;
  std::map<std::string, uint64_t> holder_;  // host -> the entry holding it
};

}  // namespace

std::string StoreCheckReport::Summary() const {
  std::string counts = fmt::format(
      "{} jobs, {} entries, {} hosts, {} tasks, {} indexed entries, {} results, {} result "
      "directories",
      jobs, entries, hosts, tasks, indexed_entries, results, result_dirs);
  if (clean()) return "clean: " + counts;
  return fmt::format("{} problem{}: {}", problems.size(), problems.size() == 1 ? "" : "s",
                     counts);
}

Result<StoreCheckReport> CheckDataDir(const std::string& data_dir, const std::string& store) {
  StoreCheckReport report;
  Checker checker(data_dir, store, &report);
  LABMESH_RETURN_IF_ERROR(checker.Run());
  return report;
}

}  // namespace labmesh::coordinator
