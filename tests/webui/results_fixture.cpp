#include "results_fixture.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace labmesh::webui::testing {

namespace fs = std::filesystem;

ResultsFixture::ResultsFixture() : root_(tmp_.path() + "/results") {
  fs::create_directories(root_ + "/12-ann/lab-1/debug");
  fs::create_directories(root_ + "/12-ann/lab-2");
  fs::create_directories(tmp_.path() + "/outside");
  fs::create_directories(tmp_.path() + "/results-evil");
  Write("12-ann/lab-1/status.log", "START\t----\tsleeptest\nEND GOOD\t----\tsleeptest\n");
  Write("12-ann/lab-1/keyval", "iterations=3\n");
  Write("12-ann/lab-1/debug/client.DEBUG", "debug line\n");
  Write("12-ann/lab-1/<script>.txt", "x\n");
  Write("12-ann/lab-1/page.html", "<script>alert(1)</script>\n");
  std::string big(kBigFileBytes, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = BigByte(i);
  Write("12-ann/lab-1/big.log", big);
  for (const std::string& dir : {tmp_.path() + "/outside", tmp_.path() + "/results-evil"}) {
    std::ofstream(dir + "/secret.txt") << kSecret << "\n";
  }
  fs::create_symlink("/etc", root_ + "/12-ann/lab-1/etc");
  fs::create_symlink("../../../outside/secret.txt", root_ + "/12-ann/lab-1/secret");
  fs::create_directory_symlink(tmp_.path() + "/outside", root_ + "/linked");
  fs::create_directory_symlink("12-ann", root_ + "/inside");
  if (::mkfifo((root_ + "/fifo").c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
}

void ResultsFixture::Write(const std::string& relative, const std::string& content) const {
  std::ofstream out(Path(relative), std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + relative);
}

}  // namespace labmesh::webui::testing
