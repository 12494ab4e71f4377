// Every message type survives encode -> decode with all its fields, the body keys are the
// documented snake_case names, missing keys take defaults and unknown keys are ignored, and an
// Error reply decoded as any other type becomes its Status.

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "encoded_expect_same.hpp"
#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "package_expect_same.hpp"
#include "protocol_codec.hpp"
#include "results_expect_same.hpp"
#include "sample_messages.hpp"
#include "task_expect_same.hpp"

namespace labmesh::protocol {
namespace {

using testing::ExpectSame;  // the results messages' overloads (results_expect_same.hpp)
using testing::ForEachMessageType;
using testing::Sample;

// ---- field-by-field comparison, one overload per struct ----

void ExpectSame(const HostFacts& a, const HostFacts& b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.os, b.os);
  EXPECT_EQ(a.os_version, b.os_version);
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.cpus, b.cpus);
  EXPECT_EQ(a.memory_bytes, b.memory_bytes);
  EXPECT_EQ(a.address, b.address);
}
void ExpectSame(const HostHealth& a, const HostHealth& b) {
  EXPECT_EQ(a.load1, b.load1);
  EXPECT_EQ(a.load5, b.load5);
  EXPECT_EQ(a.load15, b.load15);
  EXPECT_EQ(a.mem_total_bytes, b.mem_total_bytes);
  EXPECT_EQ(a.mem_available_bytes, b.mem_available_bytes);
  EXPECT_EQ(a.disk_total_bytes, b.disk_total_bytes);
  EXPECT_EQ(a.disk_free_bytes, b.disk_free_bytes);
  EXPECT_EQ(a.uptime_s, b.uptime_s);
}
void ExpectSame(const HostInfo& a, const HostInfo& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.status_reason, b.status_reason);
  EXPECT_EQ(a.locked, b.locked);
  EXPECT_EQ(a.locked_by, b.locked_by);
  EXPECT_EQ(a.lock_reason, b.lock_reason);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.agent_labels, b.agent_labels);
  EXPECT_EQ(a.admin_labels, b.admin_labels);
  EXPECT_EQ(a.acl_groups, b.acl_groups);
  EXPECT_EQ(a.agent_version, b.agent_version);
  EXPECT_EQ(a.last_heartbeat_ms, b.last_heartbeat_ms);
  EXPECT_EQ(a.registered_ms, b.registered_ms);
  EXPECT_EQ(a.incarnation, b.incarnation);
  EXPECT_EQ(a.connected, b.connected);
  EXPECT_EQ(a.public_key, b.public_key);
  ExpectSame(a.facts, b.facts);
  ExpectSame(a.health, b.health);
  EXPECT_EQ(a.protection, b.protection);
  ExpectSame(a.last_task, b.last_task);
  EXPECT_EQ(a.last_known_good, b.last_known_good);
  EXPECT_EQ(a.update_failed_version, b.update_failed_version);
  EXPECT_EQ(a.reserved_by, b.reserved_by);
  EXPECT_EQ(a.reserve_reason, b.reserve_reason);
  EXPECT_EQ(a.reserved_ms, b.reserved_ms);
  EXPECT_EQ(a.reserved_until_ms, b.reserved_until_ms);
  EXPECT_EQ(a.health_score, b.health_score);
  EXPECT_EQ(a.suspect, b.suspect);
  EXPECT_EQ(a.quarantine_reason, b.quarantine_reason);
  EXPECT_EQ(a.quarantined_by, b.quarantined_by);
  EXPECT_EQ(a.quarantined_ms, b.quarantined_ms);
  EXPECT_EQ(a.probes_passed, b.probes_passed);
  EXPECT_EQ(a.power, b.power);
  EXPECT_EQ(a.console, b.console);
  EXPECT_EQ(a.peer_endpoint, b.peer_endpoint);
  EXPECT_EQ(a.mesh_bad_reports, b.mesh_bad_reports);
  EXPECT_EQ(a.mesh_last_bad, b.mesh_last_bad);
  EXPECT_EQ(a.mesh_avoided, b.mesh_avoided);
}
void ExpectSame(const LabelInfo& a, const LabelInfo& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.hosts, b.hosts);
}
void ExpectSame(const ErrorReply& a, const ErrorReply& b) {
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.message, b.message);
}
void ExpectSame(const OkReply& a, const OkReply& b) { EXPECT_EQ(a.message, b.message); }
void ExpectSame(const MetricsRequest& a, const MetricsRequest& b) { EXPECT_EQ(a.token, b.token); }
void ExpectSame(const MetricsReply& a, const MetricsReply& b) { EXPECT_EQ(a.text, b.text); }
void ExpectSame(const AgentHello& a, const AgentHello& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.agent_version, b.agent_version);
  EXPECT_EQ(a.incarnation, b.incarnation);
  EXPECT_EQ(a.public_key, b.public_key);
  EXPECT_EQ(a.enroll_token, b.enroll_token);
  EXPECT_EQ(a.labels, b.labels);
  ExpectSame(a.facts, b.facts);
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    EXPECT_EQ(a.entries[i].entry_id, b.entries[i].entry_id);
    EXPECT_EQ(a.entries[i].phase, b.entries[i].phase);
  }
  ExpectSame(a.update_report, b.update_report);
  EXPECT_EQ(a.peer_endpoint, b.peer_endpoint);
  EXPECT_EQ(a.peer_public_key, b.peer_public_key);
  EXPECT_EQ(a.peer_secret, b.peer_secret);
  EXPECT_EQ(a.packages_held, b.packages_held);
}
void ExpectSame(const Welcome& a, const Welcome& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.heartbeat_interval_ms, b.heartbeat_interval_ms);
  EXPECT_EQ(a.labels, b.labels);
}
void ExpectSame(const PendingApproval& a, const PendingApproval& b) {
  EXPECT_EQ(a.message, b.message);
}
void ExpectSame(const Reject& a, const Reject& b) { EXPECT_EQ(a.reason, b.reason); }
void ExpectSame(const Heartbeat& a, const Heartbeat& b) {
  EXPECT_EQ(a.incarnation, b.incarnation);
  EXPECT_EQ(a.sequence, b.sequence);
  ExpectSame(a.health, b.health);
}
void ExpectSame(const HeartbeatAck& a, const HeartbeatAck& b) { EXPECT_EQ(a.sequence, b.sequence); }
void ExpectSame(const Reregister& a, const Reregister& b) { EXPECT_EQ(a.reason, b.reason); }
void ExpectSame(const HostListRequest& a, const HostListRequest& b) {
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.label, b.label);
}
void ExpectSame(const HostListReply& a, const HostListReply& b) {
  ASSERT_EQ(a.hosts.size(), b.hosts.size());
  for (size_t i = 0; i < a.hosts.size(); ++i) ExpectSame(a.hosts[i], b.hosts[i]);
}
void ExpectSame(const HostShowRequest& a, const HostShowRequest& b) {
  EXPECT_EQ(a.hostname, b.hostname);
}
void ExpectSame(const HostShowReply& a, const HostShowReply& b) {
  ExpectSame(a.host, b.host);
  ASSERT_EQ(a.health_history.size(), b.health_history.size());
  for (size_t i = 0; i < a.health_history.size(); ++i) {
    EXPECT_EQ(a.health_history[i].time_ms, b.health_history[i].time_ms);
    EXPECT_EQ(a.health_history[i].health.load1, b.health_history[i].health.load1);
    EXPECT_EQ(a.health_history[i].health.disk_free_bytes,
              b.health_history[i].health.disk_free_bytes);
  }
}
void ExpectSame(const HostPendingRequest& a, const HostPendingRequest& b) {
  EXPECT_EQ(a.label, b.label);
}
void ExpectSame(const HostActionRequest& a, const HostActionRequest& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.user, b.user);
}
void ExpectSame(const HostLabelRequest& a, const HostLabelRequest& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.add, b.add);
  EXPECT_EQ(a.remove, b.remove);
}
void ExpectSame(const LabelListRequest& a, const LabelListRequest& b) { EXPECT_EQ(a.kind, b.kind); }
void ExpectSame(const LabelListReply& a, const LabelListReply& b) {
  ASSERT_EQ(a.labels.size(), b.labels.size());
  for (size_t i = 0; i < a.labels.size(); ++i) ExpectSame(a.labels[i], b.labels[i]);
}
void ExpectSame(const LabelActionRequest& a, const LabelActionRequest& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.user, b.user);
}
void ExpectSame(const TestInfo& a, const TestInfo& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.control, b.control);
  EXPECT_EQ(a.control_bytes, b.control_bytes);
  EXPECT_EQ(a.created_by, b.created_by);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.updated_by, b.updated_by);
  EXPECT_EQ(a.updated_ms, b.updated_ms);
}
void ExpectSame(const TestAddRequest& a, const TestAddRequest& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.control, b.control);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.user, b.user);
}
void ExpectSame(const TestListRequest& a, const TestListRequest& b) {
  EXPECT_EQ(a.prefix, b.prefix);
}
void ExpectSame(const TestListReply& a, const TestListReply& b) {
  ASSERT_EQ(a.tests.size(), b.tests.size());
  for (size_t i = 0; i < a.tests.size(); ++i) ExpectSame(a.tests[i], b.tests[i]);
}
void ExpectSame(const TestShowRequest& a, const TestShowRequest& b) { EXPECT_EQ(a.name, b.name); }
void ExpectSame(const TestShowReply& a, const TestShowReply& b) { ExpectSame(a.test, b.test); }
void ExpectSame(const EntryInfo& a, const EntryInfo& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.meta_label, b.meta_label);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.fault, b.fault);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.queued_us, b.queued_us);
  EXPECT_EQ(a.started_us, b.started_us);
  EXPECT_EQ(a.finished_us, b.finished_us);
  EXPECT_EQ(a.results_path, b.results_path);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.waiting_in, b.waiting_in);
  EXPECT_EQ(a.result_counts, b.result_counts);
  EXPECT_EQ(a.parse_warnings, b.parse_warnings);
  EXPECT_EQ(a.retries, b.retries);
  EXPECT_EQ(a.waiting_for, b.waiting_for);
  EXPECT_EQ(a.queue_position, b.queue_position);
  EXPECT_EQ(a.queue_length, b.queue_length);
  EXPECT_EQ(a.boot_count, b.boot_count);
  EXPECT_EQ(a.crash, b.crash);
  EXPECT_EQ(a.crash_line, b.crash_line);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(a.history[i].status, b.history[i].status);
    EXPECT_EQ(a.history[i].at_us, b.history[i].at_us);
    EXPECT_EQ(a.history[i].reason, b.history[i].reason);
  }
}
void ExpectSame(const HostAvailRequest& a, const HostAvailRequest& b) {
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.depends, b.depends);
}
void ExpectSame(const HostAvailReply& a, const HostAvailReply& b) {
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.hosts, b.hosts);
  EXPECT_EQ(a.free, b.free);
  EXPECT_EQ(a.busy, b.busy);
  EXPECT_EQ(a.locked, b.locked);
  EXPECT_EQ(a.in_task, b.in_task);
  EXPECT_EQ(a.down, b.down);
  EXPECT_EQ(a.unusable, b.unusable);
  EXPECT_EQ(a.queued_ahead, b.queued_ahead);
  EXPECT_EQ(a.busy_jobs, b.busy_jobs);
  EXPECT_EQ(a.can_start, b.can_start);
  EXPECT_EQ(a.summary, b.summary);
  EXPECT_EQ(a.reserved, b.reserved);
}
void ExpectSame(const JobInfo& a, const JobInfo& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.synch_count, b.synch_count);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.control_kind, b.control_kind);
  EXPECT_EQ(a.control, b.control);
  EXPECT_EQ(a.test_name, b.test_name);
  EXPECT_EQ(a.hosts, b.hosts);
  EXPECT_EQ(a.meta_label, b.meta_label);
  EXPECT_EQ(a.meta_count, b.meta_count);
  EXPECT_EQ(a.depends, b.depends);
  EXPECT_EQ(a.run_verify, b.run_verify);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  EXPECT_EQ(a.max_runtime_ms, b.max_runtime_ms);
  EXPECT_EQ(a.created_us, b.created_us);
  EXPECT_EQ(a.finished_us, b.finished_us);
  EXPECT_EQ(a.abort_reason, b.abort_reason);
  EXPECT_EQ(a.cleanup, b.cleanup);
  EXPECT_EQ(a.retry, b.retry);
  EXPECT_EQ(a.keep_results_ms, b.keep_results_ms);
  EXPECT_EQ(a.result_bytes, b.result_bytes);
  EXPECT_EQ(a.results, b.results);
  EXPECT_EQ(a.results_removed_us, b.results_removed_us);
  EXPECT_EQ(a.results_removed_reason, b.results_removed_reason);
  EXPECT_EQ(a.notify, b.notify);
  EXPECT_EQ(a.notify_on, b.notify_on);
  EXPECT_EQ(a.after, b.after);
  EXPECT_EQ(a.after_any, b.after_any);
  EXPECT_EQ(a.reserve_on_failure_ms, b.reserve_on_failure_ms);
  EXPECT_EQ(a.probe_for, b.probe_for);
  ASSERT_EQ(a.notifications.size(), b.notifications.size());
  for (size_t i = 0; i < a.notifications.size(); ++i) {
    ExpectSame(a.notifications[i], b.notifications[i]);
  }
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) ExpectSame(a.entries[i], b.entries[i]);
}
void ExpectSame(const WorkRequest& a, const WorkRequest& b) {
  EXPECT_EQ(a.incarnation, b.incarnation);
}
void ExpectSame(const StartEntry& a, const StartEntry& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.job_name, b.job_name);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.hosts, b.hosts);
  EXPECT_EQ(a.control_kind, b.control_kind);
  EXPECT_EQ(a.control, b.control);
  EXPECT_EQ(a.max_runtime_ms, b.max_runtime_ms);
  EXPECT_EQ(a.synch_count, b.synch_count);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.peers, b.peers);
}
void ExpectSame(const EntryReport& a, const EntryReport& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_EQ(a.incarnation, b.incarnation);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.started_us, b.started_us);
  EXPECT_EQ(a.ended_us, b.ended_us);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.reason, b.reason);
  testing::ExpectSameDigests(a.files, b.files);
  EXPECT_EQ(a.boot_count, b.boot_count);
  EXPECT_EQ(a.reboot_timeout_ms, b.reboot_timeout_ms);
  EXPECT_EQ(a.unexpected_reboot, b.unexpected_reboot);
}
void ExpectSame(const EntryReportAck& a, const EntryReportAck& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_EQ(a.done, b.done);
}
void ExpectSame(const ResultChunk& a, const ResultChunk& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.hash, b.hash);
}
void ExpectSame(const ResultAck& a, const ResultAck& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.next_offset, b.next_offset);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.retry_after_ms, b.retry_after_ms);
}
void ExpectSame(const AbortEntry& a, const AbortEntry& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.discard, b.discard);
}
void ExpectSame(const SyncRequest& a, const SyncRequest& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.from_host, b.from_host);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
}
void ExpectSame(const SyncReply& a, const SyncReply& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.from_host, b.from_host);
}
void ExpectSame(const JobCreateRequest& a, const JobCreateRequest& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.control, b.control);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.hosts, b.hosts);
  EXPECT_EQ(a.meta_label, b.meta_label);
  EXPECT_EQ(a.meta_count, b.meta_count);
  EXPECT_EQ(a.depends, b.depends);
  EXPECT_EQ(a.synch_count, b.synch_count);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.run_verify, b.run_verify);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  EXPECT_EQ(a.max_runtime_ms, b.max_runtime_ms);
  EXPECT_EQ(a.cleanup, b.cleanup);
  EXPECT_EQ(a.retry, b.retry);
  EXPECT_EQ(a.keep_results_ms, b.keep_results_ms);
  EXPECT_EQ(a.notify, b.notify);
  EXPECT_EQ(a.notify_on, b.notify_on);
  EXPECT_EQ(a.after, b.after);
  EXPECT_EQ(a.after_any, b.after_any);
  EXPECT_EQ(a.reserve_on_failure_ms, b.reserve_on_failure_ms);
}
void ExpectSame(const JobCreateReply& a, const JobCreateReply& b) { EXPECT_EQ(a.id, b.id); }
void ExpectSame(const JobListRequest& a, const JobListRequest& b) {
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.limit, b.limit);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.before_id, b.before_id);
  EXPECT_EQ(a.finished_since_us, b.finished_since_us);
}
void ExpectSame(const JobListReply& a, const JobListReply& b) {
  ASSERT_EQ(a.jobs.size(), b.jobs.size());
  for (size_t i = 0; i < a.jobs.size(); ++i) ExpectSame(a.jobs[i], b.jobs[i]);
}
void ExpectSame(const JobShowRequest& a, const JobShowRequest& b) { EXPECT_EQ(a.id, b.id); }
void ExpectSame(const JobShowReply& a, const JobShowReply& b) { ExpectSame(a.job, b.job); }
void ExpectSame(const JobAbortRequest& a, const JobAbortRequest& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.user, b.user);
}
void ExpectSame(const JobLogRequest& a, const JobLogRequest& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.max_bytes, b.max_bytes);
}
void ExpectSame(const JobLogReply& a, const JobLogReply& b) {
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.next_offset, b.next_offset);
  EXPECT_EQ(a.complete, b.complete);
  EXPECT_EQ(a.status, b.status);
}

