#pragma once
// Manager: what the agent's event loop needs of each part that does the agent's work (the
// WorkManager, the UpdateManager, the TaskManager and the SyncRelay), so that the loop
// (agent.cpp) iterates a list of them instead of naming each one.
//
// One loop turn, in this order (AgentImpl::Run):
//   1. wait in one zmq::poll for the coordinator socket and every manager's AppendPollItems(),
//      no longer than the earliest NextDeadlineMs() (and the agent's own timers);
//   2. the coordinator's messages: each is offered to Handle() of one manager after the other
//      until one takes it (the ones the agent handles itself - Welcome, Reject, ... - are not);
//   3. OnPolled() of every manager with the items it added, their revents set;
//   4. Service() of every manager;
//   5. the agent's own timers (hello, heartbeat, reconnect).
// At every Welcome the loop calls OnWelcome() of each, at every disconnect (and Reregister)
// OnDisconnected(); every hello carries what FillHello() adds.
//
// Ownership and threads: the agent owns its managers (with their concrete types: it wires their
// hooks to each other) and calls every method on its event loop thread only. Nothing here may
// block. A manager sends to the coordinator through the `send` callback it was given (the
// agent's non-blocking Send, false when nothing could take the frame).

#include <zmq.h>

#include <cstdint>
#include <span>
#include <vector>

namespace labmesh::protocol {
struct AgentHello;
struct Envelope;
}  // namespace labmesh::protocol

namespace labmesh::agent {

class Manager {
 public:
  virtual ~Manager() = default;

  // Appends what the loop must poll for this manager, each for ZMQ_POLLIN: its own ZeroMQ
  // sockets, and descriptors (output pipes, pidfds) that Service() reads without blocking.
  virtual void AppendPollItems(std::vector<zmq_pollitem_t>* items) const = 0;
  // After the poll and the coordinator's messages, before any manager's Service(): `items` are
  // exactly the items this manager appended this turn, their revents set. For a socket that
  // must be read only when it is readable; the default reads nothing.
  virtual void OnPolled(std::span<const zmq_pollitem_t> /*items*/) {}
  // Reads what is ready, reaps processes, fires timers and retries. Called at every turn.
  virtual void Service() = 0;
  // When Service() must run next without any item being ready (INT64_MAX = no timer).
  virtual int64_t NextDeadlineMs() const = 0;

  // The coordinator welcomed us (first time or again): resend what was not acknowledged.
  virtual void OnWelcome() = 0;
  // The connection is gone (or the coordinator asked for a new hello): nothing is sent until
  // the next OnWelcome().
  virtual void OnDisconnected() = 0;
  // A message from the coordinator: true when this manager took it (it logs what it cannot
  // read), false for a message it does not take (the loop offers it to the next manager).
  virtual bool Handle(const protocol::Envelope& envelope) = 0;
  // Adds this manager's part of the AgentHello (held entries, an update report); the default
  // adds nothing.
  virtual void FillHello(protocol::AgentHello* /*hello*/) const {}
};

// For AppendPollItems: `fd` polled for readability.
inline void AppendPollFd(int fd, std::vector<zmq_pollitem_t>* items) {
  items->push_back(zmq_pollitem_t{nullptr, fd, ZMQ_POLLIN, 0});
}

}  // namespace labmesh::agent
