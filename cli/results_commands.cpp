#include "labmesh/cli/results_commands.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "labmesh/common/byte_size.hpp"
#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {
namespace {

namespace protocol = labmesh::protocol;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr char kWindowHelp[] = " (how long ago: 90s, 30m, 2h, 7d)";

}  // namespace

ResultsCommands::ResultsCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* results =
      app.add_subcommand("results", "test results from the results index")->require_subcommand(1);

  auto* list_cmd = results->add_subcommand("list", "test results, newest first, a page at a time");
  // CLI11 reads "-3" into an unsigned as a huge number: the checks refuse a sign.
  list_cmd->add_option("--job", list_.job, "only results of this job")->check(CLI::PositiveNumber);
  list_cmd->add_option("--host", list_.host, "only results from this host");
  list_cmd->add_option("--label", list_.label, "only results from hosts carrying this label");
  list_cmd->add_option("--test", list_.test, "only this test (its full name)");
  list_cmd->add_option("--status", list_.status, "GOOD, FAIL, ERROR, ABORT, WARN or TEST_NA");
  list_cmd->add_option("--since", list_.since,
                       std::string("only results started since then") + kWindowHelp);
  list_cmd->add_option("--until", list_.until,
                       std::string("only results started before then") + kWindowHelp);
  list_limit_option_ =
      list_cmd->add_option("--limit", list_limit_, "page size, 1-1000 (default 100)")
          ->check(CLI::NonNegativeNumber);
  list_cmd->add_option("--cursor", list_.cursor, "the next page, as the previous one printed");
  list_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  auto* summary_cmd = results->add_subcommand("summary", "pass rates per test and host or label");
  summary_cmd->add_option("--label", summary_.label, "only hosts carrying this label");
  summary_cmd->add_option("--host", summary_.host, "only this host");
  summary_cmd->add_option("--test", summary_.test, "only this test");
  summary_cmd->add_option("--test-prefix", summary_.test_prefix,
                          "only tests whose name starts with this");
  summary_cmd->add_option("--since", summary_.since, std::string("window start") + kWindowHelp)
      ->capture_default_str();
  summary_cmd->add_option("--until", summary_.until,
                          std::string("window end (default now)") + kWindowHelp);
  summary_cmd->add_option("--by", summary_.by,
                          "host or label (default: label when --label is given, else host)");
  summary_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Summary(api); }; });

  auto* series_cmd = results->add_subcommand("series", "one perf value of a test over time");
  series_cmd->add_option("--test", series_.test, "the test")->required();
  series_cmd->add_option("--key", series_.key, "the perf key or numeric keyval")->required();
  series_cmd->add_option("--host", series_.host, "only this host");
  series_cmd->add_option("--label", series_.label, "only hosts carrying this label");
  series_cmd->add_option("--since", series_.since, std::string("window start") + kWindowHelp);
  series_cmd->add_option("--until", series_.until, std::string("window end") + kWindowHelp);
  series_limit_option_ = series_cmd
                             ->add_option("--limit", series_limit_,
                                          "at most this many points, 1-100000 (default 1000)")
                             ->check(CLI::NonNegativeNumber);
  series_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Series(api); }; });

  auto* usage_cmd = results->add_subcommand(
      "usage", "bytes of results held, by job owner, by month and in total");
  usage_cmd->add_option("--owner", usage_owner_, "only this owner's jobs");
  usage_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Usage(api); }; });

  auto* reparse_cmd = results->add_subcommand(
      "reparse", "rebuild a job's results from its files (waits up to 10m, or --timeout)");
  reparse_cmd->add_option("job", reparse_job_, "job id")->required()->check(CLI::PositiveNumber);
  reparse_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Reparse(api); }; });

  auto* import_cmd = results->add_subcommand(
      "import", "put a hand run's results directory (labmesh-test local) in the results "
                "repository and index, as a finished job of yours");
  import_cmd->add_option("dir", import_dir_, "the results directory")->required();
  import_cmd->add_option("--host", import_host_, "the machine it ran on")->required();
  import_cmd->add_option("--job-name", import_job_name_, "the job's name (default: import)");
  import_cmd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Import(api); }; });
}

int ResultsCommands::List(client::ApiClient& api) {
  ResultsListArgs args = list_;
  if (list_limit_option_->count() > 0) args.limit = list_limit_;
  auto request = BuildResultsListRequest(args, NowUs());
  if (!request.ok()) return UsageError(request.status().message());
  auto reply = api.Call<protocol::ResultsListReply>(*request);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatResultsList(*reply);
  }
  return kExitOk;
}

