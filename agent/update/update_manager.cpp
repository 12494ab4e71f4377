// UpdateManager: an Update task on the agent; see update_manager.hpp and docs/update.md.

#include "update/update_manager.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <vector>

#include "update/package.hpp"
#include "update/update_task.hpp"
#include "work/builtin_checks.hpp"
#include "work/runner.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxBadAnswers = 8;  // unusable chunks in a row before the download fails

}  // namespace

UpdateManager::UpdateManager(const AgentConfig& config, const Clock* clock, std::string hostname,
                             SendFn send, Hooks hooks)
    : config_(config),
      clock_(clock),
      hostname_(std::move(hostname)),
      send_(std::move(send)),
      hooks_(std::move(hooks)),
      self_exe_(SelfExe()),
      trial_fd_(config.update_trial_fd) {
  std::error_code ec;
  work_dir_ = fs::absolute(config_.work_dir, ec).lexically_normal().string();
  if (!work_dir_.empty() && work_dir_.back() == '/') work_dir_.pop_back();
}

UpdateManager::~UpdateManager() {
  if (trial_fd_ >= 0) {
    spdlog::warn("host={} version {} stopped before it registered; the watchdog rolls back",
                 hostname_, config_.version);
    char byte = kTrialStopped;
    if (write(trial_fd_, &byte, 1) != 1) {
      // The watchdog is gone or the pipe broke: it sees EOF and rolls back anyway.
    }
    close(trial_fd_);
  }
}

std::string UpdateManager::PartPath(const std::string& sha256) const {
  return work_dir_ + "/update/" + sha256 + ".part";
}

uint64_t UpdateManager::downloaded_bytes() const { return task_ ? task_->have : 0; }

void UpdateManager::Load() {
  auto loaded = LoadUpdateState(work_dir_);
  if (!loaded.ok()) {
    spdlog::error("host={} {}; starting with empty update state", hostname_,
                  loaded.status().ToString());
    return;
  }
  state_ = std::move(*loaded);
  if (state_.failure.task_id != 0) {
    spdlog::warn("host={} task={} update to {} failed: {}; reporting it at registration",
                 hostname_, state_.failure.task_id, state_.failure.version,
                 state_.failure.reason);
  }
}

void UpdateManager::Save() {
  if (Status s = SaveUpdateState(work_dir_, state_); !s.ok()) {
    spdlog::error("host={} {}", hostname_, s.ToString());
  }
}

void UpdateManager::FillHello(protocol::AgentHello* hello) const {
  hello->update_report = UpdateReport();
}

protocol::TaskReport UpdateManager::UpdateReport() const {
  protocol::TaskReport report;
  if (state_.failure.task_id == 0) return report;
  report.task_id = state_.failure.task_id;
  report.kind = "Update";
  report.passed = false;
  report.reason = state_.failure.reason;
  report.checks.push_back({"trial", false, state_.failure.reason, 0});
  const_cast<UpdateManager*>(this)->failure_reported_ = true;
  return report;
}

void UpdateManager::OnWelcome() {
  connected_ = true;
  send_retry_ms_ = 0;
  if (trial_fd_ >= 0) PassTrial();
  if (failure_reported_ && state_.failure.task_id != 0) {
    spdlog::info("host={} task={} rollback reported", hostname_, state_.failure.task_id);
    state_.failure = {};
    Save();
  }
  failure_reported_ = false;
  if (report_unsent_) SendReport();
  if (task_ && task_->phase == Task::Phase::kDownload) {
    task_->request_id = 0;  // answers to requests of the old connection are ignored
    if (task_->hashes_request_id != 0) AskChunkHashes(clock_->SteadyMs());
    RequestChunk(clock_->SteadyMs());
  }
}

void UpdateManager::OnDisconnected() {
  connected_ = false;
  failure_reported_ = false;
  if (task_) task_->request_id = 0;
}

