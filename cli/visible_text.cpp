#include "labmesh/cli/visible_text.hpp"

#include <cstdio>
#include <iostream>

namespace labmesh::cli {
namespace {

bool IsHiddenC0(unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

std::string Hex(const char* format, unsigned char c) {
  char text[8];
  std::snprintf(text, sizeof text, format, c);
  return text;
}

// Appends `text` made visible to `out`; `pending_c2` carries a trailing 0xC2 from one call to
// the next (it is left out of `out` until the byte after it is known).
void AppendVisible(std::string_view text, bool* pending_c2, std::string* out) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (*pending_c2) {
      *pending_c2 = false;
      if (c >= 0x80 && c <= 0x9f) {
        *out += Hex("\\u%04x", c);
        continue;
      }
      *out += '\xc2';
    }
    if (c == 0xc2) {
      *pending_c2 = true;
    } else if (IsHiddenC0(c)) {
      *out += Hex("\\x%02x", c);
    } else {
      *out += ch;
    }
  }
}

}  // namespace

std::string VisibleText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_c2 = false;
  AppendVisible(text, &pending_c2, &out);
  if (pending_c2) out += '\xc2';
  return out;
}

bool VisibleStreamBuf::Write(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendVisible(text, &pending_c2_, &out);
  return dest_->sputn(out.data(), static_cast<std::streamsize>(out.size())) ==
         static_cast<std::streamsize>(out.size());
}

VisibleStreamBuf::int_type VisibleStreamBuf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  char ch = traits_type::to_char_type(c);
  return Write(std::string_view(&ch, 1)) ? c : traits_type::eof();
}

std::streamsize VisibleStreamBuf::xsputn(const char* s, std::streamsize n) {
  return Write(std::string_view(s, static_cast<size_t>(n))) ? n : 0;
}

int VisibleStreamBuf::sync() {
  if (pending_c2_) {  // a flush ends the text: a lone lead byte goes out as it came
    pending_c2_ = false;
    if (dest_->sputc('\xc2') == traits_type::eof()) return -1;
  }
  return dest_->pubsync();
}

void MakeOutputVisible() {
  // Never destroyed: std::cout is flushed at exit, after static objects may be gone.
  static auto* out = new VisibleStreamBuf(std::cout.rdbuf());
  static auto* err = new VisibleStreamBuf(std::cerr.rdbuf());
  std::cout.rdbuf(out);
  std::cerr.rdbuf(err);
}

}  // namespace labmesh::cli
