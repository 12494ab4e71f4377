// PowerService, its consoles: the readers of the hosts' console commands, the rolling logs, the
// running entries' console.log, the panic patterns, and HostConsoleRequest (docs/power-console.md).
// The operations are in power_service.cpp.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "power_files.hpp"
#include "power_service.hpp"
#include "results_repository.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;

namespace {

constexpr uint32_t kDefaultConsoleRead = 64 * 1024;
constexpr uint32_t kMaxConsoleRead = 1 << 20;
constexpr size_t kMaxMatchedLine = 1024;   // of a console line, matched against the patterns
constexpr size_t kMaxPartialLine = 64 * 1024;  // an endless line is matched in pieces

}  // namespace

std::string FileRange(const std::string& path, uint64_t from, uint64_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in || count == 0) return "";
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(count, '\0');
  in.read(out.data(), static_cast<std::streamsize>(count));
  out.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return out;
}

uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

std::vector<std::string> BaseEnvironment(const std::string& hostname) {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "LANG=C.UTF-8", "LABMESH_HOST=" + hostname};
}

std::string PowerService::HandleConsole(const protocol::Envelope& e) const {
  auto req = protocol::DecodeBody<protocol::HostConsoleRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  const store::Host* host = registry_->Staged(req->hostname);
  if (host == nullptr || host->enrollment != store::Enrollment::kAccepted) {
    return protocol::ErrorFrame(e.request_id, Status::NotFound("no host named " + req->hostname));
  }
  protocol::HostConsoleReply reply;
  reply.hostname = req->hostname;
  reply.configured = !host->console_command.empty();
  const std::string current = ConsolePath(req->hostname);
  const std::string older = current + ".1";
  uint64_t dropped = 0;
  auto console = consoles_.find(req->hostname);
  if (console != consoles_.end()) {
    reply.reading = console->second.runner != nullptr;
    dropped = console->second.dropped;
  }
  const uint64_t older_size = FileSize(older);
  const uint64_t current_size = FileSize(current);
  const uint64_t first = dropped;
  const uint64_t end = dropped + older_size + current_size;
  const uint64_t max = req->max_bytes == 0 ? kDefaultConsoleRead
                                           : std::min<uint32_t>(req->max_bytes, kMaxConsoleRead);
  uint64_t from = req->offset < 0 ? (end > max ? end - max : 0)
                                  : static_cast<uint64_t>(req->offset);
  from = std::clamp(from, first, end);
  const uint64_t count = std::min(max, end - from);
  std::string data;
  uint64_t at = from - first;  // within older + current
  if (at < older_size) {
    data = FileRange(older, at, std::min(count, older_size - at));
    at += data.size();
  }
  if (data.size() < count && at >= older_size) {
    data += FileRange(current, at - older_size, count - data.size());
  }
  reply.offset = from;
  reply.next_offset = from + data.size();
  reply.data.assign(data.begin(), data.end());
  return protocol::Encode(reply, e.request_id);
}

// ---- operations ----


std::string PowerService::ConsolePath(const std::string& hostname) const {
  return console_dir_ + "/" + hostname + ".log";
}

void PowerService::StartConsole(const std::string& hostname) {
  const store::Host* host = registry_->Staged(hostname);
  if (host == nullptr || host->console_command.empty() ||
      host->enrollment != store::Enrollment::kAccepted) {
    return;
  }
  Console& console = consoles_[hostname];
  console.log_path = ConsolePath(hostname);
  auto matcher = PanicMatcher::Compile(host->panic_patterns);
  console.matcher = matcher.ok() ? std::move(*matcher) : *PanicMatcher::Compile({});
  auto command =
      ExpandCommand(host->console_command, CommandVariables(*host), host->secret_attributes);
  if (!command.ok()) {
    spdlog::error("host={} console not started: {}", hostname, command.status().message());
    console.restart_at_ms = 0;
    return;
  }
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", *command};
  spec.die_with_parent = true;
  spec.env = BaseEnvironment(hostname);
  for (std::string& secret : SecretEnvironment(*host)) spec.env.push_back(std::move(secret));
  spec.cwd = console_dir_;
  spec.log_path = console.log_path;
  auto runner = Runner::Start(spec);
  if (!runner.ok()) {
    spdlog::warn("host={} console command could not start: {}", hostname,
                 runner.status().message());
    console.restart_at_ms = clock_->SteadyMs() + config_.console_restart_ms;
    return;
  }
  console.runner = std::move(*runner);
  console.processed = console.runner->log_size();  // what is there already was looked at
  console.partial.clear();
  console.restart_at_ms = 0;
  spdlog::info("host={} console reader started", hostname);
}

