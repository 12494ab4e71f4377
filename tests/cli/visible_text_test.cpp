// Terminal escapes in what `labmesh` prints are shown, not obeyed (issue 20).

#include "labmesh/cli/visible_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace labmesh::cli {
namespace {

TEST(VisibleText, ControlCharactersBecomeEscapesButLayoutStays) {
  EXPECT_EQ(VisibleText("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(VisibleText("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");  // window title, bell
  EXPECT_EQ(VisibleText(std::string("a\0b\x08", 4)), "a\\x00b\\x08");
  EXPECT_EQ(VisibleText("tab\there\r\nnext\n"), "tab\there\r\nnext\n");
  EXPECT_EQ(VisibleText("caf\xc3\xa9 \xe2\x9c\x93 \x7f"), "caf\xc3\xa9 \xe2\x9c\x93 \x7f");
  EXPECT_EQ(VisibleText("<img src=x onerror=alert(1)>"), "<img src=x onerror=alert(1)>");
}

TEST(VisibleText, C1ControlsInUtf8BecomeJsonStyleEscapes) {
  EXPECT_EQ(VisibleText("\xc2\x9b" "2J"), "\\u009b2J");  // CSI
  EXPECT_EQ(VisibleText("\xc2\xa0"), "\xc2\xa0");         // no-break space is text
  EXPECT_EQ(VisibleText("end\xc2"), "end\xc2");
  // In --json output the escape means the same character: the document stays valid.
  std::string json = nlohmann::json("x\xc2\x9by").dump();
  auto back = nlohmann::json::parse(VisibleText(json));
  EXPECT_EQ(back.get<std::string>(), "x\xc2\x9by");
}

TEST(VisibleStreamBuf, FiltersAStreamEvenWhenALeadByteEndsOneWrite) {
  std::ostringstream sink;
  VisibleStreamBuf buf(sink.rdbuf());
  std::ostream out(&buf);
  out << "log: \x1b[2J";
  out.write("\xc2", 1);
  out.write("\x9b" "H", 2);
  out << '\x07' << "done\n" << std::flush;
  EXPECT_EQ(sink.str(), "log: \\x1b[2J\\u009bH\\x07done\n");
}

}  // namespace
}  // namespace labmesh::cli
