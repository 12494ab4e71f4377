// WorkManager without sockets: a fake coordinator (FakeResults) answers what it sends. Proves
// the report sequence, the uploaded files and manifest, the default status.log, the control's
// environment, max runtime killing the whole group, aborts, and reloading the spool after an
// agent restart. Waits have deadlines; controls are real processes.

#include "work/work_manager.hpp"

#include <gtest/gtest.h>

#include "labmesh/common/hash.hpp"
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>

#include "fake_coordinator.hpp"
#include "process.hpp"
#include "work/spool.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;
using agent::WorkManager;

std::string HelperDir() { return fs::path(LABMESH_TEST_BIN).parent_path().string(); }

class Harness {
 public:
  explicit Harness(const std::string& work_dir, uint64_t incarnation = 7) {
    config.work_dir = work_dir;
    config.helper_dir = HelperDir();
    config.kill_grace_ms = 200;
    Make(incarnation);
  }
  void Make(uint64_t incarnation = 7) {
    manager.reset();
    manager = std::make_unique<WorkManager>(config, SystemClock::Default(), "lab-t", incarnation,
                                            [this](const std::string& f) {
                                              outbox.push_back(f);
                                              return true;
                                            });
  }

  // One turn of the loop: the manager's timers and processes, then the coordinator's answers.
  // While `lose` is set, what the manager sends is lost (a connection about to break).
  void Step() {
    manager->Service();
    if (lose) {
      lost += outbox.size();
      outbox.clear();
    }
    while (!outbox.empty()) {
      std::vector<std::string> sent;
      sent.swap(outbox);
      for (const std::string& frame : sent) {
        for (const std::string& reply : coordinator.Handle(frame)) Deliver(reply);
      }
    }
  }
  void Deliver(const std::string& frame) {
    auto envelope = protocol::DecodeEnvelope(frame);
    ASSERT_TRUE(envelope.ok());
    ASSERT_TRUE(manager->Handle(*envelope));
  }
  template <typename M>
  void Send(const M& message) {
    Deliver(protocol::Encode(message));
  }
  bool RunUntil(const std::function<bool()>& condition) {
    return WaitFor([&] {
      Step();
      return condition();
    });
  }

  agent::AgentConfig config;
  std::unique_ptr<WorkManager> manager;
  std::vector<std::string> outbox;
  FakeResults coordinator;
  bool lose = false;
  size_t lost = 0;
};

protocol::StartEntry Command(uint64_t id, const std::string& command) {
  protocol::StartEntry start;
  start.entry_id = id;
  start.job_id = 40 + id;
  start.job_name = "smoke";
  start.owner = "ann";
  start.hostname = "lab-t";
  start.hosts = {"lab-t", "lab-u"};
  start.control_kind = "command";
  start.control = command;
  return start;
}

