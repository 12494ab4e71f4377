// Host reservations (docs/reservations.md): the pure rules (reservation_rules.hpp), and on the
// Jobs fixture (a real store, a fake clock, scripted agents) `host reserve` / `host release`
// through ReservationService, the scheduler giving a reserved host only to the reserver's
// jobs, "why is my job waiting" naming who holds it until when, expiry by time alone, and
// --reserve-on-failure reserving the failed entry's host to the owner in the batch of the
// entry's final state, with host.reserved rows in the notifications outbox.

#include "reservations.hpp"

#include <gtest/gtest.h>

#include "jobs_fixture.hpp"
#include "notify_rules.hpp"
#include "notify_sender.hpp"
#include "notify_service.hpp"
#include "reservation_rules.hpp"

namespace labmesh::coordinator::testing {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kNowMs = 1'700'000'000'000;

store::Host HostIn(std::vector<std::string> groups) {
  store::Host host;
  host.hostname = "h1";
  host.acl_groups = std::move(groups);
  return host;
}

TEST(ReservationRules, DurationsArePositiveAndAtMostSevenDays) {
  EXPECT_TRUE(ValidateReservationMs(1, "--for").ok());
  EXPECT_TRUE(ValidateReservationMs(kMaxReservationMs, "--for").ok());
  EXPECT_EQ(kMaxReservationMs, 7 * 24 * kHourMs);
  Status zero = ValidateReservationMs(0, "--for");
  EXPECT_EQ(zero.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateReservationMs(-5, "--for").code(), StatusCode::kInvalidArgument);
  Status too_long = ValidateReservationMs(kMaxReservationMs + 1, "--reserve-on-failure");
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("--reserve-on-failure"), std::string::npos);
  EXPECT_NE(too_long.message().find("at most 7d"), std::string::npos);
}

TEST(ReservationRules, ReasonsAreShortPrintableText) {
  EXPECT_TRUE(ValidateReserveReason("").ok());
  EXPECT_TRUE(ValidateReserveReason("kernel bisect \xc3\xa9").ok());
  EXPECT_FALSE(ValidateReserveReason(std::string(kMaxReserveReasonBytes + 1, 'x')).ok());
  EXPECT_FALSE(ValidateReserveReason("two\nlines").ok());
  EXPECT_FALSE(ValidateReserveReason("\xff\xfe").ok());
}

TEST(ReservationRules, AReservationEndsByTimeAlone) {
  store::Host host = HostIn({"Everyone"});
  EXPECT_FALSE(ReservationActive(host, kNowMs));
  Reserve(host, "bob", kHourMs, "bisect", kNowMs);
  EXPECT_TRUE(ReservationActive(host, kNowMs));
  EXPECT_TRUE(ReservationActive(host, kNowMs + kHourMs - 1));
  EXPECT_FALSE(ReservationActive(host, kNowMs + kHourMs));  // nobody cleared it
  EXPECT_TRUE(ReservedForOther(host, "alice", kNowMs));
  EXPECT_FALSE(ReservedForOther(host, "bob", kNowMs));
  EXPECT_FALSE(ReservedForOther(host, "alice", kNowMs + kHourMs));
  // 2023-11-14 22:13:20 UTC is kNowMs; an hour later:
  EXPECT_EQ(ReservationText(host), "bob until 2023-11-14 23:13:20 UTC (bisect)");
  Release(host);
  EXPECT_FALSE(ReservationActive(host, kNowMs));
  EXPECT_EQ(host.reserved_by, "");
}

