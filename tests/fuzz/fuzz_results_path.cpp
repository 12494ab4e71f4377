// libFuzzer target: results paths and /results/ URLs (docs/fuzzing.md), with the extra check
// that nothing accepted leads outside the results root.
//
// The input is "URL\nRANGE": URL is a request path (a "/results/" is put in front of one that
// does not start with '/') with an optional "?query", RANGE the value of a Range header. It goes
//  - through ParseResultsTarget and OpenBeneath (webui/results_path.hpp) and ResultsFiles::Handle
//    (the whole GET /results/... answer) over a small tree made at start-up, which holds
//    symlinks to a directory and a file outside the root, a fifo and nested directories;
//  - as an agent's upload path through ValidateResultPath (coordinator/job_rules.hpp), and with
//    its first two '/'-separated parts as owner and host through ResultsRepository::EntryDir's
//    rule ("<job>-<owner>/<host>/<path>").
// A path that is accepted must stay inside the root: opened descriptors are resolved through
// /proc/self/fd, accepted upload paths lexically; no answer may hold the secret kept outside.

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "job_rules.hpp"
#include "labels.hpp"
#include "labmesh/webui/results_files.hpp"
#include "labmesh/webui/results_path.hpp"
#include "results_repository.hpp"

namespace {

namespace fs = std::filesystem;
using namespace labmesh;

constexpr std::string_view kSecret = "SECRET-OUTSIDE-THE-RESULTS-ROOT";

std::string g_root;  // canonical
const webui::ResultsFiles* g_files = nullptr;

void Require(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "results path promise broken: %s (path '%.*s')\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

bool Inside(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

std::string FdPath(int fd) {
  std::error_code ec;
  return fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec).string();
}

void MakeTree() {
  char pattern[] = "/tmp/labmesh-fuzz-results-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) std::abort();
  fs::path base = pattern;
  fs::create_directories(base / "outside");
  std::ofstream(base / "outside" / "secret") << kSecret;
  fs::path root = base / "root";
  fs::create_directories(root / "12-alice" / "lab-1" / "sub");
  std::ofstream(root / "12-alice" / "lab-1" / "status.log") << "START\t----\t----\n";
  std::ofstream(root / "12-alice" / "lab-1" / "sub" / "keyval") << "a=1\n";
  std::ofstream(root / "top.txt") << "hello\n";
  fs::create_directory_symlink("../outside", root / "out");
  fs::create_symlink(base / "outside" / "secret", root / "12-alice" / "lab-1" / "secret");
  ::mkfifo((root / "12-alice" / "fifo").c_str(), 0600);
  g_root = fs::canonical(root).string();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  MakeTree();
  g_files = new webui::ResultsFiles(g_root);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view url = input.substr(0, newline);
  const std::string_view range =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  const size_t question = url.find('?');
  std::string path(url.substr(0, question));
  if (path.empty() || path.front() != '/') path = "/results/" + path;

  // The URL's segments, each decoded once and checked.
  if (auto target = webui::ParseResultsTarget(path); target.ok()) {
    for (const std::string& segment : target->segments) {
      Require(!segment.empty() && segment != "." && segment != "..", "a '.', '..' or empty segment",
              input);
      for (char c : segment) {
        Require(c != '/' && c != '\\' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f,
                "a separator or control byte in a segment", input);
      }
    }
    if (auto node = webui::OpenBeneath(g_root, target->segments); node.ok()) {
      Require(Inside(FdPath(node->fd.get()), g_root), "OpenBeneath opened outside the root",
              input);
    }
  }

  // The whole answer.
  webui::HttpRequest request;
  request.method = "GET";
  request.path = path;
  if (question != std::string_view::npos) request.query = std::string(url.substr(question + 1));
  if (!range.empty()) request.headers.emplace_back("Range", std::string(range));
  webui::HttpResponse response = g_files->Handle(request);
  Require(response.body.find(kSecret) == std::string::npos, "an answer holds the secret", input);
  if (response.file) {
    Require(Inside(FdPath(response.file->fd.get()), g_root), "a file served from outside",
            input);
    struct stat st {};
    Require(::fstat(response.file->fd.get(), &st) == 0 && S_ISREG(st.st_mode),
            "a served file that is not a regular file", input);
    Require(response.file->offset <= static_cast<uint64_t>(st.st_size) &&
                response.file->length <= static_cast<uint64_t>(st.st_size) - response.file->offset,
            "a range beyond the file", input);
  }

  // An agent's upload path, under an entry directory.
  const std::string upload(url);
  if (coordinator::ValidateResultPath(upload).ok()) {
    const fs::path entry = fs::path(g_root) / "12-alice" / "lab-1";
    const std::string joined = (entry / upload).lexically_normal().string();
    Require(Inside(joined, entry.string()) && joined != entry.string(),
            "an accepted upload path leaves its entry directory", input);
  }
  // The entry directory itself: <job>-<owner>/<host> from names the coordinator accepted.
  const size_t slash = upload.find('/');
  if (slash != std::string::npos) {
    const std::string owner = upload.substr(0, slash);
    const std::string host = upload.substr(slash + 1);
    if (coordinator::ValidateUserName(owner).ok() && coordinator::ValidateHostname(host).ok()) {
      const std::string dir = coordinator::ResultsRepository::EntryDir(7, owner, host);
      const std::string joined = (fs::path(g_root) / dir).lexically_normal().string();
      Require(Inside(joined, g_root) && joined != g_root &&
                  fs::path(dir).lexically_normal().string() == dir,
              "an entry directory from accepted names leaves the root or is not itself", input);
    }
  }
  return 0;
}
