#include "labmesh/cli/job_commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <thread>

#include "labmesh/cli/results_commands.hpp"
#include "labmesh/cli/results_logic.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {
namespace {

namespace protocol = labmesh::protocol;

// `job wait` and `job log --follow` ask the coordinator this often.
constexpr auto kPollInterval = std::chrono::milliseconds(200);

std::string DurationOrNone(int64_t ms) { return ms > 0 ? FormatDurationMs(ms) : "none"; }

void PrintJobs(const std::vector<protocol::JobInfo>& jobs, bool json) {
  if (json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& job : jobs) array.push_back(protocol::ToJson(job, /*with_control=*/false));
    std::cout << Dump(array) << "\n";
    return;
  }
  Table table({"ID", "NAME", "OWNER", "PRIORITY", "STATUS", "ENTRIES", "CREATED"});
  for (const auto& job : jobs) {
    table.Add({std::to_string(job.id), job.name, job.owner, job.priority, job.status,
               FormatEntriesColumn(job), Age(job.created_us / 1000)});
  }
  table.Print(std::cout);
}

// The job's fields, one per line, then a table of its entries.
void PrintJob(const protocol::JobInfo& job, bool json) {
  if (json) {
    std::cout << Dump(protocol::ToJson(job)) << "\n";
    return;
  }
  auto line = [](const char* key, const std::string& value) {
    std::cout << std::left << std::setw(16) << key << value << "\n";
  };
  line("id", std::to_string(job.id));
  line("name", job.name);
  line("owner", job.owner);
  line("priority", job.priority);
  line("status", job.status + (job.abort_reason.empty() ? "" : " (" + job.abort_reason + ")"));
  line("entries", FormatEntriesColumn(job));
  if (job.control_kind == "command") {
    line("command", job.control);
  } else if (job.control_kind == "test") {
    line("test", job.test_name + " (" + std::to_string(job.control.size()) + " bytes)");
  } else {
    line("control", "script (" + std::to_string(job.control.size()) + " bytes)");
  }
  if (!job.hosts.empty()) line("hosts", Join(job.hosts, ", "));
  if (!job.meta_label.empty()) {
    line("label", job.meta_label + " x " + std::to_string(job.meta_count));
  }
  if (!job.depends.empty()) line("depends", Join(job.depends, ", "));
  line("synch count", std::to_string(job.synch_count));
  line("run verify", job.run_verify ? "yes" : "no");
  line("timeout", DurationOrNone(job.timeout_ms));
  line("max runtime", DurationOrNone(job.max_runtime_ms));
  line("cleanup", job.cleanup);
  line("retry", job.retry == 0 ? "none"
                                : "up to " + std::to_string(job.retry) +
                                      (job.retry == 1 ? " time" : " times") + " when a host is lost");
  line("created", WallTimeOrDash(job.created_us / 1000));
  line("finished", WallTimeOrDash(job.finished_us / 1000));
  line("results", FormatResultsState(job));
  if (!job.after.empty()) {
    std::vector<std::string> ids;
    for (uint64_t id : job.after) ids.push_back(std::to_string(id));
    line("after", Join(ids, ", ") + (job.after_any ? " (whatever they end as)" : " (all Completed)"));
  }
  if (!job.notify.empty()) {
    line("notify", Join(job.notify, ", ") + " (on " + job.notify_on + ")");
  }
  if (job.reserve_on_failure_ms > 0) {
    line("reserve on failure", FormatDurationMs(job.reserve_on_failure_ms) +
                                   " (a host whose entry fails stays reserved to " + job.owner +
                                   ")");
  }
  if (!job.probe_for.empty()) {
    line("probe of", job.probe_for + " (quarantined: its probe jobs decide its release)");
  }
  for (const auto& n : job.notifications) line("notification", FormatNotification(n));
  std::cout << "\n";
  // Synchronous jobs add each entry's group and, while a control waits in a barrier or for a
  // value, what it waits for.
  bool groups = job.synch_count > 1;
  bool waiting = std::any_of(job.entries.begin(), job.entries.end(),
                             [](const auto& e) { return !e.waiting_in.empty(); });
  // Once the results of an entry are parsed: how many tests ended in each status.
  bool results = std::any_of(job.entries.begin(), job.entries.end(),
                             [](const auto& e) { return !e.result_counts.empty(); });
  std::vector<std::string> columns = {"HOST", "STATUS", "STARTED", "FINISHED", "REASON"};
  if (groups) columns.insert(columns.begin() + 1, "GROUP");
  // An entry queued again after its host was lost (the job's --retry): how many times.
  bool retried = AnyEntryRetried(job);
  if (retried) columns.push_back("RETRIES");
  if (results) columns.push_back("RESULTS");
  if (waiting) columns.push_back("WAITING IN");
  Table table(columns);
  for (const auto& entry : job.entries) {
    std::string host = entry.host.empty() ? "(any " + entry.meta_label + ")" : entry.host;
    std::vector<std::string> row = {host, entry.status, WallTimeOrDash(entry.started_us / 1000),
                                    WallTimeOrDash(entry.finished_us / 1000),
                                    FormatEntryReason(entry)};
    if (groups) row.insert(row.begin() + 1, std::to_string(entry.group));
    if (retried) row.push_back(std::to_string(entry.retries));
    if (results) {
      std::string counts = FormatResultCounts(entry.result_counts);
      row.push_back(counts.empty() ? "-" : counts);
    }
    if (waiting) row.push_back(entry.waiting_in.empty() ? "-" : entry.waiting_in);
    table.Add(row);
  }
  table.Print(std::cout);
  // Queued entries: their place among the entries that want the same hosts, and what holds
  // those hosts (docs/jobs.md "Why is my job waiting?").
  bool header = false;
  for (const auto& entry : job.entries) {
    if (entry.waiting_for.empty()) continue;
    if (!header) std::cout << "\nwaiting:\n";
    header = true;
    std::string host = entry.host.empty() ? "(any " + entry.meta_label + ")" : entry.host;
    if (entry.queue_length == 0) {  // not in the queue yet (--after)
      std::cout << "  " << host << ": " << entry.waiting_for << "\n";
      continue;
    }
    std::cout << "  " << host << ": " << entry.queue_position << " of " << entry.queue_length
              << " in the queue; " << entry.waiting_for << "\n";
  }
  // What could not be parsed, under the table (the rest of the results is still indexed).
  std::vector<std::string> warnings = ParseWarningLines(job);
  if (!warnings.empty()) std::cout << "\n";
  for (const auto& warning : warnings) std::cout << warning << "\n";
}

}  // namespace

