#include "retention_worker.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <utility>

#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

namespace fs = std::filesystem;

RetentionWorker::RetentionWorker(std::string results_root, store::ResultsIndex* index,
                                 store::Store* store)
    : results_root_(std::move(results_root)), index_(index), store_(store) {}

RetentionWorker::~RetentionWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void RetentionWorker::Start() {
  worker_ = std::thread([this] { Run(); });
}

void RetentionWorker::Submit(RemoveWork work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
}

std::vector<RemoveDone> RetentionWorker::TakeDone() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(done_, {});
}

void RetentionWorker::Run() {
  for (;;) {
    std::vector<RemoveWork> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      while (!queue_.empty() && batch.size() < kMaxJobsPerCommit) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Process(std::move(batch));
  }
}

void RetentionWorker::Process(std::vector<RemoveWork> batch) {
  std::vector<uint64_t> ids;
  for (const RemoveWork& work : batch) ids.push_back(work.job_id);
  // The jobs' `removing` marks on disk first: the loop committed them without an fsync. Then
  // the index: a crash after it leaves files that the next sweep removes (the job stays
  // `removing`), never index rows that point at files already gone.
  Status synced = store_->Sync();
  Result<std::vector<uint64_t>> rows =
      synced.ok() ? index_->DeleteJobs(ids) : Result<std::vector<uint64_t>>(synced);
  std::vector<RemoveDone> done(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    done[i].job_id = batch[i].job_id;
    if (!rows.ok()) {
      done[i].status = rows.status();
      continue;
    }
    done[i].index_rows = (*rows)[i];
    done[i].status = RemoveDir(batch[i].job_dir, &done[i]);
  }
  if (!rows.ok())
    spdlog::warn("retention: results index rows not removed: {}", rows.status().ToString());
  std::lock_guard<std::mutex> lock(mu_);
  for (RemoveDone& d : done) done_.push_back(std::move(d));
}

Status RetentionWorker::RemoveDir(const std::string& job_dir, RemoveDone* done) const {
  if (job_dir.empty() || job_dir.find('/') != std::string::npos || job_dir[0] == '.') {
    return Status::InvalidArgument("retention: bad results directory '" + job_dir + "'");
  }
  const fs::path root = fs::path(results_root_) / job_dir;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(root, ec))) return Status::Ok();
  for (const fs::directory_entry& host : fs::directory_iterator(root, ec)) {
    done->hosts.push_back(host.path().filename().string());
    ++done->dirs;
  }
  // Symlinks are never followed (the repository creates none; see ResultsRepository).
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code stat_ec;
    fs::file_status status = it->symlink_status(stat_ec);
    if (!stat_ec && fs::is_regular_file(status)) {
      ++done->files;
      uint64_t size = it->file_size(stat_ec);
      if (!stat_ec) done->bytes += size;
    }
  }
  if (ec) return Status::Internal("retention: read " + root.string() + ": " + ec.message());
  fs::remove_all(root, ec);
  if (ec) return Status::Internal("retention: remove " + root.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace labmesh::coordinator