TEST(WorkManager, AnEntryRunsUploadsAndIsDroppedWhenDone) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  h.Step();
  EXPECT_EQ(h.coordinator.work_requests, 1);

  h.Send(Command(1, "echo hello; mkdir -p sub; printf abc > sub/data; ln -s /etc/passwd link"));
  EXPECT_FALSE(h.manager->Idle());
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(1) > 0; }));
  ASSERT_TRUE(h.RunUntil([&] { return h.manager->entry_count() == 0; }));

  std::vector<std::string> phases;
  uint64_t last_sequence = 0;
  for (const auto& r : h.coordinator.reports) {
    if (r.sequence != last_sequence) phases.push_back(r.phase);
    EXPECT_GE(r.sequence, last_sequence);
    last_sequence = r.sequence;
    EXPECT_EQ(r.incarnation, 7u);
  }
  EXPECT_EQ(phases, (std::vector<std::string>{"running", "exited", "uploaded"}));
  const protocol::EntryReport* exited = h.coordinator.Report(1, "exited");
  ASSERT_NE(exited, nullptr);
  EXPECT_EQ(exited->outcome, "passed");
  EXPECT_EQ(exited->exit_code, 0);
  EXPECT_GT(exited->started_us, 0);
  EXPECT_GE(exited->ended_us, exited->started_us);

  auto& files = h.coordinator.files[1];
  EXPECT_EQ(files["debug/control.log"], "hello\n");
  EXPECT_EQ(files["sub/data"], "abc");
  EXPECT_EQ(files.count("link"), 0u);  // symlinks are not uploaded
  std::string status = files["status.log"];
  EXPECT_EQ(status.rfind("START\t----\tsmoke\ttimestamp=", 0), 0u) << status;
  EXPECT_NE(status.find("\n\tGOOD\t----\tsmoke\t"), std::string::npos) << status;
  EXPECT_NE(status.find("completed successfully\nEND GOOD\t----\tsmoke\t"), std::string::npos);

  const protocol::EntryReport* uploaded = h.coordinator.Report(1, "uploaded");
  ASSERT_NE(uploaded, nullptr);
  ASSERT_EQ(uploaded->files.size(), 3u);
  for (const auto& digest : uploaded->files) {
    EXPECT_EQ(digest.size, files[digest.path].size()) << digest.path;
    EXPECT_EQ(digest.hash, labmesh::Blake2bHex(files[digest.path])) << digest.path;
  }
  EXPECT_FALSE(fs::exists(tmp.path() + "/spool/1"));
  EXPECT_TRUE(h.manager->Idle());
  EXPECT_EQ(h.coordinator.work_requests, 2);  // asked again after the done ack
}

TEST(WorkManager, AFailingControlGetsAFailStatusLogAndItsExitStatus) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  h.Send(Command(2, "exit 4"));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(2) > 0; }));
  const protocol::EntryReport* exited = h.coordinator.Report(2, "exited");
  ASSERT_NE(exited, nullptr);
  EXPECT_EQ(exited->outcome, "failed");
  EXPECT_EQ(exited->reason, "exit status 4");
  EXPECT_EQ(exited->exit_code, 4);
  std::string status = h.coordinator.files[2]["status.log"];
  EXPECT_NE(status.find("\tFAIL\t----\tsmoke\t"), std::string::npos) << status;
  EXPECT_NE(status.find("\texit status 4\nEND FAIL\t----\tsmoke\t"), std::string::npos) << status;
}

TEST(WorkManager, TheControlSeesItsEnvironmentAndTheHelperOnPath) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  protocol::StartEntry start = Command(3, "env | grep ^LABMESH_ | sort; echo PATH=$PATH; "
                                          "command -v labmesh-test; command -v labmesh-sync; "
                                          "labmesh-test run inner -- echo from-inner");
  start.peers = {{"lab-u", "10.0.0.2"}, {"lab-t", "10.0.0.1"}, {"lab-x", "10.0.0.9"}};
  h.Send(start);
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(3) > 0; }));
  std::string results = fs::absolute(tmp.path()).string() + "/spool/3/results";
  std::string log = h.coordinator.files[3]["debug/control.log"];
  for (const std::string& line : std::vector<std::string>
       {"LABMESH_ENTRY_ID=3\n", "LABMESH_HOST=lab-t\n", "LABMESH_HOSTS=lab-t,lab-u\n",
        "LABMESH_PEERS=lab-t=10.0.0.1,lab-u=10.0.0.2\n", "LABMESH_GROUP=0\n",
        "LABMESH_SYNCH_COUNT=1\n", std::string(LABMESH_SYNC_BIN) + "\n",
        "LABMESH_JOB_ID=43\n", "LABMESH_JOB_NAME=smoke\n",
        std::string("LABMESH_RESULTS_DIR=") + results + "\n",
        "LABMESH_SYNC=ipc://" + fs::absolute(tmp.path()).string() + "/sync.sock\n",
        "PATH=" + HelperDir() + ":", std::string(LABMESH_TEST_BIN) + "\n", "from-inner\n"}) {
    EXPECT_NE(log.find(line), std::string::npos) << line << " not in:\n" << log;
  }
  // labmesh-test wrote status.log itself: the agent's default is not added.
  std::string status = h.coordinator.files[3]["status.log"];
  EXPECT_NE(status.find("START\t----\tinner\t"), std::string::npos) << status;
  EXPECT_EQ(status.find("smoke"), std::string::npos) << status;
  EXPECT_EQ(h.coordinator.files[3]["inner/output.log"], "from-inner\n");
}