int ResultsCommands::Summary(client::ApiClient& api) {
  auto request = BuildResultsSummaryRequest(summary_, NowUs());
  if (!request.ok()) return UsageError(request.status().message());
  auto reply = api.Call<protocol::ResultsSummaryReply>(*request);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatResultsSummary(*reply, request->group_by);
  }
  return kExitOk;
}

int ResultsCommands::Series(client::ApiClient& api) {
  ResultsSeriesArgs args = series_;
  if (series_limit_option_->count() > 0) args.limit = series_limit_;
  auto request = BuildResultsSeriesRequest(args, NowUs());
  if (!request.ok()) return UsageError(request.status().message());
  auto reply = api.Call<protocol::ResultsSeriesReply>(*request);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatResultsSeries(*reply);
  }
  return kExitOk;
}

int ResultsCommands::Usage(client::ApiClient& api) {
  auto reply = api.Call<protocol::ResultsUsageReply>(protocol::ResultsUsageRequest{usage_owner_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatUsage(*reply);
  }
  return kExitOk;
}

int ResultsCommands::Reparse(client::ApiClient& api) {
  if (reparse_job_ == 0) return UsageError("results reparse: the job id must be at least 1");
  protocol::ResultsReparseRequest request{reparse_job_, UserOf(g_)};
  int64_t timeout_ms = g_.timeout_given ? g_.timeout_ms : kReparseTimeoutMs;
  auto reply = api.Call<protocol::ResultsReparseReply>(request, timeout_ms);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatReparse(*reply) << "\n";
  }
  return kExitOk;
}

int ResultsCommands::Import(client::ApiClient& api) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(import_dir_, ec)) return UsageError("no directory " + import_dir_);
  // Every regular file below it, as an agent uploads an entry's results (links are not
  // followed: a hand run's directory may hold one pointing anywhere).
  protocol::ResultsImportRequest request;
  request.host = import_host_;
  request.job_name = import_job_name_;
  uint64_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(import_dir_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    auto hash = HashFile(it->path().string());
    if (!hash.ok()) return Fail(hash.status());
    request.files.push_back({fs::relative(it->path(), import_dir_).generic_string(), hash->size,
                             hash->hex});
    bytes += hash->size;
  }
  if (ec) return Fail(Status::Internal("cannot read " + import_dir_ + ": " + ec.message()));
  std::sort(request.files.begin(), request.files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  auto begun = api.Call<protocol::ResultsImportReply>(request);
  if (!begun.ok()) return Fail(begun.status());
  std::vector<char> buffer(protocol::kMaxResultChunkBytes);
  for (const protocol::FileDigest& file : request.files) {
    std::ifstream in(fs::path(import_dir_) / file.path, std::ios::binary);
    uint64_t offset = 0;
    do {  // an empty file still sends its one empty chunk
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      size_t n = static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0));
      protocol::ResultsImportChunkRequest chunk;
      chunk.entry_id = begun->entry_id;
      chunk.path = file.path;
      chunk.offset = offset;
      chunk.data.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      chunk.hash = Blake2bHex(std::string_view(chunk.data.data(), chunk.data.size()));
      auto ack = api.Call<protocol::ResultsImportChunkReply>(chunk);
      if (!ack.ok()) return Fail(ack.status());
      if (!ack->error.empty()) {
        return Fail(Status::FailedPrecondition(file.path + ": " + ack->error));
      }
      offset += n;
    } while (offset < file.size && in);
  }
  auto done = api.Call<protocol::ResultsImportReply>(protocol::ResultsImportDoneRequest{begun->entry_id});
  if (!done.ok()) return Fail(done.status());
  if (g_.json) {
    nlohmann::json j = {{"job_id", done->job_id},           {"entry_id", done->entry_id},
                        {"results_path", done->results_path}, {"files", request.files.size()},
                        {"bytes", bytes}};
    std::cout << Dump(j) << "\n";
  } else {
    std::cout << "imported " << request.files.size() << " files (" << FormatBytes(bytes)
              << ") from " << import_dir_ << " as job " << done->job_id << " (results/"
              << done->results_path << "); `labmesh job wait " << done->job_id
              << "` waits for its parse\n";
  }
  return kExitOk;
}

}  // namespace labmesh::cli
