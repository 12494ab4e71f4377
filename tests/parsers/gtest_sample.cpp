// A small GoogleTest program whose XML report junit_gtest_test.cpp (in parsers_tests) reads:
// five tests pass, three fail on purpose (EXPECT_EQ), one skips (GTEST_SKIP) and one is
// DISABLED_. Built with the parser tests but never registered with ctest: its failures are the
// point.

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(SampleMath, Adds) { EXPECT_EQ(2 + 2, 4); }

TEST(SampleMath, Multiplies) { EXPECT_EQ(3 * 3, 9); }

TEST(SampleMath, Subtracts) { EXPECT_EQ(5 - 3, 1) << "deliberate failure"; }

TEST(SampleStrings, Concatenates) { EXPECT_EQ(std::string("lab") + "mesh", "labmesh"); }

TEST(SampleStrings, Compares) {
  EXPECT_EQ(std::string("left"), "right");
  EXPECT_EQ(1, 2) << "second deliberate failure";
}

TEST(SampleStrings, NeedsNetwork) { GTEST_SKIP() << "no network in the lab"; }

TEST(SampleStrings, DISABLED_TakesForever) {}

class SampleParam : public ::testing::TestWithParam<int> {};

TEST_P(SampleParam, IsEven) { EXPECT_EQ(GetParam() % 2, 0); }

INSTANTIATE_TEST_SUITE_P(Numbers, SampleParam, ::testing::Values(2, 3, 4));

}  // namespace
