// Metrics (docs/monitoring.md): who may scrape (scrape_rules, and AuthService's gate for
// MetricsRequest), and what the coordinator counts and reads at scrape time - on the real Core
// (the Jobs fixture: a real store, a fake clock, played agents) with MetricsService's text.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "auth_service.hpp"
#include "jobs_fixture.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/coordinator/retention_stats.hpp"
#include "metrics.hpp"
#include "metrics_service.hpp"
#include "reservation_rules.hpp"
#include "scrape_rules.hpp"

namespace labmesh::coordinator {
namespace {

// The value of the sample `series` (`name` or `name{labels}` exactly as printed), or nullopt.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::strtod(line.c_str() + series.size() + 1, nullptr);
  }
  return std::nullopt;
}

TEST(ScrapeRules, LoopbackAddressesAreTheLocalOnesOnly) {
  for (const char* local : {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackAddress(local)) << local;
  }
  for (const char* remote : {"192.0.2.1", "10.0.0.1", "::ffff:10.0.0.1", "fd00::2", "", "localhost",
                             "1270.0.0.1", "127.0.0.1 ", "0.0.0.0"}) {
    EXPECT_FALSE(IsLoopbackAddress(remote)) << remote;
  }
}

TEST(ScrapeRules, ATokenIsNeededWhenConfiguredAndLoopbackOtherwise) {
  EXPECT_TRUE(AdmitScrape("", "", true).ok());
  EXPECT_TRUE(AdmitScrape("", "anything", true).ok());
  EXPECT_EQ(AdmitScrape("", "", false).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(AdmitScrape("s3cret", "s3cret", false).ok());
  EXPECT_TRUE(AdmitScrape("s3cret", "s3cret", true).ok());
  // With a token configured, loopback alone is not enough.
  EXPECT_EQ(AdmitScrape("s3cret", "", true).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(AdmitScrape("s3cret", "s3cre", false).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(AdmitScrape("s3cret", "s3cretX", false).code(), StatusCode::kUnauthenticated);
}

// AuthService's gate: a MetricsRequest needs no user, only the scrape rule, by where it came in.
class MetricsAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.path();
    std::filesystem::create_directories(dir_.path() + "/keys");
  }

  Status Admit(const std::string& token, ApiOrigin origin, const std::string& from) {
    store_ = testing::OpenStore(dir_.path());
    HostRegistry registry(store_.get(), &clock_);
    EXPECT_TRUE(registry.Load().ok());
    AuthService auth(config_, &clock_, store_.get(), &registry);
    EXPECT_TRUE(auth.Load().ok());
    protocol::Credentials credentials;
    credentials.from = from;
    auto envelope =
        protocol::DecodeEnvelope(protocol::Encode(protocol::MetricsRequest{token}, 1, credentials));
    EXPECT_TRUE(envelope.ok());
    Status admitted = auth.Admit(*envelope, origin).status();
    store_.reset();
    return admitted;
  }

  labmesh::testing::TempDir dir_;
  CoordinatorConfig config_;
  FakeClock clock_;
  std::unique_ptr<testing::FaultyStore> store_;
};

TEST_F(MetricsAuth, WithoutATokenOnlyLoopbackClientsMayScrape) {
  EXPECT_TRUE(Admit("", ApiOrigin::kLocal, "").ok());  // the plain socket is loopback or ipc
  EXPECT_TRUE(Admit("", ApiOrigin::kWeb, "127.0.0.1").ok());
  EXPECT_TRUE(Admit("", ApiOrigin::kWeb, "::1").ok());
  EXPECT_EQ(Admit("", ApiOrigin::kWeb, "192.0.2.7").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Admit("", ApiOrigin::kWeb, "").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Admit("", ApiOrigin::kCurve, "").code(), StatusCode::kPermissionDenied);
}

TEST_F(MetricsAuth, WithATokenEveryClientMustPresentIt) {
  config_.metrics_token = "scrape-me";
  EXPECT_TRUE(Admit("scrape-me", ApiOrigin::kWeb, "192.0.2.7").ok());
  EXPECT_TRUE(Admit("scrape-me", ApiOrigin::kCurve, "").ok());
  EXPECT_EQ(Admit("", ApiOrigin::kWeb, "127.0.0.1").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Admit("wrong", ApiOrigin::kLocal, "").code(), StatusCode::kUnauthenticated);
}

// The real Core with Metrics attached, as the coordinator wires it.
class MetricsJobs : public testing::Jobs {
 protected:
  void SetUp() override {
    Jobs::SetUp();
    jobs_->set_metrics(&metrics_);
    agents_->set_metrics(&metrics_);
  }

  std::string Text() {
    MetricsService service(config_, &clock_,
                           MetricsService::Sources{&metrics_, registry_.get(), &jobs_->jobs(),
                                                   store_.get(), nullptr, nullptr});
    return service.Text();
  }

  Metrics metrics_;
};

TEST_F(MetricsJobs, EntriesStartedAndFinishedAreCountedByOutcomeWithTheirWait) {
  Register("h1");
  std::string before = Text();
  EXPECT_EQ(Sample(before, "labmesh_entries_started_total"), 0);
  // Every outcome is a series from the start, so that rate() sees the first one.
  EXPECT_EQ(Sample(before, "labmesh_entries_finished_total{status=\"Failed\"}"), 0);

  auto passed = Create({.hosts = {"h1"}});
  ASSERT_TRUE(passed.ok()) << passed.status().ToString();
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  RunEntry("h1", starts[0].entry_id, 0, "twelve bytes");
  auto failed = Create({.hosts = {"h1"}});
  ASSERT_TRUE(failed.ok());
  clock_.AdvanceMs(2'000);  // the second entry waits 2 s for its host to ask for work
  AgentSend("h1", protocol::WorkRequest{incarnation_});
  starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  RunEntry("h1", starts[0].entry_id, 3);

  std::string text = Text();
  EXPECT_EQ(Sample(text, "labmesh_entries_started_total"), 2);
  EXPECT_EQ(Sample(text, "labmesh_entries_finished_total{status=\"Completed\"}"), 1);
  EXPECT_EQ(Sample(text, "labmesh_entries_finished_total{status=\"Failed\"}"), 1);
  EXPECT_EQ(Sample(text, "labmesh_entries_finished_total{status=\"Aborted\"}"), 0);
  EXPECT_EQ(Sample(text, "labmesh_entry_start_wait_seconds_count"), 2);
  // One start at once, one after 2 s: both within the 5 s bucket, one past the 1 s one.
  EXPECT_EQ(Sample(text, "labmesh_entry_start_wait_seconds_bucket{le=\"1\"}"), 1);
  EXPECT_EQ(Sample(text, "labmesh_entry_start_wait_seconds_bucket{le=\"5\"}"), 2);
  EXPECT_EQ(Sample(text, "labmesh_upload_bytes_total"), 12 + 6);  // "twelve bytes", "hello\n"
  // Each job's Create ran a scheduling pass (and more turns may have).
  EXPECT_GE(Sample(text, "labmesh_scheduling_pass_seconds_count").value_or(0), 2);
}

TEST_F(MetricsJobs, ScrapeTimeGaugesShowHostsQueueAndAgentLag) {
  Register("h1", {"gpu"});
  Register("h2");
  auto running = Create({.meta_label = "gpu", .meta_count = 1});
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
  // h1 is busy: these wait in the queue.
  ASSERT_TRUE(Create({.meta_label = "gpu", .meta_count = 1, .priority = "high"}).ok());
  ASSERT_TRUE(Create({.meta_label = "gpu", .meta_count = 1, .priority = "high"}).ok());
  ASSERT_TRUE(Create({.hosts = {"h1"}}).ok());

  std::string text = Text();
  EXPECT_EQ(Sample(text, "labmesh_hosts{status=\"Running\"}"), 1);
  EXPECT_EQ(Sample(text, "labmesh_hosts{status=\"Ready\"}"), 1);
  EXPECT_EQ(Sample(text, "labmesh_hosts{status=\"Dead\"}"), 0);
  EXPECT_EQ(Sample(text, "labmesh_hosts{status=\"Quarantined\"}"), 0);
  EXPECT_EQ(Sample(text, "labmesh_agents_connected"), 2);
  EXPECT_EQ(Sample(text, "labmesh_queue_entries{label=\"gpu\",priority=\"high\"}"), 2);
  EXPECT_EQ(Sample(text, "labmesh_queue_entries{label=\"(named hosts)\",priority=\"medium\"}"), 1);
  EXPECT_EQ(Sample(text, "labmesh_jobs_active"), 4);
  EXPECT_GT(Sample(text, "labmesh_store_used_bytes{db=\"store\"}").value_or(0), 0);
  EXPECT_EQ(Sample(text, "labmesh_hosts_heartbeat_late"), 0);
  EXPECT_EQ(Sample(text, "labmesh_hosts_reserved"), 0);
  store::Host* reserved = registry_->Stage("h2");
  ASSERT_NE(reserved, nullptr);
  Reserve(*reserved, "bob", 10'000, "bisect", clock_.WallMs());
  Flush();
  EXPECT_EQ(Sample(Text(), "labmesh_hosts_reserved"), 1);

  // Silent for 11 s (h2's 10 s reservation has ended by then) with heartbeats asked every 5 s: late, and the lag says how long.
  clock_.AdvanceMs(11'000);
  Heartbeat("h2");
  text = Text();
  EXPECT_EQ(Sample(text, "labmesh_heartbeat_lag_max_seconds"), 11);
  EXPECT_EQ(Sample(text, "labmesh_hosts_heartbeat_late"), 1);
  EXPECT_EQ(Sample(text, "labmesh_hosts_reserved"), 0);
  // h2's heartbeat came 11 s after its registration: in the 15 s bucket, not the 10 s one.
  EXPECT_EQ(Sample(text, "labmesh_heartbeat_gap_seconds_count"), 1);
  EXPECT_EQ(Sample(text, "labmesh_heartbeat_gap_seconds_bucket{le=\"10\"}"), 0);
  EXPECT_EQ(Sample(text, "labmesh_heartbeat_gap_seconds_bucket{le=\"15\"}"), 1);
}

TEST(MetricsCounters, ParsesCountResultsAndErrors) {
  Metrics metrics;
  metrics.Parsed(40, 0);
  metrics.Parsed(2, 3);
  CoordinatorConfig config;
  FakeClock clock;
  MetricsService service(config, &clock, MetricsService::Sources{&metrics});
  std::string text = service.Text();
  EXPECT_EQ(Sample(text, "labmesh_results_ingested_total"), 42);
  EXPECT_EQ(Sample(text, "labmesh_results_parse_errors_total"), 3);
  EXPECT_EQ(Sample(text, "labmesh_results_parsed_entries_total"), 2);
  EXPECT_EQ(Sample(text, "labmesh_build_info{version=\"" LABMESH_VERSION "\"}"), 1);
}

TEST(MetricsCounters, TheRetentionSweepersTotalsAreCounters) {
  RetentionStats stats;
  stats.sweeps = 3;
  stats.results_removed = 20;
  stats.dirs_removed = 40;
  stats.files_removed = 160;
  stats.bytes_removed = 1 << 20;
  stats.index_rows_removed = 900;
  stats.jobs_removed = 5;
  stats.entries_removed = 10;
  stats.audit_removed = 7;
  stats.errors = 1;
  stats.longest_turn_us = 2500;
  CoordinatorConfig config;
  FakeClock clock;
  MetricsService::Sources sources;
  sources.retention = &stats;
  MetricsService service(config, &clock, sources);
  std::string text = service.Text();
  EXPECT_NE(text.find("# TYPE labmesh_retention_bytes_removed_total counter"), std::string::npos);
  EXPECT_EQ(Sample(text, "labmesh_retention_sweeps_total"), 3);
  EXPECT_EQ(Sample(text, "labmesh_retention_results_removed_total"), 20);
  EXPECT_EQ(Sample(text, "labmesh_retention_dirs_removed_total"), 40);
  EXPECT_EQ(Sample(text, "labmesh_retention_files_removed_total"), 160);
  EXPECT_EQ(Sample(text, "labmesh_retention_bytes_removed_total"), 1 << 20);
  EXPECT_EQ(Sample(text, "labmesh_retention_index_rows_removed_total"), 900);
  EXPECT_EQ(Sample(text, "labmesh_retention_records_removed_total"), 22);
  EXPECT_EQ(Sample(text, "labmesh_retention_errors_total"), 1);
  EXPECT_DOUBLE_EQ(*Sample(text, "labmesh_retention_longest_turn_seconds"), 0.0025);
}

TEST(MetricsRefusals, ARefusedScraperIsLoggedOnceAMinuteWithTheCountBetween) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "refusals-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  CoordinatorConfig config;
  FakeClock clock;
  MetricsService service(config, &clock, MetricsService::Sources{});
  const Status wrong = Status::Unauthenticated("the scrape token is not this coordinator's");
  for (int i = 0; i < 4; ++i) {  // every 15 s, as Prometheus would
    service.NoteRefused("web 192.0.2.7", wrong);
    clock.AdvanceMs(15'000);
  }
  service.NoteRefused("web 192.0.2.8", wrong);  // another client has its own line
  clock.AdvanceMs(1);
  service.NoteRefused("web 192.0.2.7", wrong);  // a minute and 1 ms after the first line
  spdlog::set_default_logger(previous);

  std::string text = log.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_NE(text.find("metrics scrape from web 192.0.2.7 refused: Unauthenticated"),
            std::string::npos) << text;
  EXPECT_NE(text.find("metrics scrape from web 192.0.2.8 refused"), std::string::npos) << text;
  EXPECT_NE(text.find("(3 more refused in the last minute)"), std::string::npos) << text;
}

}  // namespace
}  // namespace labmesh::coordinator
