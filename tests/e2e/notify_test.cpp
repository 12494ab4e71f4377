// Job-end notifications end to end (issue 22, docs/notifications.md): the real coordinator, an
// agent and the CLI, a real HTTP server and a real SMTP server (aiosmtpd) on 127.0.0.1
// (notify_receiver.py). Each job end reaches each target exactly once across coordinator
// kill -9s - one while the job runs, one after delivery, one while a delivery is still pending -
// and a target that is down is tried again, then recorded failed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "jobs_fixture.hpp"
#include "notify_receiver.hpp"

namespace labmesh::testing {
namespace {

class NotifyE2e : public JobsE2e {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(receiver_.Start(cluster_.root() + "/receiver"));
    recv_dir_ = receiver_.dir();
    hook_ = receiver_.hook();
    cluster_.coordinator_flags().push_back("--smtp-server=127.0.0.1:" +
                                           std::to_string(receiver_.smtp_port()));
  }

  // Webhook requests about job `id` the receiver answered with `status`.
  std::vector<nlohmann::json> Webhooks(uint64_t id, int status = 200) {
    return receiver_.Webhooks(id, status);
  }
  std::vector<nlohmann::json> Emails(uint64_t id) {
    std::vector<nlohmann::json> out;
    for (auto& mail : receiver_.Lines("emails.jsonl")) {
      if (mail["data"].get<std::string>().find("Subject: [labmesh] job " + std::to_string(id) +
                                                " ") != std::string::npos) {
        out.push_back(mail);
      }
    }
    return out;
  }
  nlohmann::json Notifications(uint64_t id) {
    auto job = Show(id);
    return job.contains("notifications") ? job["notifications"] : nlohmann::json::array();
  }
  void KillAndRestartCoordinator() {
    cluster_.StopCoordinator(SIGKILL);
    cluster_.StartCoordinator();
  }