// The body of an encoded message as a MessagePack object (the envelope's fourth element).
msgpack::object_handle BodyOf(const std::string& frame) {
  auto envelope = DecodeEnvelope(frame);
  EXPECT_TRUE(envelope.ok()) << envelope.status().ToString();
  if (!envelope.ok()) return msgpack::object_handle();
  return msgpack::clone(BodyObject(*envelope));
}

// Fails for every map key (recursively through nested maps) whose value equals the default.
void ExpectNoDefaultField(const msgpack::object& sample, const msgpack::object& defaults,
                          const std::string& path) {
  ASSERT_EQ(sample.type, msgpack::type::MAP) << path;
  ASSERT_EQ(defaults.type, msgpack::type::MAP) << path;
  ASSERT_EQ(sample.via.map.size, defaults.via.map.size) << path;
  for (uint32_t i = 0; i < sample.via.map.size; ++i) {
    const auto& kv = sample.via.map.ptr[i];
    const auto& dkv = defaults.via.map.ptr[i];
    std::string key = kv.key.as<std::string>();
    ASSERT_EQ(key, dkv.key.as<std::string>()) << path;
    // A nested struct recurses; a plain map (an empty default) is checked as one value.
    if (kv.val.type == msgpack::type::MAP && dkv.val.type == msgpack::type::MAP &&
        dkv.val.via.map.size > 0) {
      ExpectNoDefaultField(kv.val, dkv.val, path + "." + key);
    } else {
      EXPECT_FALSE(kv.val == dkv.val) << path << "." << key << " is left at its default";
    }
  }
}