JobCommands::JobCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* job = app.add_subcommand("job", "jobs: create, follow and abort work on hosts")
                  ->require_subcommand(1);

  auto* create_cmd = job->add_subcommand("create", "create a job; prints its id");
  create_flags_.Add(create_cmd);
  create_cmd->add_option("--template", template_,
                         "start from this template (`template list`): the flags given replace "
                         "its values");
  create_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Create(api); }; });

  auto* list_cmd = job->add_subcommand("list", "jobs, newest first");
  list_cmd->add_option("--owner", owner_, "only jobs of this user");
  list_cmd->add_option("--status", status_, "Waiting, Queued, Running, Completed, Failed or Aborted");
  list_cmd->add_option("--limit", limit_, "at most this many (0 = all)");
  list_cmd->add_option("--schedule", schedule_, "only the jobs this schedule created");
  list_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  auto* show_cmd = job->add_subcommand("show", "a job and its host entries");
  show_cmd->add_option("id", id_, "job id")->required();
  show_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Show(api); }; });

  auto* wait_cmd = job->add_subcommand(
      "wait",
      "wait until every entry is final; exit 0 if all Completed, 1 otherwise, 3 on timeout");
  wait_cmd->add_option("id", id_, "job id")->required();
  wait_cmd->add_option("--timeout", wait_timeout_, "give up after D (exit 3)")
      ->check([](const std::string& s) {
        auto ms = ParseDurationMs(s);
        return ms.ok() ? std::string() : ms.status().message();
      });
  wait_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Wait(api); }; });

  auto* abort_cmd = job->add_subcommand("abort", "abort the job, or its entry on one host");
  abort_cmd->add_option("id", id_, "job id")->required();
  abort_cmd->add_option("--host", host_, "only the entry on this host");
  abort_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Abort(api); }; });

  auto* delete_cmd = job->add_subcommand(
      "delete", "remove a finished job's results (files and indexed results) now");
  delete_cmd->add_option("id", id_, "job id")->required()->check(CLI::PositiveNumber);
  delete_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Delete(api); }; });

  auto* log_cmd = job->add_subcommand("log", "the control's output on one host");
  log_cmd->add_option("id", id_, "job id")->required();
  log_cmd->add_option("--host", host_, "the host")->required();
  log_cmd->add_flag("--follow,-f", follow_, "keep printing until the entry is final");
  log_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Log(api); }; });
}

