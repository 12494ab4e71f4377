#include "labmesh/cli/host_commands.hpp"

#include <iostream>

#include "labmesh/cli/host_output.hpp"

namespace labmesh::cli {

HostCommands::HostCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* host = app.add_subcommand("host", "hosts of the fleet")->require_subcommand(1);

  auto* list = host->add_subcommand(
      "list", "hosts with status, labels, lock, version, heartbeat, last special task");
  list->add_option("--status", status_, "only hosts in this status");
  list->add_option("--label", label_, "only hosts carrying this label");
  list->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  auto* show = host->add_subcommand(
      "show", "one host: facts, health, labels, groups, protection, last special task");
  show->add_option("name", hostname_, "hostname")->required();
  show->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Show(api); }; });

  auto* pending = host->add_subcommand("pending", "agents waiting for approval");
  pending->add_option("--label", label_, "only hosts carrying this label");
  pending->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Pending(api); }; });

  // accept / reject / lock / unlock / delete share one request.
  struct Verb {
    const char* name;
    const char* help;
    bool needs_reason;
  };
  for (const Verb& v : {Verb{"accept", "accept a pending agent", false},
                        Verb{"reject", "refuse a pending agent for good", false},
                        Verb{"lock", "take a host out of scheduling", true},
                        Verb{"unlock", "put a host back into scheduling", false},
                        Verb{"delete", "remove a host and revoke its key", false}}) {
    auto* sub = host->add_subcommand(v.name, v.help);
    sub->add_option("name", hostname_, "hostname")->required();
    auto* reason = sub->add_option("--reason", reason_, "why (recorded)");
    if (v.needs_reason) reason->required();
    std::string verb = v.name;
    sub->callback([this, &action, verb] {
      action = [this, verb](client::ApiClient& api) { return HostAction(api, verb); };
    });
  }

  auto* label = host->add_subcommand("label", "change a host's admin labels");
  label->add_option("name", hostname_, "hostname")->required();
  label->add_option("--add", add_labels_, "labels to add, comma-separated")->delimiter(',');
  label->add_option("--remove", remove_labels_, "labels to remove, comma-separated")
      ->delimiter(',');
  label->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Label(api); }; });

  auto* avail = host->add_subcommand(
      "avail", "before submitting: how many hosts with a label could take a job now, how many "
               "are busy, and the queue ahead");
  avail->add_option("--label", label_, "the label the job would ask for")->required();
  avail->add_option("--count", count_, "hosts the job would want (1..10000)")
      ->capture_default_str();
  avail->add_option("--depends", depends_, "labels every host must carry too, comma-separated")
      ->delimiter(',');
  avail->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Avail(api); }; });

  lifecycle_.emplace(*host, g, action);
}

int HostCommands::List(client::ApiClient& api) {
  auto reply = api.Call<protocol::HostListReply>(protocol::HostListRequest{status_, label_});
  if (!reply.ok()) return Fail(reply.status());
  PrintHosts(reply->hosts, g_.json);
  return kExitOk;
}

int HostCommands::Show(client::ApiClient& api) {
  auto reply = api.Call<protocol::HostShowReply>(protocol::HostShowRequest{hostname_});
  if (!reply.ok()) return Fail(reply.status());
  PrintHost(reply->host, g_.json);
  return kExitOk;
}

int HostCommands::Pending(client::ApiClient& api) {
  auto reply = api.Call<protocol::HostListReply>(protocol::HostPendingRequest{label_});
  if (!reply.ok()) return Fail(reply.status());
  PrintHosts(reply->hosts, g_.json);
  return kExitOk;
}

int HostCommands::HostAction(client::ApiClient& api, const std::string& verb) {
  protocol::HostActionRequest request{hostname_, verb, reason_, UserOf(g_)};
  auto reply = api.Call<protocol::OkReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int HostCommands::Avail(client::ApiClient& api) {
  if (count_ == 0 || count_ > 10'000) return UsageError("host avail: --count must be 1..10000");
  auto reply = api.Call<protocol::HostAvailReply>(
      protocol::HostAvailRequest{label_, count_, depends_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
    return kExitOk;
  }
  const protocol::HostAvailReply& r = *reply;
  std::string jobs;
  for (uint64_t id : r.busy_jobs) jobs += (jobs.empty() ? "" : ", ") + std::to_string(id);
  std::cout << "label:        " << r.label << "\n"
            << "hosts:        " << r.hosts << " usable (" << r.free << " free, " << r.busy
            << " busy, " << r.locked << " locked, " << r.reserved << " reserved for others, "
            << r.in_task << " in a task, " << r.down << " down)\n";
  if (!jobs.empty()) std::cout << "busy with:    job" << (r.busy_jobs.size() > 1 ? "s " : " ") << jobs << "\n";
  if (r.unusable > 0) std::cout << "not usable:   " << r.unusable << " (not in your ACL groups)\n";
  std::cout << "queued ahead: " << r.queued_ahead << "\n"
            << "a job of " << r.count << ": " << (r.can_start ? "can start now" : "would wait")
            << "\n";
  return kExitOk;
}

int HostCommands::Label(client::ApiClient& api) {
  if (add_labels_.empty() && remove_labels_.empty()) {
    return UsageError("host label: give --add and/or --remove");
  }
  auto reply = api.Call<protocol::HostShowReply>(
      protocol::HostLabelRequest{hostname_, add_labels_, remove_labels_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    PrintHost(reply->host, true);
  } else {
    std::cout << reply->host.hostname << ": " << Join(reply->host.labels, ", ") << "\n";
  }
  return kExitOk;
}

}  // namespace labmesh::cli
