// Kernel crash lines in text and in an entry's crashinfo/; see parsers.hpp.

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"

namespace labmesh::parsers {
namespace {

namespace fs = std::filesystem;

// Most telling first: a panic says the machine stopped, a BUG/Oops what went wrong. (A bare
// "Call Trace" is left out: warnings and hung-task reports print one too.)
constexpr std::array<std::string_view, 5> kCrashPatterns = {
    "Kernel panic", "BUG:", "Oops", "general protection fault", "hard LOCKUP"};
// crashinfo/ files that are not logs: the process list holds any command line (a test's own
// text about panics), df and sources.txt the collection's own words.
constexpr std::array<std::string_view, 3> kNotLogs = {"processes.txt", "df.txt", "sources.txt"};
constexpr size_t kMaxCrashFiles = 64;
constexpr uint64_t kMaxCrashBytesPerFile = 8 << 20;

// The rank of the most telling pattern in `line` (kCrashPatterns.size() = none).
size_t CrashRank(std::string_view line) {
  // "traps: prog[42] general protection fault ip:..." is a user process the kernel killed.
  if (line.find("traps:") != std::string_view::npos) return kCrashPatterns.size();
  for (size_t i = 0; i < kCrashPatterns.size(); ++i) {
    if (line.find(kCrashPatterns[i]) != std::string_view::npos) return i;
  }
  return kCrashPatterns.size();
}

// The best line of `text` and its rank.
std::pair<size_t, std::string_view> BestCrashLine(std::string_view text) {
  std::pair<size_t, std::string_view> best{kCrashPatterns.size(), {}};
  for (std::string_view line : internal::SplitLines(text)) {
    size_t rank = CrashRank(line);
    if (rank < best.first) best = {rank, internal::Trim(line)};
    if (rank == 0) break;
  }
  return best;
}

// The last kMaxCrashBytesPerFile bytes of a regular file (a panic is at the end of a log).
std::string ReadCrashTail(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff skip = size > static_cast<std::streamoff>(kMaxCrashBytesPerFile)
                            ? size - static_cast<std::streamoff>(kMaxCrashBytesPerFile)
                            : 0;
  in.seekg(skip);
  std::string text(static_cast<size_t>(size - skip), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return text;
}

}  // namespace

std::string FindCrashLine(std::string_view text) {
  auto [rank, line] = BestCrashLine(text);
  if (rank == kCrashPatterns.size()) return {};
  return internal::CapUtf8(internal::ValidUtf8(line), kMaxReasonBytes);
}

std::string FindCrashInfoLine(const std::string& dir) {
  const fs::path root = fs::path(dir) / "crashinfo";
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec))) return {};
  std::vector<fs::path> files;
  // Not following links: a control could have put one pointing anywhere.
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool log = std::find(kNotLogs.begin(), kNotLogs.end(), name) == kNotLogs.end() ||
                     it->path().parent_path() != root;
    if (log && it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
    if (files.size() >= kMaxCrashFiles * 4) break;
  }
  std::sort(files.begin(), files.end());
  if (files.size() > kMaxCrashFiles) files.resize(kMaxCrashFiles);
  size_t best_rank = kCrashPatterns.size();
  std::string best;
  for (const fs::path& file : files) {
    std::string text = ReadCrashTail(file);
    auto [rank, line] = BestCrashLine(text);
    if (rank < best_rank) {
      best_rank = rank;
      best = internal::CapUtf8(internal::ValidUtf8(line), kMaxReasonBytes);
    }
    if (best_rank == 0) break;
  }
  return best;
}

}  // namespace labmesh::parsers
