#pragma once
// A small results repository on disk for the /results/ tests, with traps around it:
//   <tmp>/results/12-ann/lab-1/status.log, keyval, debug/client.DEBUG, <script>.txt, page.html
//   <tmp>/results/12-ann/lab-1/big.log (kBigFileBytes, a known pattern)
//   <tmp>/results/12-ann/lab-1/etc -> /etc              (symlink pointing out)
//   <tmp>/results/12-ann/lab-1/secret -> ../../../outside/secret.txt
//   <tmp>/results/linked -> <tmp>/outside              (symlinked directory)
//   <tmp>/results/inside -> 12-ann                     (symlink pointing inside: refused too)
//   <tmp>/results/fifo                                  (a named pipe: never opened)
//   <tmp>/results-evil/secret.txt, <tmp>/outside/secret.txt (kSecret: must never be served)

#include <cstddef>
#include <string>

#include "process.hpp"

namespace labmesh::webui::testing {

inline constexpr char kSecret[] = "TOP-SECRET-OUTSIDE-THE-ROOT";
inline constexpr size_t kBigFileBytes = 3 * 1024 * 1024 + 17;

class ResultsFixture {
 public:
  ResultsFixture();  // builds the tree; throws std::runtime_error when it cannot
  const std::string& root() const { return root_; }
  std::string Path(const std::string& relative) const { return root_ + "/" + relative; }
  void Write(const std::string& relative, const std::string& content) const;

  // The byte at `offset` of big.log.
  static char BigByte(size_t offset) { return static_cast<char>('a' + (offset * 7) % 26); }

 private:
  labmesh::testing::TempDir tmp_;
  std::string root_;
};

}  // namespace labmesh::webui::testing
