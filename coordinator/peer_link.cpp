#include "peer_link.hpp"

#include <spdlog/spdlog.h>

namespace labmesh::coordinator::peer {

std::string RelayedRoute(char mark, std::string_view link, std::string_view route) {
  std::string out;
  out.reserve(2 + link.size() + route.size());
  out.push_back(mark);
  out.push_back(static_cast<char>(static_cast<unsigned char>(link.size())));
  out.append(link);
  out.append(route);
  return out;
}

bool SplitRelayedRoute(std::string_view relayed, std::string_view* link, std::string_view* route) {
  if (relayed.size() < 2 || (relayed[0] != kAgentMark && relayed[0] != kApiMark)) return false;
  size_t length = static_cast<unsigned char>(relayed[1]);
  if (relayed.size() < 2 + length) return false;
  *link = relayed.substr(2, length);
  *route = relayed.substr(2 + length);
  return true;
}

bool ReadFrames(zmq::socket_t& socket, std::vector<zmq::message_t>* frames) {
  frames->clear();
  zmq::message_t frame;
  if (!socket.recv(frame, zmq::recv_flags::dontwait)) return false;
  bool more = frame.more();
  frames->push_back(std::move(frame));
  while (more) {
    zmq::message_t next;
    (void)socket.recv(next, zmq::recv_flags::none);
    more = next.more();
    frames->push_back(std::move(next));
  }
  return true;
}

bool SendFrames(zmq::socket_t& socket, std::initializer_list<std::string_view> frames) {
  try {
    size_t left = frames.size();
    for (std::string_view frame : frames) {
      --left;
      auto flags = zmq::send_flags::dontwait;
      if (left > 0) flags = flags | zmq::send_flags::sndmore;
      // A ROUTER takes or drops the whole message at its first frame; a DEALER with
      // ZMQ_IMMEDIATE refuses it there when it has no connection.
      if (!socket.send(zmq::buffer(frame), flags)) return false;
    }
    return true;
  } catch (const zmq::error_t&) {
    return false;
  }
}

int PeerHub::Drain(int max) {
  int agent_frames = 0;
  for (int i = 0; i < max && ReadFrames(socket_, &frames_); ++i) {
    if (frames_.size() < 2) continue;
    std::string link = frames_[0].to_string();
    std::string_view kind = frames_[1].to_string_view();
    if (kind == kAgent && frames_.size() == 5) {
      ++agent_frames;
      handlers_.agent(RelayedRoute(kAgentMark, link, frames_[2].to_string_view()),
                      frames_[3].to_string(), frames_[4].to_string_view());
    } else if (kind == kApi && frames_.size() == 5 && frames_[2].size() > 0) {
      const ApiSocket* api = ApiSocketByTag(frames_[2].to_string_view()[0]);
      if (api == nullptr) continue;  // not a socket a standby has: nobody to answer
      handlers_.api(RelayedRoute(kApiMark, link, frames_[2].to_string_view()), *api,
                    frames_[3].to_string(), frames_[4]);
    } else if (kind == kPing && frames_.size() == 2) {
      SendFrames(socket_, {link, kPing});
    } else {
      spdlog::warn("peer link: a message of {} frames, kind '{}', is not one of ours; dropped",
                   frames_.size(), kind.substr(0, 8));
    }
  }
  return agent_frames;
}

void PeerHub::Send(std::string_view kind, std::string_view relayed, std::string_view frame) {
  std::string_view link, route;
  if (!SplitRelayedRoute(relayed, &link, &route)) return;
  SendFrames(socket_, {link, kind, route, frame});
}

void PeerHub::SendToAgent(std::string_view relayed, std::string_view frame) {
  Send(kAgent, relayed, frame);
}

void PeerHub::SendToApi(std::string_view relayed, std::string_view reply) {
  Send(kApi, relayed, reply);
}

}  // namespace labmesh::coordinator::peer
