#include "labmesh/protocol/schedule_messages.hpp"

namespace labmesh::protocol {

JobCreateRequest JobDefinitionOf(const JobInfo& job) {
  JobCreateRequest r;
  r.name = job.name;
  if (job.control_kind == "command") {
    r.command = job.control;
  } else if (job.control_kind == "test") {
    r.test = job.test_name;  // the catalog's test by name, as it is when a job is made
  } else if (job.control_kind == "control") {
    r.control = job.control;
  }
  r.hosts = job.hosts;
  r.meta_label = job.meta_label;
  r.meta_count = job.meta_count;
  r.depends = job.depends;
  r.synch_count = job.synch_count;
  if (!job.priority.empty()) r.priority = job.priority;
  r.run_verify = job.run_verify;
  r.timeout_ms = job.timeout_ms;
  r.max_runtime_ms = job.max_runtime_ms;
  if (!job.cleanup.empty()) r.cleanup = job.cleanup;
  r.retry = job.retry;
  r.keep_results_ms = job.keep_results_ms;
  r.notify = job.notify;
  r.notify_on = job.notify_on;
  r.reserve_on_failure_ms = job.reserve_on_failure_ms;
  return r;  // not `after`: the jobs it waited for have ended
}

}  // namespace labmesh::protocol