void UpdateManager::PassTrial() {
  char byte = kTrialPassed;
  if (write(trial_fd_, &byte, 1) != 1) {
    spdlog::error("host={} cannot tell the watchdog the trial passed", hostname_);
  }
  close(trial_fd_);
  trial_fd_ = -1;
  const UpdateState::Trial trial = state_.trial;
  spdlog::info("host={} task={} version {} registered: the update is confirmed", hostname_,
               trial.task_id, config_.version);
  state_.current_version = config_.version;
  state_.trial = {};
  Save();
  // Keep the running version, the last known good and the one before the update.
  std::vector<std::string> keep = {CurrentVersion(work_dir_), config_.version,
                                   state_.last_good_version, trial.from_version};
  for (const std::string& dir : VersionsToPrune(work_dir_, keep)) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    spdlog::info("host={} removed old version {}{}", hostname_, dir, ec ? ": " + ec.message() : "");
  }
}

void UpdateManager::OnEntryDone() {
  if (state_.last_good_version == config_.version && state_.last_good_exe == self_exe_) return;
  state_.last_good_version = config_.version;
  state_.last_good_exe = self_exe_;
  spdlog::info("host={} version {} ({}) is the last known good", hostname_, config_.version,
               self_exe_);
  Save();
}

bool UpdateManager::Handle(const protocol::Envelope& envelope) {
  using T = protocol::MessageType;
  if (envelope.type == T::kRunTask) {
    auto run = protocol::DecodeBody<protocol::RunTask>(envelope);
    if (!run.ok() || protocol::ParseTaskKind(run->kind) != protocol::TaskKind::kUpdate) {
      return false;  // TaskManager's (it logs what it cannot read)
    }
    Start(*run);
    return true;
  }
  if (envelope.type == T::kPackageChunk) {
    auto chunk = protocol::DecodeBody<protocol::PackageChunk>(envelope);
    if (!chunk.ok()) {
      spdlog::warn("host={} undecodable PackageChunk: {}", hostname_, chunk.status().ToString());
      if (task_ && envelope.request_id == task_->request_id) {
        task_->request_id = 0;
        ++task_->bad_answers;
      }
      return true;
    }
    OnChunk(envelope.request_id, *chunk);
    return true;
  }
  if (envelope.type == T::kPackageChunks) {
    if (!task_ || task_->hashes_request_id == 0 ||
        envelope.request_id != task_->hashes_request_id) {
      return true;  // late: ignored
    }
    auto chunks = protocol::DecodeBody<protocol::PackageChunks>(envelope);
    task_->hashes_request_id = 0;
    if (!chunks.ok() || !task_->fetch->SetChunks(*chunks, task_->run.package_sha256,
                                                 task_->run.package_bytes)) {
      MeshOff("the coordinator's chunk SHA-256s do not fit the package");
    }
    RequestChunk(clock_->SteadyMs());
    return true;
  }
  if (envelope.type == T::kError && task_ && task_->hashes_request_id != 0 &&
      envelope.request_id == task_->hashes_request_id) {
    task_->hashes_request_id = 0;  // an older coordinator: no mesh
    MeshOff("the coordinator gives no chunk SHA-256s");
    RequestChunk(clock_->SteadyMs());
    return true;
  }
  if (envelope.type == T::kError) {
    if (!task_ || task_->request_id == 0 || envelope.request_id != task_->request_id) {
      return false;
    }
    auto error = protocol::DecodeBody<protocol::ErrorReply>(envelope);
    Fail("download",
         "the coordinator refused the chunk at " + std::to_string(task_->have) + ": " +
             (error.ok() ? error->ToStatus().ToString() : std::string("(unreadable error)")),
         task_->started_ms);
    return true;
  }
  return false;
}

