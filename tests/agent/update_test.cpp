// Agent self-update (docs/update.md "Agent side"). The UpdateManager without sockets: RunTask
// and PackageChunk frames go in, PackageChunkRequests and TaskReports come out of its send
// callback, answered by a package server in the test. Proves the download and its resume at
// the bytes on disk, re-requests (reconnect, repeated RunTask, timeout), the rate limit (with a
// fake clock: no timed assertion), bad chunks, the hash and MANIFEST checks, the switch of
// `current` and the exec plan, the refusal while an entry is held, the trial's confirmation
// and the rollback report. Pure functions (MANIFEST parser, rollback decision, startup hop)
// alone; and the whole agent over ZeroMQ against a fake coordinator. tar runs for real; waits
// have deadlines.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <zmq.hpp>

#include "fake_coordinator.hpp"
#include "labmesh/agent/agent.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/protocol/messages.hpp"
#include "process.hpp"
#include "update/package.hpp"
#include "update/state.hpp"
#include "update/update_manager.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;
using agent::UpdateManager;

void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  chmod(path.c_str(), mode);
}

std::string Bytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    out[i] = static_cast<char>(seed >> 24);
  }
  return out;
}

// A package built by hand: `files` (name -> bytes) and a MANIFEST listing `manifest_files`
// (name -> sha256) under `version`. Returns the .tar.gz bytes.
struct PackageSpec {
  std::string version = "9.9.9";
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> manifest_sha;  // overrides (name -> sha); "" = left out
};