TEST(WorkManager, AScriptControlRunsWithAndWithoutAShebang) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  protocol::StartEntry with = Command(4, "#!/bin/sh\necho shebang $0\n");
  with.control_kind = "control";
  protocol::StartEntry without = Command(5, "echo plain\nexit 0\n");
  without.control_kind = "test";
  h.Send(with);
  h.Send(without);
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.size() == 2; }));
  std::string control = fs::absolute(tmp.path()).string() + "/spool/4/control";
  EXPECT_EQ(h.coordinator.files[4]["debug/control.log"], "shebang " + control + "\n");
  EXPECT_EQ(h.coordinator.files[5]["debug/control.log"], "plain\n");
}

TEST(WorkManager, MaxRuntimeKillsTheWholeProcessGroup) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  protocol::StartEntry start = Command(6, "sleep 300 & trap '' TERM; echo up; sleep 300");
  start.max_runtime_ms = 300;
  h.Send(start);
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.Report(6, "running") != nullptr; }));
  auto record = agent::LoadRecord(tmp.path() + "/spool/6/entry.mp", 6);
  ASSERT_TRUE(record.ok());
  pid_t pgid = record->pgid;
  ASSERT_GT(pgid, 0);
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.Report(6, "exited") != nullptr; }));
  const protocol::EntryReport* exited = h.coordinator.Report(6, "exited");
  EXPECT_EQ(exited->outcome, "failed");
  EXPECT_EQ(exited->reason, "max runtime 300ms exceeded");
  EXPECT_EQ(exited->signal, SIGKILL);  // TERM was trapped: KILL after the grace
  EXPECT_TRUE(WaitFor([&] { return kill(-pgid, 0) != 0 && errno == ESRCH; }));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(6) > 0; }));
  EXPECT_EQ(h.coordinator.files[6]["debug/control.log"], "up\n");
}

// Also: the sync relay's hook hears of the abort at once, and ControlRunning turns false.
TEST(WorkManager, AbortEndsTheEntryAbortedAndDiscardDropsIt) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  std::vector<std::pair<uint64_t, std::string>> ended;
  h.manager->SetControlEndedHook(
      [&](uint64_t id, const std::string& why) { ended.emplace_back(id, why); });
  h.manager->OnWelcome();
  h.Send(Command(7, "echo waiting; sleep 300"));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.files[7]["debug/control.log"] == "waiting\n"; }));
  EXPECT_TRUE(h.manager->ControlRunning(7));
  EXPECT_FALSE(h.manager->ControlRunning(8));
  protocol::AbortEntry abort;
  abort.entry_id = 7;
  abort.reason = "aborted by ann";
  h.Send(abort);
  EXPECT_FALSE(h.manager->ControlRunning(7));  // being stopped: no more sync requests
  ASSERT_FALSE(ended.empty());
  EXPECT_EQ(ended[0], std::make_pair(uint64_t{7}, std::string("aborted by ann")));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(7) > 0; }));
  const protocol::EntryReport* exited = h.coordinator.Report(7, "exited");
  ASSERT_NE(exited, nullptr);
  EXPECT_EQ(exited->outcome, "aborted");
  EXPECT_EQ(exited->reason, "aborted by ann");
  EXPECT_EQ(exited->signal, SIGTERM);

  h.Send(Command(8, "sleep 300"));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.Report(8, "running") != nullptr; }));
  abort.entry_id = 8;
  abort.discard = true;
  h.Send(abort);
  EXPECT_EQ(ended.back(), std::make_pair(uint64_t{8}, std::string("the entry was discarded")));
  EXPECT_EQ(h.manager->entry_count(), 0u);
  EXPECT_FALSE(fs::exists(tmp.path() + "/spool/8"));
  EXPECT_TRUE(h.manager->Idle());
}