void PowerService::StopConsole(const std::string& hostname) {
  consoles_.erase(hostname);  // the Runner kills and reaps the command
}

void PowerService::ServiceConsole(const std::string& hostname, Console& console) {
  if (console.runner == nullptr) return;
  console.runner->Service(clock_->SteadyMs());
  uint64_t size = console.runner->log_size();
  if (size > console.processed) {
    OnConsoleBytes(hostname, console,
                   FileRange(console.log_path, console.processed, size - console.processed));
    console.processed = size;
  }
  // Rotation: the current file holds up to half the cap, the older half is in .log.1.
  if (size > config_.console_log_max_bytes / 2) {
    std::error_code ec;
    console.dropped += FileSize(console.log_path + ".1");
    std::filesystem::rename(console.log_path, console.log_path + ".1", ec);
    if (Status s = console.runner->ReopenLog(console.log_path); !s.ok()) {
      spdlog::warn("host={} console log: {}", hostname, s.message());
    }
    console.processed = console.runner->log_size();
  }
  if (console.runner->finished()) {
    std::string how = console.runner->exit_code() >= 0
                          ? "exit status " + std::to_string(console.runner->exit_code())
                          : "signal " + std::to_string(console.runner->term_signal());
    console.runner.reset();
    std::ofstream(console.log_path, std::ios::app)
        << "\n[labmesh] console command ended (" << how << "); started again in "
        << FormatDurationMs(config_.console_restart_ms) << "\n";
    console.restart_at_ms = clock_->SteadyMs() + config_.console_restart_ms;
    spdlog::info("host={} console command ended ({})", hostname, how);
  }
}

void PowerService::OnConsoleBytes(const std::string& hostname, Console& console,
                                  const std::string& bytes) {
  if (bytes.empty()) return;
  console.bytes_read += bytes.size();
  // While an entry runs on the host, its results get the console too.
  const store::Entry* entry = nullptr;
  if (uint64_t id = core_->scheduler().BusyWith(hostname); id != 0) {
    entry = core_->jobs().FindEntry(id);
  }
  if (entry != nullptr && !protocol::IsFinal(entry->status)) {
    const JobService::ActiveJob* job = core_->jobs().FindJob(entry->job_id);
    if (job != nullptr) {
      std::string dir =
          results_root_ + "/" + ResultsRepository::EntryDir(entry->job_id, job->job.owner, hostname);
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      std::ofstream(dir + "/console.log", std::ios::app | std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }
  console.partial += bytes;
  size_t start = 0;
  for (size_t nl = console.partial.find('\n'); nl != std::string::npos;
       nl = console.partial.find('\n', start)) {
    std::string line = console.partial.substr(start, std::min(nl - start, kMaxMatchedLine));
    start = nl + 1;
    std::erase(line, '\r');
    if (console.matcher.Matches(line)) OnPanic(hostname, console, line);
  }
  console.partial.erase(0, start);
  if (console.partial.size() > kMaxPartialLine) console.partial.clear();
}

void PowerService::OnPanic(const std::string& hostname, Console& console,
                           const std::string& line) {
  console.last_panic = line;
  console.last_panic_ms = clock_->WallMs();
  spdlog::warn("host={} console: {}", hostname, line);
  if (uint64_t id = core_->scheduler().BusyWith(hostname); id != 0) {
    store::Entry* entry = core_->jobs().FindEntry(id);
    if (entry != nullptr && !protocol::IsFinal(entry->status) && !entry->crash) {
      entry->crash = true;
      entry->crash_line = line;
      core_->jobs().MarkDirty(*entry);
      spdlog::warn("job={} entry={} host={} crash on the console: {}", entry->job_id, entry->id,
                   hostname, line);
    }
  }
  if (config_.panic_grace_ms > 0 && console.panic_deadline_ms == 0) {
    console.panic_seen_ms = clock_->SteadyMs();
    console.panic_deadline_ms = console.panic_seen_ms + config_.panic_grace_ms;
  }
}

// ---- the loop ----


}  // namespace labmesh::coordinator
