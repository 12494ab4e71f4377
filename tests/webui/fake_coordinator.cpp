#include "fake_coordinator.hpp"

#include <chrono>
#include <memory>

namespace labmesh::webui::testing {

FakeCoordinator::FakeCoordinator(zmq::context_t& context, std::string endpoint)
    : endpoint_(std::move(endpoint)), socket_(context, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(endpoint_);
  // The socket moves to the thread here; thread start is the hand-over barrier.
  thread_ = std::thread([this] { Run(); });
}

FakeCoordinator::~FakeCoordinator() {
  stop_ = true;
  thread_.join();
  socket_.close();
}

void FakeCoordinator::On(protocol::MessageType type, Responder responder) {
  std::lock_guard<std::mutex> lock(mu_);
  responders_[type] = std::move(responder);
}

std::vector<std::string> FakeCoordinator::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeCoordinator::Count(protocol::MessageType type) const {
  size_t count = 0;
  for (const auto& frame : Requests()) {
    auto envelope = protocol::DecodeEnvelope(frame);
    if (envelope.ok() && envelope->type == type) ++count;
  }
  return count;
}

void FakeCoordinator::Gate(std::function<Status(const protocol::Envelope& request)> gate) {
  std::lock_guard<std::mutex> lock(mu_);
  gate_ = std::move(gate);
}

void FakeCoordinator::ServeAuth(FakeUser user) {
  auto logged_out = std::make_shared<std::atomic<bool>>(true);  // no session before a login
  Gate([user, logged_out](const protocol::Envelope& request) {
    const protocol::Credentials& who = request.credentials;
    if (request.type == protocol::MessageType::kLoginRequest) return Status::Ok();
    if (!who.token.empty()) {
      return who.token == user.token ? Status::Ok() : Status::Unauthenticated("unknown token");
    }
    if (who.session.empty()) return Status::Unauthenticated("no credentials");
    if (who.session != user.session || logged_out->load()) {
      return Status::Unauthenticated("unknown or expired session");
    }
    if (protocol::IsMutatingRequest(request.type) && who.csrf != user.csrf) {
      // As docs/security.md has it: the session is known, the request not allowed.
      return Status::PermissionDenied("missing or wrong CSRF token");
    }
    return Status::Ok();
  });
  On(protocol::MessageType::kLoginRequest, [user, logged_out](const protocol::Envelope& request) {
    auto login = protocol::DecodeBody<protocol::LoginRequest>(request);
    bool ok = login.ok() && login->user == user.user &&
              ((!login->token.empty() && login->token == user.token) ||
               (!login->password.empty() && login->password == user.password));
    if (!ok) {
      return protocol::Encode(protocol::ErrorReply::FromStatus(Status::Unauthenticated(
                                  "wrong user, token or password")),
                              request.request_id);
    }
    logged_out->store(false);
    return protocol::Encode(
        protocol::LoginReply{user.user, user.admin, user.session, user.csrf, user.expires_ms},
        request.request_id);
  });
  On(protocol::MessageType::kWhoAmIRequest, [user](const protocol::Envelope& request) {
    auto whoami = protocol::DecodeBody<protocol::WhoAmIRequest>(request);
    protocol::WhoAmIReply reply;
    reply.user = user.user;
    reply.admin = user.admin;
    if (whoami.ok() && whoami->with_groups) reply.acl_groups = user.acl_groups;
    if (request.credentials.token.empty()) {  // a session: its CSRF token and end
      reply.csrf = user.csrf;
      reply.expires_ms = user.expires_ms;
    }
    return protocol::Encode(reply, request.request_id);
  });
  On(protocol::MessageType::kLogoutRequest, [logged_out](const protocol::Envelope& request) {
    logged_out->store(true);
    return protocol::Encode(protocol::OkReply{"logged out"}, request.request_id);
  });
}

void FakeCoordinator::Run() {
  while (!stop_) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(20));
    if (!(item.revents & ZMQ_POLLIN)) continue;
    zmq::message_t identity;
    zmq::message_t payload;
    if (!socket_.recv(identity, zmq::recv_flags::dontwait)) continue;
    if (!identity.more() || !socket_.recv(payload, zmq::recv_flags::dontwait)) continue;
    std::string frame = payload.to_string();
    Responder responder;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(frame);
    }
    auto envelope = protocol::DecodeEnvelope(frame);
    std::string reply;
    if (!envelope.ok()) {
      reply = protocol::Encode(protocol::ErrorReply::FromStatus(envelope.status()), 0);
    } else {
      std::function<Status(const protocol::Envelope&)> gate;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = responders_.find(envelope->type);
        if (it != responders_.end()) responder = it->second;
        gate = gate_;
      }
      Status allowed = gate ? gate(*envelope) : Status::Ok();
      reply = !allowed.ok() ? protocol::Encode(protocol::ErrorReply::FromStatus(allowed),
                                               envelope->request_id)
              : responder ? responder(*envelope)
                        : protocol::Encode(protocol::ErrorReply::FromStatus(Status::Unsupported(
                                               "fake coordinator has no canned reply")),
                                           envelope->request_id);
    }
    if (reply.empty()) continue;  // stay silent
    socket_.send(identity, zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(reply), zmq::send_flags::none);
  }
}

