// The test catalog's rules as pure functions: which names, controls and descriptions a test may
// have, and the UTF-8 check behind "the control is text".

#include <gtest/gtest.h>

#include <string>

#include "catalog_rules.hpp"

namespace labmesh::coordinator {
namespace {

TEST(ValidateTestName, AcceptsEveryAllowedCharacterUpTo64) {
  for (const char* ok : {"a", "kernel.boot", "net:iperf", "fs_stress-2", "A.b_C:d-9",
                         "-leading-dash", ".hidden"}) {
    EXPECT_TRUE(ValidateTestName(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidateTestName(std::string(64, 'x')).ok());
}

TEST(ValidateTestName, RefusesEmptyLongAndOtherCharacters) {
  EXPECT_EQ(ValidateTestName("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTestName(std::string(65, 'x')).code(), StatusCode::kInvalidArgument);
  for (const char* bad : {"with space", "a/b", "a=b", "c++", "semi;colon", "quote\"", "tab\t",
                          "new\nline", "\xc3\xa9t\xc3\xa9", "star*"}) {
    EXPECT_EQ(ValidateTestName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateTestName(std::string("nul\0x", 5)).code(), StatusCode::kInvalidArgument);
}

TEST(IsUtf8, AcceptsWellFormedAndRefusesMalformedSequences) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain ascii\n"));
  EXPECT_TRUE(IsUtf8("h\xc3\xa9llo"));             // é
  EXPECT_TRUE(IsUtf8("\xe2\x82\xac"));             // €
  EXPECT_TRUE(IsUtf8("\xf0\x9f\x98\x80"));         // U+1F600
  EXPECT_TRUE(IsUtf8("\xf4\x8f\xbf\xbf"));         // U+10FFFF, the last code point
  EXPECT_FALSE(IsUtf8("\xff"));                    // never valid
  EXPECT_FALSE(IsUtf8("\x80"));                    // continuation without a lead
  EXPECT_FALSE(IsUtf8("\xc3"));                    // truncated
  EXPECT_FALSE(IsUtf8("\xe2\x82"));                // truncated
  EXPECT_FALSE(IsUtf8("\xc3\x28"));                // bad continuation
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));                // overlong '/'
  EXPECT_FALSE(IsUtf8("\xe0\x80\xaf"));            // overlong '/'
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));            // surrogate U+D800
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80"));        // above U+10FFFF
  EXPECT_FALSE(IsUtf8("\xf8\x88\x80\x80\x80"));    // 5-byte form
}

TEST(ValidateTestSpec, AcceptsATextControlUpTo1MiBAndADescriptionUpTo4KiB) {
  EXPECT_TRUE(ValidateTestSpec("t", "#!/bin/sh\nexit 0\n", "").ok());
  EXPECT_TRUE(ValidateTestSpec("t", "x", std::string(4096, 'd')).ok());
  EXPECT_TRUE(ValidateTestSpec("t", std::string(1024 * 1024, 'c'), "d").ok());
  EXPECT_TRUE(ValidateTestSpec("t", "echo \"h\xc3\xa9\" 'q'\t$X", "d\xc3\xa9").ok());
}

TEST(ValidateTestSpec, RefusesEachProblemWithInvalidArgument) {
  struct Case {
    const char* what;
    std::string name, control, description;
  };
  const Case cases[] = {
      {"bad name", "bad name", "x", ""},
      {"empty name", "", "x", ""},
      {"empty control", "t", "", ""},
      {"control one byte over 1 MiB", "t", std::string(1024 * 1024 + 1, 'c'), ""},
      {"control with NUL", "t", std::string("a\0b", 3), ""},
      {"control not UTF-8", "t", "\xff\xfe", ""},
      {"description one byte over 4 KiB", "t", "x", std::string(4097, 'd')},
      {"description not UTF-8", "t", "x", "\xc3"},
  };
  for (const Case& c : cases) {
    Status status = ValidateTestSpec(c.name, c.control, c.description);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_FALSE(status.message().empty()) << c.what;
  }
}

}  // namespace
}  // namespace labmesh::coordinator