TEST(WorkManager, AStartForAnEntryAlreadyHeldIsIgnored) {
  TempDir tmp;
  Harness h(tmp.path());
  h.coordinator.done_on_uploaded = false;
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  h.Send(Command(9, "echo once"));
  h.Send(Command(9, "echo twice"));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.Report(9, "uploaded") != nullptr; }));
  EXPECT_EQ(h.coordinator.files[9]["debug/control.log"], "once\n");
  EXPECT_EQ(h.manager->HeldEntries().size(), 1u);
}

TEST(WorkManager, AfterAReconnectReportsAreResentAndTheUploadResumes) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  h.Step();
  h.lose = true;  // the running report, the exited report and every chunk are lost
  h.Send(Command(14, "echo lost-output; head -c 300000 /dev/zero > zeros"));
  ASSERT_TRUE(h.RunUntil([&] { return h.manager->HeldEntries()[0].phase == "exited"; }));
  h.Step();
  EXPECT_GT(h.lost, 2u);
  EXPECT_TRUE(h.coordinator.reports.empty());
  h.manager->OnDisconnected();
  h.lose = false;
  h.Step();
  EXPECT_TRUE(h.coordinator.reports.empty());  // nothing goes out while disconnected
  h.manager->OnWelcome();
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(14) > 0; }));
  // The latest report (exited, sequence 2) is resent as it was; "running" is not repeated.
  ASSERT_GE(h.coordinator.reports.size(), 2u);
  EXPECT_EQ(h.coordinator.reports[0].phase, "exited");
  EXPECT_EQ(h.coordinator.reports[0].sequence, 2u);
  EXPECT_EQ(h.coordinator.files[14]["debug/control.log"], "lost-output\n");
  EXPECT_EQ(h.coordinator.files[14]["zeros"], std::string(300000, '\0'));
}

// Spawns `sleep 300` in a session of its own, as an agent that died would have left it.
pid_t OrphanedControl() {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  const char* argv[] = {"/bin/sleep", "300", nullptr};
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], nullptr, &attr, const_cast<char**>(argv), environ), 0);
  posix_spawnattr_destroy(&attr);
  return pid;
}

