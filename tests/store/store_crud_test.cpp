// Create/read/update/delete through Store, batch atomicity, read-only stores, reopen.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string_view>
#include <utility>
#include <vector>

#include "labmesh/common/hash.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "results_keys.hpp"
#include "store_test_util.hpp"
#include "table.hpp"

namespace labmesh::store {
namespace {

using testing::MakeHost;
using testing::OpenOrDie;
using testing::TempDir;

TEST(StoreCrud, TestPutGetReplaceListDelete) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<TestDef>> missing = store->GetTest("kernel.boot");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  // Text with quotes, a tab, a non-ASCII character and no final newline comes back byte for byte.
  const std::string control = "#!/bin/sh\necho \"h\u00e9llo\" 'x'\n\texit 0";
  WriteBatch batch;
  batch.PutTest(TestDef{"net:iperf", "throughput", "iperf3 -c $PEER\n", "bob", 10, "bob", 10});
  batch.PutTest(TestDef{"kernel.boot", "boots", control, "alice", 20, "alice", 20});
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<TestDef>> got = store->GetTest("kernel.boot");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->name, "kernel.boot");
  EXPECT_EQ((*got)->description, "boots");
  EXPECT_EQ((*got)->control, control);
  EXPECT_EQ((*got)->created_by, "alice");
  EXPECT_EQ((*got)->created_ms, 20);

  TestDef replaced = **got;
  replaced.control = "#!/bin/sh\nexit 1\n";
  replaced.updated_by = "carol";
  replaced.updated_ms = 30;
  WriteBatch replace;
  replace.PutTest(replaced);
  ASSERT_TRUE(store->Apply(replace).ok());
  got = store->GetTest("kernel.boot");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->control, "#!/bin/sh\nexit 1\n");
  EXPECT_EQ((*got)->created_ms, 20);
  EXPECT_EQ((*got)->updated_by, "carol");
  EXPECT_EQ((*got)->updated_ms, 30);

  Result<std::vector<TestDef>> tests = store->ListTests();
  ASSERT_TRUE(tests.ok());
  ASSERT_EQ(tests->size(), 2u);
  EXPECT_EQ((*tests)[0].name, "kernel.boot");  // sorted by name
  EXPECT_EQ((*tests)[1].name, "net:iperf");

  WriteBatch remove;
  remove.DeleteTest("kernel.boot");
  remove.DeleteTest("never-there");  // deleting an absent test is fine
  ASSERT_TRUE(store->Apply(remove).ok());
  EXPECT_FALSE(store->GetTest("kernel.boot")->has_value());
  ASSERT_EQ(store->ListTests()->size(), 1u);

  // Reopened, the catalog is still there.
  store.reset();
  store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<TestDef>> reopened = store->GetTest("net:iperf");
  ASSERT_TRUE(reopened.ok() && reopened->has_value());
  EXPECT_EQ((*reopened)->control, "iperf3 -c $PEER\n");
}

TEST(StoreCrud, HostPutGetUpdateDelete) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);

  Result<std::optional<Host>> missing = store->GetHost("lab-1");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  WriteBatch batch;
  batch.PutHost(MakeHost("lab-2"));
  batch.PutHost(MakeHost("lab-1"));
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<Host>> got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const Host& host = **got;
  EXPECT_EQ(host.hostname, "lab-1");
  EXPECT_EQ(host.public_key, "key-lab-1");
  EXPECT_EQ(host.status, protocol::HostStatus::kRunning);
  EXPECT_EQ(host.agent_labels, (std::vector<std::string>{"arch:x86_64", "os:debian"}));
  EXPECT_EQ(host.facts.cpus, 8u);
  EXPECT_DOUBLE_EQ(host.health.load1, 0.5);
  EXPECT_EQ(host.incarnation, 7u);
  EXPECT_EQ(host.attributes.at("note"), "hello");

  Host updated = host;
  updated.status = protocol::HostStatus::kRepairFailed;
  updated.enrollment = Enrollment::kPending;
  updated.locked = true;
  updated.locked_by = "alice";
  WriteBatch update;
  update.PutHost(updated);
  ASSERT_TRUE(store->Apply(update).ok());
  got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, protocol::HostStatus::kRepairFailed);
  EXPECT_EQ((*got)->enrollment, Enrollment::kPending);
  EXPECT_TRUE((*got)->locked);
  EXPECT_EQ((*got)->locked_by, "alice");

  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].hostname, "lab-1");  // sorted by hostname
  EXPECT_EQ((*hosts)[1].hostname, "lab-2");

  WriteBatch del;
  del.DeleteHost("lab-1");
  del.DeleteHost("never-existed");  // deleting an absent key is fine
  ASSERT_TRUE(store->Apply(del).ok());
  got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->size(), 1u);
}

