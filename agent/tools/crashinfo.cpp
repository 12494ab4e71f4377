// Crash collection; see crashinfo.hpp.

#include "crashinfo.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "labmesh/common/byte_size.hpp"

extern char** environ;

namespace labmesh::agent {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxCopiedFiles = 256;  // per source directory

// The end of a command's output (at most `cap` bytes) and how it ended.
struct Captured {
  bool started = false;
  std::string error;  // why it did not start
  std::string out;
  uint64_t total = 0;  // bytes it wrote in all
  int status = 0;
};

Captured Capture(const std::vector<std::string>& argv, uint64_t cap) {
  Captured c;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    c.error = std::string("pipe: ") + std::strerror(errno);
    return c;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    c.error = argv[0] + ": " + std::strerror(rc);
    return c;
  }
  c.started = true;
  char buf[65536];
  while (true) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    c.out.append(buf, static_cast<size_t>(n));
    c.total += static_cast<uint64_t>(n);
    if (c.out.size() > 2 * cap) c.out.erase(0, c.out.size() - cap);  // keep the end
  }
  close(fds[0]);
  if (c.out.size() > cap) c.out.erase(0, c.out.size() - cap);
  while (waitpid(pid, &c.status, 0) < 0 && errno == EINTR) {
  }
  return c;
}

class Collector {
 public:
  explicit Collector(std::string dir) : dir_(std::move(dir)) {}

  // Writes `name` (relative to crashinfo/) with the end of `text`, within the caps.
  void Write(const std::string& name, std::string_view text, uint64_t original_size) {
    uint64_t room = kMaxCrashInfoBytes > used_ ? kMaxCrashInfoBytes - used_ : 0;
    uint64_t keep = std::min<uint64_t>({text.size(), kMaxCrashFileBytes, room});
    if (keep == 0 && !text.empty()) {
      Note(name + ": not kept, crashinfo is full (" + FormatBytes(kMaxCrashInfoBytes) + ")");
      return;
    }
    fs::path path = fs::path(dir_) / name;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data() + (text.size() - keep), static_cast<std::streamsize>(keep));
    if (!out) {
      Note(name + ": cannot write: " + std::strerror(errno));
      return;
    }
    used_ += keep;
    std::string line = name + ": " + FormatBytes(keep);
    if (keep < original_size) line += " (the last of " + FormatBytes(original_size) + ")";
    Note(line);
  }
  void Note(const std::string& line) { notes_ += line + "\n"; }
  // A command's output as `name`, or a note saying why there is none.
  void Command(const std::string& name, const std::vector<std::string>& argv) {
    Captured c = Capture(argv, kMaxCrashFileBytes);
    std::string shown = argv[0];
    for (size_t i = 1; i < argv.size(); ++i) shown += " " + argv[i];
    if (!c.started) return Note(name + ": not collected: " + c.error);
    if (c.out.empty()) {
      return Note(name + ": nothing (" + shown + " printed nothing, " +
                  (WIFEXITED(c.status) ? "exit status " + std::to_string(WEXITSTATUS(c.status))
                                       : std::string("killed")) +
                  ")");
    }
    Write(name, c.out, c.total);
  }
  // Copies the regular files in `from` (below it too when `recursive`; changed at or after
  // `since_s`, when given) to `to`/, keeping their relative paths. No link is followed.
  void CopyDir(const std::string& from, const std::string& to, int64_t since_s,
               bool recursive = false) {
    std::error_code ec;
    if (!fs::is_directory(from, ec)) return Note(to + ": " + from + " does not exist");
    std::vector<fs::path> files;
    auto consider = [&](const fs::directory_entry& dirent) {
      std::error_code st_ec;
      if (!dirent.is_regular_file(st_ec) || dirent.is_symlink(st_ec)) return;
      if (since_s > 0) {
        auto written = fs::last_write_time(dirent.path(), st_ec);
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::file_clock::to_sys(written).time_since_epoch());
        if (st_ec || secs.count() < since_s) return;
      }
      files.push_back(dirent.path());
    };
    if (recursive) {
      for (auto it = fs::recursive_directory_iterator(from, ec);
           !ec && it != fs::recursive_directory_iterator() && files.size() < kMaxCopiedFiles;
           it.increment(ec)) {
        consider(*it);
      }
    } else {
      for (const auto& dirent : fs::directory_iterator(from, ec)) {
        if (files.size() >= kMaxCopiedFiles) break;
        consider(dirent);
      }
    }
    if (files.empty()) return Note(to + ": no files in " + from + (since_s > 0 ? " since the entry started" : ""));
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      std::ifstream in(file, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      Write(to + "/" + fs::relative(file, from, ec).generic_string(), text, text.size());
    }
  }
  bool Finish() {
    std::ofstream out(fs::path(dir_) / "sources.txt", std::ios::trunc);
    out << notes_;
    return static_cast<bool>(out);
  }

 private:
  std::string dir_;
  uint64_t used_ = 0;
  std::string notes_;
};

}  // namespace

int CollectCrashInfo(const CrashSources& sources) {
  const std::string dir = sources.results + "/crashinfo";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "labmesh-test: cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  Collector c(dir);
  const int64_t since_s = sources.since_us / 1'000'000;
  if (sources.previous_boot) {
    c.Command("journal-previous-boot.log", {"journalctl", "-k", "-b", "-1", "--no-pager"});
  }
  c.CopyDir(sources.pstore_dir, "pstore", 0);
  c.CopyDir(sources.systemd_pstore_dir, "systemd-pstore", since_s, /*recursive=*/true);
  c.CopyDir(sources.crash_dir, "var-crash", since_s);
  // -k is this boot's kernel log; the entry's start bounds it when the entry started in it.
  std::vector<std::string> kernel = {"journalctl", "-k", "--no-pager"};
  if (!sources.previous_boot && since_s > 0) kernel.push_back("--since=@" + std::to_string(since_s));
  c.Command("kernel.log", kernel);
  c.Command("processes.txt", {"ps", "-eo", "pid,ppid,user,stat,etime,args"});
  c.Command("df.txt", {"df", "-h"});
  if (!c.Finish()) {
    std::cerr << "labmesh-test: cannot write " << dir << "/sources.txt\n";
    return 1;
  }
  return 0;
}

}  // namespace labmesh::agent