void UpdateManager::Start(const protocol::RunTask& run) {
  const uint64_t id = run.task_id;
  if (task_ && task_->run.task_id == id) {
    if (task_->phase == Task::Phase::kDownload) {
      spdlog::info("host={} task={} repeated; asking again from byte {}", hostname_, id,
                   task_->have);
      task_->request_id = 0;
      RequestChunk(clock_->SteadyMs());
    }
    return;
  }
  if (plan_ && plan_->task_id == id) return;  // about to exec it
  if (last_report_ && last_report_->task_id == id) {
    spdlog::info("host={} task={} already finished; sending its report again", hostname_, id);
    SendReport();
    return;
  }
  if (plan_) {
    spdlog::warn("host={} task={} ignored: task={} is about to exec", hostname_, id,
                 plan_->task_id);
    return;
  }
  if (task_) {
    spdlog::warn("host={} task={} replaces update task={}", hostname_, id, task_->run.task_id);
    task_.reset();
  }
  const int64_t now = clock_->SteadyMs();
  task_ = std::make_unique<Task>();
  Task& t = *task_;
  t.run = run;
  t.report.task_id = id;
  t.report.kind = "Update";
  t.started_ms = now;
  spdlog::info("host={} task={} update {} -> {} ({} bytes, sha256 {})", hostname_, id,
               config_.version, run.version, run.package_bytes, run.package_sha256);
  if (hooks_.entry_held && hooks_.entry_held()) {
    return Fail("no-entry-held", "an entry is held; the agent updates only when idle", now);
  }
  if (!protocol::IsValidVersion(run.version)) {
    return Fail("task", "'" + run.version + "' is not a version", now);
  }
  if (!IsHexDigest(run.package_sha256)) {
    return Fail("task", "'" + run.package_sha256 + "' is not a SHA-256", now);
  }
  if (run.package_bytes == 0 || run.package_bytes > protocol::kMaxPackageBytes) {
    return Fail("task", "a package of " + std::to_string(run.package_bytes) + " bytes", now);
  }
  std::error_code ec;
  fs::create_directories(work_dir_ + "/update", ec);
  // Other downloads are abandoned: only this package is wanted now.
  for (const auto& item : fs::directory_iterator(work_dir_ + "/update", ec)) {
    const fs::path& p = item.path();
    if (p.extension() == ".part" && p.stem() != run.package_sha256) fs::remove(p, ec);
  }
  const std::string part = PartPath(run.package_sha256);
  t.fd = open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (t.fd < 0) return Fail("download", "cannot open " + part + ": " + strerror(errno), now);
  struct stat st {};
  fstat(t.fd, &st);
  t.hasher = std::make_unique<Sha256Hasher>();
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > run.package_bytes && ftruncate(t.fd, 0) == 0) size = 0;
  const bool mesh = hooks_.context != nullptr && !config_.peer_listen.empty();
  if (mesh && size < run.package_bytes) {
    size -= size % protocol::kMeshChunkBytes;  // mesh fetches go by whole chunks
  }
  // Resume: the bytes on disk are hashed once (blocking, bounded by the package size).
  std::vector<char> buffer(256 * 1024);
  while (t.have < size) {
    ssize_t n = pread(t.fd, buffer.data(), std::min<uint64_t>(buffer.size(), size - t.have),
                      static_cast<off_t>(t.have));
    if (n <= 0) break;
    t.hasher->Update({buffer.data(), static_cast<size_t>(n)});
    t.have += static_cast<uint64_t>(n);
  }
  if (t.have != size && ftruncate(t.fd, static_cast<off_t>(t.have)) != 0) {
    return Fail("download", "cannot truncate " + part, now);
  }
  if (t.have > 0) {
    spdlog::info("host={} task={} resuming the download at byte {}", hostname_, id, t.have);
  }
  if (t.have == run.package_bytes) return Downloaded(now);
  if (mesh) {
    t.fetch = std::make_unique<MeshFetch>(hooks_.context, hostname_, config_.peer_timeout_ms);
    AskChunkHashes(now);
  }
  RequestChunk(now);
}