PackageSpec GoodSpec(const std::string& version = "9.9.9") {
  PackageSpec spec;
  spec.version = version;
  spec.files["labmesh-agent"] = "#!/bin/sh\necho " + version + "\n" + Bytes(400'000, 1);
  spec.files["labmesh-test"] = Bytes(200'000, 2);
  spec.files["labmesh-sync"] = Bytes(200'000, 3);
  return spec;
}

std::string BuildPackage(const std::string& dir, const PackageSpec& spec) {
  const std::string root = dir + "/pkgroot-" + spec.version;
  fs::remove_all(root);
  std::string manifest = "labmesh-agent-package 1\nversion " + spec.version + "\n";
  std::vector<std::string> members = {"MANIFEST"};
  for (const auto& [name, data] : spec.files) {
    WriteFile(root + "/" + name, data, 0755);
    members.push_back(name);
    auto over = spec.manifest_sha.find(name);
    std::string sha = over != spec.manifest_sha.end() ? over->second : Sha256Hex(data);
    if (!sha.empty()) manifest += "sha256 " + sha + " " + name + "\n";
  }
  WriteFile(root + "/MANIFEST", manifest);
  const std::string out = dir + "/pkg-" + spec.version + ".tar.gz";
  std::vector<std::string> argv = {"/usr/bin/tar", "-czf", out, "-C", root};
  argv.insert(argv.end(), members.begin(), members.end());
  CommandResult tar = RunCommand(argv);
  EXPECT_EQ(tar.exit_code, 0) << tar.err;
  return ReadFile(out);
}

protocol::RunTask UpdateTask(uint64_t id, const std::string& package, const std::string& version) {
  protocol::RunTask run;
  run.task_id = id;
  run.kind = "Update";
  run.version = version;
  run.package_sha256 = Sha256Hex(package);
  run.package_bytes = package.size();
  return run;
}

// The UpdateManager with the coordinator's package side played by the test.
class Harness {
 public:
  explicit Harness(const std::string& dir, const Clock* clock = SystemClock::Default())
      : clock_(clock) {
    config.work_dir = dir + "/work";
    config.exec_args = {"--coordinator-key", "KEY", "--work-dir", config.work_dir};
    fs::create_directories(config.work_dir);
    work_dir = fs::absolute(config.work_dir).lexically_normal().string();
  }
  void Make() {
    UpdateManager::Hooks hooks;
    hooks.entry_held = [this] { return held; };
    hooks.next_request_id = [this] { return ++request_id; };
    hooks.ready_to_exec = [this] { ++ready; };
    manager = std::make_unique<UpdateManager>(
        config, clock_, "lab-u",
        [this](const std::string& frame) {
          if (refuse) return false;
          sent.push_back(frame);
          return true;
        },
        std::move(hooks));
    manager->Load();
    manager->OnWelcome();
  }
  void Deliver(const std::string& frame) {
    auto envelope = protocol::DecodeEnvelope(frame);
    ASSERT_TRUE(envelope.ok());
    EXPECT_TRUE(manager->Handle(*envelope)) << protocol::MessageTypeName(envelope->type);
  }
  void Run(const protocol::RunTask& run) {
    if (!manager) Make();
    Deliver(protocol::Encode(run));
  }
  // Takes what the manager sent: requests are kept in `requests` (id, request), reports in
  // `reports`.
  void Collect() {
    for (const std::string& frame : sent) {
      auto envelope = protocol::DecodeEnvelope(frame);
      ASSERT_TRUE(envelope.ok());
      if (envelope->type == protocol::MessageType::kPackageChunkRequest) {
        auto request = protocol::DecodeBody<protocol::PackageChunkRequest>(*envelope);
        ASSERT_TRUE(request.ok());
        requests.emplace_back(envelope->request_id, *request);
      } else if (envelope->type == protocol::MessageType::kTaskReport) {
        auto report = protocol::DecodeBody<protocol::TaskReport>(*envelope);
        ASSERT_TRUE(report.ok());
        reports.push_back(*report);
      }
    }
    sent.clear();
  }
  // The answer the coordinator gives to request `i`.
  std::string Answer(size_t i) const {
    const auto& [id, request] = requests.at(i);
    protocol::PackageChunk chunk;
    chunk.sha256 = request.sha256;
    chunk.offset = request.offset;
    chunk.total_bytes = package.size();
    size_t n = std::min<size_t>(request.max_bytes, package.size() - request.offset);
    chunk.data.assign(package.begin() + request.offset, package.begin() + request.offset + n);
    return protocol::Encode(chunk, id);
  }
  // Serves every request until a report or an exec plan (or `limit` requests were served).
  bool ServeToEnd(size_t limit = 1000) {
    return WaitFor([&] {
      manager->Service();
      Collect();
      while (served < requests.size() && served < limit) Deliver(Answer(served++));
      Collect();
      return !reports.empty() || ready > 0;
    });
  }

  agent::AgentConfig config;
  std::string work_dir;  // absolute
  const Clock* clock_;
  std::unique_ptr<UpdateManager> manager;
  std::string package;
  std::vector<std::string> sent;
  std::vector<std::pair<uint64_t, protocol::PackageChunkRequest>> requests;
  std::vector<protocol::TaskReport> reports;
  size_t served = 0;
  uint64_t request_id = 0;
  int ready = 0;
  bool held = false;
  bool refuse = false;
};

const protocol::TaskCheck* Find(const protocol::TaskReport& report, const std::string& name) {
  for (const auto& check : report.checks) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

// ---- pure functions ----

TEST(Manifest, ParsesTheFormatTheScriptWrites) {
  const std::string a(64, 'a'), b(64, 'b');
  auto m = agent::ParseManifest("labmesh-agent-package 1\nversion 1.2.3\nsha256 " + a +
                                " labmesh-agent\n\nsha256 " + b + " labmesh-test");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, "1.2.3");
  EXPECT_EQ(m->files.at("labmesh-agent"), a);
  EXPECT_EQ(m->files.at("labmesh-test"), b);
}

TEST(Manifest, RefusesWhatIsNotTheFormat) {
  const std::string a(64, 'a');
  const std::string head = "labmesh-agent-package 1\nversion 1.0\n";
  for (const std::string& text : std::vector<std::string>{
           "", "labmesh-agent-package 2\nversion 1.0\n", "version 1.0\n",
           "labmesh-agent-package 1\n",                                  // no version
           head + "version 2.0\n",                                       // two versions
           "labmesh-agent-package 1\nversion ../x\n",                    // bad version
           head + "sha256 " + std::string(64, 'A') + " labmesh-agent\n",  // upper hex
           head + "sha256 " + a.substr(1) + " labmesh-agent\n",          // short
           head + "sha256 " + a + " ../labmesh-agent\n",                 // a path
           head + "sha256 " + a + " MANIFEST\n",
           head + "sha256 " + a + " x\nsha256 " + a + " x\n",            // twice
           head + "md5 " + a + " x\n"}) {
    EXPECT_FALSE(agent::ParseManifest(text).ok()) << text;
  }
}

TEST(Rollback, GoesToTheLastKnownGoodElseToTheBinaryBeforeTheUpdate) {
  agent::UpdateState state;
  state.trial.task_id = 7;
  state.trial.to_version = "9.9.9";
  state.trial.from_exe = "/usr/bin/labmesh-agent";
  auto exists = [](const std::string&) { return true; };
  auto none = [](const std::string&) { return false; };

  auto plan = agent::DecideRollback(agent::TrialEvent::kExited, state, "/w", 120'000, exists);
  EXPECT_TRUE(plan.rollback);
  EXPECT_TRUE(plan.exec);
  EXPECT_EQ(plan.exe, "/usr/bin/labmesh-agent");
  EXPECT_EQ(plan.link_version, "");  // not one of versions/: no link
  EXPECT_EQ(plan.failure.task_id, 7u);
  EXPECT_EQ(plan.failure.reason, "version 9.9.9 exited before it registered");

  state.last_good_version = "1.0";
  state.last_good_exe = "/w/versions/1.0/labmesh-agent";
  plan = agent::DecideRollback(agent::TrialEvent::kTimedOut, state, "/w", 120'000, exists);
  EXPECT_EQ(plan.exe, "/w/versions/1.0/labmesh-agent");
  EXPECT_EQ(plan.link_version, "1.0");
  EXPECT_EQ(plan.failure.reason, "version 9.9.9 did not register within 2m");

  plan = agent::DecideRollback(agent::TrialEvent::kTimedOut, state, "/w", 120'000, none);
  EXPECT_EQ(plan.exe, "/usr/bin/labmesh-agent");  // the last known good's binary is gone

  plan = agent::DecideRollback(agent::TrialEvent::kStopped, state, "/w", 120'000, exists);
  EXPECT_TRUE(plan.rollback);
  EXPECT_FALSE(plan.exec);
  EXPECT_EQ(plan.link_version, "1.0");

  plan = agent::DecideRollback(agent::TrialEvent::kPassed, state, "/w", 120'000, exists);
  EXPECT_FALSE(plan.rollback);
  EXPECT_FALSE(plan.exec);
}

TEST(Hop, OnlyWhenCurrentResolvesToAnotherBinary) {
  TempDir tmp;
  const std::string work = fs::canonical(tmp.path()).string();
  EXPECT_FALSE(agent::HopTarget(work, "/usr/bin/x"));  // no link
  WriteFile(work + "/versions/2.0/labmesh-agent", "#!/bin/sh\n", 0755);
  ASSERT_TRUE(agent::SwitchCurrent(work, "2.0").ok());
  EXPECT_EQ(agent::CurrentVersion(work), "2.0");
  auto target = agent::HopTarget(work, "/usr/bin/x");
  ASSERT_TRUE(target);
  EXPECT_EQ(*target, work + "/current/labmesh-agent");
  EXPECT_FALSE(agent::HopTarget(work, work + "/versions/2.0/labmesh-agent"));  // already it
  ASSERT_TRUE(agent::SwitchCurrent(work, "").ok());
  EXPECT_EQ(agent::CurrentVersion(work), "");
}

// ---- start-up rules (DecideStartup): systemd restarts, reboots, a newer package ----

TEST(Startup, AnUnconfirmedTrialFailedAndGoesBackToTheLastKnownGood) {
  agent::UpdateState state;
  state.installed_version = "1.0";
  state.installed_exe = "/usr/bin/labmesh-agent";
  state.last_good_version = "2.0";
  state.last_good_exe = "/w/versions/2.0/labmesh-agent";
  state.current_version = "2.0";
  state.trial.task_id = 9;
  state.trial.from_version = "2.0";
  state.trial.from_exe = "/w/versions/2.0/labmesh-agent";
  state.trial.to_version = "3.0";
  auto exists = [](const std::string&) { return true; };
  auto plan = agent::DecideStartup(state, "/w", "/usr/bin/labmesh-agent", "1.0", 120'000, exists);
  EXPECT_TRUE(plan.trial_failed);
  EXPECT_FALSE(plan.package_changed);
  EXPECT_TRUE(plan.save);
  EXPECT_TRUE(plan.relink);
  EXPECT_EQ(plan.link_version, "2.0");  // the hop then runs the last known good
  EXPECT_EQ(plan.state.trial.task_id, 0u);
  EXPECT_EQ(plan.state.failure.task_id, 9u);
  EXPECT_EQ(plan.state.failure.version, "3.0");
  EXPECT_NE(plan.state.failure.reason.find("version 3.0 was not confirmed"), std::string::npos)
      << plan.state.failure.reason;
  EXPECT_EQ(plan.state.last_good_version, "2.0");
}

TEST(Startup, AnUnconfirmedTrialWithoutALastKnownGoodGoesBackToTheInstalledBinary) {
  agent::UpdateState state;
  state.installed_version = "1.0";
  state.installed_exe = "/usr/bin/labmesh-agent";
  state.trial.task_id = 4;
  state.trial.from_version = "1.0";
  state.trial.from_exe = "/usr/bin/labmesh-agent";
  state.trial.to_version = "2.0";
  auto exists = [](const std::string&) { return true; };
  auto plan = agent::DecideStartup(state, "/w", "/usr/bin/labmesh-agent", "1.0", 120'000, exists);
  EXPECT_TRUE(plan.trial_failed);
  EXPECT_TRUE(plan.relink);
  EXPECT_EQ(plan.link_version, "");  // no link: this binary runs
  EXPECT_EQ(plan.state.failure.task_id, 4u);
}

TEST(Startup, ANewlyInstalledPackageWinsOverCurrent) {
  agent::UpdateState state;
  state.installed_version = "1.0";
  state.installed_exe = "/usr/bin/labmesh-agent";
  state.current_version = "2.0";
  state.last_good_version = "2.0";
  state.last_good_exe = "/w/versions/2.0/labmesh-agent";
  auto exists = [](const std::string&) { return true; };
  auto plan = agent::DecideStartup(state, "/w", "/usr/bin/labmesh-agent", "2.5", 120'000, exists);
  EXPECT_TRUE(plan.package_changed);
  EXPECT_FALSE(plan.trial_failed);
  EXPECT_TRUE(plan.save);
  EXPECT_TRUE(plan.relink);
  EXPECT_EQ(plan.link_version, "");  // no hop to versions/2.0
  EXPECT_EQ(plan.state.installed_version, "2.5");
  EXPECT_EQ(plan.state.current_version, "");
  EXPECT_EQ(plan.state.last_good_exe, "");  // a rollback goes back to the package
  EXPECT_EQ(plan.state.failure.task_id, 0u);

  // A trial cut short by the package's postinst restart: reported, and the package runs.
  state.trial.task_id = 12;
  state.trial.to_version = "3.0";
  state.trial.from_exe = "/w/versions/2.0/labmesh-agent";
  plan = agent::DecideStartup(state, "/w", "/usr/bin/labmesh-agent", "2.5", 120'000, exists);
  EXPECT_TRUE(plan.trial_failed);
  EXPECT_TRUE(plan.package_changed);
  EXPECT_EQ(plan.link_version, "");
  EXPECT_EQ(plan.state.failure.task_id, 12u);

  // The first start ever (nothing recorded) records the package; there is nothing to undo.
  plan = agent::DecideStartup({}, "/w", "/usr/bin/labmesh-agent", "1.0", 120'000, exists);
  EXPECT_TRUE(plan.package_changed);
  EXPECT_EQ(plan.state.installed_version, "1.0");
  EXPECT_EQ(plan.state.installed_exe, "/usr/bin/labmesh-agent");
}

TEST(Startup, TheSamePackageKeepsCurrentAndABinaryInVersionsIsNoPackage) {
  agent::UpdateState state;
  state.installed_version = "1.0";
  state.installed_exe = "/usr/bin/labmesh-agent";
  state.current_version = "2.0";
  auto exists = [](const std::string&) { return true; };
  auto plan = agent::DecideStartup(state, "/w", "/usr/bin/labmesh-agent", "1.0", 120'000, exists);
  EXPECT_FALSE(plan.save);
  EXPECT_FALSE(plan.relink);  // the hop follows `current` as before
  plan = agent::DecideStartup(state, "/w", "/w/versions/2.0/labmesh-agent", "2.0", 120'000, exists);
  EXPECT_FALSE(plan.package_changed);
  EXPECT_FALSE(plan.save);
  // The same version installed at another path: only the path is remembered.
  plan = agent::DecideStartup(state, "/w", "/opt/labmesh/labmesh-agent", "1.0", 120'000, exists);
  EXPECT_FALSE(plan.package_changed);
  EXPECT_FALSE(plan.relink);
  EXPECT_EQ(plan.state.installed_exe, "/opt/labmesh/labmesh-agent");
}

TEST(State, RoundTripsThroughStateJson) {
  TempDir tmp;
  agent::UpdateState state;
  state.last_good_version = "1.0";
  state.last_good_exe = "/x/labmesh-agent";
  state.trial.task_id = 3;
  state.trial.to_version = "2.0";
  state.trial.pid = 42;
  state.installed_version = "0.9";
  state.installed_exe = "/usr/bin/labmesh-agent";
  state.failure.task_id = 2;
  state.failure.reason = "why";
  ASSERT_TRUE(agent::SaveUpdateState(tmp.path(), state).ok());
  auto loaded = agent::LoadUpdateState(tmp.path());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->last_good_exe, "/x/labmesh-agent");
  EXPECT_EQ(loaded->trial.to_version, "2.0");
  EXPECT_EQ(loaded->trial.pid, 42);
  EXPECT_EQ(loaded->failure.reason, "why");
  EXPECT_EQ(loaded->installed_version, "0.9");
  EXPECT_EQ(loaded->installed_exe, "/usr/bin/labmesh-agent");
  WriteFile(agent::StatePath(tmp.path()), "{not json");
  EXPECT_FALSE(agent::LoadUpdateState(tmp.path()).ok());
}

// ---- the UpdateManager ----

TEST(Update, AGoodPackageIsUnpackedSwitchedToAndPlannedForExec) {
  TempDir tmp;
  Harness h(tmp.path());
  h.package = BuildPackage(tmp.path(), GoodSpec());
  h.Run(UpdateTask(5, h.package, "9.9.9"));
  ASSERT_TRUE(h.ServeToEnd());
  ASSERT_TRUE(h.reports.empty()) << h.reports[0].reason;
  EXPECT_EQ(h.ready, 1);
  for (const auto& [id, request] : h.requests) {
    EXPECT_LE(request.max_bytes, 256u * 1024);
  }
  EXPECT_GE(h.requests.size(), 2u);  // more than one chunk
  const std::string dir = h.work_dir + "/versions/9.9.9";
  EXPECT_TRUE(fs::is_regular_file(dir + "/labmesh-agent"));
  EXPECT_TRUE(fs::is_regular_file(dir + "/MANIFEST"));
  EXPECT_FALSE(fs::exists(dir + ".tmp"));
  EXPECT_EQ(agent::CurrentVersion(h.work_dir), "9.9.9");
  EXPECT_FALSE(fs::exists(h.manager->PartPath(Sha256Hex(h.package))));

  auto plan = h.manager->TakeExecPlan();
  ASSERT_TRUE(plan);
  EXPECT_FALSE(h.manager->TakeExecPlan());  // once
  EXPECT_EQ(plan->task_id, 5u);
  EXPECT_EQ(plan->version, "9.9.9");
  EXPECT_EQ(plan->exe, dir + "/labmesh-agent");
  std::vector<std::string> argv = {dir + "/labmesh-agent"};
  argv.insert(argv.end(), h.config.exec_args.begin(), h.config.exec_args.end());
  EXPECT_EQ(plan->argv, argv);
  EXPECT_EQ(plan->args, h.config.exec_args);
  EXPECT_EQ(plan->watchdog_exe, agent::SelfExe());

  auto state = agent::LoadUpdateState(h.work_dir);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->trial.task_id, 5u);
  EXPECT_EQ(state->trial.to_version, "9.9.9");
  EXPECT_EQ(state->trial.from_version, h.config.version);
  EXPECT_EQ(state->trial.from_exe, agent::SelfExe());
  EXPECT_EQ(state->trial.pid, getpid());
}

TEST(Update, TheScriptsPackageIsAccepted) {
  TempDir tmp;
  const std::string bin = tmp.path() + "/bin";
  WriteFile(bin + "/labmesh-agent", "#!/bin/sh\necho 3.1.4\n", 0755);
  WriteFile(bin + "/labmesh-test", Bytes(1000, 4), 0755);
  WriteFile(bin + "/labmesh-sync", Bytes(1000, 5), 0755);
  CommandResult made = RunCommand({std::string(LABMESH_SOURCE_DIR) + "/scripts/package-agent.sh",
                                   "--build-dir", bin, "--output", tmp.path() + "/p.tar.gz"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  Harness h(tmp.path());
  h.package = ReadFile(tmp.path() + "/p.tar.gz");
  EXPECT_EQ(made.out, tmp.path() + "/p.tar.gz\n" + Sha256Hex(h.package) + "\n");
  h.Run(UpdateTask(1, h.package, "3.1.4"));
  ASSERT_TRUE(h.ServeToEnd());
  ASSERT_TRUE(h.reports.empty()) << h.reports[0].reason;
  EXPECT_EQ(agent::CurrentVersion(h.work_dir), "3.1.4");
}

TEST(Update, TheDownloadResumesAtTheBytesOnDisk) {
  TempDir tmp;
  auto h = std::make_unique<Harness>(tmp.path());
  h->package = BuildPackage(tmp.path(), GoodSpec());
  const std::string package = h->package;
  ASSERT_GT(package.size(), 2u * 256 * 1024);
  h->Run(UpdateTask(5, package, "9.9.9"));
  h->Collect();
  ASSERT_EQ(h->requests.size(), 1u);
  EXPECT_EQ(h->requests[0].second.offset, 0u);
  h->Deliver(h->Answer(0));
  h->Collect();
  ASSERT_EQ(h->requests.size(), 2u);  // the next one went out at once
  EXPECT_EQ(h->requests[1].second.offset, 256u * 1024);
  // The connection drops with the second request unanswered; a Welcome asks again from there.
  h->manager->OnDisconnected();
  h->Deliver(h->Answer(1));  // a late answer of the old connection is ignored
  EXPECT_EQ(h->manager->downloaded_bytes(), 256u * 1024);
  h->manager->OnWelcome();
  h->Collect();
  ASSERT_EQ(h->requests.size(), 3u);
  EXPECT_EQ(h->requests[2].second.offset, 256u * 1024);
  EXPECT_NE(h->requests[2].first, h->requests[1].first);
  // A repeated RunTask also asks again from where the download is.
  h->Run(UpdateTask(5, package, "9.9.9"));
  h->Collect();
  ASSERT_EQ(h->requests.size(), 4u);
  EXPECT_EQ(h->requests[3].second.offset, 256u * 1024);

  // The agent restarts: the partial file stays and the download continues at its size.
  const std::string part = h->manager->PartPath(Sha256Hex(package));
  h.reset();
  EXPECT_EQ(fs::file_size(part), 256u * 1024);
  Harness again(tmp.path());
  again.package = package;
  again.Run(UpdateTask(5, package, "9.9.9"));
  again.Collect();
  ASSERT_EQ(again.requests.size(), 1u);
  EXPECT_EQ(again.requests[0].second.offset, 256u * 1024);
  ASSERT_TRUE(again.ServeToEnd());
  ASSERT_TRUE(again.reports.empty()) << again.reports[0].reason;
  EXPECT_EQ(agent::CurrentVersion(again.work_dir), "9.9.9");
}

TEST(Update, AnUnansweredRequestIsSentAgainAfterTheTimeout) {
  TempDir tmp;
  FakeClock clock;
  Harness h(tmp.path(), &clock);
  h.config.update_chunk_timeout_ms = 5'000;
  h.package = BuildPackage(tmp.path(), GoodSpec());
  h.Run(UpdateTask(5, h.package, "9.9.9"));
  h.Collect();
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.manager->NextDeadlineMs(), clock.SteadyMs() + 5'000);
  clock.AdvanceMs(4'999);
  h.manager->Service();
  h.Collect();
  EXPECT_EQ(h.requests.size(), 1u);
  clock.AdvanceMs(1);
  h.manager->Service();
  h.Collect();
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[1].second.offset, 0u);
  h.Deliver(h.Answer(0));  // the answer to the first one comes late: ignored
  EXPECT_EQ(h.manager->downloaded_bytes(), 0u);
  h.Deliver(h.Answer(1));
  EXPECT_EQ(h.manager->downloaded_bytes(), 256u * 1024);
}

TEST(Update, TheRateLimitSpacesTheRequests) {
  TempDir tmp;
  FakeClock clock;
  Harness h(tmp.path(), &clock);
  h.config.update_rate_limit_bytes = 100'000;  // bytes per second
  h.package = BuildPackage(tmp.path(), GoodSpec());
  h.Run(UpdateTask(5, h.package, "9.9.9"));
  h.Collect();
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].second.max_bytes, 100'000u);  // no more than a second's worth
  const int64_t start = clock.SteadyMs();
  clock.AdvanceMs(10);
  h.Deliver(h.Answer(0));
  h.manager->Service();
  h.Collect();
  EXPECT_EQ(h.requests.size(), 1u);  // 100,000 bytes cost a second from the request
  EXPECT_EQ(h.manager->NextDeadlineMs(), start + 1'000);
  clock.AdvanceMs(989);
  h.manager->Service();
  h.Collect();
  EXPECT_EQ(h.requests.size(), 1u);
  clock.AdvanceMs(1);
  h.manager->Service();
  h.Collect();
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[1].second.offset, 100'000u);
}

TEST(Update, BadChunksAndUnknownAnswersDoNotCrashOrCorrupt) {
  TempDir tmp;
  Harness h(tmp.path());
  h.package = BuildPackage(tmp.path(), GoodSpec());
  h.Run(UpdateTask(5, h.package, "9.9.9"));
  h.Collect();
  ASSERT_EQ(h.requests.size(), 1u);
  const uint64_t id = h.requests[0].first;
  auto chunk_with = [&](auto change) {
    protocol::PackageChunk chunk;
    chunk.sha256 = h.requests.back().second.sha256;
    chunk.offset = h.requests.back().second.offset;
    chunk.total_bytes = h.package.size();
    chunk.data.assign(h.package.begin(), h.package.begin() + 1000);
    change(chunk);
    return chunk;
  };
  // An answer to no request, a frame that is not a chunk, a chunk nobody asked for.
  h.Deliver(protocol::Encode(chunk_with([](auto&) {}), 999'999));
  h.Deliver(protocol::Encode(chunk_with([](auto& c) { c.offset = 5; }),
                             h.requests.back().first));
  h.Collect();
  h.Deliver(protocol::Encode(chunk_with([](auto& c) { c.sha256 = std::string(64, '0'); }),
                             h.requests.back().first));
  h.Collect();
  h.Deliver(protocol::Encode(
      chunk_with([](auto& c) { c.data.assign(300 * 1024, 'x'); }), h.requests.back().first));
  h.Collect();
  h.Deliver(protocol::Encode(chunk_with([](auto& c) { c.total_bytes = 1; }),
                             h.requests.back().first));
  h.Collect();
  h.Deliver(protocol::Encode(chunk_with([](auto& c) { c.data.clear(); }),
                             h.requests.back().first));
  h.Collect();
  EXPECT_EQ(h.manager->downloaded_bytes(), 0u);
  EXPECT_TRUE(h.reports.empty());
  EXPECT_GT(h.requests.size(), 1u);  // each bad answer was followed by the request again
  for (const auto& [rid, request] : h.requests) EXPECT_EQ(request.offset, 0u);
  EXPECT_NE(h.requests.back().first, id);
  // An Error for someone else's request is not ours; one for ours fails the download.
  auto error = protocol::Encode(
      protocol::ErrorReply::FromStatus(Status::NotFound("no such package")), 424242);
  auto envelope = protocol::DecodeEnvelope(error);
  ASSERT_TRUE(envelope.ok());
  EXPECT_FALSE(h.manager->Handle(*envelope));
  h.Deliver(protocol::Encode(protocol::ErrorReply::FromStatus(Status::NotFound("no such package")),
                             h.requests.back().first));
  h.Collect();
  ASSERT_EQ(h.reports.size(), 1u);
  EXPECT_FALSE(h.reports[0].passed);
  EXPECT_EQ(h.reports[0].kind, "Update");
  EXPECT_EQ(h.reports[0].task_id, 5u);
  ASSERT_NE(Find(h.reports[0], "download"), nullptr);
  EXPECT_NE(h.reports[0].reason.find("no such package"), std::string::npos);
  EXPECT_EQ(agent::CurrentVersion(h.work_dir), "");
}

TEST(Update, AHashMismatchFailsAndSwitchesNothing) {
  TempDir tmp;
  Harness h(tmp.path());
  h.package = BuildPackage(tmp.path(), GoodSpec());
  protocol::RunTask run = UpdateTask(6, h.package, "9.9.9");
  run.package_sha256 = Sha256Hex("something else");
  h.Run(run);
  ASSERT_TRUE(h.ServeToEnd());
  ASSERT_EQ(h.reports.size(), 1u);
  // A copy: the repeated RunTask below appends to h.reports, which may move its elements.
  const protocol::TaskReport report = h.reports[0];
  EXPECT_FALSE(report.passed);
  ASSERT_NE(Find(report, "download"), nullptr);
  EXPECT_TRUE(Find(report, "download")->passed);
  ASSERT_NE(Find(report, "sha256"), nullptr);
  EXPECT_FALSE(Find(report, "sha256")->passed);
  EXPECT_EQ(report.reason.rfind("sha256: ", 0), 0u) << report.reason;
  EXPECT_EQ(h.ready, 0);
  EXPECT_FALSE(h.manager->TakeExecPlan());
  EXPECT_EQ(agent::CurrentVersion(h.work_dir), "");
  EXPECT_FALSE(fs::exists(h.work_dir + "/versions/9.9.9"));
  EXPECT_FALSE(fs::exists(h.manager->PartPath(run.package_sha256)));  // the next try starts over
  // A repeated RunTask gets the same report again.
  h.Run(run);
  h.Collect();
  ASSERT_EQ(h.reports.size(), 2u);
  EXPECT_EQ(h.reports[1].reason, report.reason);
}

TEST(Update, ManifestMismatchesFail) {
  struct Case {
    std::string name;
    std::function<void(PackageSpec&)> change;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"wrong hash", [](PackageSpec& s) { s.manifest_sha["labmesh-test"] = std::string(64, 'a'); },
       "labmesh-test has SHA-256"},
      {"wrong version", [](PackageSpec& s) { s.version = "9.9.8"; }, "MANIFEST says version 9.9.8"},
      {"extra file", [](PackageSpec& s) {
         s.files["extra"] = "x";
         s.manifest_sha["extra"] = "";
       }, "'extra' is in the package but not in MANIFEST"},
      {"no agent", [](PackageSpec& s) {
         s.files.erase("labmesh-agent");
       }, "does not list labmesh-agent"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir tmp;
    Harness h(tmp.path());
    PackageSpec spec = GoodSpec();
    c.change(spec);
    h.package = BuildPackage(tmp.path(), spec);
    h.Run(UpdateTask(8, h.package, "9.9.9"));
    ASSERT_TRUE(h.ServeToEnd());
    ASSERT_EQ(h.reports.size(), 1u);
    const auto& report = h.reports[0];
    EXPECT_FALSE(report.passed);
    ASSERT_NE(Find(report, "manifest"), nullptr);
    EXPECT_FALSE(Find(report, "manifest")->passed);
    EXPECT_TRUE(Find(report, "unpack")->passed);
    EXPECT_NE(report.reason.find(c.expect), std::string::npos) << report.reason;
    EXPECT_EQ(agent::CurrentVersion(h.work_dir), "");
    EXPECT_FALSE(fs::exists(h.work_dir + "/versions/9.9.9"));
    EXPECT_FALSE(fs::exists(h.work_dir + "/versions/9.9.9.tmp"));
    EXPECT_EQ(h.ready, 0);
  }
}

TEST(Update, NotATarballFailsTheUnpack) {
  TempDir tmp;
  Harness h(tmp.path());
  h.package = Bytes(300'000, 9);
  h.Run(UpdateTask(9, h.package, "9.9.9"));
  ASSERT_TRUE(h.ServeToEnd());
  ASSERT_EQ(h.reports.size(), 1u);
  ASSERT_NE(Find(h.reports[0], "unpack"), nullptr);
  EXPECT_FALSE(Find(h.reports[0], "unpack")->passed);
  EXPECT_EQ(agent::CurrentVersion(h.work_dir), "");
}

TEST(Update, IsRefusedWhileAnEntryIsHeld) {
  TempDir tmp;
  Harness h(tmp.path());
  h.held = true;
  h.package = BuildPackage(tmp.path(), GoodSpec());
  h.Run(UpdateTask(10, h.package, "9.9.9"));
  h.Collect();
  EXPECT_TRUE(h.requests.empty());
  ASSERT_EQ(h.reports.size(), 1u);
  EXPECT_FALSE(h.reports[0].passed);
  ASSERT_NE(Find(h.reports[0], "no-entry-held"), nullptr);
  EXPECT_NE(h.reports[0].reason.find("an entry is held"), std::string::npos);
}

TEST(Update, BadTaskFieldsFailAtOnce) {
  TempDir tmp;
  Harness h(tmp.path());
  protocol::RunTask run = UpdateTask(11, "x", "9.9.9");
  run.package_sha256 = "../../etc/passwd";
  h.Run(run);
  run = UpdateTask(12, "x", "../x");
  h.Run(run);
  run = UpdateTask(13, "x", "9.9.9");
  run.package_bytes = 0;
  h.Run(run);
  h.Collect();
  ASSERT_EQ(h.reports.size(), 3u);
  for (const auto& report : h.reports) EXPECT_FALSE(report.passed);
  EXPECT_TRUE(h.requests.empty());
}

TEST(Update, OtherTaskKindsAreLeftToTheTaskManager) {
  TempDir tmp;
  Harness h(tmp.path());
  h.Make();
  protocol::RunTask run;
  run.task_id = 1;
  run.kind = "Verify";
  auto envelope = protocol::DecodeEnvelope(protocol::Encode(run));
  ASSERT_TRUE(envelope.ok());
  EXPECT_FALSE(h.manager->Handle(*envelope));
}

TEST(Update, ATrialPassesAtTheFirstWelcomeAndOldVersionsGo) {
  TempDir tmp;
  Harness h(tmp.path());
  for (const char* v : {"1.0", "2.0", "3.0", "4.0"}) {
    WriteFile(h.work_dir + "/versions/" + std::string(v) + "/labmesh-agent", "x", 0755);
  }
  WriteFile(h.work_dir + "/versions/5.0.tmp/labmesh-agent", "x", 0755);
  ASSERT_TRUE(agent::SwitchCurrent(h.work_dir, "4.0").ok());
  agent::UpdateState state;
  state.last_good_version = "2.0";
  state.last_good_exe = h.work_dir + "/versions/2.0/labmesh-agent";
  state.trial.task_id = 20;
  state.trial.from_version = "3.0";
  state.trial.to_version = "4.0";
  ASSERT_TRUE(agent::SaveUpdateState(h.work_dir, state).ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  h.config.update_trial_fd = fds[1];
  h.config.version = "4.0";
  h.Make();  // Make welcomes it
  char byte = 0;
  ASSERT_EQ(read(fds[0], &byte, 1), 1);
  EXPECT_EQ(byte, agent::kTrialPassed);
  EXPECT_EQ(read(fds[0], &byte, 1), 0);  // closed
  close(fds[0]);
  auto loaded = agent::LoadUpdateState(h.work_dir);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->current_version, "4.0");
  EXPECT_EQ(loaded->trial.task_id, 0u);
  EXPECT_FALSE(fs::exists(h.work_dir + "/versions/1.0"));
  EXPECT_FALSE(fs::exists(h.work_dir + "/versions/5.0.tmp"));
  for (const char* v : {"2.0", "3.0", "4.0"}) {
    EXPECT_TRUE(fs::exists(h.work_dir + "/versions/" + std::string(v))) << v;
  }
}

TEST(Update, AStopBeforeTheFirstWelcomeTellsTheWatchdog) {
  TempDir tmp;
  Harness h(tmp.path());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  h.config.update_trial_fd = fds[1];
  {
    UpdateManager manager(h.config, SystemClock::Default(), "lab-u",
                          [](const std::string&) { return true; }, {});
  }
  char byte = 0;
  ASSERT_EQ(read(fds[0], &byte, 1), 1);
  EXPECT_EQ(byte, agent::kTrialStopped);
  close(fds[0]);
}

TEST(Update, ACompletedEntryMakesThisVersionTheLastKnownGood) {
  TempDir tmp;
  Harness h(tmp.path());
  h.config.version = "7.7.7";
  h.Make();
  h.manager->OnEntryDone();
  auto loaded = agent::LoadUpdateState(h.work_dir);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->last_good_version, "7.7.7");
  EXPECT_EQ(loaded->last_good_exe, agent::SelfExe());
}

// ---- the whole agent over ZeroMQ ----

// A coordinator in the test: a CurveZMQ ROUTER on tcp://127.0.0.1:* that welcomes hellos,
// acknowledges heartbeats, serves `package` to PackageChunkRequests and records hellos and
// task reports.
class FakeCoordinator : public CurveRouter {
 public:
  bool RunUntil(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    // Scaled: a sanitizer build runs the agent several times slower (process.hpp).
    auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      Poll(5);
    }
    return true;
  }
  void Send(const std::string& frame) {
    socket_.send(zmq::buffer(identity_), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(frame), zmq::send_flags::none);
  }

  std::string package;
  std::vector<protocol::AgentHello> hellos;
  std::vector<protocol::TaskReport> reports;
  int welcomes = 0;
  int chunk_requests = 0;

 private:
  void Poll(int ms) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(ms));
    while (true) {
      zmq::message_t identity, body;
      if (!socket_.recv(identity, zmq::recv_flags::dontwait)) break;
      if (!socket_.recv(body, zmq::recv_flags::dontwait)) break;
      identity_ = identity.to_string();
      auto envelope = protocol::DecodeEnvelope(body.to_string_view());
      if (!envelope.ok()) continue;
      using T = protocol::MessageType;
      if (envelope->type == T::kAgentHello) {
        auto hello = protocol::DecodeBody<protocol::AgentHello>(*envelope);
        if (hello.ok()) hellos.push_back(*hello);
        protocol::Welcome welcome;
        welcome.hostname = "lab-u";
        welcome.heartbeat_interval_ms = 1'000;
        Send(protocol::Encode(welcome));
        ++welcomes;
      } else if (envelope->type == T::kHeartbeat) {
        Send(protocol::Encode(protocol::HeartbeatAck{}));
      } else if (envelope->type == T::kTaskReport) {
        auto report = protocol::DecodeBody<protocol::TaskReport>(*envelope);
        if (report.ok()) reports.push_back(*report);
      } else if (envelope->type == T::kPackageChunkRequest) {
        auto request = protocol::DecodeBody<protocol::PackageChunkRequest>(*envelope);
        if (!request.ok()) continue;
        ++chunk_requests;
        protocol::PackageChunk chunk;
        chunk.sha256 = request->sha256;
        chunk.offset = request->offset;
        chunk.total_bytes = package.size();
        size_t n = std::min<size_t>(request->max_bytes, package.size() - request->offset);
        chunk.data.assign(package.begin() + request->offset,
                          package.begin() + request->offset + n);
        Send(protocol::Encode(chunk, envelope->request_id));
      }
    }
  }

  std::string identity_;
};

// The agent of these tests: lab-u, re-executed (were it not in-process) with its work dir.
agent::AgentConfig UpdateConfig(const std::string& work_dir) {
  agent::AgentConfig config;
  config.hostname = "lab-u";
  config.peer_listen = "";  // the fake coordinator serves packages without the mesh
  config.work_dir = work_dir;
  config.exec_args = {"--work-dir", work_dir};
  config.kill_grace_ms = 200;
  return config;
}

TEST(AgentUpdate, RunTaskUpdateInstallsAndRunReturnsWithTheExecPlan) {
  TempDir tmp;
  FakeCoordinator coordinator;
  coordinator.package = BuildPackage(tmp.path(), GoodSpec());
  const std::string work = tmp.path() + "/work";
  RunningAgent running(coordinator, UpdateConfig(work));
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.welcomes > 0; }));
  EXPECT_EQ(coordinator.hellos.back().update_report.task_id, 0u);
  EXPECT_EQ(coordinator.hellos.back().agent_version, std::string(LABMESH_VERSION));
  coordinator.Send(protocol::Encode(UpdateTask(31, coordinator.package, "9.9.9")));
  ASSERT_TRUE(coordinator.RunUntil([&] { return running.returned(); }));
  EXPECT_TRUE(coordinator.reports.empty());
  EXPECT_GE(coordinator.chunk_requests, 2);
  running.Join();
  auto plan = running.agent().TakeExecPlan();
  ASSERT_TRUE(plan);
  const std::string abs_work = fs::absolute(work).lexically_normal().string();
  EXPECT_EQ(plan->exe, abs_work + "/versions/9.9.9/labmesh-agent");
  EXPECT_EQ(plan->argv, (std::vector<std::string>{plan->exe, "--work-dir", work}));
  EXPECT_EQ(agent::CurrentVersion(abs_work), "9.9.9");
}

TEST(AgentUpdate, ARecordedRollbackIsInTheHelloUntilAWelcome) {
  TempDir tmp;
  FakeCoordinator coordinator;
  const std::string work = tmp.path() + "/work";
  agent::UpdateState state;
  state.failure.task_id = 44;
  state.failure.version = "9.9.9";
  state.failure.reason = "version 9.9.9 exited before it registered";
  ASSERT_TRUE(agent::SaveUpdateState(work, state).ok());
  {
    RunningAgent running(coordinator, UpdateConfig(work));
    ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.welcomes > 0; }));
    const protocol::TaskReport& report = coordinator.hellos.at(0).update_report;
    EXPECT_EQ(report.task_id, 44u);
    EXPECT_EQ(report.kind, "Update");
    EXPECT_FALSE(report.passed);
    EXPECT_EQ(report.reason, "version 9.9.9 exited before it registered");
    ASSERT_TRUE(WaitFor([&] {
      auto loaded = agent::LoadUpdateState(work);
      return loaded.ok() && loaded->failure.task_id == 0;
    }));
  }
  RunningAgent again(coordinator, UpdateConfig(work));
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.welcomes > 1; }));
  EXPECT_EQ(coordinator.hellos.back().update_report.task_id, 0u);  // reported once
}

TEST(AgentUpdate, AnUpdateIsRefusedWhileAnEntryIsHeld) {
  TempDir tmp;
  FakeCoordinator coordinator;
  const std::string work = tmp.path() + "/work";
  RunningAgent running(coordinator, UpdateConfig(work));
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.welcomes > 0; }));
  protocol::StartEntry start;
  start.entry_id = 77;
  start.job_id = 7;
  start.hostname = "lab-u";
  start.control_kind = "command";
  start.control = "sleep 30";
  coordinator.Send(protocol::Encode(start));
  ASSERT_TRUE(WaitFor([&] { return fs::exists(work + "/spool/77"); }));
  coordinator.package = BuildPackage(tmp.path(), GoodSpec());
  coordinator.Send(protocol::Encode(UpdateTask(32, coordinator.package, "9.9.9")));
  ASSERT_TRUE(coordinator.RunUntil([&] { return !coordinator.reports.empty(); }));
  EXPECT_EQ(coordinator.reports[0].task_id, 32u);
  EXPECT_FALSE(coordinator.reports[0].passed);
  EXPECT_NE(coordinator.reports[0].reason.find("an entry is held"), std::string::npos);
  EXPECT_EQ(coordinator.chunk_requests, 0);
}

// ---- the real binary through a real re-exec ----

int ReadPid(const std::string& work) {
  std::string text = ReadFile(work + "/agent.pid");
  return text.empty() ? 0 : std::atoi(text.c_str());
}

// A package of `agent` (plus the real helpers) made by scripts/package-agent.sh.
std::string ScriptPackage(const std::string& dir, const std::string& agent) {
  const std::string bin = dir + "/bin";
  fs::create_directories(bin);
  fs::copy_file(agent, bin + "/labmesh-agent", fs::copy_options::overwrite_existing);
  fs::copy_file(LABMESH_TEST_BIN, bin + "/labmesh-test", fs::copy_options::overwrite_existing);
  fs::copy_file(LABMESH_SYNC_BIN, bin + "/labmesh-sync", fs::copy_options::overwrite_existing);
  CommandResult made = RunCommand({std::string(LABMESH_SOURCE_DIR) + "/scripts/package-agent.sh",
                                   "--build-dir", bin, "--output", dir + "/p.tar.gz"});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  return ReadFile(dir + "/p.tar.gz");
}

std::vector<std::string> AgentArgs(const FakeCoordinator& coordinator, const std::string& work) {
  return {LABMESH_AGENT_BIN, "--coordinator", coordinator.endpoint(), "--coordinator-key",
          coordinator.public_key(), "--hostname", "lab-r", "--work-dir", work,
          "--update-trial", "30s", "--log-level", "debug",
          "--peer-listen", ""};  // the fake coordinator knows nothing of the mesh
}

TEST(AgentReexec, TheNewVersionRunsInTheSameProcessAndConfirmsItsTrial) {
  TempDir tmp;
  FakeCoordinator coordinator;
  const std::string work = fs::canonical(tmp.path()).string() + "/work";
  coordinator.package = ScriptPackage(tmp.path(), LABMESH_NEW_AGENT_BIN);
  Process agent(AgentArgs(coordinator, work), tmp.path() + "/agent.log");
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.welcomes > 0; })) << agent.Log();
  EXPECT_EQ(coordinator.hellos[0].agent_version, std::string(LABMESH_VERSION));
  coordinator.Send(protocol::Encode(UpdateTask(51, coordinator.package, "9.9.9")));
  ASSERT_TRUE(coordinator.RunUntil([&] {
    return coordinator.hellos.back().agent_version == "9.9.9";
  })) << agent.Log();
  EXPECT_TRUE(coordinator.reports.empty());
  ASSERT_TRUE(coordinator.RunUntil([&] {
    auto state = agent::LoadUpdateState(work);
    return state.ok() && state->current_version == "9.9.9";
  })) << agent.Log();
  EXPECT_EQ(ReadPid(work), agent.pid());  // exec'd in place
  EXPECT_TRUE(agent.Running());
  EXPECT_EQ(agent::CurrentVersion(work), "9.9.9");
}