void FakeCoordinator::ServeJobs(std::vector<protocol::JobInfo> jobs) {
  On(protocol::JobListRequest::kType, [jobs](const protocol::Envelope& envelope) {
    auto request = protocol::DecodeBody<protocol::JobListRequest>(envelope);
    if (!request.ok()) {
      return protocol::Encode(protocol::ErrorReply::FromStatus(request.status()),
                              envelope.request_id);
    }
    protocol::JobListReply reply;
    for (const auto& job : jobs) {
      if (!request->owner.empty() && job.owner != request->owner) continue;
      if (!request->status.empty() && job.status != request->status) continue;
      if (request->limit > 0 && reply.jobs.size() >= request->limit) break;
      protocol::JobInfo listed = job;
      listed.control.clear();  // as the coordinator lists them
      reply.jobs.push_back(std::move(listed));
    }
    return protocol::Encode(reply, envelope.request_id);
  });
  On(protocol::JobShowRequest::kType, [jobs](const protocol::Envelope& envelope) {
    auto request = protocol::DecodeBody<protocol::JobShowRequest>(envelope);
    if (!request.ok()) {
      return protocol::Encode(protocol::ErrorReply::FromStatus(request.status()),
                              envelope.request_id);
    }
    for (const auto& job : jobs) {
      if (job.id == request->id) {
        return protocol::Encode(protocol::JobShowReply{job}, envelope.request_id);
      }
    }
    return protocol::Encode(protocol::ErrorReply::FromStatus(
                                Status::NotFound("no job " + std::to_string(request->id))),
                            envelope.request_id);
  });
}

protocol::JobInfo SampleJob(uint64_t id, const std::string& owner, const std::string& status) {
  protocol::JobInfo job;
  job.id = id;
  job.name = "boot <b>test</b>";  // markup must show as text on the page
  job.owner = owner;
  job.priority = "high";
  job.synch_count = 1;
  job.status = status;
  job.control_kind = "command";
  job.control = "make check";
  job.hosts = {"lab-1", "lab-2"};
  job.depends = {"usb-hub"};
  job.timeout_ms = 3'600'000;
  job.max_runtime_ms = 600'000;
  job.created_us = 1'700'000'000'000'000LL - 60'000'000;
  job.finished_us = 1'700'000'000'000'000LL - 1'000'000;
  protocol::EntryInfo ok;
  ok.id = id * 10;
  ok.job_id = id;
  ok.host = "lab-1";
  ok.status = "Completed";
  ok.exit_code = 0;
  ok.queued_us = job.created_us;
  ok.started_us = job.created_us + 1'000'000;
  ok.finished_us = job.finished_us;
  ok.results_path = std::to_string(id) + "-" + owner + "/lab-1";
  protocol::EntryInfo failed = ok;
  failed.id = id * 10 + 1;
  failed.host = "lab-2";
  failed.status = "Failed";
  failed.fault = "test";
  failed.reason = "exit status 3";
  failed.exit_code = 3;
  failed.results_path = std::to_string(id) + "-" + owner + "/lab-2";
  job.entries = {ok, failed};
  return job;
}

protocol::TaskInfo SampleTask(uint64_t id, const std::string& hostname) {
  protocol::TaskInfo task;
  task.id = id;
  task.hostname = hostname;
  task.kind = "Verify";
  task.status = "Failed";
  task.reason = "verify.d/disk failed: <b>exit</b> status 1";  // markup must show as text
  task.requested_by = "alice";
  task.queued_ms = 1'700'000'000'000 - 60'000;
  task.started_ms = 1'700'000'000'000 - 50'000;
  task.finished_ms = 1'700'000'000'000 - 3'000;
  task.checks = {{"free-space", true, "12 GiB free", 3},
                 {"verify.d/disk", false, "sda: I/O error\n", 40},
                 {"clock-skew", false, "clock 9s ahead", 1}};
  return task;
}

protocol::HostInfo SampleHost(const std::string& hostname, const std::string& status) {
  protocol::HostInfo host;
  host.hostname = hostname;
  host.status = status;
  host.status_reason = "heartbeat ok";
  host.locked = true;
  host.locked_by = "alice";
  host.lock_reason = "kernel <b>bisect</b>";  // markup must show as text on the page
  host.labels = {"arch:x86_64", "gpu", "os:debian"};
  host.agent_labels = {"arch:x86_64", "os:debian"};
  host.admin_labels = {"gpu"};
  host.acl_groups = {"everyone"};
  host.agent_version = "0.1.0";
  host.last_heartbeat_ms = 1'700'000'000'000 - 3'000;
  host.registered_ms = 1'690'000'000'000;
  host.incarnation = 42;
  host.connected = true;
  host.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  host.facts = {"x86_64", "debian", "12", "6.1.0-18-amd64", 8, 16ull << 30, "10.0.0.7"};
  host.health.load1 = 0.42;
  host.health.load5 = 0.3;
  host.health.load15 = 0.25;
  host.health.mem_total_bytes = 16ull << 30;
  host.health.mem_available_bytes = 9ull << 30;
  host.health.disk_total_bytes = 500ull << 30;
  host.health.disk_free_bytes = 120ull << 30;
  host.health.uptime_s = 86400;
  return host;
}

}  // namespace labmesh::webui::testing
