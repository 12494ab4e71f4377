// libFuzzer target: the web server's JSON request bodies (docs/fuzzing.md), through the
// functions the handlers call, not an HTTP server: BodyFields (web_actions.cpp's POST bodies:
// jobs, aborts, host actions, labels, protection, each with its known fields and their types)
// and the login and logout bodies (web_auth.hpp). A refusal is a Status; anything thrown or any
// sanitizer report is a bug. Corpus: corpus/web_json (the bodies of tests/webui).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "body_fields.hpp"
#include "labmesh/webui/web_auth.hpp"

namespace {

using labmesh::webui::BodyFields;

// Reads every field of `fields` with every reader, as the handlers do with theirs (and more:
// each key as each type, so a value of the wrong type meets every check).
void ReadAll(const BodyFields& fields, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    std::string text;
    std::vector<std::string> list;
    bool flag = false;
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    int64_t i64 = 0;
    (void)fields.String(key, &text);
    (void)fields.Strings(key, &list);
    (void)fields.Bool(key, &flag);
    (void)fields.Integer(key, &u32);
    (void)fields.Integer(key, &u64);
    (void)fields.Integer(key, &i64);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  // POST /api/v1/jobs.
  if (auto job = BodyFields::Parse(
          body, {"name", "user", "command", "control", "test", "hosts", "meta_label",
                 "meta_count", "depends", "synch_count", "priority", "run_verify", "timeout_ms",
                 "max_runtime_ms", "cleanup", "retry"});
      job.ok()) {
    ReadAll(*job, {"name", "user", "command", "control", "test", "hosts", "meta_label",
                   "meta_count", "depends", "synch_count", "priority", "run_verify",
                   "timeout_ms", "max_runtime_ms", "cleanup", "retry"});
  }
  // Aborts, host actions (lock ... repair), labels, protection.
  if (auto abort = BodyFields::Parse(body, {"host"}); abort.ok()) ReadAll(*abort, {"host"});
  if (auto action = BodyFields::Parse(body, {"reason"}); action.ok()) {
    ReadAll(*action, {"reason"});
  }
  if (auto task = BodyFields::Parse(body, {}); task.ok()) ReadAll(*task, {"x"});
  if (auto labels = BodyFields::Parse(body, {"add", "remove"}); labels.ok()) {
    ReadAll(*labels, {"add", "remove"});
  }
  if (auto protection = BodyFields::Parse(body, {"protection"}); protection.ok()) {
    ReadAll(*protection, {"protection"});
  }
  // POST /api/v1/login and /api/v1/logout.
  (void)labmesh::webui::ParseLoginBody(body);
  (void)labmesh::webui::ParseLogoutBody(body);
  return 0;
}