TEST(AgentReexec, AVersionThatDiesIsRolledBackAndReported) {
  TempDir tmp;
  FakeCoordinator coordinator;
  const std::string work = fs::canonical(tmp.path()).string() + "/work";
  const std::string broken = tmp.path() + "/broken-agent";
  WriteFile(broken, "#!/bin/sh\n[ \"$1\" = --version ] && echo 9.9.8 && exit 0\nexit 3\n", 0755);
  coordinator.package = ScriptPackage(tmp.path(), broken);
  Process agent(AgentArgs(coordinator, work), tmp.path() + "/agent.log");
  ASSERT_TRUE(coordinator.RunUntil([&] { return coordinator.welcomes > 0; })) << agent.Log();
  const int first_pid = ReadPid(work);
  coordinator.Send(protocol::Encode(UpdateTask(52, coordinator.package, "9.9.8")));
  ASSERT_TRUE(coordinator.RunUntil([&] {
    return coordinator.hellos.back().update_report.task_id == 52;
  }, std::chrono::seconds(30))) << agent.Log();
  const protocol::TaskReport& report = coordinator.hellos.back().update_report;
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.kind, "Update");
  EXPECT_EQ(report.reason, "version 9.9.8 exited before it registered");
  EXPECT_EQ(coordinator.hellos.back().agent_version, std::string(LABMESH_VERSION));
  EXPECT_EQ(agent::CurrentVersion(work), "");  // back to the binary as installed: no link
  const int rolled_back = ReadPid(work);
  EXPECT_NE(rolled_back, first_pid);  // the watchdog's process became the agent
  ASSERT_TRUE(coordinator.RunUntil([&] {
    auto state = agent::LoadUpdateState(work);
    return state.ok() && state->failure.task_id == 0;  // cleared after the Welcome
  })) << agent.Log();
  if (rolled_back > 1) kill(rolled_back, SIGKILL);
}

