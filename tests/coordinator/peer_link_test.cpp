// The peer link's active end (peer_link.hpp): relayed agent frames and API requests reach the
// handlers under routes that lead back to the standby's connection; messages of any other shape
// are dropped without reaching a handler or taking the hub down. Over inproc://.
#include "peer_link.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <zmq.hpp>

namespace labmesh::coordinator::peer {
namespace {

struct Seen {
  std::string route, key, frame;
  char origin = 0;
  std::string address;
};

class PeerLinkTest : public ::testing::Test {
 protected:
  PeerLinkTest() {
    zmq::socket_t router(context_, zmq::socket_type::router);
    router.bind("inproc://peer-link-test");
    hub_ = std::make_unique<PeerHub>(
        std::move(router),
        PeerHub::Handlers{
            [this](const std::string& route, const std::string& key, std::string_view frame) {
              agents_.push_back({route, key, std::string(frame)});
            },
            [this](const std::string& route, const ApiSocket& api, const std::string& address,
                   zmq::message_t& request) {
              Seen seen{route, "", request.to_string(), api.tag, address};
              requests_.push_back(seen);
            }});
    standby_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    standby_.connect("inproc://peer-link-test");
  }

  // Sends one message from the standby and lets the hub drain it.
  void FromStandby(std::initializer_list<std::string_view> frames) {
    ASSERT_TRUE(SendFrames(standby_, frames));
    zmq::pollitem_t item{hub_->socket().handle(), 0, ZMQ_POLLIN, 0};
    ASSERT_EQ(zmq::poll(&item, 1, std::chrono::seconds(5)), 1);
    hub_->Drain(16);
  }

  // The next message the standby receives (empty when none came within 5 s).
  std::vector<std::string> ToStandby() {
    zmq::pollitem_t item{standby_.handle(), 0, ZMQ_POLLIN, 0};
    std::vector<std::string> out;
    if (zmq::poll(&item, 1, std::chrono::seconds(5)) != 1) return out;
    std::vector<zmq::message_t> frames;
    if (!ReadFrames(standby_, &frames)) return out;
    for (auto& frame : frames) out.push_back(frame.to_string());
    return out;
  }

  zmq::context_t context_;
  std::unique_ptr<PeerHub> hub_;
  zmq::socket_t standby_;
  std::vector<Seen> agents_, requests_;
};

TEST_F(PeerLinkTest, RelayedFramesReachTheHandlersAndTheAnswersFindTheirWayBack) {
  FromStandby({kAgent, "agent-7", "KEY", "hello"});
  ASSERT_EQ(agents_.size(), 1u);
  EXPECT_EQ(agents_[0].key, "KEY");
  EXPECT_EQ(agents_[0].frame, "hello");
  EXPECT_EQ(agents_[0].route[0], kAgentMark);
  hub_->SendToAgent(agents_[0].route, "welcome");
  EXPECT_EQ(ToStandby(), (std::vector<std::string>{"A", "agent-7", "welcome"}));

  FromStandby({kApi, "wclient-3", "10.0.0.5", "request"});
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].origin, kWebApi.tag);
  EXPECT_EQ(requests_[0].address, "10.0.0.5");
  EXPECT_EQ(requests_[0].frame, "request");
  EXPECT_EQ(requests_[0].route[0], kApiMark);
  hub_->SendToApi(requests_[0].route, "reply");
  EXPECT_EQ(ToStandby(), (std::vector<std::string>{"Q", "wclient-3", "reply"}));

  FromStandby({kPing});
  EXPECT_EQ(ToStandby(), (std::vector<std::string>{"H"}));
}

TEST_F(PeerLinkTest, MessagesOfAnyOtherShapeAreDropped) {
  FromStandby({"A"});                                // too short
  FromStandby({kAgent, "agent", "KEY"});             // a frame missing
  FromStandby({kAgent, "agent", "KEY", "x", "y"});   // one too many
  FromStandby({kApi, "", "addr", "request"});        // no socket tag
  FromStandby({kApi, "zclient", "addr", "request"});  // a socket no standby has
  FromStandby({"Z", "what", "is", "this"});          // an unknown kind
  FromStandby({kPing, "extra"});
  EXPECT_TRUE(agents_.empty());
  EXPECT_TRUE(requests_.empty());
  // And the hub still serves.
  FromStandby({kAgent, "agent", "KEY", "frame"});
  EXPECT_EQ(agents_.size(), 1u);
}

TEST(PeerRoutes, RoutesSplitBackAndGarbageIsNotARoute) {
  std::string route = RelayedRoute(kAgentMark, std::string("\0\1\2\3\4", 5), "agent");
  std::string_view link, inner;
  ASSERT_TRUE(SplitRelayedRoute(route, &link, &inner));
  EXPECT_EQ(link, std::string_view("\0\1\2\3\4", 5));
  EXPECT_EQ(inner, "agent");
  EXPECT_FALSE(SplitRelayedRoute("", &link, &inner));
  EXPECT_FALSE(SplitRelayedRoute(std::string("\0\5abc", 5), &link, &inner));  // not a mark
  EXPECT_FALSE(SplitRelayedRoute(std::string("\1\x09" "abc", 5), &link, &inner));  // too short
  // Sending to something that is not a relayed route sends nothing.
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  PeerHub hub(std::move(router), {});
  hub.SendToAgent("plain-routing-id", "frame");
}

}  // namespace
}  // namespace labmesh::coordinator::peer