std::vector<std::string> KeysOf(const msgpack::object& map) {
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    keys.push_back(map.via.map.ptr[i].key.as<std::string>());
  }
  return keys;
}

TEST(MessageRoundTrip, EveryMessageTypeSurvivesEncodeDecodeWithAllFieldsSet) {
  ForEachMessageType([](auto m) {
    using M = decltype(m);
    SCOPED_TRACE(std::string(MessageTypeName(M::kType)));
    const M original = Sample<M>();
    const uint64_t request_id = 0xfedcba9876543210ULL;
    std::string frame = Encode(original, request_id);

    auto envelope = DecodeEnvelope(frame);
    ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
    EXPECT_EQ(envelope->version, kProtocolVersion);
    EXPECT_EQ(envelope->type, M::kType);
    EXPECT_EQ(envelope->request_id, request_id);
    auto decoded = DecodeBody<M>(*envelope);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectSame(*decoded, original);

    auto direct = DecodeAs<M>(frame);
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    ExpectSame(*direct, original);
  });
}

TEST(MessageRoundTrip, SamplesLeaveNoFieldAtItsDefault) {
  // Guards the round-trip test itself: a field left at its default would pass even if the
  // decoder never read it.
  ForEachMessageType([](auto m) {
    using M = decltype(m);
    auto sample = BodyOf(Encode(Sample<M>()));
    auto defaults = BodyOf(Encode(M{}));
    ExpectNoDefaultField(sample.get(), defaults.get(), std::string(MessageTypeName(M::kType)));
  });
}

