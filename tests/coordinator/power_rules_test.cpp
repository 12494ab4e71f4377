// The pure rules of out-of-band power and consoles (power_rules.hpp, docs/power-console.md):
// variable substitution and quoting, secrets kept out of command lines and output, the quiet
// period, the limit of automatic cycles per window, protection levels, power-config checks
// and the panic patterns.

#include "power_rules.hpp"

#include <gtest/gtest.h>

#include "lifecycle_rules.hpp"

namespace labmesh::coordinator {
namespace {

using protocol::Protection;

store::Host HostWithBmc() {
  store::Host host;
  host.hostname = "lab-3";
  host.facts.address = "10.0.0.3";
  host.facts.arch = "x86_64";
  host.attributes = {{"bmc", "10.1.0.3"}, {"bmc_user", "admin"}, {"password", "s3cr3t"}};
  host.secret_attributes = {"password"};
  return host;
}

TEST(PowerRules, VariablesAreTheHostsFieldsAndAttributesShellQuoted) {
  store::Host host = HostWithBmc();
  host.attributes["note"] = "it's; rm -rf /";
  auto vars = CommandVariables(host);
  auto cmd = ExpandCommand("ipmitool -H {bmc} -U {bmc_user} chassis power cycle # {name} {note}",
                           vars);
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(*cmd,
            "ipmitool -H '10.1.0.3' -U 'admin' chassis power cycle # 'lab-3' 'it'\\''s; rm -rf /'");
  EXPECT_EQ(*ExpandCommand("virsh reset {hostname} {address} {arch}", vars),
            "virsh reset 'lab-3' '10.0.0.3' 'x86_64'");
  EXPECT_EQ(*ExpandCommand("awk '{{print $1}}'", vars), "awk '{print $1}'");
}

TEST(PowerRules, UnknownVariablesAndUnclosedBracesAreErrorsNamingThem) {
  auto vars = CommandVariables(HostWithBmc());
  auto unknown = ExpandCommand("ipmitool -H {bmx}", vars);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("{bmx}"), std::string::npos);
  EXPECT_FALSE(ExpandCommand("echo {bmc", vars).ok());
}

TEST(PowerRules, SecretsGoThroughTheEnvironmentNeverTheCommandLine) {
  store::Host host = HostWithBmc();
  auto cmd = ExpandCommand("ipmitool -P {password} -H {bmc}", CommandVariables(host),
                           host.secret_attributes);
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(*cmd, "ipmitool -P \"${LABMESH_SECRET_password}\" -H '10.1.0.3'");
  EXPECT_EQ(cmd->find("s3cr3t"), std::string::npos);
  EXPECT_EQ(SecretEnvironment(host), std::vector<std::string>{"LABMESH_SECRET_password=s3cr3t"});
  EXPECT_EQ(SecretEnvName("snmp-community"), "LABMESH_SECRET_snmp_community");
}

TEST(PowerRules, SecretsAreMaskedInOutputAndNeverShownBack) {
  store::Host host = HostWithBmc();
  EXPECT_EQ(MaskSecrets("login admin/s3cr3t failed; s3cr3t again", SecretValues(host)),
            "login admin/*** failed; *** again");
  EXPECT_EQ(MaskSecrets("nothing here", {}), "nothing here");
  protocol::PowerConfigInfo info = PowerConfigOf(host);
  EXPECT_EQ(info.attributes.at("password"), "***");
  EXPECT_EQ(info.attributes.at("bmc"), "10.1.0.3");
  EXPECT_EQ(info.secret_names, std::vector<std::string>{"password"});
}

TEST(PowerRules, QuietPeriodCountsFromTheLastOperationsEnd) {
  EXPECT_EQ(QuietRemainingMs(0, 5'000, 10'000), 0);  // never ran
  EXPECT_EQ(QuietRemainingMs(1'000, 5'000, 10'000), 6'000);
  EXPECT_EQ(QuietRemainingMs(1'000, 11'000, 10'000), 0);
  EXPECT_EQ(QuietRemainingMs(1'000, 2'000, 0), 0);  // no quiet period
}

TEST(PowerRules, AutomaticCyclesAreLimitedPerWindow) {
  // The same rule as repairs (MayRepairAgain): cycles older than the window are forgotten.
  std::vector<int64_t> cycles = {1'000, 2'000, 3'000};
  EXPECT_FALSE(MayRepairAgain(cycles, 4'000, 3, 3'600'000));
  EXPECT_TRUE(MayRepairAgain(cycles, 3'600'000 + 1'500, 3, 3'600'000));
  EXPECT_EQ(cycles, (std::vector<int64_t>{2'000, 3'000}));
}

TEST(PowerRules, ProtectionSaysWhetherRepairMayPowerCycle) {
  EXPECT_TRUE(MayPowerCycle(Protection::kNone));
  EXPECT_TRUE(MayPowerCycle(Protection::kDoNotVerify));
  EXPECT_FALSE(MayPowerCycle(Protection::kRepairSoftwareOnly));
  EXPECT_FALSE(MayPowerCycle(Protection::kDoNotRepair));
}

TEST(PowerRules, ConfigChecksRefuseBadInputAndChangeNothing) {
  store::Host host = HostWithBmc();
  protocol::HostPowerConfigRequest ok;
  ok.cycle = "ipmitool -H {bmc} -P {password} chassis power cycle";
  ok.console = "ipmitool -H {bmc} sol activate";
  ok.attributes = {{"rack", "r1"}};
  ok.secrets = {{"community", "public"}};
  EXPECT_TRUE(ValidatePowerConfig(ok, host).ok());

  auto refused = [&](protocol::HostPowerConfigRequest r, const std::string& words) {
    Status s = ValidatePowerConfig(r, host);
    EXPECT_FALSE(s.ok()) << words;
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  protocol::HostPowerConfigRequest r;
  r.cycle = "ipmitool -H {nope}";
  refused(r, "{nope}");
  r = {};
  r.panic_patterns = {"Kernel panic", "(unclosed"};
  refused(r, "(unclosed");
  r = {};
  r.attributes = {{"name", "x"}};
  refused(r, "host's own fields");
  r = {};
  r.attributes = {{"bad name", "x"}};
  refused(r, "attribute name");
  r = {};
  r.unset = {"frobnicate"};
  refused(r, "--unset frobnicate");
  r = {};
  r.on = "echo one\necho two";
  refused(r, "--on");
  r = {};
  r.unset = {"bmc"};  // an attribute a command still names
  host.power_cycle = "ipmitool -H {bmc}";
  refused(r, "{bmc}");
}

TEST(PowerRules, ApplySetsAndUnsetsAndASecretSaidInTheClearIsNoLongerSecret) {
  store::Host host = HostWithBmc();
  protocol::HostPowerConfigRequest r;
  r.on = "on {bmc}";
  r.panic_patterns = {"mine"};
  r.secrets = {{"token2", "t"}};
  ApplyPowerConfig(r, host);
  EXPECT_EQ(host.power_on, "on {bmc}");
  EXPECT_EQ(host.panic_patterns, std::vector<std::string>{"mine"});
  EXPECT_EQ(host.secret_attributes, (std::vector<std::string>{"password", "token2"}));
  protocol::HostPowerConfigRequest r2;
  r2.attributes = {{"password", "now-public"}};
  r2.unset = {"on", "panic-patterns"};
  ApplyPowerConfig(r2, host);
  EXPECT_EQ(host.power_on, "");
  EXPECT_TRUE(host.panic_patterns.empty());
  EXPECT_EQ(host.secret_attributes, std::vector<std::string>{"token2"});
}

TEST(PowerRules, DefaultPatternsCatchPanicsOopsesAndLockupsNotWarnings) {
  auto matcher = PanicMatcher::Compile({});
  ASSERT_TRUE(matcher.ok());
  for (const char* line :
       {"[   42.1] Kernel panic - not syncing: sysrq triggered crash",
        "[   12.0] BUG: kernel NULL pointer dereference, address: 0000000000000000",
        "[    3.3] Oops: 0002 [#1] PREEMPT SMP NOPTI",
        "[   99.9] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:123]",
        "[   99.9] Watchdog detected hard LOCKUP on cpu 1",
        "[  245.1] INFO: task sh:77 blocked for more than 120 seconds.",
        "[    5.0] general protection fault, probably for non-canonical address"}) {
    EXPECT_TRUE(matcher->Matches(line)) << line;
  }
  for (const char* line : {"[    1.0] Call Trace:", "[    0.0] Linux version 6.1.0-18-amd64",
                           "login: root", "kernel: panic=1 set"}) {
    EXPECT_FALSE(matcher->Matches(line)) << line;
  }
  auto own = PanicMatcher::Compile({"Call Trace", "^MYBOARD: fault [0-9]+$"});
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->Matches("[    1.0] Call Trace:"));
  EXPECT_TRUE(own->Matches("MYBOARD: fault 12"));
  EXPECT_FALSE(own->Matches("Kernel panic"));  // own patterns replace the defaults
  EXPECT_FALSE(PanicMatcher::Compile({"[z-a]"}).ok());
}

}  // namespace
}  // namespace labmesh::coordinator
