#pragma once
// The flags that describe a job - `job create`'s - as one set that `job create`, `job clone`,
// `template create` and `job create --template` share: where each value lands, which flags were
// given, and a job's definition with the given flags laid over another one (a cloned job's, a
// template's). docs/cli.md lists the flags.

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labmesh/cli/job_logic.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::cli {

// A job's create arguments from somewhere else, before the flags are laid over them: a control
// script travels as `control_text` (there is no file to read), a catalog test by name.
struct JobBase {
  JobCreateArgs args;
  std::string control_text;  // a "control" job's script
};
// The arguments of a job as `job show` has it (`job clone`).
JobBase JobBaseOf(const protocol::JobInfo& job);
// The arguments of a saved definition (a template's).
JobBase JobBaseOf(const protocol::JobCreateRequest& job);

class JobFlags {
 public:
  // Adds the flags to `cmd`. --name is optional here (BuildJobCreateRequest insists on a name,
  // which a base has).
  void Add(CLI::App* cmd);
  bool Given(std::string_view flag) const;
  bool AnyGiven() const;
  // The arguments as typed (`job create` without a base).
  JobCreateArgs Typed() const;
  // `base` with every given flag laid over it. What to run (--control, --command, --test) and
  // where (--hosts, --label, --count) are replaced as a whole when any of their flags is given.
  JobBase Over(const JobBase& base) const;

 private:
  JobCreateArgs args_;
  uint32_t count_ = 0;
  std::vector<std::pair<std::string, CLI::Option*>> given_;
};

// The request of a job made from `base` with `flags` over it, for `user`; a usage error
// (InvalidArgument) when the result breaks a rule of `job create`. A --control given is read
// from its file; the base's own script is used as it is.
Result<protocol::JobCreateRequest> BuildFromBase(const JobBase& base, const JobFlags& flags,
                                                 const std::string& user);

}  // namespace labmesh::cli
