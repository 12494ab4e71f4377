#pragma once
// status.log in the Autotest format (docs/jobs.md "status.log"): one tab-separated line per
// event. Written by `labmesh-test run` for each named test and by the agent's WorkManager (event
// loop thread) when a control ended without writing one. Pure formatting plus one appending
// write; safe from any thread.

#include <ctime>
#include <string>

#include "labmesh/common/status.hpp"

namespace labmesh::agent {

// "START\t----\tNAME\ttimestamp=T\tlocaltime=Nov 29 10:00:00\n"
std::string StatusStartLine(const std::string& name, std::time_t when);
// "\tGOOD\t----\tNAME\ttimestamp=T\tlocaltime=...\tcompleted successfully\n", or FAIL with
// `reason` as the last field.
std::string StatusResultLine(bool good, const std::string& name, std::time_t when,
                             const std::string& reason);
// "END GOOD\t----\tNAME\ttimestamp=T\tlocaltime=...\n" (END FAIL when !good).
std::string StatusEndLine(bool good, const std::string& name, std::time_t when);

// Appends `text` with one write() on an O_APPEND descriptor, so that lines of several writers
// (the control's own `labmesh-test run` calls) never interleave; creates the file (0644).
Status AppendToFile(const std::string& path, const std::string& text);

// Writes the one-test status.log the agent makes for a control that wrote none: START at
// `started`, GOOD when `good` else FAIL with `reason`, END at `ended`.
Status WriteDefaultStatusLog(const std::string& path, const std::string& name, std::time_t started,
                             std::time_t ended, bool good, const std::string& reason);

// The name a test may have: letters, digits, '.', '_', '-', no leading '.', 1..100 characters.
bool IsValidTestName(const std::string& name);

}  // namespace labmesh::agent