TEST(MessageRoundTrip, SamplesCoverEveryKnownMessageType) {
  std::set<uint32_t> sampled;
  std::set<std::string_view> names;
  ForEachMessageType([&](auto m) {
    using M = decltype(m);
    sampled.insert(static_cast<uint32_t>(M::kType));
    names.insert(MessageTypeName(M::kType));
  });
  std::set<uint32_t> known;
  for (uint32_t t = 0; t <= 0x1ffff; ++t) {
    if (IsKnownMessageType(t)) known.insert(t);
  }
  EXPECT_EQ(sampled, known);
  EXPECT_EQ(names.size(), sampled.size()) << "two types share a name";
  EXPECT_EQ(names.count("Unknown"), 0u);
}

// The wire's keys, exactly as PROTOCOL.md lists them (order is the encoder's).
TEST(MessageRoundTrip, BodyKeysAreTheDocumentedSnakeCaseNames) {
  auto keys = [](auto message) { return KeysOf(BodyOf(Encode(message)).get()); };
  using V = std::vector<std::string>;
  EXPECT_EQ(keys(ErrorReply{}), (V{"code", "message"}));
  EXPECT_EQ(keys(OkReply{}), (V{"message"}));
  EXPECT_EQ(keys(AgentHello{}), (V{"hostname", "agent_version", "incarnation", "public_key",
                                   "enroll_token", "labels", "facts", "entries", "update_report",
                                   "peer_endpoint", "peer_public_key", "peer_secret",
                                   "packages_held"}));
  EXPECT_EQ(keys(Welcome{}), (V{"hostname", "heartbeat_interval_ms", "labels"}));
  EXPECT_EQ(keys(PendingApproval{}), (V{"message"}));
  EXPECT_EQ(keys(Reject{}), (V{"reason"}));
  EXPECT_EQ(keys(Heartbeat{}), (V{"incarnation", "sequence", "health"}));
  EXPECT_EQ(keys(HeartbeatAck{}), (V{"sequence"}));
  EXPECT_EQ(keys(Reregister{}), (V{"reason"}));
  EXPECT_EQ(keys(HostListRequest{}), (V{"status", "label"}));
  EXPECT_EQ(keys(HostListReply{}), (V{"hosts"}));
  EXPECT_EQ(keys(HostShowRequest{}), (V{"hostname"}));
  EXPECT_EQ(keys(HostShowReply{}), (V{"host", "health_history"}));
  EXPECT_EQ(keys(HostPendingRequest{}), (V{"label"}));
  EXPECT_EQ(keys(HostActionRequest{}), (V{"hostname", "action", "reason", "user"}));
  EXPECT_EQ(keys(HostLabelRequest{}), (V{"hostname", "add", "remove"}));
  EXPECT_EQ(keys(LabelListRequest{}), (V{"kind"}));
  EXPECT_EQ(keys(LabelListReply{}), (V{"labels"}));
  EXPECT_EQ(keys(LabelActionRequest{}), (V{"name", "action", "user"}));
  EXPECT_EQ(keys(TestAddRequest{}), (V{"name", "control", "description", "user"}));
  EXPECT_EQ(keys(TestListRequest{}), (V{"prefix"}));
  EXPECT_EQ(keys(TestListReply{}), (V{"tests"}));
  EXPECT_EQ(keys(TestShowRequest{}), (V{"name"}));
  EXPECT_EQ(keys(TestShowReply{}), (V{"test"}));
  EXPECT_EQ(keys(WorkRequest{}), (V{"incarnation"}));
  EXPECT_EQ(keys(StartEntry{}), (V{"entry_id", "job_id", "job_name", "owner", "hostname", "hosts",
                                   "control_kind", "control", "max_runtime_ms", "synch_count",
                                   "group", "peers"}));
  EXPECT_EQ(keys(EntryReport{}),
            (V{"entry_id", "sequence", "incarnation", "phase", "started_us", "ended_us",
               "exit_code", "signal", "outcome", "reason", "files", "boot_count",
               "reboot_timeout_ms", "unexpected_reboot"}));
  EXPECT_EQ(keys(EntryReportAck{}), (V{"entry_id", "sequence", "done"}));
  EXPECT_EQ(keys(ResultChunk{}), (V{"entry_id", "path", "offset", "data", "hash"}));
  EXPECT_EQ(keys(ResultAck{}),
            (V{"entry_id", "path", "next_offset", "error", "retry_after_ms"}));
  EXPECT_EQ(keys(AbortEntry{}), (V{"entry_id", "reason", "discard"}));
  EXPECT_EQ(keys(SyncRequest{}), (V{"entry_id", "op", "name", "generation", "value", "from_host",
                                    "timeout_ms"}));
  EXPECT_EQ(keys(SyncReply{}), (V{"entry_id", "op", "name", "generation", "ok", "error", "value",
                                  "from_host"}));
  EXPECT_EQ(keys(JobCreateRequest{}),
            (V{"name", "user", "command", "control", "test", "hosts", "meta_label", "meta_count",
               "depends", "synch_count", "priority", "run_verify", "timeout_ms",
               "max_runtime_ms", "cleanup", "retry", "keep_results_ms", "notify", "notify_on", "after",
               "after_any", "template_name", "reserve_on_failure_ms"}));
  EXPECT_EQ(keys(HostReserveRequest{}), (V{"hostname", "duration_ms", "reason"}));
  EXPECT_EQ(keys(HostReleaseRequest{}), (V{"hostname"}));
  EXPECT_EQ(keys(HostFlakyRequest{}), (V{"label", "host", "limit"}));
  EXPECT_EQ(keys(HostFlakyReply{}),
            (V{"computed_ms", "window_ms", "window_entries", "mode", "threshold", "hosts",
               "flaky_tests", "compute_ms"}));
  EXPECT_EQ(keys(HostQuarantineRequest{}), (V{"hostname", "release", "reason"}));
  // issue 28 (power_messages.hpp)
  EXPECT_EQ(keys(HostPowerConfigRequest{}),
            (V{"hostname", "on", "off", "cycle", "status", "console", "panic_patterns",
               "attributes", "secrets", "unset"}));
  EXPECT_EQ(keys(HostPowerRequest{}), (V{"hostname", "action"}));
  EXPECT_EQ(keys(HostPowerReply{}), (V{"hostname", "action", "passed", "reason", "exit_code",
                                       "output", "duration_ms", "task_id"}));
  EXPECT_EQ(keys(HostConsoleRequest{}), (V{"hostname", "offset", "max_bytes"}));
  EXPECT_EQ(keys(HostConsoleReply{}),
            (V{"hostname", "data", "offset", "next_offset", "reading", "configured"}));
  EXPECT_EQ(keys(RunTask{}), (V{"task_id", "kind", "repair_scripts", "verify_after",
                                "coordinator_ms", "version", "package_sha256", "package_bytes"}));
  EXPECT_EQ(keys(PackageUploadRequest{}),
            (V{"version", "sha256", "total_bytes", "offset", "data"}));
  EXPECT_EQ(keys(PackageUploadReply{}), (V{"received_bytes", "done", "package"}));
  EXPECT_EQ(keys(PackageListRequest{}), (V{"version"}));
  EXPECT_EQ(keys(PackageListReply{}), (V{"packages", "desired", "host_versions"}));
  auto list = BodyOf(Encode(Sample<PackageListReply>()));
  EXPECT_EQ(KeysOf(list.get().via.map.ptr[0].val.via.array.ptr[0]),
            (V{"version", "sha256", "bytes", "uploaded_by", "uploaded_ms"}));
  EXPECT_EQ(KeysOf(list.get().via.map.ptr[1].val),
            (V{"version", "canary_percent", "set_by", "set_ms"}));
  EXPECT_EQ(keys(PackageDesireRequest{}), (V{"version", "canary_percent"}));
  EXPECT_EQ(keys(MetricsRequest{}), (V{"token"}));
  EXPECT_EQ(keys(MetricsReply{}), (V{"text"}));
  EXPECT_EQ(keys(PackageChunkRequest{}), (V{"sha256", "offset", "max_bytes", "mesh"}));
  EXPECT_EQ(keys(PackageChunk{}),
            (V{"sha256", "offset", "total_bytes", "data", "peer", "retry_after_ms"}));
  EXPECT_EQ(KeysOf(BodyOf(Encode(Sample<PackageChunk>())).get().via.map.ptr[4].val),
            (V{"hostname", "endpoint", "public_key", "ticket"}));
  EXPECT_EQ(keys(PackageChunksRequest{}), (V{"sha256"}));
  EXPECT_EQ(keys(PackageChunks{}), (V{"sha256", "total_bytes", "chunk_bytes", "chunk_sha256s"}));
  EXPECT_EQ(keys(PeerBadReport{}), (V{"peer", "sha256", "index", "problem", "detail"}));
  EXPECT_EQ(keys(PeerChunkRequest{}), (V{"sha256", "index", "fetcher", "ticket"}));
  EXPECT_EQ(keys(PeerChunk{}), (V{"sha256", "index", "data"}));
  EXPECT_EQ(keys(TaskReport{}), (V{"task_id", "kind", "passed", "reason", "checks"}));
  EXPECT_EQ(keys(HostTaskRequest{}), (V{"hostname", "kind", "user"}));
  EXPECT_EQ(keys(HostHistoryRequest{}), (V{"hostname", "limit"}));
  EXPECT_EQ(keys(HostModRequest{}), (V{"hostname", "protection", "user"}));
  EXPECT_EQ(keys(HostAvailRequest{}), (V{"label", "count", "depends"}));
  EXPECT_EQ(keys(HostAvailReply{}),
            (V{"label", "count", "hosts", "free", "busy", "locked", "in_task", "down", "unusable",
               "queued_ahead", "busy_jobs", "can_start", "summary", "reserved"}));
  EXPECT_EQ(keys(JobCreateReply{}), (V{"id"}));
  EXPECT_EQ(keys(JobListRequest{}),
            (V{"owner", "status", "limit", "name", "before_id", "finished_since_us", "schedule"}));
  EXPECT_EQ(keys(TemplateSaveRequest{}), (V{"name", "description", "job", "from_job", "replace"}));
  EXPECT_EQ(keys(TemplateShowReply{}), (V{"template_info", "schedules"}));
  EXPECT_EQ(keys(ScheduleCreateRequest{}),
            (V{"name", "template_name", "cron", "timezone", "description"}));
  EXPECT_EQ(keys(ScheduleActionRequest{}), (V{"name", "action"}));
  EXPECT_EQ(keys(ScheduleShowReply{}), (V{"schedule", "upcoming_us"}));
  EXPECT_EQ(keys(JobListReply{}), (V{"jobs"}));
  EXPECT_EQ(keys(JobShowRequest{}), (V{"id"}));
  EXPECT_EQ(keys(JobShowReply{}), (V{"job"}));
  EXPECT_EQ(keys(JobAbortRequest{}), (V{"id", "host", "user"}));
  EXPECT_EQ(keys(JobLogRequest{}), (V{"id", "host", "offset", "max_bytes"}));
  EXPECT_EQ(keys(JobLogReply{}), (V{"data", "next_offset", "complete", "status"}));
  EXPECT_EQ(keys(ResultsListRequest{}), (V{"job_id", "host", "label", "test", "status",
                                           "since_us", "until_us", "limit", "cursor"}));
  EXPECT_EQ(keys(ResultsListReply{}), (V{"results", "next_cursor"}));
  EXPECT_EQ(keys(ResultsSummaryRequest{}), (V{"group_by", "test", "test_prefix", "host", "label",
                                              "since_us", "until_us"}));
  EXPECT_EQ(keys(ResultsSummaryReply{}), (V{"rows"}));
  EXPECT_EQ(keys(ResultsSeriesRequest{}),
            (V{"test", "key", "host", "label", "since_us", "until_us", "limit"}));
  EXPECT_EQ(keys(ResultsSeriesReply{}), (V{"points"}));
  EXPECT_EQ(keys(ResultsReparseRequest{}), (V{"job_id", "user"}));
  EXPECT_EQ(keys(ResultsReparseReply{}), (V{"job_id", "entries", "results", "warnings"}));
  EXPECT_EQ(keys(ResultsUsageRequest{}), (V{"owner"}));
  EXPECT_EQ(keys(ResultsUsageReply{}), (V{"total_bytes", "jobs", "by_owner", "by_month"}));
  EXPECT_EQ(keys(ResultsImportRequest{}), (V{"host", "job_name", "files"}));
  EXPECT_EQ(keys(ResultsImportReply{}), (V{"job_id", "entry_id", "results_path"}));
  EXPECT_EQ(keys(ResultsImportChunkRequest{}), (V{"entry_id", "path", "offset", "data", "hash"}));
  EXPECT_EQ(keys(ResultsImportChunkReply{}), (V{"entry_id", "path", "next_offset", "error"}));
  EXPECT_EQ(keys(ResultsImportDoneRequest{}), (V{"entry_id"}));
  EXPECT_EQ(keys(JobDeleteRequest{}), (V{"id"}));
  EXPECT_EQ(keys(JobDeleteReply{}), (V{"job_id", "already_removed", "dirs", "files", "bytes",
                                       "index_rows", "reason"}));

  auto show = BodyOf(Encode(Sample<HostShowReply>()));
  const msgpack::object& host = show.get().via.map.ptr[0].val;
  EXPECT_EQ(KeysOf(host), (V{"hostname",        "status",
                             "status_reason",   "locked",
                             "locked_by",       "lock_reason",
                             "labels",          "agent_labels",
                             "admin_labels",    "acl_groups",
                             "agent_version",   "last_heartbeat_ms",
                             "registered_ms",   "incarnation",
                             "connected",       "public_key",
                             "facts",           "health",
                             "protection",      "last_task",
                             "last_known_good", "update_failed_version",
                             "reserved_by",     "reserve_reason",
                             "reserved_ms",     "reserved_until_ms",
                             "health_score",    "suspect",
                             "quarantine_reason", "quarantined_by",
                             "quarantined_ms",  "probes_passed",
                             "power",           "console",
                             "peer_endpoint",   "mesh_bad_reports",
                             "mesh_last_bad",   "mesh_avoided"}));
  EXPECT_EQ(KeysOf(BodyOf(Encode(Sample<AgentHello>())).get().via.map.ptr[6].val),
            (V{"arch", "os", "os_version", "kernel", "cpus", "memory_bytes", "address"}));
  EXPECT_EQ(KeysOf(BodyOf(Encode(Sample<Heartbeat>())).get().via.map.ptr[2].val),
            (V{"load1", "load5", "load15", "mem_total_bytes", "mem_available_bytes",
               "disk_total_bytes", "disk_free_bytes", "uptime_s"}));
  EXPECT_EQ(
      KeysOf(BodyOf(Encode(Sample<LabelListReply>())).get().via.map.ptr[0].val.via.array.ptr[0]),
      (V{"name", "kind", "hosts"}));
  EXPECT_EQ(KeysOf(BodyOf(Encode(Sample<TestShowReply>())).get().via.map.ptr[0].val),
            (V{"name", "description", "control", "control_bytes", "created_by", "created_ms",
               "updated_by", "updated_ms"}));
  EXPECT_EQ(KeysOf(BodyOf(Encode(Sample<AgentHello>())).get().via.map.ptr[7].val.via.array.ptr[0]),
            (V{"entry_id", "phase"}));
  EXPECT_EQ(KeysOf(BodyOf(Encode(Sample<EntryReport>())).get().via.map.ptr[10].val.via.array.ptr[0]),
            (V{"path", "size", "hash"}));
  auto job_show = BodyOf(Encode(Sample<JobShowReply>()));
  const msgpack::object& job = job_show.get().via.map.ptr[0].val;
  EXPECT_EQ(KeysOf(job),
            (V{"id", "name", "owner", "priority", "synch_count", "status", "control_kind",
               "control", "test_name", "hosts", "meta_label", "meta_count", "depends",
               "run_verify", "timeout_ms", "max_runtime_ms", "created_us", "finished_us",
               "abort_reason", "entries", "cleanup", "retry", "keep_results_ms", "result_bytes",
               "results", "results_removed_us", "results_removed_reason", "notify", "notify_on",
               "notifications", "after", "after_any", "template_name", "schedule",
               "reserve_on_failure_ms", "probe_for"}));
  EXPECT_EQ(KeysOf(job.via.map.ptr[29].val.via.array.ptr[0]),
            (V{"target", "state", "attempts", "last_error", "created_us", "last_attempt_us",
               "delivered_us", "event", "host"}));
  EXPECT_EQ(KeysOf(job.via.map.ptr[19].val.via.array.ptr[0]),
            (V{"id", "job_id", "host", "meta_label", "status", "reason", "fault", "exit_code",
               "signal", "queued_us", "started_us", "finished_us", "results_path", "group",
               "waiting_in", "result_counts", "parse_warnings", "retries", "waiting_for",
               "queue_position", "queue_length", "boot_count", "crash", "crash_line",
               "history"}));
  EXPECT_EQ(KeysOf(BodyOf(Encode(Sample<ResultsListReply>())).get().via.map.ptr[0].val.via.array.ptr[0]),
            (V{"id", "job_id", "entry_id", "host", "labels", "test", "status", "reason",
               "start_us", "end_us", "duration_us", "keyvals", "perf", "file", "link",
               "flaky"}));
  EXPECT_EQ(
      KeysOf(BodyOf(Encode(Sample<ResultsSummaryReply>())).get().via.map.ptr[0].val.via.array.ptr[0]),
      (V{"test", "group", "total", "counts", "pass_rate", "first_us", "last_us", "flaky"}));
  EXPECT_EQ(
      KeysOf(BodyOf(Encode(Sample<ResultsSeriesReply>())).get().via.map.ptr[0].val.via.array.ptr[0]),
      (V{"time_us", "value", "job_id", "host", "link"}));
}