TEST(WorkManager, AfterARestartTheSpoolIsReloadedAndARunningEntryEndsInError) {
  TempDir tmp;
  std::string spool = tmp.path() + "/spool";
  // Entry 10 was running (its control still alive), 11 had uploaded 5 of 10 bytes, 12 was
  // uploaded and waits for the done ack.
  pid_t orphan = OrphanedControl();
  ASSERT_GT(orphan, 0);
  auto write = [&](uint64_t id, const std::string& phase, auto&& fill) {
    agent::SpoolPaths paths = agent::PathsFor(spool, id);
    fs::create_directories(paths.results + "/debug");
    agent::SpoolRecord record;
    record.start = Command(id, "true");
    record.phase = phase;
    record.sequence = 3;
    record.started_us = 1'000'000;
    fill(record, paths);
    uint64_t saves = 0;
    ASSERT_TRUE(agent::SaveRecord(paths.record, record, &saves).ok());
  };
  write(10, "running", [&](agent::SpoolRecord& r, const agent::SpoolPaths& p) {
    r.pgid = orphan;
    std::ofstream(p.control_log) << "partial\n";
  });
  write(11, "exited", [&](agent::SpoolRecord& r, const agent::SpoolPaths& p) {
    std::ofstream(p.results + "/data") << "0123456789";
    r.files_listed = true;
    r.outcome = "passed";
    r.files = {{"data", 10, 5, false}};
  });
  write(12, "uploaded", [&](agent::SpoolRecord& r, const agent::SpoolPaths&) {
    r.files_listed = true;
    r.outcome = "passed";
    r.manifest = {{"data", 1, labmesh::Blake2bHex("x")}};
  });
  fs::create_directories(spool + "/99");  // no entry.mp: removed

  Harness h(tmp.path(), /*incarnation=*/8);
  ASSERT_TRUE(h.manager->Load().ok());
  EXPECT_FALSE(fs::exists(spool + "/99"));
  // The orphan was killed: reap it (the test is its parent) and the group is gone.
  int status = 0;
  ASSERT_EQ(waitpid(orphan, &status, 0), orphan);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(kill(-orphan, 0) != 0 && errno == ESRCH);

  auto held = h.manager->HeldEntries();
  ASSERT_EQ(held.size(), 3u);
  EXPECT_EQ(held[0].phase, "exited");  // 10: ended by the restart
  EXPECT_EQ(held[1].phase, "exited");
  EXPECT_EQ(held[2].phase, "uploaded");

  // Before the resumed upload of 11 reaches the coordinator, it already holds bytes [0, 5).
  h.coordinator.files[11]["data"] = "01234";
  h.manager->OnWelcome();
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.size() == 3; }));
  const protocol::EntryReport* ended = h.coordinator.Report(10, "exited");
  ASSERT_NE(ended, nullptr);
  EXPECT_EQ(ended->sequence, 4u);
  EXPECT_EQ(ended->outcome, "error");
  EXPECT_EQ(ended->reason, "agent restarted while the control ran");
  EXPECT_EQ(ended->incarnation, 8u);
  EXPECT_EQ(h.coordinator.files[10]["debug/control.log"], "partial\n");
  EXPECT_NE(h.coordinator.files[10]["status.log"].find("\tFAIL\t----\tsmoke\t"), std::string::npos);
  EXPECT_EQ(h.coordinator.files[11]["data"], "0123456789");
  const protocol::EntryReport* resent = h.coordinator.Report(12, "uploaded");
  ASSERT_NE(resent, nullptr);
  EXPECT_EQ(resent->sequence, 3u);  // the same report again
  ASSERT_TRUE(h.RunUntil([&] { return h.manager->entry_count() == 0; }));
  // What is left is kept for reuse only.
  std::vector<std::string> left;
  for (const auto& dirent : fs::directory_iterator(spool)) {
    left.push_back(dirent.path().filename().string());
  }
  EXPECT_EQ(left, std::vector<std::string>{agent::kFreeDir});
}

TEST(WorkManager, RefusedChunksAreResentFromTheCoordinatorsOffset) {
  TempDir tmp;
  Harness h(tmp.path());
  h.config.upload_chunk_bytes = 1000;
  h.config.upload_window_bytes = 10'000;
  h.Make();
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  // The third chunk is refused: the chunks sent after it are gaps until the agent goes back to
  // the coordinator's next_offset.
  h.coordinator.refuse_chunk = 3;
  h.Send(Command(13, "head -c 50000 /dev/urandom > big"));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(13) > 0; }));
  const protocol::EntryReport* uploaded = h.coordinator.Report(13, "uploaded");
  ASSERT_NE(uploaded, nullptr);
  for (const auto& digest : uploaded->files) {
    EXPECT_EQ(digest.hash, labmesh::Blake2bHex(h.coordinator.files[13][digest.path])) << digest.path;
  }
  EXPECT_EQ(h.coordinator.files[13]["big"].size(), 50'000u);
  EXPECT_GT(h.coordinator.chunks, 51);  // some were sent twice
}

// Issue 20: an "uploaded" report the coordinator refuses with a ResultAck (its copy of a file
// differs) sends the agent back to uploading that file, then a new "uploaded" report follows.
TEST(WorkManager, ARefusedUploadedReportResendsTheFileAndReportsAgain) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  h.coordinator.refuse_uploaded_file = "data";
  h.Send(Command(15, "printf 0123456789 > data"));
  ASSERT_TRUE(h.RunUntil([&] { return h.coordinator.done_sent.count(15) > 0; }));
  std::vector<uint64_t> uploaded;
  for (const auto& report : h.coordinator.reports) {
    if (report.entry_id == 15 && report.phase == "uploaded") uploaded.push_back(report.sequence);
  }
  ASSERT_EQ(uploaded.size(), 2u);
  EXPECT_EQ(uploaded[1], uploaded[0] + 1);
  EXPECT_EQ(h.coordinator.files[15]["data"], "0123456789");
}