// ---- the real binary started fresh, as systemd starts it ----

// A trial left unconfirmed in state.json (its process died and systemd killed the watchdog
// with the rest of the service, or the machine rebooted): the next fresh start reports it as
// failed at registration and goes back to the last known good (here versions/9.9.9).
TEST(AgentStartup, AnUnconfirmedTrialIsReportedAndRolledBackAtAFreshStart) {
  TempDir tmp;
  FakeCoordinator coordinator;
  const std::string work = fs::canonical(tmp.path()).string() + "/work";
  fs::create_directories(work + "/versions/9.9.9");
  fs::copy_file(LABMESH_NEW_AGENT_BIN, work + "/versions/9.9.9/labmesh-agent");
  fs::create_directories(work + "/versions/9.9.8");
  WriteFile(work + "/versions/9.9.8/labmesh-agent", "#!/bin/sh\nexit 3\n", 0755);
  ASSERT_TRUE(agent::SwitchCurrent(work, "9.9.8").ok());
  agent::UpdateState state;
  state.installed_version = LABMESH_VERSION;
  state.installed_exe = fs::canonical(LABMESH_AGENT_BIN).string();
  state.last_good_version = "9.9.9";
  state.last_good_exe = work + "/versions/9.9.9/labmesh-agent";
  state.trial.task_id = 61;
  state.trial.from_version = "9.9.9";
  state.trial.from_exe = state.last_good_exe;
  state.trial.to_version = "9.9.8";
  state.trial.to_exe = work + "/versions/9.9.8/labmesh-agent";
  ASSERT_TRUE(agent::SaveUpdateState(work, state).ok());

  Process agent(AgentArgs(coordinator, work), tmp.path() + "/agent.log");
  ASSERT_TRUE(coordinator.RunUntil([&] { return !coordinator.hellos.empty(); })) << agent.Log();
  const protocol::AgentHello& hello = coordinator.hellos.front();
  EXPECT_EQ(hello.agent_version, "9.9.9");  // the last known good, through the hop
  EXPECT_EQ(hello.update_report.task_id, 61u);
  EXPECT_FALSE(hello.update_report.passed);
  EXPECT_NE(hello.update_report.reason.find("9.9.8 was not confirmed"), std::string::npos)
      << hello.update_report.reason;
  EXPECT_EQ(agent::CurrentVersion(work), "9.9.9");
  ASSERT_TRUE(coordinator.RunUntil([&] {
    auto loaded = agent::LoadUpdateState(work);
    return loaded.ok() && loaded->trial.task_id == 0 && loaded->failure.task_id == 0;
  })) << agent.Log();
}

