#include "labmesh/webui/url.hpp"

#include <gtest/gtest.h>

namespace labmesh::webui {
namespace {

TEST(PercentDecodeTest, DecodesEscapesAndPlusOnlyWhenAsked) {
  EXPECT_EQ(*PercentDecode("lab%2D1%2fx", false), "lab-1/x");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(*PercentDecode("a+b%20c", true), "a b c");
  EXPECT_EQ(*PercentDecode("", true), "");
}

TEST(PercentDecodeTest, RejectsBadEscapesAndNul) {
  for (const char* bad : {"%", "%2", "a%zz", "%G0", "x%00y"}) {
    auto decoded = PercentDecode(bad, false);
    EXPECT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SplitPathTest, SplitsDropsEmptySegmentsAndDecodesEachSegment) {
  EXPECT_EQ(*SplitPath("/"), std::vector<std::string>{});
  EXPECT_EQ(*SplitPath("/api/v1/hosts/"), (std::vector<std::string>{"api", "v1", "hosts"}));
  EXPECT_EQ(*SplitPath("//api///v1"), (std::vector<std::string>{"api", "v1"}));
  // An encoded slash stays inside its segment instead of becoming a separator.
  EXPECT_EQ(*SplitPath("/hosts/a%2Fb"), (std::vector<std::string>{"hosts", "a/b"}));
  EXPECT_EQ(*SplitPath("/static/%2e%2e"), (std::vector<std::string>{"static", ".."}));
}

TEST(SplitPathTest, RejectsRelativeOrUndecodablePaths) {
  EXPECT_FALSE(SplitPath("").ok());
  EXPECT_FALSE(SplitPath("api/v1").ok());
  EXPECT_FALSE(SplitPath("/a%zz").ok());
  EXPECT_FALSE(SplitPath("/a%00").ok());
}

TEST(ParseQueryTest, ParsesPairsBareKeysAndRepeats) {
  auto params = ParseQuery("status=Repair+Failed&label=gpu%3Dyes&flag&&label=cpu");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->at("status"), "Repair Failed");
  EXPECT_EQ(params->at("label"), "cpu");  // the last one wins
  EXPECT_EQ(params->at("flag"), "");
  EXPECT_EQ(params->size(), 3u);
  EXPECT_TRUE(ParseQuery("")->empty());
}

TEST(ParseQueryTest, RejectsBadEscapesAndTooManyParameters) {
  EXPECT_FALSE(ParseQuery("a=%zz").ok());
  EXPECT_FALSE(ParseQuery("%=1").ok());
  std::string many;
  for (int i = 0; i < 65; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_FALSE(ParseQuery(many).ok());
  EXPECT_TRUE(ParseQuery(many, 100).ok());
}

}  // namespace
}  // namespace labmesh::webui
