#pragma once
// ApiService: the requests of the API socket (CLI, web page): host and label administration
// and the test catalog.
//
// Called only by the event-loop thread. Every request is validated first; a bad one gets an
// ErrorReply and changes nothing.

#include <functional>
#include <string>
#include <string_view>

#include "agent_service.hpp"
#include "host_registry.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "principal.hpp"
#include "test_catalog.hpp"

namespace labmesh::coordinator {

class ApiService {
 public:
  ApiService(const Clock* clock, HostRegistry* registry, AgentService* agents,
             TestCatalog* catalog);

  // Returns the encoded reply to one admitted request (always exactly one reply). `who` names
  // the user recorded as locked_by, created_by and the like.
  std::string Handle(const protocol::Envelope& request, const Principal& who);

  // Called after a host was deleted (the job service fails its entries).
  void set_on_host_deleted(std::function<void(const std::string&)> fn) {
    on_host_deleted_ = std::move(fn);
  }

 private:
  std::string HostList(const protocol::Envelope& e);
  std::string HostShow(const protocol::Envelope& e);
  std::string HostPending(const protocol::Envelope& e);
  std::string HostAction(const protocol::Envelope& e, const Principal& who);
  std::string HostLabel(const protocol::Envelope& e);
  std::string HostMod(const protocol::Envelope& e, const Principal& who);
  std::string LabelList(const protocol::Envelope& e);
  std::string LabelAction(const protocol::Envelope& e, const Principal& who);
  std::string TestAdd(const protocol::Envelope& e, const Principal& who);
  std::string TestList(const protocol::Envelope& e);
  std::string TestShow(const protocol::Envelope& e);

  Status Accept(HostState& host);
  Status Reject(HostState& host, const std::string& reason);

  const Clock* clock_;
  HostRegistry* registry_;
  AgentService* agents_;
  TestCatalog* catalog_;
  std::function<void(const std::string&)> on_host_deleted_;
};

}  // namespace labmesh::coordinator
