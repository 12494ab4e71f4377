#include "labmesh/cli/job_flags.hpp"

#include <algorithm>

#include "labmesh/cli/cli_util.hpp"

namespace labmesh::cli {
namespace {

std::string DurationText(int64_t ms) { return ms > 0 ? std::to_string(ms) + "ms" : ""; }

std::string KeepResultsText(int64_t ms) {
  if (ms == -1) return "forever";
  return DurationText(ms);
}

// A base's script stands in for --control: BuildJobCreateRequest wants one of the three, and
// the reader below returns the script instead of reading a file of this name.
constexpr char kBaseControl[] = "(the control it was made from)";

}  // namespace

JobBase JobBaseOf(const protocol::JobInfo& job) {
  return JobBaseOf(protocol::JobDefinitionOf(job));
}

JobBase JobBaseOf(const protocol::JobCreateRequest& job) {
  JobBase base;
  JobCreateArgs& a = base.args;
  a.name = job.name;
  a.command = job.command;
  a.test = job.test;
  base.control_text = job.control;
  a.hosts = job.hosts;
  a.label = job.meta_label;
  if (job.meta_count > 0) a.count = job.meta_count;
  a.depends = job.depends;
  a.synch_count = job.synch_count;
  a.priority = job.priority;
  a.run_verify = job.run_verify;
  a.timeout = DurationText(job.timeout_ms);
  a.max_runtime = DurationText(job.max_runtime_ms);
  a.cleanup = job.cleanup;
  a.retry = job.retry;
  a.keep_results = KeepResultsText(job.keep_results_ms);
  a.notify = job.notify;
  a.notify_on = job.notify_on;
  a.after = job.after;
  a.after_any = job.after_any;
  a.reserve_on_failure = DurationText(job.reserve_on_failure_ms);
  return base;
}

void JobFlags::Add(CLI::App* cmd) {
  JobCreateArgs& o = args_;
  auto add = [&](const std::string& name, CLI::Option* option) {
    given_.emplace_back(name, option);
    return option;
  };
  add("name", cmd->add_option("--name", o.name, "the job's name"));
  add("control", cmd->add_option("--control", o.control_file,
                                 "a control script file (at most 1 MiB)"));
  add("command", cmd->add_option("--command", o.command, "a command line, run with /bin/sh -c"));
  add("test", cmd->add_option("--test", o.test, "a test of the catalog"));
  add("hosts", cmd->add_option("--hosts", o.hosts, "named hosts, comma-separated")->delimiter(','));
  add("label", cmd->add_option("--label", o.label, "run on --count hosts carrying this label"));
  add("count", cmd->add_option("--count", count_, "how many hosts with --label"));
  add("depends", cmd->add_option("--depends", o.depends,
                                 "labels every chosen host must carry, comma-separated")
                     ->delimiter(','));
  add("synch-count", cmd->add_option("--synch-count", o.synch_count, "hosts that run it together")
                         ->capture_default_str());
  add("priority", cmd->add_option("--priority", o.priority, "low, medium, high or urgent")
                      ->capture_default_str());
  add("run-verify", cmd->add_flag("--run-verify,!--no-run-verify", o.run_verify,
                                  "verify each host before the control (or not)"));
  add("timeout", cmd->add_option("--timeout", o.timeout, "abort the job when not finished after D"));
  add("max-runtime", cmd->add_option("--max-runtime", o.max_runtime,
                                     "one host's running time limit"));
  add("cleanup", cmd->add_option("--cleanup", o.cleanup,
                                 "clean each host after its entry: never, always or on-failure")
                     ->capture_default_str());
  add("retry", cmd->add_option("--retry", o.retry,
                               "queue an entry again, up to N times, when its host is lost")
                   ->capture_default_str());
  add("keep-results", cmd->add_option("--keep-results", o.keep_results,
                                      "keep its results this long after it finished (30d, 2w, "
                                      "12h) or forever, whatever the coordinator's "
                                      "--results-retention says"));
  add("notify", cmd->add_option("--notify", o.notify,
                                "tell this target when the job ends: email:ADDRESS or "
                                "webhook:URL (repeat for more; default: your `user mod --notify` "
                                "targets)")
                    ->take_all()
                    ->allow_extra_args(false));
  add("notify-on", cmd->add_option("--notify-on", o.notify_on,
                                   "when to notify: always (default) or failure (not all "
                                   "Completed)"));
  add("after", cmd->add_option("--after", o.after,
                               "queue it only when these jobs are final (ids, comma-separated); "
                               "it is aborted when one did not complete, unless --after-any")
                   ->delimiter(','));
  add("after-any", cmd->add_flag("--after-any", o.after_any,
                                 "with --after: run whatever those jobs ended as"));
  add("reserve-on-failure",
      cmd->add_option("--reserve-on-failure", o.reserve_on_failure,
                      "a host whose entry fails stays reserved to you for D (at most 7d) to "
                      "debug it; --notify targets are told"));
}

bool JobFlags::Given(std::string_view flag) const {
  for (const auto& [name, option] : given_) {
    if (name == flag) return option->count() > 0;
  }
  return false;
}

bool JobFlags::AnyGiven() const {
  return std::any_of(given_.begin(), given_.end(),
                     [](const auto& given) { return given.second->count() > 0; });
}

JobCreateArgs JobFlags::Typed() const {
  JobCreateArgs args = args_;
  if (Given("count")) args.count = count_;
  return args;
}

JobBase JobFlags::Over(const JobBase& base) const {
  JobBase out = base;
  JobCreateArgs& args = out.args;
  const JobCreateArgs& o = args_;
  if (Given("control") || Given("command") || Given("test")) {
    args.control_file = o.control_file;
    args.command = o.command;
    args.test = o.test;
    out.control_text.clear();
  }
  if (Given("hosts") || Given("label") || Given("count")) {
    args.hosts = o.hosts;
    args.label = o.label;
    args.count.reset();
    if (Given("count")) args.count = count_;
  }
  if (Given("name")) args.name = o.name;
  if (Given("depends")) args.depends = o.depends;
  if (Given("synch-count")) args.synch_count = o.synch_count;
  if (Given("priority")) args.priority = o.priority;
  if (Given("run-verify")) args.run_verify = o.run_verify;
  if (Given("timeout")) args.timeout = o.timeout;
  if (Given("max-runtime")) args.max_runtime = o.max_runtime;
  if (Given("cleanup")) args.cleanup = o.cleanup;
  if (Given("retry")) args.retry = o.retry;
  if (Given("keep-results")) args.keep_results = o.keep_results;
  if (Given("notify")) args.notify = o.notify;
  if (Given("notify-on")) args.notify_on = o.notify_on;
  if (Given("after")) args.after = o.after;
  if (Given("after-any")) args.after_any = o.after_any;
  if (Given("reserve-on-failure")) args.reserve_on_failure = o.reserve_on_failure;
  return out;
}

Result<protocol::JobCreateRequest> BuildFromBase(const JobBase& base, const JobFlags& flags,
                                                 const std::string& user) {
  JobBase made = flags.Over(base);
  made.args.user = user;
  if (!made.control_text.empty()) made.args.control_file = kBaseControl;
  const std::string script = made.control_text;
  return BuildJobCreateRequest(made.args, [&](const std::string& path) -> Result<std::string> {
    if (!script.empty()) return script;
    return ReadControlFile(path, kMaxControlBytes);
  });
}

}  // namespace labmesh::cli
