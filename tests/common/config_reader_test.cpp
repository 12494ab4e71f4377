// The daemons' config file reader (labmesh/common/flags.hpp ConfigReader): a '#' inside quotes
// or inside a word is part of the value (Z85 keys hold them), a '#' after a blank or at the
// start of a line starts a comment.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "labmesh/common/flags.hpp"

namespace labmesh::flags {
namespace {

std::string Parse(const std::string& file_text, std::string* other = nullptr) {
  CLI::App app;
  AddConfigFile(app);
  std::string key, name;
  app.add_option("--coordinator-key", key);
  app.add_option("--hostname", name);
  std::istringstream in(file_text);
  auto items = app.get_config_formatter_base()->from_config(in);
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "coordinator-key" && !item.inputs.empty()) key = item.inputs[0];
    if (item.name == "hostname" && !item.inputs.empty()) name = item.inputs[0];
  }
  if (other != nullptr) *other = name;
  return key;
}

TEST(ConfigReader, HashInsideQuotesOrAWordIsKept) {
  EXPECT_EQ(Parse("coordinator-key = \"ab#cd\"\n"), "ab#cd");
  EXPECT_EQ(Parse("coordinator-key = 'ab#cd'   # the key\n"), "ab#cd");
  EXPECT_EQ(Parse("coordinator-key = ab#cd\n"), "ab#cd");
  EXPECT_EQ(Parse("coordinator-key = \"#abc\"\n"), "#abc");
}

TEST(ConfigReader, CommentsAreStillComments) {
  std::string name;
  EXPECT_EQ(Parse("# a comment\n; another\ncoordinator-key = \"k\" # trailing\n"
                  "hostname = lab-1\t# tab then comment\n",
                  &name),
            "k");
  EXPECT_EQ(name, "lab-1");
  EXPECT_EQ(ConfigReader::StripComment("#x = 1"), "");
  EXPECT_EQ(ConfigReader::StripComment("x = \"a # b\" # c"), "x = \"a # b\" ");
  EXPECT_EQ(ConfigReader::StripComment("x = \"unterminated # c"), "x = \"unterminated # c");
}

}  // namespace
}  // namespace labmesh::flags
