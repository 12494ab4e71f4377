#include "fault_filter.hpp"

#include <sstream>

#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/types.hpp"

namespace labmesh::agent {

namespace {

bool KnownTypeName(std::string_view name) {
  if (name == "*") return true;
  for (uint32_t t = 0; t < 1024; ++t) {
    if (protocol::IsKnownMessageType(t) &&
        protocol::MessageTypeName(static_cast<protocol::MessageType>(t)) == name) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> Words(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool ParseCount(const std::string& word, uint64_t* out) {
  if (word.empty() || word.find_first_not_of("0123456789") != std::string::npos) return false;
  if (word.size() > 9) return false;
  *out = std::stoull(word);
  return true;
}

}  // namespace

Result<FaultFilter> FaultFilter::Parse(std::string_view rules) {
  FaultFilter filter;
  size_t start = 0;
  while (start <= rules.size()) {
    size_t end = rules.find(';', start);
    if (end == std::string_view::npos) end = rules.size();
    std::string_view text = rules.substr(start, end - start);
    start = end + 1;
    std::vector<std::string> w = Words(text);
    if (w.empty()) continue;
    Rule rule;
    rule.text = std::string(text);
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("fault rule '" + rule.text + "': " + why);
    };
    size_t i = 0;
    const std::string& verb = w[i++];
    if (verb == "partition") {
      rule.partition = true;
      if (w.size() < 3 || w[2] != "after") return bad("want: partition DURATION after in|out TYPE");
      auto ms = ParseDurationMs(w[1]);
      if (!ms.ok() || *ms <= 0) return bad("'" + w[1] + "' is not a duration");
      rule.delay_ms = *ms;
      i = 3;
    } else if (verb == "drop") {
      rule.action = FaultVerdict::Action::kDrop;
    } else if (verb == "dup") {
      rule.action = FaultVerdict::Action::kDuplicate;
    } else if (verb == "delay") {
      rule.action = FaultVerdict::Action::kDelay;
    } else {
      return bad("the action is drop, dup, delay or partition");
    }
    if (i + 2 > w.size()) return bad("a direction (in or out) and a message type are needed");
    if (w[i] != "in" && w[i] != "out") return bad("the direction is 'in' or 'out'");
    rule.direction = w[i++] == "in" ? FaultDirection::kIn : FaultDirection::kOut;
    rule.type = w[i++];
    if (!KnownTypeName(rule.type)) return bad("no message type '" + rule.type + "'");
    if (rule.action == FaultVerdict::Action::kDelay && !rule.partition) {
      if (i >= w.size()) return bad("delay needs a duration");
      auto ms = ParseDurationMs(w[i]);
      if (!ms.ok() || *ms <= 0) return bad("'" + w[i] + "' is not a duration");
      rule.delay_ms = *ms;
      ++i;
    }
    if (!rule.partition && i < w.size() && w[i] != "skip") {
      uint64_t n = 0;
      if (w[i] == "*") {
        rule.count.reset();
      } else if (ParseCount(w[i], &n) && n > 0) {
        rule.count = n;
      } else {
        return bad("'" + w[i] + "' is not a count (a number or *)");
      }
      ++i;
    }
    if (i < w.size() && w[i] == "skip") {
      if (i + 1 >= w.size() || !ParseCount(w[i + 1], &rule.skip)) return bad("skip needs a number");
      i += 2;
    }
    if (i != w.size()) return bad("unexpected '" + w[i] + "'");
    filter.rules_.push_back(std::move(rule));
  }
  return filter;
}

FaultVerdict FaultFilter::Judge(FaultDirection direction, std::string_view type_name,
                                int64_t now_ms) {
  FaultVerdict verdict;
  if (now_ms < partition_until_ms_) {
    verdict.action = FaultVerdict::Action::kDrop;
    verdict.rule = "partition";
    return verdict;
  }
  for (Rule& rule : rules_) {
    if (rule.direction != direction || (rule.type != "*" && rule.type != type_name)) continue;
    if (rule.count && rule.acted >= *rule.count) continue;
    if (++rule.seen <= rule.skip) continue;
    ++rule.acted;
    if (rule.partition) {
      // This message passes; everything after it is lost until the partition heals.
      partition_until_ms_ = now_ms + rule.delay_ms;
      verdict.rule = rule.text;
      return verdict;
    }
    verdict.action = rule.action;
    verdict.delay_ms = rule.delay_ms;
    verdict.rule = rule.text;
    return verdict;
  }
  return verdict;
}

}  // namespace labmesh::agent