ino_t Inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The spool of a finished entry goes to spool/free/ and the next entry gets it back: the same
// directories and files (inodes), holding only the new entry's output.
TEST(WorkManager, TheNextEntryReusesTheSpoolOfTheLastOne) {
  TempDir tmp;
  Harness h(tmp.path());
  ASSERT_TRUE(h.manager->Load().ok());
  h.manager->OnWelcome();
  const std::string spool = fs::absolute(tmp.path()).string() + "/spool";
  h.Send(Command(20, "echo first; mkdir -p sub/deeper; echo x > sub/deeper/f; "
                     "echo more > debug/extra"));
  ASSERT_TRUE(h.RunUntil([&] { return h.manager->entry_count() == 0; }));
  EXPECT_FALSE(fs::exists(spool + "/20"));
  const std::string slot = spool + "/free/0";
  ASSERT_TRUE(fs::is_directory(slot));
  const ino_t dir = Inode(slot);
  const ino_t debug = Inode(slot + "/results/debug");
  const ino_t log = Inode(slot + "/results/debug/control.log");
  const ino_t status = Inode(slot + "/results/status.log");
  EXPECT_EQ(fs::file_size(slot + "/results/debug/control.log"), 0u);
  EXPECT_EQ(fs::file_size(slot + "/results/status.log"), 0u);
  EXPECT_FALSE(fs::exists(slot + "/results/sub"));
  EXPECT_FALSE(fs::exists(slot + "/results/debug/extra"));

  // No status.log of its own: the empty recycled one gets the default.
  h.Send(Command(21, "echo second"));
  EXPECT_EQ(Inode(spool + "/21"), dir);
  EXPECT_EQ(Inode(spool + "/21/results/debug"), debug);
  EXPECT_EQ(Inode(spool + "/21/results/debug/control.log"), log);
  EXPECT_EQ(Inode(spool + "/21/results/status.log"), status);
  EXPECT_FALSE(fs::exists(slot));
  ASSERT_TRUE(h.RunUntil([&] { return h.manager->entry_count() == 0; }));
  auto& files = h.coordinator.files[21];
  EXPECT_EQ(files["debug/control.log"], "second\n");
  EXPECT_EQ(Count(files["status.log"], "START\t"), 1u) << files["status.log"];
  EXPECT_NE(files["status.log"].find("END GOOD\t----\tsmoke\t"), std::string::npos);
  EXPECT_EQ(files.size(), 2u);  // nothing of entry 20's results
  const protocol::EntryReport* uploaded = h.coordinator.Report(21, "uploaded");
  ASSERT_NE(uploaded, nullptr);
  EXPECT_EQ(uploaded->files.size(), 2u);

  // A control that writes status.log itself keeps it, in the same recycled file.
  protocol::StartEntry own = Command(22, "#!/bin/sh\nprintf 'START\\t----\\tmine\\n' > status.log\n");
  own.control_kind = "control";
  h.Send(own);
  EXPECT_EQ(Inode(spool + "/22"), dir);
  EXPECT_EQ(Inode(spool + "/22/results/debug/control.log"), log);
  ASSERT_TRUE(h.RunUntil([&] { return h.manager->entry_count() == 0; }));
  EXPECT_EQ(h.coordinator.files[22]["status.log"], "START\t----\tmine\n");
  EXPECT_EQ(h.coordinator.files[22]["debug/control.log"], "");
  EXPECT_EQ(h.coordinator.Report(22, "exited")->outcome, "passed");
  EXPECT_EQ(Inode(spool + "/free/2"), dir);  // free/0 -> 21 -> free/1 -> 22 -> free/2
}