TEST(StoreCrud, LabelsPutListDelete) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutLabel({"pool:slow", "bob", 2});
  batch.PutLabel({"pool:fast", "alice", 1});
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<Label>> label = store->GetLabel("pool:fast");
  ASSERT_TRUE(label.ok() && label->has_value());
  EXPECT_EQ((*label)->created_by, "alice");
  EXPECT_EQ((*label)->created_ms, 1);
  Result<std::vector<Label>> labels = store->ListLabels();
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[0].name, "pool:fast");
  EXPECT_EQ((*labels)[1].name, "pool:slow");

  WriteBatch del;
  del.DeleteLabel("pool:fast");
  ASSERT_TRUE(store->Apply(del).ok());
  label = store->GetLabel("pool:fast");
  ASSERT_TRUE(label.ok());
  EXPECT_FALSE(label->has_value());
  labels = store->ListLabels();
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->size(), 1u);
}

TEST(StoreCrud, RevokedKeysPutGetList) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.RevokeKey({"Zkey2", "lab-2", "deleted", 20});
  batch.RevokeKey({"Zkey1", "lab-1", "rejected", 10});
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<RevokedKey>> key = store->GetRevokedKey("Zkey1");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->hostname, "lab-1");
  EXPECT_EQ((*key)->reason, "rejected");
  EXPECT_EQ((*key)->revoked_ms, 10);
  key = store->GetRevokedKey("Zunknown");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  Result<std::vector<RevokedKey>> keys = store->ListRevokedKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].public_key, "Zkey1");
}

TEST(StoreCrud, LaterChangeInBatchWins) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  Host first = MakeHost("lab-1");
  first.status_reason = "first";
  Host second = MakeHost("lab-1");
  second.status_reason = "second";
  batch.PutHost(first);
  batch.PutHost(second);
  batch.PutHost(MakeHost("lab-2"));
  batch.DeleteHost("lab-2");
  ASSERT_TRUE(store->Apply(batch).ok());
  Result<std::optional<Host>> got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status_reason, "second");
  got = store->GetHost("lab-2");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(StoreCrud, FailingBatchLeavesNothing) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch good;
  good.PutHost(MakeHost("keep"));
  ASSERT_TRUE(store->Apply(good).ok());

  WriteBatch bad;
  bad.PutHost(MakeHost("new-1"));
  bad.DeleteHost("keep");
  bad.PutLabel({"new-label", "x", 1});
  bad.PutHost(MakeHost(std::string(600, 'h')));  // longer than LMDB's 511-byte key limit
  bad.PutHost(MakeHost("new-2"));
  Status status = store->Apply(bad);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find("batch op 3"), std::string::npos) << status.message();

  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].hostname, "keep");
  Result<std::vector<Label>> labels = store->ListLabels();
  ASSERT_TRUE(labels.ok());
  EXPECT_TRUE(labels->empty());

  WriteBatch empty_key;
  empty_key.PutHost(MakeHost("ok"));
  empty_key.PutHost(MakeHost(""));
  EXPECT_EQ(store->Apply(empty_key).code(), StatusCode::kInvalidArgument);
  Result<std::optional<Host>> ok = store->GetHost("ok");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->has_value());
}

