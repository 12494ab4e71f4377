#pragma once
// What readers see of jobs and entries: the protocol views built from store records, and the
// job status derived from its entries (docs/jobs.md). Pure functions, and the job list, which
// reads only the store (any thread: it runs on the QueryPool's readers).

#include <string>
#include <vector>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/job_messages.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

// "Queued" while no entry has started, "Running" while some entry is not final, then
// "Completed" (all Completed), "Aborted" (any Aborted) or "Failed".
std::string JobStatusOf(const std::vector<store::Entry>& entries);

protocol::EntryInfo ToEntryInfo(const store::Entry& entry, const store::Job& job);
// `entries` are the job's, in the job's order. The control text and the entries' histories only
// `with_control` (the detail view).
protocol::JobInfo ToJobInfo(const store::Job& job, const std::vector<store::Entry>& entries,
                            bool with_control);

// A special task as readers see it; its checks only `with_checks` (not in host lists).
protocol::TaskInfo ToTaskInfo(const store::SpecialTask& task, bool with_checks);

// The encoded reply to a JobListRequest (or an ErrorReply), read from `store` in its own read
// transactions: what has been committed. Any thread.
std::string JobListFrame(store::Store* store, const protocol::Envelope& e);

}  // namespace labmesh::coordinator
