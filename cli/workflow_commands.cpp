#include "labmesh/cli/workflow_commands.hpp"

#include <iostream>

#include "labmesh/common/duration.hpp"

#include "labmesh/cli/job_logic.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

namespace {

// The top-level command `name`, or nullptr when main did not build its group.
CLI::App* FindCommand(CLI::App& app, const std::string& name) {
  auto found = app.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

}  // namespace

WorkflowCommands::WorkflowCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  if (CLI::App* user = FindCommand(app, "user")) AddUserMod(*user, action);
  if (CLI::App* job = FindCommand(app, "job")) AddJobClone(*job, action);
  if (CLI::App* host = FindCommand(app, "host")) AddHostReservations(*host, action);
  auto* notify = app.add_subcommand("notify", "job-end notifications")->require_subcommand(1);
  auto* secret = notify->add_subcommand(
      "secret", "the secret webhooks to URL are signed with for your jobs (X-Labmesh-Signature)");
  secret->add_option("target", target_, "webhook:URL or URL")->required();
  secret->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return NotifySecret(api); }; });
}

void WorkflowCommands::AddUserMod(CLI::App& user, Action& action) {
  auto* mod = user.add_subcommand(
      "mod", "change a user's notification defaults (yourself, or anyone as an admin)");
  mod->add_option("name", name_, "user name")->required();
  mod->add_option("--notify", notify_,
                  "jobs this user creates without --notify tell these targets when they end: "
                  "email:ADDRESS or webhook:URL (repeat for more; replaces the defaults)")
      ->allow_extra_args(false);
  mod->add_option("--notify-on", notify_on_, "always or failure");
  mod->add_flag("--clear-notify", clear_notify_, "remove every default target");
  mod->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return UserMod(api); }; });
}

void WorkflowCommands::AddJobClone(CLI::App& job, Action& action) {
  auto* clone = job.add_subcommand(
      "clone", "create a new job like job ID, changed by the flags given (as job create's)");
  clone->add_option("id", clone_id_, "the job to copy")->required()->check(CLI::PositiveNumber);
  clone_flags_.Add(clone);
  clone->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Clone(api); }; });
}

void WorkflowCommands::AddHostReservations(CLI::App& host, Action& action) {
  auto* reserve = host.add_subcommand(
      "reserve", "keep a host for your own jobs for a while (others' jobs wait or go elsewhere)");
  reserve->add_option("name", hostname_, "hostname")->required();
  reserve->add_option("--for", reserve_for_, "how long: 4h, 90m, 2d (at most 7d)")->required();
  reserve->add_option("--reason", reason_, "why (shown to others)");
  reserve->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Reserve(api); }; });
  auto* release = host.add_subcommand(
      "release", "end a host's reservation (yours; admins: anyone's)");
  release->add_option("name", hostname_, "hostname")->required();
  release->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Release(api); }; });
}

int WorkflowCommands::UserMod(client::ApiClient& api) {
  protocol::UserModRequest request;
  request.name = name_;
  for (const std::string& target : notify_) {
    auto checked = CheckNotifyTarget(target);
    if (!checked.ok()) return UsageError("user mod: " + checked.status().message());
  }
  auto on = ParseNotifyOn(notify_on_);
  if (!on.ok()) return UsageError("user mod: " + on.status().message());
  if (notify_.empty() && on->empty() && !clear_notify_) {
    return UsageError("user mod: nothing to change (--notify, --notify-on or --clear-notify)");
  }
  if (clear_notify_ && !notify_.empty()) {
    return UsageError("user mod: --notify and --clear-notify exclude each other");
  }
  request.notify = notify_;
  request.notify_on = *on;
  request.clear_notify = clear_notify_;
  auto reply = api.Call<protocol::OkReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int WorkflowCommands::NotifySecret(client::ApiClient& api) {
  auto reply = api.Call<protocol::NotifySecretReply>(protocol::NotifySecretRequest{target_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(nlohmann::json{
                     {"target", reply->target}, {"owner", reply->owner}, {"secret", reply->secret}})
              << "\n";
  } else {
    std::cout << reply->secret << "\n";
  }
  return kExitOk;
}

int WorkflowCommands::Reserve(client::ApiClient& api) {
  auto ms = ParseReservationDuration("--for", reserve_for_);
  if (!ms.ok()) return UsageError("host reserve: " + ms.status().message());
  auto reply = api.Call<protocol::HostShowReply>(
      protocol::HostReserveRequest{hostname_, *ms, reason_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(reply->host)) << "\n";
  } else {
    std::cout << "host " << reply->host.hostname << " reserved for "
              << FormatReservation(reply->host, NowMs()) << "\n";
  }
  return kExitOk;
}

int WorkflowCommands::Release(client::ApiClient& api) {
  auto reply = api.Call<protocol::HostShowReply>(protocol::HostReleaseRequest{hostname_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(reply->host)) << "\n";
  } else {
    std::cout << "host " << reply->host.hostname << " released\n";
  }
  return kExitOk;
}

int WorkflowCommands::Clone(client::ApiClient& api) {
  auto shown = api.Call<protocol::JobShowReply>(protocol::JobShowRequest{clone_id_});
  if (!shown.ok()) return Fail(shown.status());
  auto request = BuildFromBase(JobBaseOf(shown->job), clone_flags_, UserOf(g_));
  if (!request.ok()) return UsageError("job clone: " + request.status().message());
  auto reply = api.Call<protocol::JobCreateReply>(*request);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(nlohmann::json{{"id", reply->id}, {"cloned_from", clone_id_}}) << "\n";
  } else {
    std::cout << reply->id << "\n";
  }
  return kExitOk;
}

}  // namespace labmesh::cli