// An agent restarted with spool/free/ present reuses what is there (cleaned again) and still
// reloads its entries.
TEST(WorkManager, AfterARestartFreeSlotsAreReused) {
  TempDir tmp;
  const std::string spool = fs::absolute(tmp.path()).string() + "/spool";
  {
    Harness h(tmp.path());
    ASSERT_TRUE(h.manager->Load().ok());
    h.manager->OnWelcome();
    h.Send(Command(30, "echo thirty > thirty.txt"));
    ASSERT_TRUE(h.RunUntil([&] { return h.manager->entry_count() == 0; }));
  }
  const std::string slot = spool + "/free/0";
  ASSERT_TRUE(fs::is_directory(slot));
  const ino_t dir = Inode(slot);
  std::ofstream(slot + "/results/stray") << "left by a crash";
  std::ofstream(slot + "/results/status.log") << "old";
  fs::create_directories(spool + "/free/junk");  // not a slot name: removed

  Harness h(tmp.path(), /*incarnation=*/8);
  ASSERT_TRUE(h.manager->Load().ok());
  EXPECT_FALSE(fs::exists(spool + "/free/junk"));
  EXPECT_FALSE(fs::exists(slot + "/results/stray"));
  h.manager->OnWelcome();
  h.Send(Command(31, "echo thirty-one"));
  EXPECT_EQ(Inode(spool + "/31"), dir);
  ASSERT_TRUE(h.RunUntil([&] { return h.manager->entry_count() == 0; }));
  auto& files = h.coordinator.files[31];
  EXPECT_EQ(files["debug/control.log"], "thirty-one\n");
  EXPECT_EQ(files.count("stray"), 0u);
  EXPECT_EQ(files.count("thirty.txt"), 0u);
  EXPECT_EQ(files["status.log"].rfind("START\t----\tsmoke\t", 0), 0u) << files["status.log"];
  EXPECT_EQ(Inode(spool + "/free/1"), dir);
}

agent::SpoolRecord RecordOf(uint64_t id, uint64_t sequence) {
  agent::SpoolRecord record;
  record.start = Command(id, "true");
  record.phase = "running";
  record.sequence = sequence;
  return record;
}

TEST(SpoolRecord, TheNewestValidOfTheTwoFilesWins) {
  TempDir tmp;
  const std::string base = tmp.path() + "/entry.mp";
  uint64_t saves = 0;
  EXPECT_EQ(agent::LoadRecord(base, 5).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(agent::SaveRecord(base, RecordOf(5, 1), &saves).ok());
  ASSERT_TRUE(agent::SaveRecord(base, RecordOf(5, 2), &saves).ok());
  ASSERT_TRUE(agent::SaveRecord(base, RecordOf(5, 3), &saves).ok());
  EXPECT_EQ(saves, 3u);
  EXPECT_FALSE(fs::exists(base));  // no legacy file, no tmp file
  EXPECT_FALSE(fs::exists(base + ".tmp"));
  const ino_t file0 = Inode(base + ".0"), file1 = Inode(base + ".1");

  uint64_t loaded_saves = 0;
  auto record = agent::LoadRecord(base, 5, &loaded_saves);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->sequence, 3u);
  EXPECT_EQ(loaded_saves, 3u);

  // Save 3 is in entry.mp.1. A torn write (garbage in its middle) loses to save 2.
  {
    std::fstream f(base + ".1", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    f << "garbage!";
  }
  record = agent::LoadRecord(base, 5, &loaded_saves);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->sequence, 2u);
  EXPECT_EQ(loaded_saves, 2u);
  // The next save overwrites the torn file, in place.
  ASSERT_TRUE(agent::SaveRecord(base, RecordOf(5, 4), &loaded_saves).ok());
  EXPECT_EQ(Inode(base + ".0"), file0);
  EXPECT_EQ(Inode(base + ".1"), file1);
  EXPECT_EQ(agent::LoadRecord(base, 5)->sequence, 4u);

  // Only garbage and a half-written file: corruption, not a record.
  std::ofstream(base + ".0", std::ios::trunc) << "LMR1 not a record";
  fs::resize_file(base + ".1", 70);
  EXPECT_EQ(agent::LoadRecord(base, 5).status().code(), StatusCode::kCorruption);
}