  NotifyReceiver receiver_;
  std::string recv_dir_;
  std::string hook_;
};

std::string HmacSha256Hex(const std::string& key, const std::string& body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

TEST_F(NotifyE2e, OneWebhookAndOneEmailPerJobEndAcrossCoordinatorKills) {
  StartCluster({"nt-1"});
  // alice's defaults: jobs she creates without --notify tell both targets.
  auto mod = cluster_.Cli({"--user", "alice", "user", "mod", "alice", "--notify", hook_,
                           "--notify", "email:alice@example.org"});
  ASSERT_EQ(mod.exit_code, 0) << mod.err;
  const std::string go = cluster_.root() + "/go";
  uint64_t id = Create({"--name", "notified", "--hosts", "nt-1", "--command",
                        "while [ ! -e " + go + " ]; do sleep 0.05; done; echo done"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForEntryStatus(id, "Running"));
  EXPECT_EQ(Show(id)["notify"], (nlohmann::json{hook_, "email:alice@example.org"}));

  KillAndRestartCoordinator();  // kill -9 while the job runs
  WriteFile("go", "");
  ASSERT_TRUE(WaitForJobStatus(id, "Completed"));
  ASSERT_TRUE(WaitFor([&] { return Webhooks(id).size() == 1 && Emails(id).size() == 1; }))
      << receiver_.Log() << cluster_.coordinator().Log();

  // The webhook: the job's facts, signed with alice's secret for that target.
  nlohmann::json hook = Webhooks(id)[0];
  auto body = nlohmann::json::parse(hook["body"].get<std::string>());
  EXPECT_EQ(body["job"], id);
  EXPECT_EQ(body["owner"], "alice");
  EXPECT_EQ(body["status"], "Completed");
  EXPECT_EQ(body["entries"][0]["host"], "nt-1");
  EXPECT_EQ(body["entries"][0]["status"], "Completed");
  EXPECT_EQ(body["counts"]["GOOD"], 1);
  EXPECT_NE(body["link"].get<std::string>().find("/#/jobs/" + std::to_string(id)),
            std::string::npos);
  auto secret = cluster_.Cli({"--user", "alice", "notify", "secret", hook_});
  ASSERT_EQ(secret.exit_code, 0) << secret.err;
  std::string key = secret.out.substr(0, secret.out.find('\n'));
  EXPECT_EQ(hook["headers"]["X-Labmesh-Signature"],
            "sha256=" + HmacSha256Hex(key, hook["body"].get<std::string>()));
  // The email: to alice, the same facts and the link.
  nlohmann::json mail = Emails(id)[0];
  EXPECT_EQ(mail["rcpt_tos"], nlohmann::json::array({"alice@example.org"}));
  std::string text = mail["data"];
  EXPECT_NE(text.find("ended Completed"), std::string::npos) << text;
  EXPECT_NE(text.find("nt-1: Completed"), std::string::npos) << text;
  EXPECT_NE(text.find("/#/jobs/" + std::to_string(id)), std::string::npos) << text;

  // Delivered and recorded: a kill -9 now must not send them again. A second job's
  // notification, delivered after the restart, shows the sender has gone through its outbox.
  ASSERT_TRUE(WaitFor([&] {
    auto n = Notifications(id);
    return n.size() == 2 && n[0]["state"] == "delivered" && n[1]["state"] == "delivered";
  }));
  KillAndRestartCoordinator();
  uint64_t second = Create({"--name", "fence", "--hosts", "nt-1", "--command", "true",
                            "--notify", hook_});
  ASSERT_NE(second, 0u);
  ASSERT_TRUE(WaitFor([&] { return Webhooks(second).size() == 1; }));
  EXPECT_EQ(Webhooks(id).size(), 1u);
  EXPECT_EQ(Emails(id).size(), 1u);
  auto shown = Notifications(id);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0]["target"], hook_);
  EXPECT_EQ(shown[0]["attempts"], 1);
  EXPECT_EQ(shown[1]["target"], "email:alice@example.org");
  EXPECT_EQ(shown[1]["state"], "delivered");
  // The text view lists them too.
  auto text_show = cluster_.Cli({"job", "show", std::to_string(id)});
  EXPECT_NE(text_show.out.find("notification    " + hook_ + "  delivered"), std::string::npos)
      << text_show.out;
}

TEST_F(NotifyE2e, PendingNotificationSurvivesAKillAndIsDeliveredOnce) {
  WriteFile("receiver/reject", "");  // the receiver answers 503 for now
  StartCluster({"nt-1"});
  uint64_t id = Create({"--name", "pending", "--hosts", "nt-1", "--command", "exit 3", "--notify",
                        hook_, "--notify-on", "failure"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed"));
  ASSERT_TRUE(WaitFor([&] {
    auto n = Notifications(id);
    return n.size() == 1 && n[0]["state"] == "pending" && n[0]["attempts"].get<int>() >= 1 &&
           n[0]["last_error"] == "HTTP 503";
  })) << Show(id).dump();
  EXPECT_GE(Webhooks(id, 503).size(), 1u);

  KillAndRestartCoordinator();  // kill -9 with the delivery still owed
  std::filesystem::remove(recv_dir_ + "/reject");
  ASSERT_TRUE(WaitFor([&] { return Webhooks(id).size() == 1; }, std::chrono::seconds(30)))
      << cluster_.coordinator().Log();
  ASSERT_TRUE(WaitFor([&] { return Notifications(id)[0]["state"] == "delivered"; }));
  auto body = nlohmann::json::parse(Webhooks(id)[0]["body"].get<std::string>());
  EXPECT_EQ(body["status"], "Failed");
  EXPECT_EQ(body["entries"][0]["fault"], "test");
  // One more restart and a fence: still exactly one accepted delivery.
  KillAndRestartCoordinator();
  uint64_t second = Create({"--name", "fence", "--hosts", "nt-1", "--command", "true",
                            "--notify", hook_});
  ASSERT_TRUE(WaitFor([&] { return Webhooks(second).size() == 1; }));
  EXPECT_EQ(Webhooks(id).size(), 1u);
}

// A port nothing listens on (bound once by the kernel's choice, then closed).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(NotifyE2e, TargetThatIsDownIsRetriedThenRecordedFailed) {
  cluster_.coordinator_flags().push_back("--notify-retry-for=3s");
  StartCluster({"nt-1"});
  // Bad targets are refused and make no job.
  for (const char* bad : {"email:not an address", "webhook:ftp://example.org/x", "sms:123"}) {
    auto refused = cluster_.Cli({"--user", "alice", "job", "create", "--name", "x", "--hosts",
                                 "nt-1", "--command", "true", "--notify", bad});
    EXPECT_NE(refused.exit_code, 0) << bad;
  }
  auto list = cluster_.Cli({"--json", "job", "list"});
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 0u) << list.out;

  const std::string down = "webhook:http://127.0.0.1:" + std::to_string(ClosedPort()) + "/hook";
  uint64_t id = Create({"--name", "down", "--hosts", "nt-1", "--command", "true", "--notify",
                        down, "--notify", hook_});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitFor([&] { return Notifications(id).size() == 2 &&
                                   Notifications(id)[0]["state"] == "failed"; },
                      std::chrono::seconds(30)))
      << Show(id).dump();
  auto n = Notifications(id);
  EXPECT_GE(n[0]["attempts"].get<int>(), 2);
  std::string error = n[0]["last_error"];
  EXPECT_NE(error.find("gave up after"), std::string::npos) << error;
  EXPECT_NE(error.find("onnect"), std::string::npos) << error;
  // The other target was not held up by the dead one.
  EXPECT_EQ(n[1]["state"], "delivered");
  EXPECT_EQ(Webhooks(id).size(), 1u);
}

}  // namespace
}  // namespace labmesh::testing
