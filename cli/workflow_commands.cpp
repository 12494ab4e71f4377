#include "labmesh/cli/workflow_commands.hpp"

#include <iostream>

#include "labmesh/common/duration.hpp"

#include "labmesh/cli/job_logic.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

WorkflowCommands::WorkflowCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  CLI::App* user = app.get_subcommand("user");
  auto* mod = user->add_subcommand(
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

  CLI::App* job = app.get_subcommand("job");
  auto* clone = job->add_subcommand(
      "clone", "create a new job like job ID, changed by the flags given (as job create's)");
  clone->add_option("id", clone_id_, "the job to copy")->required()->check(CLI::PositiveNumber);
  JobCreateArgs& o = overrides_;
  auto add = [&](const std::string& name, CLI::Option* option) {
    given_.emplace_back(name, option);
    return option;
  };
  add("name", clone->add_option("--name", o.name, "the new job's name (default: the same)"));
  add("control", clone->add_option("--control", o.control_file, "a control script file"));
  add("command", clone->add_option("--command", o.command, "a command line"));
  add("test", clone->add_option("--test", o.test, "a test of the catalog"));
  add("hosts", clone->add_option("--hosts", o.hosts, "named hosts")->delimiter(','));
  add("label", clone->add_option("--label", o.label, "hosts carrying this label"));
  add("count", clone->add_option("--count", count_, "how many hosts with --label"));
  add("depends", clone->add_option("--depends", o.depends, "labels every host must carry")
                     ->delimiter(','));
  add("synch-count", clone->add_option("--synch-count", o.synch_count, "hosts run together"));
  add("priority", clone->add_option("--priority", o.priority, "low, medium, high or urgent"));
  add("run-verify", clone->add_flag("--run-verify,!--no-run-verify", o.run_verify,
                                    "verify each host first (or not)"));
  add("timeout", clone->add_option("--timeout", o.timeout, "abort after D"));
  add("max-runtime", clone->add_option("--max-runtime", o.max_runtime, "one host's limit"));
  add("cleanup", clone->add_option("--cleanup", o.cleanup, "never, always or on-failure"));
  add("retry", clone->add_option("--retry", o.retry, "requeues when a host is lost"));
  add("keep-results", clone->add_option("--keep-results", o.keep_results, "30d, forever, ..."));
  add("notify", clone->add_option("--notify", o.notify, "email:ADDRESS or webhook:URL")
                    ->allow_extra_args(false));
  add("notify-on", clone->add_option("--notify-on", o.notify_on, "always or failure"));
  add("after", clone->add_option("--after", o.after, "wait for these jobs")->delimiter(','));
  add("after-any", clone->add_flag("--after-any", o.after_any, "run whatever they end as"));
  add("reserve-on-failure",
      clone->add_option("--reserve-on-failure", o.reserve_on_failure,
                        "keep a host whose entry fails reserved to you for D"));
  clone->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Clone(api); }; });

  CLI::App* host = app.get_subcommand("host");
  auto* reserve = host->add_subcommand(
      "reserve", "keep a host for your own jobs for a while (others' jobs wait or go elsewhere)");
  reserve->add_option("name", hostname_, "hostname")->required();
  reserve->add_option("--for", reserve_for_, "how long: 4h, 90m, 2d (at most 7d)")->required();
  reserve->add_option("--reason", reason_, "why (shown to others)");
  reserve->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Reserve(api); }; });
  auto* release = host->add_subcommand(
      "release", "end a host's reservation (yours; admins: anyone's)");
  release->add_option("name", hostname_, "hostname")->required();
  release->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Release(api); }; });

  auto* notify = app.add_subcommand("notify", "job-end notifications")->require_subcommand(1);
  auto* secret = notify->add_subcommand(
      "secret", "the secret webhooks to URL are signed with for your jobs (X-Labmesh-Signature)");
  secret->add_option("target", target_, "webhook:URL or URL")->required();
  secret->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return NotifySecret(api); }; });
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

CloneBase CloneArgs(const protocol::JobInfo& job) {
  CloneBase base;
  JobCreateArgs& a = base.args;
  a.name = job.name;
  if (job.control_kind == "command") {
    a.command = job.control;
  } else if (job.control_kind == "test") {
    a.test = job.test_name;  // the catalog's test as it is now, as the page's clone does
  } else {
    base.control_text = job.control;
  }
  a.hosts = job.hosts;
  a.label = job.meta_label;
  if (job.meta_count > 0) a.count = job.meta_count;
  a.depends = job.depends;
  a.synch_count = job.synch_count;
  a.priority = job.priority;
  a.run_verify = job.run_verify;
  if (job.timeout_ms > 0) a.timeout = std::to_string(job.timeout_ms) + "ms";
  if (job.max_runtime_ms > 0) a.max_runtime = std::to_string(job.max_runtime_ms) + "ms";
  a.cleanup = job.cleanup;
  a.retry = job.retry;
  if (job.keep_results_ms == -1) a.keep_results = "forever";
  if (job.keep_results_ms > 0) a.keep_results = std::to_string(job.keep_results_ms) + "ms";
  a.notify = job.notify;
  a.notify_on = job.notify_on;
  if (job.reserve_on_failure_ms > 0) {
    a.reserve_on_failure = std::to_string(job.reserve_on_failure_ms) + "ms";
  }
  // Not --after: the jobs it waited for have ended; say --after again to wait for others.
  return base;
}

int WorkflowCommands::Clone(client::ApiClient& api) {
  auto shown = api.Call<protocol::JobShowReply>(protocol::JobShowRequest{clone_id_});
  if (!shown.ok()) return Fail(shown.status());
  CloneBase base = CloneArgs(shown->job);
  JobCreateArgs args = base.args;
  auto given = [&](const char* name) {
    for (const auto& [flag, option] : given_) {
      if (flag == name) return option->count() > 0;
    }
    return false;
  };
  const JobCreateArgs& o = overrides_;
  // What to run and where are replaced as a whole when any of their flags is given.
  if (given("control") || given("command") || given("test")) {
    args.control_file = o.control_file;
    args.command = o.command;
    args.test = o.test;
    base.control_text.clear();
  } else if (!base.control_text.empty()) {
    args.control_file = "(the control of job " + std::to_string(clone_id_) + ")";
  }
  if (given("hosts") || given("label") || given("count")) {
    args.hosts = o.hosts;
    args.label = o.label;
    args.count.reset();
    if (given("count")) args.count = count_;
  }
  if (given("name")) args.name = o.name;
  if (given("depends")) args.depends = o.depends;
  if (given("synch-count")) args.synch_count = o.synch_count;
  if (given("priority")) args.priority = o.priority;
  if (given("run-verify")) args.run_verify = o.run_verify;
  if (given("timeout")) args.timeout = o.timeout;
  if (given("max-runtime")) args.max_runtime = o.max_runtime;
  if (given("cleanup")) args.cleanup = o.cleanup;
  if (given("retry")) args.retry = o.retry;
  if (given("keep-results")) args.keep_results = o.keep_results;
  if (given("notify")) args.notify = o.notify;
  if (given("notify-on")) args.notify_on = o.notify_on;
  if (given("after")) args.after = o.after;
  if (given("after-any")) args.after_any = o.after_any;
  if (given("reserve-on-failure")) args.reserve_on_failure = o.reserve_on_failure;
  args.user = UserOf(g_);
  const std::string inline_control = base.control_text;
  auto request = BuildJobCreateRequest(args, [&](const std::string& path) -> Result<std::string> {
    if (!inline_control.empty()) return inline_control;
    return ReadControlFile(path, kMaxControlBytes);
  });
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