// Byte data (ResultChunk.data, JobLogReply.data) travels as MessagePack bin, not str.
TEST(MessageRoundTrip, ByteDataTravelsAsBin) {
  auto chunk = BodyOf(Encode(Sample<ResultChunk>()));
  EXPECT_EQ(chunk.get().via.map.ptr[3].val.type, msgpack::type::BIN);
  auto log = BodyOf(Encode(Sample<JobLogReply>()));
  EXPECT_EQ(log.get().via.map.ptr[0].val.type, msgpack::type::BIN);
}

// Packs [1, type, request_id, body] with a hand-written body.
template <typename BodyWriter>
std::string Frame(MessageType type, uint64_t request_id, BodyWriter write_body) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(4);
  packer.pack(kProtocolVersion);
  packer.pack(static_cast<uint32_t>(type));
  packer.pack(request_id);
  write_body(packer);
  return std::string(buffer.data(), buffer.size());
}

TEST(MessageRoundTrip, MissingKeysTakeTheirDefaults) {
  auto empty =
      DecodeAs<AgentHello>(Frame(MessageType::kAgentHello, 1, [](auto& p) { p.pack_map(0); }));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  ExpectSame(*empty, AgentHello{});

  auto partial = DecodeAs<Welcome>(Frame(MessageType::kWelcome, 1, [](auto& p) {
    p.pack_map(1);
    p.pack(std::string("heartbeat_interval_ms"));
    p.pack(2500);
  }));
  ASSERT_TRUE(partial.ok()) << partial.status().ToString();
  EXPECT_EQ(partial->heartbeat_interval_ms, 2500u);
  EXPECT_EQ(partial->hostname, "");
  EXPECT_TRUE(partial->labels.empty());

  // A nested map with missing keys: only the given health field is set.
  auto heartbeat = DecodeAs<Heartbeat>(Frame(MessageType::kHeartbeat, 1, [](auto& p) {
    p.pack_map(1);
    p.pack(std::string("health"));
    p.pack_map(1);
    p.pack(std::string("uptime_s"));
    p.pack(99);
  }));
  ASSERT_TRUE(heartbeat.ok()) << heartbeat.status().ToString();
  HostHealth expected;
  expected.uptime_s = 99;
  ExpectSame(heartbeat->health, expected);
}

