#pragma once
// The MessagePack encoding of the store's records: private to the store (its .cpp files, table.hpp
// and the store tests), so that naming a Host or a ResultRecord costs no msgpack templates.
// Each record's map keys are listed here, in stored order, with LABMESH_CODEC_MAP (see
// protocol_codec.hpp); a field added to a record must be added to its line here too. Changing a
// key or its meaning needs a migration (schema.cpp); adding one does not.

#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "protocol_codec.hpp"  // the protocol structs records embed, and the protocol enums
#include "results_keys.hpp"

MSGPACK_ADD_ENUM(labmesh::store::Enrollment);
MSGPACK_ADD_ENUM(labmesh::store::ResultsState);
MSGPACK_ADD_ENUM(labmesh::store::NotifyState);

LABMESH_CODEC_MAP(labmesh::store::Host, hostname, public_key, enrollment, status, status_reason,
                  status_changed_ms, locked, locked_by, lock_reason, locked_ms, agent_labels,
                  admin_labels, agent_version, facts, health, last_heartbeat_ms, incarnation,
                  registered_ms, attributes, acl_groups, protection, last_task_id,
                  last_verified_ms, repairs_ms, repair_on_return, last_known_good,
                  update_failed_version, reserved_by, reserve_reason, reserved_ms,
                  reserved_until_ms, quarantine_reason, quarantined_by, quarantined_ms,
                  probes_passed, probe_job_id, probes_stopped, health_since_ms, suspect_ms,
                  power_on, power_off, power_cycle, power_status, console_command,
                  panic_patterns, secret_attributes, power_cycles_ms);
LABMESH_CODEC_MAP(labmesh::store::Label, name, created_by, created_ms);
LABMESH_CODEC_MAP(labmesh::store::RevokedKey, public_key, hostname, reason, revoked_ms);
LABMESH_CODEC_MAP(labmesh::store::TestDef, name, description, control, created_by, created_ms,
                  updated_by, updated_ms);
LABMESH_CODEC_MAP(labmesh::store::ApiToken, id, hash, created_ms);
LABMESH_CODEC_MAP(labmesh::store::User, name, acl_groups, admin, created_ms, password_hash, tokens,
                  notify, notify_on);
LABMESH_CODEC_MAP(labmesh::store::AclGroup, name, description, created_ms);
LABMESH_CODEC_MAP(labmesh::store::StatusChange, status, at_us, reason);
LABMESH_CODEC_MAP(labmesh::store::Job, id, name, owner, priority, synch_count, control_kind,
                  control, test_name, hosts, meta_label, meta_count, depends, run_verify,
                  timeout_ms, max_runtime_ms, created_us, finished_us, abort_reason, entry_ids,
                  cleanup, retry, keep_results_ms, result_bytes, results_state,
                  results_removed_us, results_removed_reason, notify, notify_on, after,
                  after_any, waiting, template_name, schedule, reserve_on_failure_ms,
                  reserve_notices, probe_for);
LABMESH_CODEC_MAP(labmesh::store::Notification, job_id, index, target, owner, state, attempts,
                  last_error, created_us, last_attempt_us, next_attempt_us, delivered_us,
                  document, event, hostname);
LABMESH_CODEC_MAP(labmesh::store::Entry, id, job_id, hostname, meta_label, status, status_reason,
                  fault, exit_code, signal, queued_us, started_us, finished_us, history,
                  report_sequence, abort_requested, abort_reason, group, outcome, outcome_reason,
                  result_counts, parse_warnings, retries, boot_count, reboot_deadline_us,
                  unexpected_reboot, crash, crash_line);
LABMESH_CODEC_MAP(labmesh::store::SpecialTask, id, hostname, kind, status, reason, requested_by,
                  job_id, entry_id, queued_ms, started_ms, finished_ms, checks);
LABMESH_CODEC_MAP(labmesh::store::ResultRecord, id, job_id, entry_id, hostname, labels, test,
                  status, reason, start_us, end_us, duration_us, keyvals, perf, file, link);
LABMESH_CODEC_MAP(labmesh::store::results::EntryIndex, ids, counts);