// A new package installed over an agent that updated itself: the installed binary's version
// differs from the recorded one, so it runs itself instead of hopping to `current`; the same
// installed version hops as before.
TEST(AgentStartup, ANewlyInstalledBinaryWinsAndTheSameOneHopsToCurrent) {
  TempDir tmp;
  const std::string work = fs::canonical(tmp.path()).string() + "/work";
  fs::create_directories(work + "/versions/9.9.9");
  fs::copy_file(LABMESH_NEW_AGENT_BIN, work + "/versions/9.9.9/labmesh-agent");
  auto prepare = [&](const std::string& installed_version) {
    ASSERT_TRUE(agent::SwitchCurrent(work, "9.9.9").ok());
    agent::UpdateState state;
    state.installed_version = installed_version;
    state.current_version = "9.9.9";
    state.last_good_version = "9.9.9";
    state.last_good_exe = work + "/versions/9.9.9/labmesh-agent";
    ASSERT_TRUE(agent::SaveUpdateState(work, state).ok());
  };
  {
    prepare(LABMESH_VERSION);  // the same package as recorded: `current` wins
    FakeCoordinator coordinator;
    Process agent(AgentArgs(coordinator, work), tmp.path() + "/same.log");
    ASSERT_TRUE(coordinator.RunUntil([&] { return !coordinator.hellos.empty(); })) << agent.Log();
    EXPECT_EQ(coordinator.hellos.front().agent_version, "9.9.9");
  }
  {
    prepare("0.0.1-old");  // another package was installed since: it wins
    FakeCoordinator coordinator;
    Process agent(AgentArgs(coordinator, work), tmp.path() + "/new.log");
    ASSERT_TRUE(coordinator.RunUntil([&] { return !coordinator.hellos.empty(); })) << agent.Log();
    EXPECT_EQ(coordinator.hellos.front().agent_version, std::string(LABMESH_VERSION));
    EXPECT_EQ(agent::CurrentVersion(work), "");
    auto loaded = agent::LoadUpdateState(work);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->installed_version, std::string(LABMESH_VERSION));
    EXPECT_EQ(loaded->current_version, "");
    EXPECT_EQ(loaded->last_good_exe, "");
  }
}

}  // namespace
}  // namespace labmesh::testing
