#pragma once
// TestCatalog: the named control programs that jobs run with `--test NAME` (CLI.md's "test
// catalog"), kept in the store's `tests` table.
//
// The store is the only copy: reads go to it (one LMDB read transaction each), so there is no
// in-memory state to keep in step. Writes are validated first (ValidateTestSpec) and committed
// in one transaction; a refused or failed write changes nothing.
//
// Called only by the event-loop thread, which makes Add's read-modify-write safe.

#include <string>
#include <vector>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

class TestCatalog {
 public:
  TestCatalog(store::Store* store, const Clock* clock);

  enum class Added { kCreated, kReplaced };

  // Adds the test, or replaces the one of the same name: control and description change,
  // updated_by/updated_ms are set, created_by/created_ms are kept. `user` empty = "unknown".
  Result<Added> Add(const std::string& name, const std::string& control,
                    const std::string& description, const std::string& user);

  // Tests whose name starts with `prefix` (all for ""), sorted by name, without their control
  // text (control_bytes tells its size).
  Result<std::vector<protocol::TestInfo>> List(const std::string& prefix) const;

  // One test with its control; NotFound when there is none of that name.
  Result<protocol::TestInfo> Show(const std::string& name) const;

  static protocol::TestInfo ToInfo(const store::TestDef& test, bool with_control);

 private:
  store::Store* store_;
  const Clock* clock_;
};

}  // namespace labmesh::coordinator
