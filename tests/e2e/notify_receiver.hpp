#pragma once
// The notification receiver for the e2e tests (notify_receiver.py): a real HTTP server and a
// real SMTP server (aiosmtpd) on 127.0.0.1 that write what they receive to DIR/webhooks.jsonl
// and DIR/emails.jsonl, one JSON document a line. A file DIR/reject makes the HTTP server
// answer 503. Shared by notify_test.cpp and reserve_test.cpp.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace labmesh::testing {

class NotifyReceiver {
 public:
  // Starts the receiver in `dir` (made) and waits until it wrote its ports. Fails the calling
  // test (a fatal failure: call it through ASSERT_NO_FATAL_FAILURE) when it does not come up.
  void Start(const std::string& dir) {
    dir_ = dir;
    std::filesystem::create_directories(dir_);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/python3",
                                 std::string(LABMESH_SOURCE_DIR) + "/tests/e2e/notify_receiver.py",
                                 dir_},
        dir_ + "/log");
    ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(dir_ + "/ports.json"); }))
        << process_->Log();
    auto ports = nlohmann::json::parse(ReadFile(dir_ + "/ports.json"));
    http_port_ = ports["http"].get<int>();
    smtp_port_ = ports["smtp"].get<int>();
  }

  const std::string& dir() const { return dir_; }
  int smtp_port() const { return smtp_port_; }
  // The notify target of its HTTP server: "webhook:http://127.0.0.1:PORT/hook".
  std::string hook() const {
    return "webhook:http://127.0.0.1:" + std::to_string(http_port_) + "/hook";
  }
  std::string Log() const { return process_ ? process_->Log() : ""; }

  // The JSON lines of one of its files (webhooks.jsonl, emails.jsonl).
  std::vector<nlohmann::json> Lines(const std::string& name) const {
    std::vector<nlohmann::json> out;
    std::istringstream in(ReadFile(dir_ + "/" + name));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

  // The webhook requests about job `id` (X-Labmesh-Delivery "ID.INDEX") it answered with
  // `status`, of event `event` (X-Labmesh-Event; "" = any).
  std::vector<nlohmann::json> Webhooks(uint64_t id, int status = 200,
                                       const std::string& event = "") const {
    std::vector<nlohmann::json> out;
    for (auto& hook : Lines("webhooks.jsonl")) {
      const auto& headers = hook["headers"];
      if (headers.value("X-Labmesh-Delivery", "").starts_with(std::to_string(id) + ".") &&
          hook["status"] == status &&
          (event.empty() || headers.value("X-Labmesh-Event", "") == event)) {
        out.push_back(hook);
      }
    }
    return out;
  }

 private:
  std::string dir_;
  std::unique_ptr<Process> process_;
  int http_port_ = 0;
  int smtp_port_ = 0;
};

}  // namespace labmesh::testing
