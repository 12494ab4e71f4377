// Runs page_test.py (Selenium + headless Chromium) against a real HttpServer whose WebApi talks
// to a canned-reply coordinator that authenticates one user (FakeCoordinator::ServeAuth), so the
// page's JavaScript, its login page and its session handling are exercised in a real browser.
// Skipped when Chromium, chromedriver or the system python's selenium is missing.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "browser.hpp"
#include "fake_coordinator.hpp"
#include "labmesh/webui/http_server.hpp"
#include "labmesh/webui/web_api.hpp"

namespace labmesh::webui {
namespace {

constexpr char kEndpoint[] = "inproc://webui-page-test-api";

// Exit status of a shell command; -1 when it did not exit normally.
int RunShell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class PageBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LABMESH_SKIP_WITHOUT_BROWSER();
    testing::FakeUser user;
    user.expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() +
                      3'600'000;
    coordinator_.ServeAuth(user);
    protocol::HostListReply hosts;
    hosts.hosts = {testing::SampleHost("lab-alpha"), testing::SampleHost("lab-beta", "Dead")};
    hosts.hosts[1].last_heartbeat_ms = 0;  // never seen: the page must cope
    hosts.hosts[1].health = {};
    hosts.hosts[0].protection = "do-not-repair";
    hosts.hosts[0].last_task = testing::SampleTask(12, "lab-alpha");
    hosts.hosts[0].last_task.checks.clear();  // as the coordinator sends it
    coordinator_.Reply<protocol::HostListRequest>(hosts);
    protocol::HostHistoryReply history;
    protocol::HistoryItem task;
    task.type = "task";
    task.id = 12;
    task.name = "Verify";
    task.status = "Failed";
    task.reason = "verify.d/disk failed: <b>exit</b> status 1";
    task.queued_ms = 1'700'000'000'000 - 60'000;
    task.checks = testing::SampleTask(12, "lab-alpha").checks;
    history.items = {task};
    coordinator_.Reply<protocol::HostHistoryRequest>(history);
    protocol::HostListReply pending;
    pending.hosts = {testing::SampleHost("lab-new", "Pending Approval")};
    coordinator_.Reply<protocol::HostPendingRequest>(pending);
    auto server = HttpServer::Start("127.0.0.1:0", &api_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  // page_test.py on the page, logged in as alice with her API token first.
  std::string PageTest(const std::string& args) {
    return PageTestAs("--login alice tok-alice", args);
  }
  std::string PageTestAs(const std::string& login, const std::string& args) {
    return std::string("/usr/bin/python3 ") + LABMESH_PAGE_TEST_PY + " http://127.0.0.1:" +
           std::to_string(server_->port()) + "/ " + login + " " + args;
  }

  zmq::context_t context_;
  testing::FakeCoordinator coordinator_{context_, kEndpoint};
  WebApi api_{context_, kEndpoint};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(PageBrowserTest, PageListsEveryHostWithoutConsoleErrors) {
  EXPECT_EQ(RunShell(PageTest("lab-alpha lab-beta")), 0);
  // The browser sent the session cookie the login set, and the page's reads needed no CSRF.
  auto who = coordinator_.LastCredentials<protocol::HostListRequest>();
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->session, "sess-alice-1");
  EXPECT_EQ(who->from, "127.0.0.1");
  EXPECT_TRUE(who->token.empty());
}

// The login page with a password, then the logout button: a mutating click, so it must carry
// the session's CSRF token (from /api/v1/whoami) in X-CSRF-Token.
TEST_F(PageBrowserTest, PasswordLoginThenLogoutSendsTheCsrfToken) {
  EXPECT_EQ(RunShell(PageTestAs("--login-password alice pw-alice", "--logout lab-alpha")), 0);
  auto login = coordinator_.LastRequest<protocol::LoginRequest>();
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->user, "alice");
  EXPECT_EQ(login->password, "pw-alice");
  EXPECT_TRUE(login->token.empty());
  auto who = coordinator_.LastCredentials<protocol::LogoutRequest>();
  ASSERT_TRUE(who.ok()) << "the logout never reached the coordinator";
  EXPECT_EQ(who->session, "sess-alice-1");
  EXPECT_EQ(who->csrf, "csrf-alice-1");
  EXPECT_EQ(who->from, "127.0.0.1");
}

TEST_F(PageBrowserTest, ScriptFailsWhenTheLoginIsRefused) {
  EXPECT_EQ(RunShell("LABMESH_PAGE_TIMEOUT_S=3 " +
                     PageTestAs("--login alice wrong-token", "lab-alpha")),
            1);
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kHostListRequest), 0u);
}

// Without a login the page cannot show hosts (it goes to /login instead).
TEST_F(PageBrowserTest, ScriptFailsWithoutALogin) {
  EXPECT_EQ(RunShell("LABMESH_PAGE_TIMEOUT_S=3 " + PageTestAs("", "lab-alpha")), 1);
}

// The hosts table's "Last task" column: kind, status and age, the reason (markup as text) as the
// tooltip, "—" for a host that never had a task; the protection badge; the history on a click.
TEST_F(PageBrowserTest, PageShowsLastTaskProtectionAndHistory) {
  EXPECT_EQ(RunShell(PageTest("--text lab-alpha td.last-task 'Verify Failed \u00b7 ' "
                              "--text lab-alpha td.last-task ' ago' "
                              "--title lab-alpha td.last-task "
                              "'verify.d/disk failed: <b>exit</b> status 1' "
                              "--text lab-beta td.last-task '\u2014' "
                              "--text lab-alpha .protection do-not-repair "
                              "--history lab-alpha 'failed checks: verify.d/disk, clock-skew' "
                              "--history lab-alpha 'verify.d/disk failed: <b>exit</b> status 1' "
                              "lab-alpha lab-beta")),
            0);
}

TEST_F(PageBrowserTest, ScriptFailsWhenACheckDoesNotHold) {
  EXPECT_EQ(RunShell("LABMESH_PAGE_TIMEOUT_S=3 " +
                     PageTest("--text lab-alpha td.last-task 'Repair Completed' lab-alpha")),
            1);
}

TEST_F(PageBrowserTest, ScriptFailsWhenAHostIsMissing) {
  EXPECT_EQ(RunShell("LABMESH_PAGE_TIMEOUT_S=3 " + PageTest("lab-alpha no-such-host")), 1);
}

TEST_F(PageBrowserTest, ScriptFailsWhenTheApiFails) {
  coordinator_.Fail<protocol::HostListRequest>(Status::Internal("store exploded"));
  EXPECT_EQ(RunShell("LABMESH_PAGE_TIMEOUT_S=3 " + PageTest("lab-alpha")), 1);
}

}  // namespace
}  // namespace labmesh::webui