TEST(StoreCrud, EmptyBatchIsOk) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Apply(WriteBatch()).ok());
}

TEST(StoreCrud, ReopenKeepsData) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.PutHost(MakeHost("lab-1"));
    batch.PutLabel({"pool:fast", "alice", 1});
    batch.RevokeKey({"Zkey", "lab-9", "deleted", 3});
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<Host>> host = store->GetHost("lab-1");
  ASSERT_TRUE(host.ok() && host->has_value());
  EXPECT_EQ((*host)->public_key, "key-lab-1");
  Result<std::optional<Label>> label = store->GetLabel("pool:fast");
  ASSERT_TRUE(label.ok() && label->has_value());
  Result<std::optional<RevokedKey>> key = store->GetRevokedKey("Zkey");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->hostname, "lab-9");
}

TEST(StoreCrud, CreatesMissingDirectoriesPrivate) {
  TempDir tmp;
  std::string dir = tmp.path() + "/var/labmesh/db";
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(StoreCrud, ReadOnlyStoreReadsButRefusesApply) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.PutHost(MakeHost("lab-1"));
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  StoreOptions options;
  options.read_only = true;
  auto store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  Result<std::optional<Host>> host = store->GetHost("lab-1");
  ASSERT_TRUE(host.ok() && host->has_value());

  WriteBatch batch;
  batch.PutHost(MakeHost("lab-2"));
  EXPECT_EQ(store->Apply(batch).code(), StatusCode::kFailedPrecondition);
  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->size(), 1u);
}

TEST(StoreCrud, ReadOnlyOpenOfMissingStoreFails) {
  TempDir tmp;
  StoreOptions options;
  options.read_only = true;
  Result<std::unique_ptr<Store>> store = Store::Open(tmp.path() + "/nothing", options);
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound) << store.status().ToString();
  struct stat st {};
  EXPECT_NE(::stat((tmp.path() + "/nothing").c_str(), &st), 0);  // read-only never creates
}

TEST(StoreCrud, RejectsBadMapOptions) {
  LABMESH_LMDB_ONLY();  // the LMDB map
  TempDir tmp;
  StoreOptions options;
  options.initial_map_bytes = 4 << 20;
  options.max_map_bytes = 1 << 20;
  EXPECT_EQ(Store::Open(tmp.db(), options).status().code(), StatusCode::kInvalidArgument);
}


template <typename T>
std::string StoredHex(const T& value) {
  Result<std::string> bytes = EncodeValue(value);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? HexOf(*bytes) : "";
}

