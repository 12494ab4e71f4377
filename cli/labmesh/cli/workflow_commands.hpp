#pragma once
// The lab-workflow commands (issue 22, docs/notifications.md): `user mod NAME --notify ...`
// (a user's default notification targets; added to the `user` noun UserCommands made),
// `notify secret URL` (the secret webhooks to URL are signed with for your jobs), `job clone
// ID [overrides]` (added to the `job` noun JobCommands made; docs/jobs.md) and `host reserve
// NAME --for D [--reason R]`, `host release NAME` (added to the `host` noun HostCommands made;
// docs/reservations.md).

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/job_flags.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class WorkflowCommands {
 public:
  // Must be made after UserCommands, JobCommands and HostCommands (it adds `mod` to `user`,
  // `clone` to `job`, `reserve` and `release` to `host`, to those main built: it builds only
  // the groups a command line names). `app`, `g` and `action`
  // must outlive this object, and this object the parse and the action.
  WorkflowCommands(CLI::App& app, const Globals& g, Action& action);
  WorkflowCommands(const WorkflowCommands&) = delete;
  WorkflowCommands& operator=(const WorkflowCommands&) = delete;

 private:
  // Each adds its commands to a group another class built (main builds it first, when the
  // command line names it).
  void AddUserMod(CLI::App& user, Action& action);
  void AddJobClone(CLI::App& job, Action& action);
  void AddHostReservations(CLI::App& host, Action& action);
  int UserMod(client::ApiClient& api);
  int NotifySecret(client::ApiClient& api);
  int Clone(client::ApiClient& api);
  int Reserve(client::ApiClient& api);
  int Release(client::ApiClient& api);

  const Globals& g_;
  std::string name_;
  std::vector<std::string> notify_;
  std::string notify_on_;
  bool clear_notify_ = false;
  std::string target_;
  std::string hostname_;
  std::string reserve_for_;
  std::string reason_;
  // job clone: the job's id, the overrides as typed, and which were given.
  uint64_t clone_id_ = 0;
  JobFlags clone_flags_;
};

}  // namespace labmesh::cli