TEST(MessageRoundTrip, UnknownKeysAreIgnoredAtEveryLevel) {
  auto hello = DecodeAs<AgentHello>(Frame(MessageType::kAgentHello, 1, [](auto& p) {
    p.pack_map(4);
    p.pack(std::string("hostname"));
    p.pack(std::string("lab-17"));
    p.pack(std::string("from_a_newer_version"));
    p.pack_array(2);
    p.pack(1);
    p.pack(std::string("x"));
    p.pack(std::string("another_new_field"));
    p.pack_nil();
    p.pack(std::string("facts"));
    p.pack_map(2);
    p.pack(std::string("cpus"));
    p.pack(8);
    p.pack(std::string("gpu_count"));
    p.pack(2);
  }));
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(hello->hostname, "lab-17");
  EXPECT_EQ(hello->facts.cpus, 8u);
}

TEST(MessageRoundTrip, AnyIntegerEncodingOfAFittingValueIsAccepted) {
  // Other encoders pick the smallest encoding, or a signed one for non-negative values.
  auto ack = DecodeAs<HeartbeatAck>(Frame(MessageType::kHeartbeatAck, 1, [](auto& p) {
    p.pack_map(1);
    p.pack(std::string("sequence"));
    p.pack_int64(7);  // 0xd3: int 64 holding a non-negative value
  }));
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->sequence, 7u);

  auto health = DecodeAs<Heartbeat>(Frame(MessageType::kHeartbeat, 1, [](auto& p) {
    p.pack_map(1);
    p.pack(std::string("health"));
    p.pack_map(2);
    p.pack(std::string("load1"));
    p.pack(3);  // an integer where a float is expected
    p.pack(std::string("load5"));
    p.pack_float(0.5f);  // float 32
  }));
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->health.load1, 3.0);
  EXPECT_EQ(health->health.load5, 0.5);
}

