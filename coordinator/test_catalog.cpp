#include "test_catalog.hpp"

#include <spdlog/spdlog.h>

#include "catalog_rules.hpp"

namespace labmesh::coordinator {

TestCatalog::TestCatalog(store::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

protocol::TestInfo TestCatalog::ToInfo(const store::TestDef& test, bool with_control) {
  protocol::TestInfo info;
  info.name = test.name;
  info.description = test.description;
  if (with_control) info.control = test.control;
  info.control_bytes = test.control.size();
  info.created_by = test.created_by;
  info.created_ms = test.created_ms;
  info.updated_by = test.updated_by;
  info.updated_ms = test.updated_ms;
  return info;
}

Result<TestCatalog::Added> TestCatalog::Add(const std::string& name, const std::string& control,
                                            const std::string& description,
                                            const std::string& user) {
  LABMESH_RETURN_IF_ERROR(ValidateTestSpec(name, control, description));
  Result<std::optional<store::TestDef>> existing = store_->GetTest(name);
  if (!existing.ok()) return existing.status();
  const std::string who = user.empty() ? "unknown" : user;
  const int64_t now = clock_->WallMs();
  store::TestDef test;
  if (existing->has_value()) {
    test = **existing;
  } else {
    test.name = name;
    test.created_by = who;
    test.created_ms = now;
  }
  test.control = control;
  test.description = description;
  test.updated_by = who;
  test.updated_ms = now;
  store::WriteBatch batch;
  batch.PutTest(test);
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  const bool replaced = existing->has_value();
  spdlog::info("test={} {} by {} ({} bytes)", name, replaced ? "replaced" : "added", who,
               control.size());
  return replaced ? Added::kReplaced : Added::kCreated;
}

Result<std::vector<protocol::TestInfo>> TestCatalog::List(const std::string& prefix) const {
  Result<std::vector<store::TestDef>> tests = store_->ListTests();
  if (!tests.ok()) return tests.status();
  std::vector<protocol::TestInfo> infos;
  for (const store::TestDef& test : *tests) {
    if (test.name.compare(0, prefix.size(), prefix) != 0) continue;
    infos.push_back(ToInfo(test, /*with_control=*/false));
  }
  return infos;
}

Result<protocol::TestInfo> TestCatalog::Show(const std::string& name) const {
  LABMESH_RETURN_IF_ERROR(ValidateTestName(name));
  Result<std::optional<store::TestDef>> test = store_->GetTest(name);
  if (!test.ok()) return test.status();
  if (!test->has_value()) return Status::NotFound("test " + name + " not found");
  return ToInfo(**test, /*with_control=*/true);
}

}  // namespace labmesh::coordinator
