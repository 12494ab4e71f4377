// The pure parts of `labmesh user|acl|audit`: --since, name lists, and the printed texts.

#include "labmesh/cli/auth_logic.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace labmesh::cli {
namespace {

constexpr int64_t kNowMs = 1'800'000'000'000;
constexpr int64_t kNov29Ms = 1'795'910'400'000;  // 2026-11-29T00:00:00Z

TEST(ParseSinceMs, DurationsAreHowLongAgo) {
  EXPECT_EQ(*ParseSinceMs("30m", kNowMs), kNowMs - 30 * 60'000);
  EXPECT_EQ(*ParseSinceMs("2h", kNowMs), kNowMs - 2 * 3'600'000);
  EXPECT_EQ(*ParseSinceMs("7d", kNowMs), kNowMs - 7 * 86'400'000);
  // Further back than 1970: everything (0 on the wire).
  EXPECT_EQ(*ParseSinceMs("100000d", kNowMs), 0);
}

TEST(ParseSinceMs, IsoDatesAndTimesAreUtcUnlessAnOffsetIsGiven) {
  EXPECT_EQ(*ParseSinceMs("2026-11-29", kNowMs), kNov29Ms);
  EXPECT_EQ(*ParseSinceMs("2026-11-29T10:00:00Z", kNowMs), kNov29Ms + 10 * 3'600'000);
  EXPECT_EQ(*ParseSinceMs("2026-11-29T10:00", kNowMs), kNov29Ms + 10 * 3'600'000);
  EXPECT_EQ(*ParseSinceMs("2026-11-29 10:00:00", kNowMs), kNov29Ms + 10 * 3'600'000);
  EXPECT_EQ(*ParseSinceMs("2026-11-29T10:00:00.25Z", kNowMs), kNov29Ms + 10 * 3'600'000 + 250);
  EXPECT_EQ(*ParseSinceMs("2026-11-29T10:00:00+01:00", kNowMs), kNov29Ms + 9 * 3'600'000);
  EXPECT_EQ(*ParseSinceMs("2026-11-29T10:00:00-00:30", kNowMs),
            kNov29Ms + 10 * 3'600'000 + 30 * 60'000);
  EXPECT_EQ(*ParseSinceMs("2024-02-29T09:30:15Z", kNowMs), 1'709'199'015'000);
}

TEST(ParseSinceMs, AnythingElseIsRefusedSayingWhatIsAccepted) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-29T25:00",
                          "2026-11-29T10", "2026-11-29T10:00:00ZZ", "2026/11/29", "7w",
                          "2026-11-29T10:00:00+1", "-5m"}) {
    auto since = ParseSinceMs(bad, kNowMs);
    ASSERT_FALSE(since.ok()) << bad;
    EXPECT_EQ(since.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(since.status().message().find("e.g. 30m, 2h, 7d"), std::string::npos) << bad;
  }
}

TEST(CheckNames, EmptyNameInAListIsRefused) {
  EXPECT_TRUE(CheckNames({"a", "b"}, "--users").ok());
  auto s = CheckNames({"a", "", "b"}, "--hosts");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "--hosts: empty name in the list");
}

TEST(AbbreviateList, ShowsThreeNamesThenACount) {
  EXPECT_EQ(AbbreviateList({}), "-");
  EXPECT_EQ(AbbreviateList({"a", "b", "c"}), "a,b,c");
  EXPECT_EQ(AbbreviateList({"a", "b", "c", "d", "e"}), "a,b,c +2 more");
}

TEST(FormatUserList, OneLinePerUser) {
  protocol::UserInfo alice{"alice", true, {"Everyone", "kernel", "net", "storage"}, kNov29Ms, 2,
                           true};
  protocol::UserInfo bob{"bob", false, {"Everyone"}, 0, 0, false};
  EXPECT_EQ(FormatUserList({alice, bob}),
            "NAME   ADMIN  GROUPS                       TOKENS  PASSWORD  CREATED\n"
            "alice  yes    Everyone,kernel,net +1 more  2       yes       2026-11-29\n"
            "bob    no     Everyone                     0       no        -\n");
}

TEST(FormatNewToken, ShowsTheTokenOnceAndSaysSo) {
  protocol::UserTokenReply reply{"alice", "lmt_abc"};
  std::string created = FormatNewToken(reply, true, false);
  EXPECT_EQ(created.rfind("created user alice\ntoken: lmt_abc\n", 0), 0u) << created;
  EXPECT_NE(created.find("will not be shown again"), std::string::npos);
  std::string renewed = FormatNewToken(reply, false, true);
  EXPECT_EQ(renewed.rfind("new token for alice\nevery older token of alice is revoked\n"
                          "token: lmt_abc\n",
                          0),
            0u)
      << renewed;
}

TEST(FormatWhoAmI, UserAdminGroups) {
  protocol::WhoAmIReply reply;
  reply.user = "alice";
  reply.admin = false;
  reply.acl_groups = {"Everyone", "kernel"};
  EXPECT_EQ(FormatWhoAmI(reply), "user    alice\nadmin   no\ngroups  Everyone,kernel\n");
  EXPECT_EQ(WhoAmIJson(reply),
            (nlohmann::json{{"user", "alice"}, {"admin", false},
                            {"acl_groups", {"Everyone", "kernel"}}}));
}

TEST(FormatAclList, NameDescriptionUsersHosts) {
  protocol::AclInfo everyone{"Everyone", "all users\nand more", 1, {"alice", "bob"}, {}};
  protocol::AclInfo kernel{"kernel", "", 1, {"carol"}, {"lab-1", "lab-2", "lab-3", "lab-4"}};
  EXPECT_EQ(FormatAclList({everyone, kernel}),
            "NAME      DESCRIPTION  USERS      HOSTS\n"
            "Everyone  all users    alice,bob  -\n"
            "kernel    -            carol      lab-1,lab-2,lab-3 +1 more\n");
}

TEST(FormatAuditList, OneLinePerRecordWithOkOrTheError) {
  protocol::AuditRecord ok{7, kNov29Ms + 10 * 3'600'000 + 5, "alice", "JobAbortRequest",
                           "{\"job_id\":7}", "tcp://10.0.0.5:41234", true, ""};
  protocol::AuditRecord refused{8, kNov29Ms + 10 * 3'600'000 + 61'000, "", "UserCreateRequest",
                                "", "local", false, "Unauthenticated: no token"};
  EXPECT_EQ(FormatAuditList({refused, ok}),
            "TIME                  USER   FROM                  ACTION             "
            "RESULT                     TARGET\n"
            "2026-11-29T10:01:01Z  -      local                 UserCreateRequest  "
            "Unauthenticated: no token  -\n"
            "2026-11-29T10:00:00Z  alice  tcp://10.0.0.5:41234  JobAbortRequest    "
            "ok                         {\"job_id\":7}\n");
  EXPECT_EQ(FormatAuditList({}), "no audit records\n");
}

}  // namespace
}  // namespace labmesh::cli