int JobCommands::Create(client::ApiClient& api) {
  std::optional<protocol::TemplateShowReply> shown;
  if (!template_.empty()) {
    auto reply = api.Call<protocol::TemplateShowReply>(protocol::TemplateShowRequest{template_});
    if (!reply.ok()) return Fail(reply.status());
    shown = std::move(*reply);
  }
  auto request = [&]() -> Result<protocol::JobCreateRequest> {
    if (shown) return BuildFromBase(JobBaseOf(shown->template_info.job), create_flags_, UserOf(g_));
    JobCreateArgs args = create_flags_.Typed();
    args.user = UserOf(g_);
    return BuildJobCreateRequest(
        args, [](const std::string& path) { return ReadControlFile(path, kMaxControlBytes); });
  }();
  if (!request.ok()) return UsageError(request.status().message());
  request->template_name = template_;
  auto reply = api.Call<protocol::JobCreateReply>(*request);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(nlohmann::json{{"id", reply->id}}) << "\n";
  } else {
    std::cout << reply->id << "\n";
  }
  return kExitOk;
}

int JobCommands::List(client::ApiClient& api) {
  protocol::JobListRequest request;
  request.owner = owner_;
  if (!status_.empty()) {
    auto status = ParseJobStatusFilter(status_);
    if (!status.ok()) return UsageError("job list: " + status.status().message());
    request.status = *status;
  }
  request.limit = limit_;
  request.schedule = schedule_;
  auto reply = api.Call<protocol::JobListReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  PrintJobs(reply->jobs, g_.json);
  return kExitOk;
}

int JobCommands::Show(client::ApiClient& api) {
  auto reply = api.Call<protocol::JobShowReply>(protocol::JobShowRequest{id_});
  if (!reply.ok()) return Fail(reply.status());
  PrintJob(reply->job, g_.json);
  return kExitOk;
}