TEST(SpoolRecord, ARecordOfAnotherEntryNeverWins) {
  TempDir tmp;
  const std::string base = tmp.path() + "/entry.mp";
  uint64_t old_saves = 0;
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    ASSERT_TRUE(agent::SaveRecord(base, RecordOf(1, seq), &old_saves).ok());
  }
  uint64_t saves = 0;  // a new entry in the same (not truncated) slot
  ASSERT_TRUE(agent::SaveRecord(base, RecordOf(2, 9), &saves).ok());
  auto record = agent::LoadRecord(base, 2);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->start.entry_id, 2u);
  EXPECT_EQ(record->sequence, 9u);
  EXPECT_EQ(agent::LoadRecord(base, 3).status().code(), StatusCode::kCorruption);
}

TEST(SpoolRecord, ALegacyEntryMpStillLoads) {
  TempDir tmp;
  agent::SpoolPaths paths = agent::PathsFor(tmp.path() + "/spool", 40);
  fs::create_directories(paths.results);
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, RecordOf(40, 6));
  std::ofstream(paths.record, std::ios::binary).write(buffer.data(), buffer.size());
  uint64_t saves = 7;
  auto record = agent::LoadRecord(paths.record, 40, &saves);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->sequence, 6u);
  EXPECT_EQ(saves, 0u);
  auto loaded = agent::LoadSpool(tmp.path() + "/spool", nullptr);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].record.sequence, 6u);
  // Once saved by this agent, the new files win over the legacy one.
  ASSERT_TRUE(agent::SaveRecord(paths.record, RecordOf(40, 7), &saves).ok());
  EXPECT_EQ(agent::LoadRecord(paths.record, 40)->sequence, 7u);
}

TEST(SpoolRecord, CleaningForReuseKeepsTheInodesAndNothingElse) {
  TempDir tmp;
  agent::SpoolPaths paths = agent::PathsFor(tmp.path() + "/spool", 50);
  fs::create_directories(paths.results + "/debug/deeper");
  uint64_t saves = 0;
  ASSERT_TRUE(agent::SaveRecord(paths.record, RecordOf(50, 1), &saves).ok());
  ASSERT_TRUE(agent::SaveRecord(paths.record, RecordOf(50, 2), &saves).ok());
  std::ofstream(paths.record) << "legacy";
  std::ofstream(paths.control) << "echo hi";
  std::ofstream(paths.control_log) << "log";
  std::ofstream(paths.results + "/debug/deeper/x") << "x";
  std::ofstream(paths.results + "/data") << "data";
  fs::create_symlink("/etc/passwd", paths.results + "/status.log");
  const ino_t log = Inode(paths.control_log);
  fs::permissions(paths.results + "/debug", fs::perms::owner_read | fs::perms::owner_exec);
  ASSERT_TRUE(agent::CleanSpoolForReuse(paths.dir).ok());
  EXPECT_EQ(fs::status(paths.results + "/debug").permissions() & fs::perms::owner_all,
            fs::perms::owner_all);
  EXPECT_EQ(Inode(paths.control_log), log);
  EXPECT_EQ(fs::file_size(paths.control_log), 0u);
  EXPECT_EQ(fs::file_size(paths.record + ".0"), 0u);
  EXPECT_EQ(fs::file_size(paths.record + ".1"), 0u);
  EXPECT_EQ(fs::file_size(paths.control), 0u);
  EXPECT_FALSE(fs::exists(paths.record));
  EXPECT_FALSE(fs::exists(fs::symlink_status(paths.results + "/status.log")));  // link removed
  EXPECT_FALSE(fs::exists(paths.results + "/data"));
  EXPECT_FALSE(fs::exists(paths.results + "/debug/deeper"));
  EXPECT_EQ(agent::LoadRecord(paths.record, 50).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace labmesh::testing
