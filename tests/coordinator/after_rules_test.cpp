// The shape rules of `job create --after` (ValidateJobSpec, pure): the ids sorted without
// duplicates, 0 refused, at most kMaxAfterJobs, --after-any only with --after. Whether the ids
// exist is the job service's question (tests/e2e/after_test.cpp).

#include <gtest/gtest.h>

#include "job_rules.hpp"

namespace labmesh::coordinator {
namespace {

protocol::JobCreateRequest Valid() {
  protocol::JobCreateRequest r;
  r.name = "next";
  r.user = "alice";
  r.command = "true";
  r.hosts = {"lab-1"};
  return r;
}

TEST(AfterRules, IdsAreSortedWithoutDuplicates) {
  protocol::JobCreateRequest r = Valid();
  r.after = {12, 3, 12, 7};
  auto spec = ValidateJobSpec(r);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->request.after, (std::vector<uint64_t>{3, 7, 12}));
}

TEST(AfterRules, ZeroTooManyAndAnyWithoutAfterAreRefused) {
  protocol::JobCreateRequest r = Valid();
  r.after = {0, 4};
  EXPECT_EQ(ValidateJobSpec(r).status().code(), StatusCode::kInvalidArgument);
  r.after.clear();
  for (uint64_t id = 1; id <= kMaxAfterJobs + 1; ++id) r.after.push_back(id);
  EXPECT_EQ(ValidateJobSpec(r).status().code(), StatusCode::kInvalidArgument);
  r.after.pop_back();
  EXPECT_TRUE(ValidateJobSpec(r).ok());
  protocol::JobCreateRequest any = Valid();
  any.after_any = true;
  EXPECT_EQ(ValidateJobSpec(any).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labmesh::coordinator