int JobCommands::Wait(client::ApiClient& api) {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> deadline;
  int64_t timeout_ms = 0;
  if (!wait_timeout_.empty()) {
    timeout_ms = *ParseDurationMs(wait_timeout_);  // checked by the flag
    deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  // A live line only for a person at a terminal; scripts (and --json) get the end result only.
  const bool live = !g_.json && isatty(STDOUT_FILENO) == 1;
  size_t shown = 0;  // length of the progress line on screen
  auto clear_line = [&] {
    if (shown > 0) std::cout << '\r' << std::string(shown, ' ') << '\r' << std::flush;
    shown = 0;
  };
  while (true) {
    auto reply = api.Call<protocol::JobShowReply>(protocol::JobShowRequest{id_});
    if (!reply.ok()) {
      clear_line();
      return Fail(reply.status());
    }
    const protocol::JobInfo& job = reply->job;
    if (IsJobFinished(job)) {
      clear_line();
      if (g_.json) {
        std::cout << Dump(protocol::ToJson(job)) << "\n";
      } else {
        std::cout << FormatWaitResult(job) << "\n";
      }
      return JobSucceeded(job) ? kExitOk : kExitFailed;
    }
    if (live) {
      std::string text = FormatProgress(job);
      std::cout << '\r' << text;
      if (text.size() < shown) std::cout << std::string(shown - text.size(), ' ');
      std::cout << std::flush;
      shown = std::max(shown, text.size());
    }
    auto pause = kPollInterval;
    if (deadline) {
      auto now = Clock::now();
      if (now >= *deadline) {
        clear_line();
        std::cerr << "labmesh: job " << id_ << " not finished after "
                  << FormatDurationMs(timeout_ms) << "\n";
        return kExitUnreachable;
      }
      pause = std::min(pause, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  *deadline - now + std::chrono::milliseconds(1)));
    }
    std::this_thread::sleep_for(pause);
  }
}

int JobCommands::Abort(client::ApiClient& api) {
  auto reply = api.Call<protocol::OkReply>(protocol::JobAbortRequest{id_, host_, UserOf(g_)});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int JobCommands::Delete(client::ApiClient& api) {
  // The answer comes when the files are gone: a big job's take a while.
  int64_t timeout_ms = g_.timeout_given ? g_.timeout_ms : kReparseTimeoutMs;
  auto reply = api.Call<protocol::JobDeleteReply>(protocol::JobDeleteRequest{id_}, timeout_ms);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatJobDelete(*reply) << "\n";
  }
  return kExitOk;
}

int JobCommands::Log(client::ApiClient& api) {
  protocol::JobLogRequest request;
  request.id = id_;
  request.host = host_;
  request.offset = 0;
  // --json: one document {"id","host","log","next_offset","complete"} with everything there is;
  // with --follow one such document a line for each piece as it comes ("log" holds the piece,
  // "offset" where it starts), the last one with "complete": true. Bytes that are not UTF-8
  // are replaced (U+FFFD): the log is text for people; the file itself is in the results.
  std::string text;
  auto print_json = [&](uint64_t offset, const std::string& piece, const protocol::JobLogReply& r) {
    nlohmann::json doc = {{"id", id_},         {"host", host_},
                          {"offset", offset},  {"log", piece},
                          {"next_offset", r.next_offset}, {"complete", r.complete}};
    std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    std::cout.flush();
  };
  while (true) {
    auto reply = api.Call<protocol::JobLogReply>(request);
    if (!reply.ok()) return Fail(reply.status());
    const uint64_t offset = request.offset;
    if (g_.json) {
      std::string piece(reply->data.begin(), reply->data.end());
      if (follow_) {
        if (!piece.empty() || reply->complete) print_json(offset, piece, *reply);
      } else {
        text += piece;
      }
      bool last = reply->complete || !(reply->next_offset > request.offset) || reply->data.empty();
      if (!follow_ && last) {
        print_json(0, text, *reply);
        return kExitOk;
      }
      if (reply->complete) return kExitOk;
    } else if (!reply->data.empty()) {
      std::cout.write(reply->data.data(), static_cast<std::streamsize>(reply->data.size()));
      std::cout.flush();
    }
    if (reply->complete) return kExitOk;
    // Only a growing offset is progress: a reply that does not move on (nothing new yet, or a
    // coordinator that misbehaves) must not make us ask in a tight loop or print bytes twice.
    bool progressed = reply->next_offset > request.offset;
    if (progressed) request.offset = reply->next_offset;
    if (!progressed || reply->data.empty()) {
      if (!follow_) return kExitOk;  // everything there is, printed
      std::this_thread::sleep_for(kPollInterval);
    }
  }
}

}  // namespace labmesh::cli
