#pragma once
// FaultFilter: a test facility that drops, delays or duplicates chosen messages between the
// agent and the coordinator, as Mesos' tests do with DROP_PROTOBUF / FUTURE_MESSAGE, but on the
// real processes. The link is CurveZMQ, so no proxy between them could see the message types:
// the filter sits in the agent's own send and receive path (AgentImpl::Send and Drain) and sees
// every frame before encryption. Compiled in always, inert unless the hidden flag
// --fault-filter (LABMESH_FAULT_FILTER) names rules; docs/chaos.md describes them.
//
// Rules, separated by ';':
//   drop  in|out TYPE [N|*] [skip K]        lose the next N (default 1) matching messages
//   dup   in|out TYPE [N|*] [skip K]        deliver them twice
//   delay in|out TYPE DURATION [N|*] [skip K]  hold them back DURATION (a ms/s/m duration)
//   partition DURATION after in|out TYPE [skip K]
//                                           once a matching message has passed, lose every
//                                           message both ways for DURATION
// TYPE is a message name as protocol::MessageTypeName spells it (EntryReport, ResultChunk,
// EntryReportAck, ResultAck, ...) or '*' for any; `skip K` lets the first K matches pass
// untouched. Each rule counts its own matches; the first rule that acts on a message decides.
//
// Used by the agent's event-loop thread only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::agent {

enum class FaultDirection { kIn, kOut };

struct FaultVerdict {
  enum class Action { kPass, kDrop, kDuplicate, kDelay };
  Action action = Action::kPass;
  int64_t delay_ms = 0;
  std::string rule;  // the rule that acted, for the log
};

class FaultFilter {
 public:
  // Parses `rules`; InvalidArgument naming the bad rule otherwise. Empty rules: inert.
  static Result<FaultFilter> Parse(std::string_view rules);

  bool active() const { return !rules_.empty(); }
  // What to do with a message of `type_name` going `direction` at steady time `now_ms`.
  FaultVerdict Judge(FaultDirection direction, std::string_view type_name, int64_t now_ms);

 private:
  struct Rule {
    std::string text;
    FaultVerdict::Action action = FaultVerdict::Action::kDrop;
    bool partition = false;
    FaultDirection direction = FaultDirection::kOut;
    std::string type;  // "*" = any
    int64_t delay_ms = 0;
    std::optional<uint64_t> count = 1;  // nullopt = every match
    uint64_t skip = 0;
    uint64_t seen = 0;   // matches so far
    uint64_t acted = 0;  // matches acted on
  };
  std::vector<Rule> rules_;
  int64_t partition_until_ms_ = 0;
};

}  // namespace labmesh::agent
