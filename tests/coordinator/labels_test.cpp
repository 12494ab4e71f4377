// The label rules as pure functions: which names are valid, which labels the facts imply, and
// how asked-for agent labels are filtered so that a machine cannot put itself into an admin pool
// or fake a fact.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "labels.hpp"

namespace labmesh::coordinator {
namespace {

using Labels = std::vector<std::string>;

protocol::HostFacts DebianFacts() {
  protocol::HostFacts facts;
  facts.arch = "x86_64";
  facts.os = "debian";
  facts.os_version = "12";
  facts.kernel = "6.1.0-18-amd64";
  facts.cpus = 8;
  facts.memory_bytes = 16ull << 30;
  return facts;
}

TEST(ValidateLabelName, AcceptsEveryAllowedCharacterUpTo64) {
  for (const char* ok : {"gpu", "a", "pool:prod", "rack=7", "site/lab-2", "c++", "v1.2_3",
                         "UPPER", "x-"}) {
    EXPECT_TRUE(ValidateLabelName(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidateLabelName(std::string(64, 'l')).ok());
}

TEST(ValidateLabelName, RefusesEmptyTooLongLeadingDashAndOtherCharacters) {
  EXPECT_EQ(ValidateLabelName("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateLabelName(std::string(65, 'l')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateLabelName("-gpu").code(), StatusCode::kInvalidArgument);
  for (const char* bad : {"has space", "comma,list", "semi;colon", "star*", "tab\t", "quote'",
                          "é"}) {
    EXPECT_EQ(ValidateLabelName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateLabelName(std::string("a\0b", 3)).code(), StatusCode::kInvalidArgument);
  // The message names the offending label, so the CLI's error says what was wrong.
  EXPECT_NE(ValidateLabelName("bad label").message().find("bad label"), std::string::npos);
}

TEST(ValidateHostname, AcceptsDnsLikeNamesUpTo253) {
  for (const char* ok : {"lab-1", "a", "lab_2.example.org", "LAB3", "x.", "0day"}) {
    EXPECT_TRUE(ValidateHostname(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidateHostname(std::string(253, 'h')).ok());
}

TEST(ValidateHostname, RefusesEmptyTooLongLeadingDashOrDotAndOtherCharacters) {
  EXPECT_EQ(ValidateHostname("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateHostname(std::string(254, 'h')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateHostname("-lab").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateHostname(".lab").code(), StatusCode::kInvalidArgument);
  for (const char* bad : {"lab 1", "lab/1", "lab:1", "lab@x", "../etc", "lab\n"}) {
    EXPECT_EQ(ValidateHostname(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateHostname(std::string("la\0b", 4)).code(), StatusCode::kInvalidArgument);
}

TEST(AutomaticLabels, FollowFromTheFactsSorted) {
  EXPECT_EQ(AutomaticLabels(DebianFacts()),
            (Labels{"arch:x86_64", "cpus:8", "kernel:6.1.0-18-amd64", "os:debian-12"}));
}

TEST(AutomaticLabels, EmptyFactsGiveNoLabelAndOsWithoutVersionIsJustTheId) {
  EXPECT_TRUE(AutomaticLabels(protocol::HostFacts{}).empty());
  protocol::HostFacts facts;
  facts.os = "alpine";
  EXPECT_EQ(AutomaticLabels(facts), (Labels{"os:alpine"}));
  facts = {};
  facts.os_version = "12";  // a version without an id says nothing
  EXPECT_TRUE(AutomaticLabels(facts).empty());
}

TEST(AutomaticLabels, AreLowerCasedMadeSafeAndValid) {
  protocol::HostFacts facts;
  facts.arch = "ARM64";
  facts.os = "Red Hat";
  facts.os_version = "9.3 (Plow)";
  facts.kernel = std::string(100, 'K');
  Labels labels = AutomaticLabels(facts);
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0], "arch:arm64");
  EXPECT_EQ(labels[1].rfind("kernel:kkk", 0), 0u);
  EXPECT_EQ(labels[2], "os:red_hat-9.3__plow_");
  for (const auto& label : labels) {
    EXPECT_TRUE(ValidateLabelName(label).ok()) << label;
    EXPECT_TRUE(HasAutomaticPrefix(label)) << label;
  }
}

TEST(HasAutomaticPrefix, KnowsTheFourReservedPrefixes) {
  for (const char* reserved : {"arch:x", "os:", "cpus:4", "kernel:6"}) {
    EXPECT_TRUE(HasAutomaticPrefix(reserved)) << reserved;
  }
  for (const char* free : {"arch", "archive:x", "pool:os:", "xos:1", "gpu", ""}) {
    EXPECT_FALSE(HasAutomaticPrefix(free)) << free;
  }
}

TEST(ComputeAgentLabels, KeepsAutomaticAndValidAskedForLabelsSortedAndUnique) {
  AgentLabelResult result = ComputeAgentLabels(DebianFacts(), {"usb", "gpu", "usb"}, {});
  EXPECT_EQ(result.labels, (Labels{"arch:x86_64", "cpus:8", "gpu", "kernel:6.1.0-18-amd64",
                                   "os:debian-12", "usb"}));
  EXPECT_TRUE(result.dropped.empty());
  EXPECT_TRUE(result.reasons.empty());
}

TEST(ComputeAgentLabels, DropsReservedPrefixesAdminNamesAndInvalidNamesWithReasons) {
  AgentLabelResult result = ComputeAgentLabels(
      DebianFacts(), {"arch:sparc", "pool:prod", "bad label", "mine", "cpus:1024", ""},
      {"pool:prod", "rack:7"});
  EXPECT_EQ(result.labels, (Labels{"arch:x86_64", "cpus:8", "kernel:6.1.0-18-amd64", "mine",
                                   "os:debian-12"}));
  EXPECT_EQ(result.dropped, (Labels{"arch:sparc", "pool:prod", "bad label", "cpus:1024", ""}));
  ASSERT_EQ(result.reasons.size(), result.dropped.size());
  EXPECT_NE(result.reasons[0].find("reserved"), std::string::npos) << result.reasons[0];
  EXPECT_NE(result.reasons[1].find("admin"), std::string::npos) << result.reasons[1];
  EXPECT_NE(result.reasons[2].find("bad label"), std::string::npos) << result.reasons[2];
}

TEST(ComputeAgentLabels, AnAskedForLabelEqualToAFactCollapsesIntoOne) {
  // "arch:x86_64" is reserved even when it is true: the fact supplies it, once.
  AgentLabelResult result = ComputeAgentLabels(DebianFacts(), {"arch:x86_64"}, {});
  EXPECT_EQ(std::count(result.labels.begin(), result.labels.end(), "arch:x86_64"), 1);
  EXPECT_EQ(result.dropped, (Labels{"arch:x86_64"}));
}

TEST(EffectiveLabels, IsTheSortedUnionWithoutDuplicates) {
  EXPECT_EQ(EffectiveLabels({"os:debian-12", "gpu"}, {"rack:7", "gpu", "a"}),
            (Labels{"a", "gpu", "os:debian-12", "rack:7"}));
  EXPECT_TRUE(EffectiveLabels({}, {}).empty());
  EXPECT_EQ(EffectiveLabels({}, {"b", "a", "b"}), (Labels{"a", "b"}));
}

}  // namespace
}  // namespace labmesh::coordinator