// The exact bytes of one record of each kind with its enums away from their defaults, captured
// before the codec moved out of the public headers (issue 19): what the store wrote must read
// back, so any change here needs a migration.
TEST(StoredBytes, OneRecordOfEachKindKeepsItsExactBytes) {
  Host host = MakeHost("lab-1");
  host.enrollment = Enrollment::kPending;
  host.protection = protocol::Protection::kDoNotRepair;
  host.acl_groups = {kEveryoneGroup};
  host.repairs_ms = {5, 6};
  host.last_known_good = "0.1.0";
  host.reserved_by = "alice";
  host.reserve_reason = "bisect";
  host.reserved_ms = 13;
  host.reserved_until_ms = 14;

  Job job;
  job.id = 42;
  job.name = "boot";
  job.owner = "alice";
  job.priority = protocol::Priority::kUrgent;
  job.hosts = {"lab-1"};
  job.entry_ids = {1, 2};
  job.retry = 1;
  job.reserve_on_failure_ms = 15;
  job.reserve_notices = 2;

  Notification notification;
  notification.job_id = 5;
  notification.index = 8;
  notification.target = "webhook:http://h/x";
  notification.owner = "alice";
  notification.attempts = 1;
  notification.created_us = 20;
  notification.last_attempt_us = 21;
  notification.next_attempt_us = 22;
  notification.document = "{}";
  notification.event = "host.reserved";
  notification.hostname = "lab-1";

  Entry entry;
  entry.id = 1;
  entry.job_id = 42;
  entry.hostname = "lab-1";
  entry.status = protocol::EntryStatus::kRunning;
  entry.history = {StatusChange{protocol::EntryStatus::kQueued, 10, "queued"},
                   StatusChange{protocol::EntryStatus::kRunning, 20, "started"}};
  entry.result_counts = {{"GOOD", 3}};

  SpecialTask task;
  task.id = 9;
  task.hostname = "lab-1";
  task.kind = protocol::TaskKind::kRepair;
  task.status = protocol::TaskStatus::kFailed;
  task.checks = {protocol::TaskCheck{"free-space", true, "ok", 1}};

  User user{"bob", {kEveryoneGroup}, true, 30, "", {ApiToken{1, "ab12", 31}}};

  ResultRecord record;
  record.id = 5;
  record.job_id = 42;
  record.entry_id = 1;
  record.hostname = "lab-1";
  record.labels = {"gpu"};
  record.test = "boot/kernel";
  record.status = "GOOD";
  record.start_us = 100;
  record.keyvals = {{"k", "v"}};
  record.perf = {{"mbps", 941.5}};

  results::EntryIndex index{{5, 6}, {1, 2, 0, 0, 0, 0}};

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Host", StoredHex(host)},
      {"Label", StoredHex(Label{"gpu", "alice", 7})},
      {"RevokedKey", StoredHex(RevokedKey{"key", "lab-2", "deleted", 8})},
      {"TestDef", StoredHex(TestDef{"t", "d", "c", "alice", 1, "bob", 2})},
      {"Job", StoredHex(job)},
      {"Entry", StoredHex(entry)},
      {"SpecialTask", StoredHex(task)},
      {"User", StoredHex(user)},
      {"AclGroup", StoredHex(AclGroup{"kernel", "team", 3})},
      {"AuditRecord", StoredHex(AuditRecord{4, 5, "alice", "JobAbortRequest", "{}", "local",
                                            true, ""})},
      {"Package", StoredHex(Package{"0.2.0", "ff", 10, "alice", 11})},
      {"DesiredVersion", StoredHex(DesiredVersion{"0.2.0", 50, "alice", 12})},
      {"ResultRecord", StoredHex(record)},
      {"EntryIndex", StoredHex(index)},
      {"Notification", StoredHex(notification)},
  };
  const std::vector<std::string> expected = {
      // Host (the reservation's four fields, issue 22, the quarantine fields, issue 26, then the
      // power and console fields, issue 28, at the end: a record written before them reads with
      // them empty)
      "de002fa8686f73746e616d65a56c61622d31aa7075626c69635f6b6579a96b65792d6c61622d31aa656e726f6c"
      "6c6d656e7401a673746174757302ad7374617475735f726561736f6ea66a6f62203432b17374617475735f6368"
      "616e6765645f6d7300a66c6f636b6564c2a96c6f636b65645f6279a0ab6c6f636b5f726561736f6ea0a96c6f63"
      "6b65645f6d7300ac6167656e745f6c6162656c7392ab617263683a7838365f3634a96f733a64656269616eac61"
      "646d696e5f6c6162656c7391a9706f6f6c3a66617374ad6167656e745f76657273696f6ea0a5666163747387a4"
      "61726368a67838365f3634a26f73a0aa6f735f76657273696f6ea0a66b65726e656ca0a46370757308ac6d656d"
      "6f72795f627974657300a761646472657373a0a66865616c746888a56c6f616431cb3fe0000000000000a56c6f"
      "61643500a66c6f6164313500af6d656d5f746f74616c5f627974657300b36d656d5f617661696c61626c655f62"
      "7974657300b06469736b5f746f74616c5f627974657300af6469736b5f667265655f627974657300a875707469"
      "6d655f7300b16c6173745f6865617274626561745f6d7300ab696e6361726e6174696f6e07ad72656769737465"
      "7265645f6d7300aa6174747269627574657381a46e6f7465a568656c6c6faa61636c5f67726f75707391a84576"
      "6572796f6e65aa70726f74656374696f6e02ac6c6173745f7461736b5f696400b06c6173745f76657269666965"
      "645f6d7300aa726570616972735f6d73920506b07265706169725f6f6e5f72657475726ec2af6c6173745f6b6e"
      "6f776e5f676f6f64a5302e312e30b57570646174655f6661696c65645f76657273696f6ea0ab72657365727665"
      "645f6279a5616c696365ae726573657276655f726561736f6ea6626973656374ab72657365727665645f6d730d"
      "b172657365727665645f756e74696c5f6d730eb171756172616e74696e655f726561736f6ea0ae71756172616e"
      "74696e65645f6279a0ae71756172616e74696e65645f6d7300ad70726f6265735f70617373656400ac70726f62"
      "655f6a6f625f696400ae70726f6265735f73746f70706564c2af6865616c74685f73696e63655f6d7300aa7375"
      "73706563745f6d7300a8706f7765725f6f6ea0a9706f7765725f6f6666a0ab706f7765725f6379636c65a0ac70"
      "6f7765725f737461747573a0af636f6e736f6c655f636f6d6d616e64a0ae70616e69635f7061747465726e7390"
      "b17365637265745f6174747269627574657390af706f7765725f6379636c65735f6d7390",
      // Label
      "83a46e616d65a3677075aa637265617465645f6279a5616c696365aa637265617465645f6d7307",
      // RevokedKey
      "84aa7075626c69635f6b6579a36b6579a8686f73746e616d65a56c61622d32a6726561736f6ea764656c657465"
      "64aa7265766f6b65645f6d7308",
      // TestDef
      "87a46e616d65a174ab6465736372697074696f6ea164a7636f6e74726f6ca163aa637265617465645f6279a561"
      "6c696365aa637265617465645f6d7301aa757064617465645f6279a3626f62aa757064617465645f6d7302",
      // Job (retention's five fields, issue 23; notify, --after, template_name, schedule and
      // --reserve-on-failure fields, issue 22, at the end)
      "de0024a269642aa46e616d65a4626f6f74a56f776e6572a5616c696365a87072696f7269747903ab73796e6368"
      "5f636f756e7401ac636f6e74726f6c5f6b696e64a0a7636f6e74726f6ca0a9746573745f6e616d65a0a5686f73"
      "747391a56c61622d31aa6d6574615f6c6162656ca0aa6d6574615f636f756e7400a7646570656e647390aa7275"
      "6e5f766572696679c2aa74696d656f75745f6d7300ae6d61785f72756e74696d655f6d7300aa63726561746564"
      "5f757300ab66696e69736865645f757300ac61626f72745f726561736f6ea0a9656e7472795f696473920102a7"
      "636c65616e7570aa6f6e2d6661696c757265a5726574727901af6b6565705f726573756c74735f6d7300ac7265"
      "73756c745f627974657300ad726573756c74735f737461746500b2726573756c74735f72656d6f7665645f7573"
      "00b6726573756c74735f72656d6f7665645f726561736f6ea0a66e6f7469667990a96e6f746966795f6f6ea0a5"
      "616674657290a961667465725f616e79c2a777616974696e67c2ad74656d706c6174655f6e616d65a0a8736368"
      "6564756c65a0b5726573657276655f6f6e5f6661696c7572655f6d730faf726573657276655f6e6f7469636573"
      "02a970726f62655f666f72a0",
      // Entry
      "de001ba2696401a66a6f625f69642aa8686f73746e616d65a56c61622d31aa6d6574615f6c6162656ca0a67374"
      "6174757304ad7374617475735f726561736f6ea0a56661756c74a0a9657869745f636f6465ffa67369676e616c"
      "00a97175657565645f757300aa737461727465645f757300ab66696e69736865645f757300a7686973746f7279"
      "9283a673746174757300a561745f75730aa6726561736f6ea671756575656483a673746174757304a561745f75"
      "7314a6726561736f6ea773746172746564af7265706f72745f73657175656e636500af61626f72745f72657175"
      "6573746564c2ac61626f72745f726561736f6ea0a567726f757000a76f7574636f6d65a0ae6f7574636f6d655f"
      "726561736f6ea0ad726573756c745f636f756e747381a4474f4f4403ae70617273655f7761726e696e677390a7"
      "7265747269657300"
      // boot_count, reboot_deadline_us, unexpected_reboot, crash, crash_line (issue 21)
      "aa626f6f745f636f756e7400b27265626f6f745f646561646c696e655f757300b1756e65787065637465645f72"
      "65626f6f74c2a56372617368c2aa63726173685f6c696e65a0",
      // SpecialTask
      "8ca2696409a8686f73746e616d65a56c61622d31a46b696e6401a673746174757303a6726561736f6ea0ac7265"
      "717565737465645f6279a0a66a6f625f696400a8656e7472795f696400a97175657565645f6d7300aa73746172"
      "7465645f6d7300ab66696e69736865645f6d7300a6636865636b739184a46e616d65aa667265652d7370616365"
      "a6706173736564c3a66f7574707574a26f6bab6475726174696f6e5f6d7301",
      // User
      "88a46e616d65a3626f62aa61636c5f67726f75707391a845766572796f6e65a561646d696ec3aa637265617465"
      "645f6d731ead70617373776f72645f68617368a0a6746f6b656e739183a2696401a468617368a461623132aa63"
      "7265617465645f6d731fa66e6f7469667990a96e6f746966795f6f6ea0",
      // AclGroup
      "83a46e616d65a66b65726e656cab6465736372697074696f6ea47465616daa637265617465645f6d7303",
      // AuditRecord
      "88a2696404a774696d655f6d7305a475736572a5616c696365a6616374696f6eaf4a6f6241626f727452657175"
      "657374a6746172676574a27b7da466726f6da56c6f63616ca26f6bc3a56572726f72a0",
      // Package
      "85a776657273696f6ea5302e322e30a6736861323536a26666a562797465730aab75706c6f616465645f6279a5"
      "616c696365ab75706c6f616465645f6d730b",
      // DesiredVersion
      "84a776657273696f6ea5302e322e30ae63616e6172795f70657263656e7432a67365745f6279a5616c696365a6"
      "7365745f6d730c",
      // ResultRecord
      "8fa2696405a66a6f625f69642aa8656e7472795f696401a8686f73746e616d65a56c61622d31a66c6162656c73"
      "91a3677075a474657374ab626f6f742f6b65726e656ca6737461747573a4474f4f44a6726561736f6ea0a87374"
      "6172745f757364a6656e645f757300ab6475726174696f6e5f757300a76b657976616c7381a16ba176a4706572"
      "6681a46d627073cb408d6c0000000000a466696c65a0a46c696e6ba0",
      // EntryIndex
      "82a3696473920506a6636f756e747396010200000000",
      // Notification (event and hostname at the end, issue 22)
      "8ea66a6f625f696405a5696e64657808a6746172676574b2776562686f6f6b3a687474703a2f2f682f78a56f77"
      "6e6572a5616c696365a5737461746500a8617474656d70747301aa6c6173745f6572726f72a0aa637265617465"
      "645f757314af6c6173745f617474656d70745f757315af6e6578745f617474656d70745f757316ac64656c6976"
      "657265645f757300a8646f63756d656e74a27b7da56576656e74ad686f73742e7265736572766564a8686f7374"
      "6e616d65a56c61622d31",
  };
  ASSERT_EQ(cases.size(), expected.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(cases[i].second, expected[i]) << cases[i].first;
  }
}

}  // namespace
}  // namespace labmesh::store
