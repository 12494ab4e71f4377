// Every parser on truncated, mutated and random input (deterministic seed): it must not crash,
// and what it returns must keep the promises of parsers.hpp (statuses from the vocabulary,
// valid UTF-8, capped lengths, the same output twice). Also pathological shapes: deep nesting,
// huge lines, many results.

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

using samples::Dump;

struct Parser {
  const char* name;
  std::function<void(std::string_view, ParseOutput*)> parse;
};

std::vector<Parser> AllParsers() {
  return {
      {"status.log", [](std::string_view t, ParseOutput* o) { ParseStatusLog(t, "f", o); }},
      {"junit", [](std::string_view t, ParseOutput* o) { (void)ParseJUnit(t, "f", o); }},
      {"tap", [](std::string_view t, ParseOutput* o) { ParseTap(t, "f", o); }},
      {"keyval",
       [](std::string_view t, ParseOutput* o) {
         Keyvals kv = ParseKeyval(t, "f", &o->warnings);
         TestResult r;
         r.test = "keyval";
         r.status = "GOOD";
         r.keyvals = std::move(kv.keyvals);
         r.perf = std::move(kv.perf);
         o->results.push_back(std::move(r));
       }},
  };
}

bool IsValidUtf8(const std::string& s) { return internal::ValidUtf8(s) == s; }

// Parses twice and checks the promises of parsers.hpp, as fatal assertions.
void CheckParse(const Parser& parser, std::string_view input, const std::string& what) {
  ParseOutput a, b;
  parser.parse(input, &a);
  parser.parse(input, &b);
  ASSERT_EQ(Dump(a), Dump(b)) << parser.name << " is not deterministic on " << what;
  for (const TestResult& r : a.results) {
    ASSERT_TRUE(internal::IsKnownStatus(r.status)) << parser.name << " " << what << ": " << Dump(r);
    ASSERT_TRUE(IsValidUtf8(r.test) && IsValidUtf8(r.reason) && IsValidUtf8(r.file))
        << parser.name << " " << what;
    ASSERT_LE(r.test.size(), kMaxNameBytes) << parser.name << " " << what;
    ASSERT_LE(r.reason.size(), kMaxReasonBytes) << parser.name << " " << what;
    for (const auto& [k, v] : r.keyvals) ASSERT_TRUE(IsValidUtf8(k) && IsValidUtf8(v));
    for (const auto& [k, v] : r.perf) ASSERT_TRUE(IsValidUtf8(k));
  }
  ASSERT_LE(a.warnings.size(), kMaxWarningsPerFile + 1) << parser.name << " " << what;
  for (const std::string& w : a.warnings) {
    ASSERT_TRUE(IsValidUtf8(w)) << parser.name << " " << what;
    ASSERT_EQ(w.rfind("f: ", 0), 0u) << "a warning names its file: " << w;
  }
}

TEST(Fuzz, EveryTruncationOfEverySample) {
  for (const Parser& parser : AllParsers()) {
    for (const std::string& sample : samples::AllSamples()) {
      for (size_t cut = 0; cut <= sample.size(); ++cut) {
        CheckParse(parser, std::string_view(sample).substr(0, cut), "cut " + std::to_string(cut));
        if (HasFatalFailure()) return;
      }
    }
  }
}

std::string Mutate(const std::string& sample, std::mt19937& rng) {
  std::string s = sample;
  std::uniform_int_distribution<int> edits(1, 8), kind(0, 5), byte(0, 255);
  for (int n = edits(rng); n > 0; --n) {
    size_t pos = s.empty() ? 0 : std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
    switch (kind(rng)) {
      case 0:  // flip a byte
        if (!s.empty()) s[pos] = static_cast<char>(byte(rng));
        break;
      case 1:  // insert random bytes
        s.insert(pos, std::string(1 + byte(rng) % 8, static_cast<char>(byte(rng))));
        break;
      case 2:  // delete a range
        s.erase(pos, 1 + byte(rng) % 64);
        break;
      case 3: {  // duplicate a range (repeated lines, nested-looking structure)
        std::string part = s.substr(pos, 1 + byte(rng) % 128);
        s.insert(pos, part);
        break;
      }
      case 4:  // structural characters
        s.insert(pos, std::string(1, "\t\n<>&#- \"'="[byte(rng) % 12]));
        break;
      default:  // an invalid UTF-8 sequence
        s.insert(pos, "\xC3\x28\xF0\x9F");
        break;
    }
  }
  return s;
}

TEST(Fuzz, MutatedSamples) {
  std::mt19937 rng(20240501);
  for (const Parser& parser : AllParsers()) {
    for (const std::string& sample : samples::AllSamples()) {
      for (int i = 0; i < 300; ++i) {
        CheckParse(parser, Mutate(sample, rng), "mutation " + std::to_string(i));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(Fuzz, RandomBytes) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const Parser& parser : AllParsers()) {
    for (int i = 0; i < 500; ++i) {
      std::string s(static_cast<size_t>(byte(rng)) * 4, '\0');
      for (char& c : s) c = static_cast<char>(byte(rng));
      CheckParse(parser, s, "random " + std::to_string(i));
      if (HasFatalFailure()) return;
    }
  }
}

TEST(Fuzz, PathologicalShapes) {
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string starts;
  for (int i = 0; i < 5000; ++i) starts += std::string(i % 300, '\t') + "START\t----\tt\n";
  inputs.emplace_back("5000 nested STARTs", starts);
  std::string suites;
  for (int i = 0; i < 5000; ++i) suites += "<testsuite name=\"s\">";
  suites += "<testcase name=\"deep\"/>";
  for (int i = 0; i < 5000; ++i) suites += "</testsuite>";
  inputs.emplace_back("5000 nested suites", suites);
  std::string tap;
  for (int i = 0; i < 2000; ++i) tap += std::string(4 * (i % 200), ' ') + "ok 1 - x\n";
  inputs.emplace_back("deep TAP", tap);
  inputs.emplace_back("one huge line", std::string(8 << 20, 'x'));
  inputs.emplace_back("huge name", "GOOD\t----\t" + std::string(1 << 20, 'n') + "\t" +
                                       std::string(1 << 20, 'r') + "\n");
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "ok " + std::to_string(i + 1) + "\n";
  inputs.emplace_back("100000 tests", many);
  for (const Parser& parser : AllParsers()) {
    for (const auto& [what, text] : inputs) {
      CheckParse(parser, text, what);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace labmesh::parsers