TEST(MessageRoundTrip, IntegralFloatsGoOutAsIntegersAndComeBackExactly) {
  // msgpack-c writes a double with an integral value as an integer (PROTOCOL.md warns clients).
  Heartbeat heartbeat;
  heartbeat.health.load1 = 3.0;
  heartbeat.health.load5 = 0.5;
  auto body = BodyOf(Encode(heartbeat));
  const msgpack::object& health = body.get().via.map.ptr[2].val;
  EXPECT_EQ(health.via.map.ptr[0].val.type, msgpack::type::POSITIVE_INTEGER);
  EXPECT_EQ(health.via.map.ptr[1].val.type, msgpack::type::FLOAT64);
  auto decoded = DecodeAs<Heartbeat>(Encode(heartbeat));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSame(decoded->health, heartbeat.health);
}

TEST(MessageRoundTrip, BinaryIsAcceptedWhereAStringIsExpected) {
  auto show = DecodeAs<HostShowRequest>(Frame(MessageType::kHostShowRequest, 1, [](auto& p) {
    p.pack_map(1);
    p.pack(std::string("hostname"));
    p.pack_bin(6);
    p.pack_bin_body("lab-17", 6);
  }));
  ASSERT_TRUE(show.ok()) << show.status().ToString();
  EXPECT_EQ(show->hostname, "lab-17");
}

TEST(MessageRoundTrip, DuplicateKeyKeepsTheFirstValue) {
  auto show = DecodeAs<HostShowRequest>(Frame(MessageType::kHostShowRequest, 1, [](auto& p) {
    p.pack_map(2);
    p.pack(std::string("hostname"));
    p.pack(std::string("first"));
    p.pack(std::string("hostname"));
    p.pack(std::string("second"));
  }));
  ASSERT_TRUE(show.ok()) << show.status().ToString();
  EXPECT_EQ(show->hostname, "first");
}

TEST(Credentials, TravelAsAFifthElementOnlyWhenSet) {
  Credentials credentials{"alice", "lmt_x", "session", "csrf", "10.0.0.5"};
  std::string with = Encode(HostListRequest{}, 9, credentials);
  auto envelope = DecodeEnvelope(with);
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  EXPECT_EQ(envelope->credentials.user, "alice");
  EXPECT_EQ(envelope->credentials.token, "lmt_x");
  EXPECT_EQ(envelope->credentials.session, "session");
  EXPECT_EQ(envelope->credentials.csrf, "csrf");
  EXPECT_EQ(envelope->credentials.from, "10.0.0.5");
  EXPECT_EQ(envelope->request_id, 9u);
  EXPECT_TRUE(DecodeBody<HostListRequest>(*envelope).ok());

  // None set: the same four elements as without credentials.
  EXPECT_EQ(Encode(HostListRequest{}, 9, Credentials{}), Encode(HostListRequest{}, 9));
  auto plain = DecodeEnvelope(Encode(HostListRequest{}, 9));
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->credentials.empty());
}

TEST(DecodeAs, ErrorReplyBecomesItsStatus) {
  std::string frame = Encode(ErrorReply::FromStatus(Status::NotFound("no host named lab-99")), 77);
  auto reply = DecodeAs<HostShowReply>(frame);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reply.status().message(), "no host named lab-99");

  // Asked for as itself, an Error is just a message.
  auto error = DecodeAs<ErrorReply>(frame);
  ASSERT_TRUE(error.ok()) << error.status().ToString();
  EXPECT_EQ(error->code, 2u);
  EXPECT_EQ(error->message, "no host named lab-99");
}

TEST(DecodeAs, EveryStatusCodeSurvivesAnErrorReply) {
  for (int c = 1; c <= static_cast<int>(StatusCode::kUnauthenticated); ++c) {
    auto code = static_cast<StatusCode>(c);
    auto reply = DecodeAs<OkReply>(Encode(ErrorReply::FromStatus(Status(code, "why"))));
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.status().code(), code) << StatusCodeName(code);
    EXPECT_EQ(reply.status().message(), "why");
  }
}

TEST(DecodeAs, ErrorCodeZeroOrUnknownBecomesInternal) {
  // An Error must never read as success, and a code from a newer peer must still be an error.
  for (uint32_t code : {0u, 13u, 999u, 0xffffffffu}) {
    auto reply = DecodeAs<OkReply>(Encode(ErrorReply{code, "odd"}));
    ASSERT_FALSE(reply.ok()) << code;
    EXPECT_EQ(reply.status().code(), StatusCode::kInternal) << code;
    EXPECT_EQ(reply.status().message(), "odd");
  }
}

TEST(DecodeAs, MalformedErrorBodyIsInvalidArgument) {
  auto reply = DecodeAs<OkReply>(Frame(MessageType::kError, 1, [](auto& p) {
    p.pack_map(1);
    p.pack(std::string("code"));
    p.pack(std::string("NotFound"));
  }));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument);
}

// The worked example of PROTOCOL.md: a HostListRequest {status: "Ready", label: "gpu"} with
// request_id 7. If this changes, the document must change with it.
TEST(Encoding, MatchesTheWorkedExampleInProtocolMd) {
  std::string frame = Encode(HostListRequest{"Ready", "gpu"}, 7);
  const unsigned char expected[] = {0x94, 0x01, 0x64, 0x07, 0x82, 0xa6, 0x73, 0x74, 0x61, 0x74,
                                    0x75, 0x73, 0xa5, 0x52, 0x65, 0x61, 0x64, 0x79, 0xa5, 0x6c,
                                    0x61, 0x62, 0x65, 0x6c, 0xa3, 0x67, 0x70, 0x75};
  EXPECT_EQ(frame, std::string(reinterpret_cast<const char*>(expected), sizeof expected));
}


