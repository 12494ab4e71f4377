#pragma once
// What `labmesh` prints comes from other people: test names, reasons, job names, a control's
// log. Terminal control characters in it are shown, never obeyed (issue 20): a log that holds
// ESC [2J must not clear the reader's screen, retitle the window or fake a prompt.
//
// The rules (docs/security-cli.md, "Hostile text"):
//   - C0 control bytes but tab, newline and carriage return become `\xHH` ("\x1b[31m");
//   - C1 controls written as UTF-8 (U+0080..U+009F, bytes C2 80..C2 9F; U+009B is a CSI of its
//     own) become `\u00HH`, which is also what the same character is inside a JSON string, so
//     `--json` output stays valid and means the same;
//   - everything else (UTF-8 text, DEL, bytes that are not UTF-8) passes unchanged.

#include <streambuf>
#include <string>
#include <string_view>

namespace labmesh::cli {

// `text` with the characters above made visible.
std::string VisibleText(std::string_view text);

// A stream buffer that applies VisibleText to everything written through it into `dest`
// (a C2 lead byte split across two writes is still recognised).
class VisibleStreamBuf : public std::streambuf {
 public:
  explicit VisibleStreamBuf(std::streambuf* dest) : dest_(dest) {}

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  bool Write(std::string_view text);
  std::streambuf* dest_;
  bool pending_c2_ = false;  // the last byte was 0xC2, held back to see the next one
};

// Sends std::cout and std::cerr through a VisibleStreamBuf for the rest of the process.
void MakeOutputVisible();

}  // namespace labmesh::cli
