// Notification rules as pure functions (docs/notifications.md): which targets are taken and how
// they are spelled, when a job's end is told, the webhook document and the email made from it,
// the signature (HMAC-SHA256, checked against RFC 4231) and the retry delays.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "notify_rules.hpp"

namespace labmesh::coordinator {
namespace {

TEST(CanonicalNotifyTarget, TakesEmailAndWebhookTargets) {
  EXPECT_EQ(*CanonicalNotifyTarget("email:alice@example.org"), "email:alice@example.org");
  EXPECT_EQ(*CanonicalNotifyTarget("EMAIL:alice@example.org"), "email:alice@example.org");
  EXPECT_EQ(*CanonicalNotifyTarget("webhook:http://127.0.0.1:9000/hook"),
            "webhook:http://127.0.0.1:9000/hook");
  // A bare URL is a webhook, spelled as libcurl's parser reads it back (lower-case scheme, a
  // path of at least "/").
  EXPECT_EQ(*CanonicalNotifyTarget("HTTPS://ci.example.org/h?x=1"),
            "webhook:https://ci.example.org/h?x=1");
  EXPECT_EQ(*CanonicalNotifyTarget("http://ci.example.org"), "webhook:http://ci.example.org/");
}

TEST(CanonicalNotifyTarget, RefusesWhatCouldNotBeDeliveredOrCouldInjectHeaders) {
  for (const char* bad :
       {"", "alice@example.org", "email:", "email:alice", "email:@example.org", "email:a@",
        "email:a b@example.org", "email:a@b.org\r\nBcc: eve@evil.org", "email:a@b.org,eve@c.org",
        "email:<a@b.org>", "webhook:", "webhook:ftp://example.org/x", "webhook:file:///etc/passwd",
        "webhook:http://user:pw@example.org/", "webhook:http://a b/",
        "sms:+4912345", "webhook:http://example.org/\n"}) {
    EXPECT_EQ(CanonicalNotifyTarget(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(CanonicalNotifyTarget("webhook:http://x.org/" + std::string(2000, 'a')).ok());
}

TEST(CanonicalNotifyTargets, DropsDuplicatesAndCapsTheCount) {
  auto targets = CanonicalNotifyTargets(
      {"email:a@b.org", "http://h/x", "email:a@b.org", "webhook:http://h/x"});
  ASSERT_TRUE(targets.ok());
  EXPECT_EQ(*targets, (std::vector<std::string>{"email:a@b.org", "webhook:http://h/x"}));
  std::vector<std::string> many;
  for (int i = 0; i < 9; ++i) many.push_back("email:u" + std::to_string(i) + "@b.org");
  EXPECT_EQ(CanonicalNotifyTargets(many).status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseNotifyOn, AlwaysFailureOrNothing) {
  EXPECT_EQ(*ParseNotifyOn(""), "");
  EXPECT_EQ(*ParseNotifyOn("Always"), "always");
  EXPECT_EQ(*ParseNotifyOn("FAILURE"), "failure");
  EXPECT_FALSE(ParseNotifyOn("success").ok());
}

TEST(ShouldNotify, FailureMeansAnythingButCompleted) {
  EXPECT_TRUE(ShouldNotify("always", "Completed"));
  EXPECT_TRUE(ShouldNotify("", "Completed"));
  EXPECT_FALSE(ShouldNotify("failure", "Completed"));
  EXPECT_TRUE(ShouldNotify("failure", "Failed"));
  EXPECT_TRUE(ShouldNotify("failure", "Aborted"));
}

store::Job SampleJob() {
  store::Job job;
  job.id = 42;
  job.name = "nightly \"boot\"";
  job.owner = "alice";
  job.created_us = 1'764'000'000'000'000;
  job.finished_us = 1'764'000'060'000'000;
  return job;
}

std::vector<store::Entry> SampleEntries() {
  store::Entry good;
  good.hostname = "lab-1";
  good.status = protocol::EntryStatus::kCompleted;
  good.result_counts = {{"GOOD", 3}};
  store::Entry bad;
  bad.meta_label = "gpu";
  bad.status = protocol::EntryStatus::kFailed;
  bad.status_reason = "exit status 3";
  bad.fault = "test";
  bad.result_counts = {{"GOOD", 1}, {"FAIL", 2}};
  return {good, bad};
}

TEST(JobEndDocument, HoldsTheJobEntriesCountsAndLink) {
  auto doc = nlohmann::json::parse(
      JobEndDocument(SampleJob(), SampleEntries(), "Failed", "http://lab:7780/#/jobs/42"));
  EXPECT_EQ(doc["event"], "job.finished");
  EXPECT_EQ(doc["job"], 42);
  EXPECT_EQ(doc["name"], "nightly \"boot\"");
  EXPECT_EQ(doc["owner"], "alice");
  EXPECT_EQ(doc["status"], "Failed");
  EXPECT_EQ(doc["link"], "http://lab:7780/#/jobs/42");
  EXPECT_EQ(doc["counts"]["GOOD"], 4);
  EXPECT_EQ(doc["counts"]["FAIL"], 2);
  ASSERT_EQ(doc["entries"].size(), 2u);
  EXPECT_EQ(doc["entries"][0]["host"], "lab-1");
  EXPECT_EQ(doc["entries"][0]["status"], "Completed");
  EXPECT_EQ(doc["entries"][1]["host"], "(any gpu)");
  EXPECT_EQ(doc["entries"][1]["reason"], "exit status 3");
  EXPECT_EQ(doc["entries"][1]["fault"], "test");
  EXPECT_EQ(doc["finished"], "2025-11-24T16:01:00.000Z");
}

TEST(EmailFromDocument, SaysTheSameFactsInPlainText) {
  auto text = EmailFromDocument(
      JobEndDocument(SampleJob(), SampleEntries(), "Failed", "http://lab:7780/#/jobs/42"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->subject, "[labmesh] job 42 Failed: nightly \"boot\"");
  EXPECT_NE(text->body.find("Job 42 (nightly \"boot\") of alice ended Failed."), std::string::npos);
  EXPECT_NE(text->body.find("lab-1: Completed [3 GOOD]"), std::string::npos) << text->body;
  EXPECT_NE(text->body.find("(any gpu): Failed - test: exit status 3 [2 FAIL, 1 GOOD]"),
            std::string::npos)
      << text->body;
  EXPECT_NE(text->body.find("http://lab:7780/#/jobs/42"), std::string::npos);
  EXPECT_FALSE(EmailFromDocument("not json").ok());
  EXPECT_FALSE(EmailFromDocument("{\"job\": \"x\"}").ok());
}

TEST(EmailMessage, KeepsHeadersOnOneLineAndUsesCrlf) {
  store::Job job = SampleJob();
  job.name = "evil\r\nBcc: eve@evil.org";
  auto text = EmailFromDocument(JobEndDocument(job, {}, "Completed", ""));
  ASSERT_TRUE(text.ok());
  std::string mail = EmailMessage(*text, "labmesh@lab", "alice@example.org", 0, "id@lab");
  std::string headers = mail.substr(0, mail.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos) << mail;
  EXPECT_NE(mail.find("Subject: [labmesh] job 42 Completed: evil  Bcc: eve@evil.org\r\n"),
            std::string::npos)
      << mail;
  EXPECT_NE(mail.find("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"), std::string::npos);
  for (size_t i = mail.find('\n'); i != std::string::npos; i = mail.find('\n', i + 1)) {
    EXPECT_EQ(mail[i - 1], '\r') << "a bare LF at " << i;
  }
}

TEST(SignBody, IsHmacSha256AsRfc4231Says) {
  // RFC 4231, test case 2.
  EXPECT_EQ(SignBody("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(TargetSecret, DiffersPerOwnerAndTargetAndKey) {
  std::string key(64, 'a');
  std::string a = TargetSecret(key, "alice", "webhook:http://h/x");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, TargetSecret(key, "alice", "webhook:http://h/x"));
  EXPECT_NE(a, TargetSecret(key, "bob", "webhook:http://h/x"));
  EXPECT_NE(a, TargetSecret(key, "alice", "webhook:http://h/y"));
  EXPECT_NE(a, TargetSecret(std::string(64, 'b'), "alice", "webhook:http://h/x"));
}

TEST(RetryDelayMs, DoublesFromOneSecondUpToFiveMinutesWithJitter) {
  EXPECT_EQ(RetryDelayMs(1, 0.0), 1'000);
  EXPECT_EQ(RetryDelayMs(2, 0.0), 2'000);
  EXPECT_EQ(RetryDelayMs(3, 0.0), 4'000);
  EXPECT_EQ(RetryDelayMs(30, 0.0), 300'000);
  EXPECT_EQ(RetryDelayMs(1, 1.0), 1'250);
  EXPECT_EQ(RetryDelayMs(30, 1.0), 375'000);
}

TEST(ToNotificationInfo, NamesTheState) {
  store::Notification n;
  n.target = "email:a@b.org";
  n.state = store::NotifyState::kFailed;
  n.attempts = 3;
  n.last_error = "gave up";
  auto info = ToNotificationInfo(n);
  EXPECT_EQ(info.state, "failed");
  EXPECT_EQ(info.attempts, 3u);
  EXPECT_EQ(info.last_error, "gave up");
}

}  // namespace
}  // namespace labmesh::coordinator

namespace labmesh::coordinator {
namespace {

TEST(HostReservedDocument, NamesTheHostTheOwnerUntilWhenAndTheFailure) {
  store::Job job;
  job.id = 42;
  job.name = "nightly";
  job.owner = "alice";
  store::Entry entry;
  entry.hostname = "lab-3";
  entry.status = protocol::EntryStatus::kFailed;
  entry.status_reason = "exit status 3";
  entry.fault = "test";
  store::Host host;
  host.hostname = "lab-3";
  host.reserved_by = "alice";
  host.reserve_reason = "job 42 failed on lab-3";
  host.reserved_until_ms = 1'764'000'000'000;
  auto doc = nlohmann::json::parse(
      HostReservedDocument(job, entry, host, "http://lab:7780/#/jobs/42"));
  EXPECT_EQ(doc["event"], "host.reserved");
  EXPECT_EQ(doc["job"], 42);
  EXPECT_EQ(doc["host"], "lab-3");
  EXPECT_EQ(doc["reserved_by"], "alice");
  EXPECT_EQ(doc["reserved_until"], "2025-11-24T16:00:00.000Z");
  EXPECT_EQ(doc["reason"], "job 42 failed on lab-3");
  EXPECT_EQ(doc["entry"]["status"], "Failed");
  EXPECT_EQ(doc["entry"]["reason"], "exit status 3");
  EXPECT_EQ(doc["link"], "http://lab:7780/#/jobs/42");

  auto text = EmailFromDocument(doc.dump());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->subject, "[labmesh] host lab-3 reserved for alice: job 42 failed there");
  EXPECT_NE(text->body.find("Job 42 (nightly) of alice failed on lab-3 (test: exit status 3)."),
            std::string::npos)
      << text->body;
  EXPECT_NE(text->body.find("reserved for alice until 2025-11-24T16:00:00.000Z"),
            std::string::npos)
      << text->body;
  EXPECT_NE(text->body.find("labmesh host release lab-3"), std::string::npos) << text->body;
}

TEST(ToNotificationInfo, OldRowsAreJobFinished) {
  store::Notification n;
  EXPECT_EQ(ToNotificationInfo(n).event, "job.finished");
  n.event = "host.reserved";
  n.hostname = "lab-3";
  EXPECT_EQ(ToNotificationInfo(n).event, "host.reserved");
  EXPECT_EQ(ToNotificationInfo(n).host, "lab-3");
}

}  // namespace
}  // namespace labmesh::coordinator