// The exact frames of one sample message per family (and one with credentials), captured before
// the codec moved out of the public headers (issue 19): the map keys, their order, integer
// widths and bin/str choices are the wire format, so any change here is a protocol change.
TEST(Encoding, OneMessageOfEachFamilyKeepsItsExactBytes) {
  Credentials credentials{"alice", "tok-1", "sess-2", "csrf-3", "web 10.0.0.5"};
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Heartbeat", Encode(Sample<Heartbeat>(), 1)},
      {"HostActionRequest+credentials",
       Encode(Sample<HostActionRequest>(), 2, credentials)},
      {"EntryReport", Encode(Sample<EntryReport>(), 3)},
      {"TaskReport", Encode(Sample<TaskReport>(), 4)},
      {"ResultsSummaryReply", Encode(Sample<ResultsSummaryReply>(), 5)},
      {"WhoAmIReply", Encode(Sample<WhoAmIReply>(), 6)},
      {"PackageListReply", Encode(Sample<PackageListReply>(), 7)},
      {"SyncReply", Encode(Sample<SyncReply>(), 8)},
      {"HostReserveRequest", Encode(Sample<HostReserveRequest>(), 9)},
  };
  const std::vector<std::string> expected = {
      "94010e0183ab696e6361726e6174696f6ecf0123456789abcdefa873657175656e63652aa66865616c746888a5"
      "6c6f616431cb3fd0000000000000a56c6f616435cb3ff8000000000000a66c6f61643135cb400e000000000000"
      "af6d656d5f746f74616c5f6279746573cf0000001000000000b36d656d5f617661696c61626c655f6279746573"
      "cf00000002dfdc1c35b06469736b5f746f74616c5f6279746573cf000000e8e0db6000af6469736b5f66726565"
      "5f6279746573cf0000005d21dba000a8757074696d655f73ce000d2f00",
      "9501690284a8686f73746e616d65a66c61622d3137a6616374696f6ea46c6f636ba6726561736f6eb06669726d"
      "776172652075706772616465a475736572a5616c69636585a475736572a5616c696365a5746f6b656ea5746f6b"
      "2d31a773657373696f6ea6736573732d32a463737266a6637372662d33a466726f6dac7765622031302e302e30"
      "2e35",
      "940116038ea8656e7472795f696428a873657175656e636503ab696e6361726e6174696f6ecf0123456789abcd"
      "efa57068617365a875706c6f61646564aa737461727465645f7573cf000644ae5dcd5541a8656e6465645f7573"
      "cf000644ae5e752e00a9657869745f636f646503a67369676e616c0fa76f7574636f6d65a66661696c6564a672"
      "6561736f6ead65786974207374617475732033a566696c65739283a470617468b164656275672f636f6e74726f"
      "6c2e6c6f67a473697a65cf000000012a05f200a468617368d94061616161616161616161616161616161616161"
      "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
      "83a470617468aa7374617475732e6c6f67a473697a65ccb5a468617368d9403030303030303030303030303030"
      "303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030"
      "3030303030"
      // boot_count 2, reboot_timeout_ms 600000, unexpected_reboot true (issue 21)
      "aa626f6f745f636f756e7402b17265626f6f745f74696d656f75745f6d73ce000927c0b1756e65787065637465"
      "645f7265626f6f74c3",
      "94011e0485a77461736b5f696407a46b696e64a6566572696679a6706173736564c3a6726561736f6ed9267665"
      "726966792e642f31302d6469736b206661696c65643a2065786974207374617475732031a6636865636b739284"
      "a46e616d65aa667265652d7370616365a6706173736564c3a66f7574707574d92031322e302047694220667265"
      "6520286174206c6561737420312e302047694229ab6475726174696f6e5f6d730184a46e616d65b07665726966"
      "792e642f31302d6469736ba6706173736564c2a66f7574707574b96e6f202f746d702f6f6b0a09657869742073"
      "74617475732031ab6475726174696f6e5f6d7323",
      "9401cc8f0581a4726f77739288a474657374ab6b65726e656c2f626f6f74a567726f7570a3677075a5746f7461"
      "6ccf000000012a05f200a6636f756e747383a44641494cce3b9aca00a4474f4f44ceee6b27ffa7544553545f4e"
      "4101a9706173735f72617465cb3fe999999999999aa866697273745f7573cf0006445941624000a76c6173745f"
      "7573cf000644ae5e78fe90a5666c616b79c388a474657374ab6b65726e656c2f626f6f74a567726f7570a77573"
      "622d687562a5746f74616ccf000000012a05f200a6636f756e747383a44641494cce3b9aca00a4474f4f44ceee"
      "6b27ffa7544553545f4e4101a9706173735f72617465cb3fe999999999999aa866697273745f7573cf00064459"
      "41624000a76c6173745f7573cf000644ae5e78fe90a5666c616b79c3",
      "9401ccb70685a475736572a5616c696365a561646d696ec3aa61636c5f67726f75707391a845766572796f6e65"
      "a463737266aa637372662d746f6b656eaa657870697265735f6d73cf0000019ab697e804",
      "9401ccc10783a87061636b616765739285a776657273696f6ea5302e312e30a6736861323536d9406262626262"
      "626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
      "6262626262626262626262626262a56279746573ce00a00000ab75706c6f616465645f6279a5616c696365ab75"
      "706c6f616465645f6d73cf0000019ab697e80585a776657273696f6ea5302e322e30a6736861323536d9406262"
      "626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
      "6262626262626262626262626262626262a56279746573ce00a00000ab75706c6f616465645f6279a5616c6963"
      "65ab75706c6f616465645f6d73cf0000019ab697e805a76465736972656484a776657273696f6ea5302e322e30"
      "ae63616e6172795f70657263656e740aa67365745f6279a5616c696365a67365745f6d73cf0000019ab697e806"
      "ad686f73745f76657273696f6e7382a5302e312e305aa5302e322e300a",
      "94011c0888a8656e7472795f696428a26f70a477616974a46e616d65ab7365727665722d706f7274aa67656e65"
      "726174696f6e02a26f6bc3a56572726f72a46e6f6e65a576616c7565c40438303830a966726f6d5f686f7374a6"
      "6c61622d3138",
      // issue 22: type 165 (uint 8), duration_ms 14400000 as uint 32
      "9401cca50983a8686f73746e616d65a66c61622d3137ab6475726174696f6e5f6d73ce00dbba00a6726561736f"
      "6ead6b65726e656c20626973656374",
  };
  ASSERT_EQ(cases.size(), expected.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(HexOf(cases[i].second), expected[i]) << cases[i].first;
  }
}

}  // namespace
}  // namespace labmesh::protocol