TEST(ReservationRules, WhoMayReserve) {
  store::Host host = HostIn({"team-net"});
  // A user outside the host's ACL groups may not; an admin may.
  Status outside = MayReserve(host, "alice", false, {"Everyone"}, kNowMs);
  EXPECT_EQ(outside.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(MayReserve(host, "alice", false, {"Everyone", "team-net"}, kNowMs).ok());
  EXPECT_TRUE(MayReserve(host, "root", true, {}, kNowMs).ok());
  // Reserved by bob: refused to alice and to an admin, naming bob and the end; bob may extend.
  Reserve(host, "bob", kHourMs, "bisect", kNowMs);
  Status taken = MayReserve(host, "alice", false, {"team-net"}, kNowMs);
  EXPECT_EQ(taken.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(taken.message(),
            "host h1 is reserved by bob until 2023-11-14 23:13:20 UTC (bisect); bob or an admin "
            "may release it");
  EXPECT_EQ(MayReserve(host, "root", true, {}, kNowMs).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(MayReserve(host, "bob", false, {"team-net"}, kNowMs).ok());
  // Once it ended, anyone who may use the host may reserve it.
  EXPECT_TRUE(MayReserve(host, "alice", false, {"team-net"}, kNowMs + kHourMs).ok());
  // Not an accepted host.
  host.enrollment = store::Enrollment::kPending;
  EXPECT_EQ(MayReserve(host, "root", true, {}, kNowMs + kHourMs).code(),
            StatusCode::kFailedPrecondition);
}

TEST(ReservationRules, WhoMayRelease) {
  store::Host host = HostIn({"Everyone"});
  EXPECT_EQ(MayRelease(host, "bob", false, kNowMs).code(), StatusCode::kFailedPrecondition);
  Reserve(host, "bob", kHourMs, "", kNowMs);
  EXPECT_TRUE(MayRelease(host, "bob", false, kNowMs).ok());
  EXPECT_TRUE(MayRelease(host, "root", true, kNowMs).ok());
  Status other = MayRelease(host, "alice", false, kNowMs);
  EXPECT_EQ(other.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(other.message(), "host h1 is reserved by bob; only bob or an admin may release it");
  EXPECT_EQ(MayRelease(host, "bob", false, kNowMs + kHourMs).code(),
            StatusCode::kFailedPrecondition);  // expired: nothing to release
}

class Reservations : public Jobs {
 protected:
  void SetUp() override {
    Jobs::SetUp();
    service_ = std::make_unique<ReservationService>(&clock_, store_.get(), registry_.get());
  }

  // `host reserve` / `host release` as `user` (an admin or not), answered after the turn's
  // commit as the coordinator's route does.
  template <typename Request>
  Result<protocol::HostShowReply> As(const std::string& user, bool admin, const Request& request) {
    auto envelope = protocol::DecodeEnvelope(protocol::Encode(request, 9));
    EXPECT_TRUE(envelope.ok());
    api_sent_.clear();
    jobs_->batch().ToApi("api", service_->Handle(*envelope, Principal{user, admin, ""}), 9);
    Flush();
    EXPECT_EQ(api_sent_.size(), 1u);
    if (api_sent_.empty()) return Status::Internal("no reply");
    return protocol::DecodeAs<protocol::HostShowReply>(api_sent_.back().frame);
  }
  Result<protocol::HostShowReply> Reserve(const std::string& user, const std::string& host,
                                          int64_t ms, const std::string& reason = "",
                                          bool admin = false) {
    return As(user, admin, protocol::HostReserveRequest{host, ms, reason});
  }
  Result<protocol::HostShowReply> Release(const std::string& user, const std::string& host,
                                          bool admin = false) {
    return As(user, admin, protocol::HostReleaseRequest{host});
  }
  store::Host Stored(const std::string& host) {
    auto stored = store_->GetHost(host);
    EXPECT_TRUE(stored.ok() && stored->has_value());
    return stored.ok() && stored->has_value() ? **stored : store::Host{};
  }

  std::unique_ptr<ReservationService> service_;
};

TEST_F(Reservations, ReserveIsStoredOnTheHostAndShownWithWhoAndUntilWhen) {
  Register("h1");
  auto reply = Reserve("bob", "h1", 4 * kHourMs, "kernel bisect");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->host.reserved_by, "bob");
  EXPECT_EQ(reply->host.reserve_reason, "kernel bisect");
  EXPECT_EQ(reply->host.reserved_ms, clock_.WallMs());
  EXPECT_EQ(reply->host.reserved_until_ms, clock_.WallMs() + 4 * kHourMs);
  store::Host stored = Stored("h1");  // committed: it survives a restart
  EXPECT_EQ(stored.reserved_by, "bob");
  EXPECT_EQ(stored.reserved_until_ms, clock_.WallMs() + 4 * kHourMs);

  // Someone else is refused, naming who and until when; nothing changes.
  auto taken = Reserve("alice", "h1", kHourMs);
  EXPECT_EQ(taken.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(taken.status().message().find("reserved by bob until"), std::string::npos);
  EXPECT_EQ(Stored("h1").reserved_by, "bob");
  // A bad duration changes nothing either.
  EXPECT_EQ(Reserve("bob", "h1", kMaxReservationMs + 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Reserve("bob", "nope", kHourMs).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Stored("h1").reserved_until_ms, clock_.WallMs() + 4 * kHourMs);

  // bob extends (a new end counted from now).
  clock_.AdvanceMs(kHourMs);
  auto extended = Reserve("bob", "h1", 8 * kHourMs, "still bisecting");
  ASSERT_TRUE(extended.ok());
  EXPECT_EQ(extended->host.reserved_until_ms, clock_.WallMs() + 8 * kHourMs);
  EXPECT_EQ(Stored("h1").reserve_reason, "still bisecting");

  // alice may not release it; an admin may.
  EXPECT_EQ(Release("alice", "h1").status().code(), StatusCode::kPermissionDenied);
  auto released = Release("root", "h1", /*admin=*/true);
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(released->host.reserved_by, "");
  EXPECT_EQ(Stored("h1").reserved_by, "");
  EXPECT_EQ(Release("bob", "h1").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(Reservations, OnlyTheReserversJobsRunThereAndTheOthersSayWhyTheyWait) {
  Register("h1", {"gpu"});
  // Half an hour: the clock moves past its end below without reaching the hourly verify.
  ASSERT_TRUE(Reserve("bob", "h1", kHourMs / 2, "bisect").ok());
  const std::string until = ReservationText(Stored("h1"));

  // alice's job by name and by label wait, and say who holds the host until when.
  auto named = Create({.name = "named", .user = "alice", .hosts = {"h1"}});
  auto labelled = Create({.name = "any", .user = "alice", .meta_label = "gpu", .meta_count = 1});
  ASSERT_TRUE(named.ok() && labelled.ok());
  EXPECT_TRUE(TakeStarts("h1").empty());
  EXPECT_EQ(Show(*named).entries.at(0).waiting_for, "host h1: reserved by " + until);
  EXPECT_EQ(Show(*labelled).entries.at(0).waiting_for,
            "1 host carries gpu: 1 reserved for others (" + until + ")");
  auto avail = Call<protocol::HostAvailReply>(protocol::HostAvailRequest{"gpu", 1, {}});
  ASSERT_TRUE(avail.ok());
  EXPECT_EQ(avail->reserved, 1u);  // the fixture asks as alice (PrincipalFor)
  EXPECT_EQ(avail->free, 0u);

  // bob's job jumps the queue on his host.
  auto bobs = Create({.name = "bobs", .user = "bob", .hosts = {"h1"}});
  ASSERT_TRUE(bobs.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].job_id, *bobs);
  RunEntry("h1", starts[0].entry_id, 0);
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  Flush();
  EXPECT_TRUE(TakeStarts("h1").empty());  // still bob's

  // The reservation ends by time: the next timer turn schedules alice's first entry.
  clock_.AdvanceMs(kHourMs / 2);
  jobs_->CheckTimeouts();
  Flush();
  starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].job_id, *named);
  // The expired reservation is no longer shown.
  EXPECT_EQ(registry_->ToInfo(*registry_->Find("h1")).reserved_by, "");
}

TEST_F(Reservations, ReleaseLetsTheWaitingEntriesRunAtTheNextPass) {
  Register("h1");
  ASSERT_TRUE(Reserve("bob", "h1", kHourMs).ok());
  auto job = Create({.name = "waits", .user = "alice", .hosts = {"h1"}});
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(TakeStarts("h1").empty());
  ASSERT_TRUE(Release("bob", "h1").ok());
  jobs_->RequestSchedule();  // the loop asks for a pass after every API request
  Flush();
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
}

class ReserveOnFailure : public Reservations {
 protected:
  void SetUp() override {
    Reservations::SetUp();
    sender_ = std::make_unique<NotifySender>(config_, std::string(64, 'a'), store_.get(), &clock_);
    notify_ = std::make_unique<NotifyService>(config_, &clock_, &jobs_->batch(), sender_.get());
    jobs_->jobs().set_on_host_reserved(
        [this](const store::Job& job, const store::Entry& entry, const store::Host& host,
               uint32_t first) { return notify_->OnHostReserved(job, entry, host, first); });
    jobs_->jobs().set_on_job_end(
        [this](const store::Job& job, const std::vector<store::Entry>& entries) {
          notify_->OnJobEnd(job, entries);
        });
  }

  std::unique_ptr<NotifySender> sender_;  // never started: rows stay in the store
  std::unique_ptr<NotifyService> notify_;
};

TEST_F(ReserveOnFailure, AFailedEntrysHostIsReservedToTheOwnerWithANotification) {
  Register("h1");
  Register("h2");
  auto job = Create({.name = "flaky",
                     .user = "alice",
                     .hosts = {"h1", "h2"},
                     .notify = {"webhook:http://127.0.0.1:9/hook"},
                     .reserve_on_failure_ms = 2 * kHourMs});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  std::map<std::string, uint64_t> entry_of;
  for (const char* host : {"h1", "h2"}) {
    auto starts = TakeStarts(host);
    ASSERT_EQ(starts.size(), 1u);
    entry_of[host] = starts[0].entry_id;
  }
  RunEntry("h1", entry_of["h1"], 3);  // fails
  Flush();

  // In the commit of the entry's final state: the host reserved, and one host.reserved row.
  protocol::JobInfo shown = Show(*job);
  ASSERT_EQ(shown.entries.at(0).status, "Failed");
  store::Host h1 = Stored("h1");
  EXPECT_EQ(h1.reserved_by, "alice");
  EXPECT_EQ(h1.reserve_reason, "job " + std::to_string(*job) + " failed on h1");
  EXPECT_EQ(h1.reserved_until_ms, clock_.WallMs() + 2 * kHourMs);
  EXPECT_EQ(Stored("h2").reserved_by, "");
  auto rows = store_->ListNotifications(*job);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].event, "host.reserved");
  EXPECT_EQ((*rows)[0].hostname, "h1");
  EXPECT_EQ((*rows)[0].index, kMaxNotifyTargets);  // after the job.finished indices
  EXPECT_NE((*rows)[0].document.find("\"event\":\"host.reserved\""), std::string::npos);
  EXPECT_NE((*rows)[0].document.find("\"reserved_by\":\"alice\""), std::string::npos);
  ASSERT_EQ(shown.notifications.size(), 1u);
  EXPECT_EQ(shown.notifications[0].event, "host.reserved");
  EXPECT_EQ(shown.notifications[0].host, "h1");

  // Someone else's job waits for h1; the owner's own next job may use it.
  auto other = Create({.name = "other", .user = "bob", .hosts = {"h1"}});
  ASSERT_TRUE(other.ok());
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  Flush();
  EXPECT_TRUE(TakeStarts("h1").empty());
  EXPECT_NE(Show(*other).entries.at(0).waiting_for.find("reserved by alice until"),
            std::string::npos);

  // h2 passes: no reservation; the job ends, and its job.finished row joins (index 0).
  RunEntry("h2", entry_of["h2"], 0);
  Flush();
  EXPECT_EQ(Stored("h2").reserved_by, "");
  rows = store_->ListNotifications(*job);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].index, 0u);
  EXPECT_EQ((*rows)[0].event, "job.finished");
  EXPECT_EQ((*rows)[1].event, "host.reserved");
  auto stored_job = store_->GetJob(*job);
  ASSERT_TRUE(stored_job.ok() && stored_job->has_value());
  EXPECT_EQ((*stored_job)->reserve_notices, 1u);
  EXPECT_EQ((*stored_job)->reserve_on_failure_ms, 2 * kHourMs);
}