void UpdateManager::AskChunkHashes(int64_t now) {
  Task& t = *task_;
  uint64_t request_id = hooks_.next_request_id ? hooks_.next_request_id() : 1;
  t.hashes_request_id = request_id;  // until answered, no chunk is asked
  t.hashes_sent_ms = now;
  if (connected_) send_(protocol::Encode(protocol::PackageChunksRequest{t.run.package_sha256},
                                         request_id));
}

void UpdateManager::MeshOff(const std::string& why) {
  if (!task_ || !task_->fetch) return;
  spdlog::info("host={} task={} fetching from the coordinator only: {}", hostname_,
               task_->run.task_id, why);
  task_->fetch.reset();
  task_->hashes_request_id = 0;
}

std::optional<HeldPackage> UpdateManager::Partial(const std::string& sha256) const {
  if (!task_ || task_->phase != Task::Phase::kDownload || task_->run.package_sha256 != sha256) {
    return std::nullopt;
  }
  return HeldPackage{PartPath(sha256), task_->have, task_->run.package_bytes};
}

void UpdateManager::RequestChunk(int64_t now) {
  if (!task_ || task_->phase != Task::Phase::kDownload || !connected_) return;
  Task& t = *task_;
  if (t.request_id != 0 || t.have >= t.run.package_bytes || now < t.next_request_ms) return;
  if (t.hashes_request_id != 0 || (t.fetch && t.fetch->busy())) return;
  uint64_t size = std::clamp<uint64_t>(config_.update_chunk_bytes, 1, protocol::kMaxPackageChunkBytes);
  if (config_.update_rate_limit_bytes > 0) size = std::min(size, config_.update_rate_limit_bytes);
  if (t.fetch) size = protocol::kMeshChunkBytes;  // whole chunks, as their SHA-256s cut them
  size = std::min(size, t.run.package_bytes - t.have);
  protocol::PackageChunkRequest request;
  request.sha256 = t.run.package_sha256;
  request.offset = t.have;
  request.max_bytes = static_cast<uint32_t>(size);
  request.mesh = t.fetch != nullptr;
  uint64_t request_id = hooks_.next_request_id ? hooks_.next_request_id() : 1;
  if (!send_(protocol::Encode(request, request_id))) {
    t.next_request_ms = now + kSendRetryMs;
    return;
  }
  t.request_id = request_id;
  t.request_bytes = size;
  t.request_sent_ms = now;
}