TEST_F(ReserveOnFailure, TheLoanAndItsNotificationCommitWithTheEntrysEndOrNotAtAll) {
  config_.dead_after_ms = 1000;
  Register("h1");
  auto job = Create({.name = "lost",
                     .user = "alice",
                     .hosts = {"h1"},
                     .notify = {"webhook:http://127.0.0.1:9/hook"},
                     .reserve_on_failure_ms = kHourMs});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
  // h1 goes silent: its entry fails (infrastructure), but that turn's commit fails.
  clock_.AdvanceMs(5000);
  store_->fail_applies = 1;
  agents_->CheckDeadHosts();
  Flush();
  auto stored = store_->GetJob(*job);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->finished_us, 0);
  EXPECT_EQ((*stored)->reserve_notices, 0u);
  EXPECT_EQ(Stored("h1").reserved_by, "");
  EXPECT_TRUE(store_->ListNotifications(*job)->empty());
  // Still silent after another dead-after (dropping its connection counted as seeing it): the
  // next check fails it again, and this time everything commits together, once.
  clock_.AdvanceMs(5000);
  agents_->CheckDeadHosts();
  Flush();
  protocol::JobInfo shown = Show(*job);
  EXPECT_EQ(shown.entries.at(0).status, "Failed");
  EXPECT_EQ(shown.entries.at(0).fault, "infrastructure");
  EXPECT_EQ(Stored("h1").reserved_by, "alice");
  auto rows = store_->ListNotifications(*job);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].event, "job.finished");
  EXPECT_EQ((*rows)[1].event, "host.reserved");
  EXPECT_EQ((*rows)[1].index, kMaxNotifyTargets);
}

TEST_F(ReserveOnFailure, AHostReservedBySomeoneElseStaysTheirs) {
  Register("h1");
  auto job =
      Create({.name = "flaky", .user = "alice", .hosts = {"h1"}, .reserve_on_failure_ms = kHourMs});
  ASSERT_TRUE(job.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  // While alice's entry runs, bob reserves h1 for after it.
  ASSERT_TRUE(Reserve("bob", "h1", 3 * kHourMs, "next").ok());
  RunEntry("h1", starts[0].entry_id, 1);
  Flush();
  EXPECT_EQ(Stored("h1").reserved_by, "bob");
  EXPECT_TRUE(store_->ListNotifications(*job)->empty());
}

TEST_F(ReserveOnFailure, RefusedAboveSevenDaysAndNothingIsMade) {
  Register("h1");
  auto job = Create({.name = "long",
                     .user = "alice",
                     .hosts = {"h1"},
                     .reserve_on_failure_ms = kMaxReservationMs + 1});
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(job.status().message().find("--reserve-on-failure"), std::string::npos);
  EXPECT_TRUE(store_->ListJobs()->empty());
}

}  // namespace
}  // namespace labmesh::coordinator::testing