void UpdateManager::OnChunk(uint64_t request_id, const protocol::PackageChunk& chunk) {
  if (!task_ || task_->phase != Task::Phase::kDownload || request_id == 0 ||
      request_id != task_->request_id) {
    spdlog::debug("host={} PackageChunk for no outstanding request ignored", hostname_);
    return;
  }
  Task& t = *task_;
  const int64_t now = clock_->SteadyMs();
  t.request_id = 0;
  std::string problem;
  if (chunk.sha256 != t.run.package_sha256) {
    problem = "a chunk of another package";
  } else if (chunk.total_bytes != t.run.package_bytes) {
    problem = "total_bytes " + std::to_string(chunk.total_bytes) + ", the task said " +
              std::to_string(t.run.package_bytes);
  } else if (chunk.offset != t.have) {
    problem = "a chunk at " + std::to_string(chunk.offset) + ", asked for " + std::to_string(t.have);
  } else if (t.fetch && chunk.data.empty() && !chunk.peer.hostname.empty()) {
    t.bad_answers = 0;  // fetch it from that peer (OnPeerOutcome goes on)
    t.fetch->Start(chunk.peer, static_cast<uint32_t>(t.have / protocol::kMeshChunkBytes), now);
    return;
  } else if (t.fetch && chunk.data.empty() && chunk.retry_after_ms > 0) {
    t.bad_answers = 0;  // every peer holding it is busy
    t.next_request_ms = now + std::min<int64_t>(chunk.retry_after_ms, 5'000);
    return;
  } else if (t.fetch) {
    problem = t.fetch->Check(static_cast<uint32_t>(t.have / protocol::kMeshChunkBytes),
                             {chunk.data.data(), chunk.data.size()});
  } else if (chunk.data.empty() || chunk.data.size() > t.request_bytes) {
    problem = std::to_string(chunk.data.size()) + " bytes, asked for " +
              std::to_string(t.request_bytes);
  }
  if (!problem.empty()) {
    spdlog::warn("host={} task={} unusable PackageChunk: {}", hostname_, t.run.task_id, problem);
    if (++t.bad_answers >= kMaxBadAnswers) {
      return Fail("download", "the coordinator kept sending unusable chunks: " + problem,
                  t.started_ms);
    }
    return RequestChunk(now);
  }
  t.bad_answers = 0;
  Accept({chunk.data.data(), chunk.data.size()}, now);
}

void UpdateManager::OnPeerOutcome(const MeshFetch::Outcome& outcome, int64_t now) {
  if (!outcome.ok) {
    // The coordinator avoids that peer for us from now on and names another (or serves it).
    if (connected_) send_(protocol::Encode(outcome.bad));
    return RequestChunk(now);
  }
  ++task_->peer_chunks;
  Accept({outcome.data.data(), outcome.data.size()}, now);
}

void UpdateManager::Accept(std::string_view data, int64_t now) {
  Task& t = *task_;
  const size_t n = data.size();
  if (pwrite(t.fd, data.data(), n, static_cast<off_t>(t.have)) != static_cast<ssize_t>(n)) {
    return Fail("download", "cannot write " + PartPath(t.run.package_sha256) + ": " +
                                strerror(errno), t.started_ms);
  }
  t.hasher->Update(data);
  t.have += n;
  if (config_.update_rate_limit_bytes > 0) {
    // The time these bytes are worth at the cap counts from when they were asked for.
    const int64_t cost_ms = static_cast<int64_t>(
        (n * 1000 + config_.update_rate_limit_bytes - 1) / config_.update_rate_limit_bytes);
    t.next_request_ms = std::max(t.next_request_ms, t.request_sent_ms) + cost_ms;
  }
  if (t.have == t.run.package_bytes) return Downloaded(now);
  RequestChunk(now);
}

void UpdateManager::Downloaded(int64_t now) {
  Task& t = *task_;
  close(t.fd);
  t.fd = -1;
  std::string how = std::to_string(t.have) + " bytes";
  if (t.fetch) {
    const uint64_t chunks = (t.have + protocol::kMeshChunkBytes - 1) / protocol::kMeshChunkBytes;
    how += " in " + std::to_string(chunks) + " chunks, " + std::to_string(t.peer_chunks) +
           " from peers";
  }
  Check("download", true, how, t.started_ms);
  spdlog::info("host={} task={} downloaded {}", hostname_, t.run.task_id, how);
  t.started_ms = now;
  const std::string sha = t.hasher->Hex();
  if (sha != t.run.package_sha256) {
    std::error_code ec;
    fs::remove(PartPath(t.run.package_sha256), ec);  // the next try starts over
    return Fail("sha256", "the package's SHA-256 is " + sha + ", expected " +
                              t.run.package_sha256, now);
  }
  Check("sha256", true, sha, now);
  StartUnpack(clock_->SteadyMs());
}

void UpdateManager::Check(const std::string& name, bool passed, std::string output,
                          int64_t started_ms) {
  if (!task_) return;
  if (output.size() > protocol::kMaxTaskOutputBytes) {
    output = output.substr(output.size() - protocol::kMaxTaskOutputBytes);
  }
  task_->report.checks.push_back(
      {name, passed, std::move(output), std::max<int64_t>(0, clock_->SteadyMs() - started_ms)});
}

void UpdateManager::Fail(const std::string& step, const std::string& why, int64_t started_ms) {
  if (!task_) return;
  Check(step, false, why, started_ms);
  Task& t = *task_;
  t.report.passed = false;
  // The reason is one line: the last line of a multi-line output (tar's says what failed).
  std::string line = why;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (size_t nl = line.rfind('\n'); nl != std::string::npos) line = line.substr(nl + 1);
  t.report.reason = step + ": " + line;
  spdlog::error("host={} task={} update to {} failed: {}", hostname_, t.run.task_id,
                t.run.version, t.report.reason);
  if (!t.tmp_dir.empty()) {
    std::error_code ec;
    fs::remove_all(t.tmp_dir, ec);
  }
  last_report_ = std::move(t.report);
  task_.reset();
  SendReport();
}

void UpdateManager::SendReport() {
  if (!last_report_) return;
  report_unsent_ = true;
  if (!connected_) return;
  if (send_(protocol::Encode(*last_report_))) {
    report_unsent_ = false;
  } else {
    send_retry_ms_ = clock_->SteadyMs() + kSendRetryMs;
  }
}

void UpdateManager::AppendPollItems(std::vector<zmq_pollitem_t>* items) const {
  if (task_ && task_->fetch) task_->fetch->AppendPollItems(items);
  if (!task_ || !task_->tar) return;
  std::vector<int> fds;
  task_->tar->PollFds(&fds);
  for (int fd : fds) AppendPollFd(fd, items);
}

void UpdateManager::OnPolled(std::span<const zmq_pollitem_t> items) {
  if (!task_ || !task_->fetch || !task_->fetch->busy()) return;
  const int64_t now = clock_->SteadyMs();
  if (auto outcome = task_->fetch->Poll(items, now)) OnPeerOutcome(*outcome, now);
}

void UpdateManager::Service() {
  const int64_t now = clock_->SteadyMs();
  if (send_retry_ms_ != 0 && now >= send_retry_ms_) {
    send_retry_ms_ = 0;
    if (report_unsent_) SendReport();
  }
  if (!task_) return;
  if (task_->phase == Task::Phase::kUnpack) {
    if (task_->tar) ServiceUnpack(now);
    return;
  }
  Task& t = *task_;
  if (t.fetch && t.fetch->busy()) {
    if (auto outcome = t.fetch->Poll({}, now)) return OnPeerOutcome(*outcome, now);
    return;
  }
  if (t.hashes_request_id != 0 && now >= t.hashes_sent_ms + config_.update_chunk_timeout_ms) {
    MeshOff("no answer to the chunk SHA-256 request");
  }
  if (t.request_id != 0 && now >= t.request_sent_ms + config_.update_chunk_timeout_ms) {
    spdlog::warn("host={} task={} no answer to the chunk request at {} within {} ms; asking again",
                 hostname_, t.run.task_id, t.have, config_.update_chunk_timeout_ms);
    t.request_id = 0;
  }
  RequestChunk(now);
}

int64_t UpdateManager::NextDeadlineMs() const {
  int64_t next = send_retry_ms_ != 0 ? send_retry_ms_ : INT64_MAX;
  if (!task_) return next;
  const Task& t = *task_;
  const int64_t now = clock_->SteadyMs();
  if (t.phase == Task::Phase::kUnpack) {
    return t.tar ? std::min(next, t.tar->NextDeadlineMs(now)) : now;
  }
  if (t.fetch && t.fetch->busy()) return std::min(next, t.fetch->NextDeadlineMs());
  if (!connected_) return next;
  if (t.hashes_request_id != 0) {
    return std::min(next, t.hashes_sent_ms + config_.update_chunk_timeout_ms);
  }
  if (t.request_id != 0) return std::min(next, t.request_sent_ms + config_.update_chunk_timeout_ms);
  return std::min(next, std::max(now, t.next_request_ms));
}

}  // namespace labmesh::agent
