// otp::dist::Node — this runtime as a node of an Erlang cluster (Erlang's net_kernel and its
// connections): a name, a cookie, EPMD registration, connections to other nodes over Erlang's
// distribution protocol, ticks, nodeup and nodedown.
//
//   auto node = co_await otp::dist::Node::start_link({.name = "cpp@127.0.0.1", .cookie = "c"});
//   co_await otp::dist::monitor_nodes(node.value());            // NodeUp / NodeDown messages
//   auto up = co_await otp::dist::connect_node(node.value(), "erl@127.0.0.1");   // ok or why not
//   auto peers = co_await otp::dist::nodes(node.value());       // {"erl@127.0.0.1"}
//   co_await otp::dist::set_frame_consumer(node.value(), otp::self());  // decoded Frames
//   co_await otp::dist::send_frame(node.value(), "erl@127.0.0.1", bytes);
//
// Processes. Node::start_link starts the node's process (the kernel, a GenServer linked to the
// caller), which listens (loopback by default), registers the name with EPMD (otp/dist/epmd.hpp)
// and holds the registration's connection for as long as it lives. One process, linked to the
// kernel, accepts connections; each connection, accepted or made, is a process of its own (as the
// BEAM's distribution controller): it owns the socket, runs the handshake (otp/dist/handshake.hpp)
// and then the connection. The kernel keeps the table of connections, decides the acceptor's
// status (simultaneous connect: the greater name keeps its own attempt; `alive` when a connection
// to that node is up), answers connect_node once the handshake is done, and sends NodeUp and
// NodeDown. A connection that ends, whatever the cause, is a NodeDown for its subscribers.
//
// After the handshake each message is framed by a 4-byte big-endian length. A zero-length frame
// is a tick: a connection sends one whenever it has sent nothing for a quarter of net_ticktime,
// and a peer from which nothing (ticks included) came for net_ticktime is down
// (`net_tick_timeout`). A frame longer than max_frame ends the connection. Any other frame is
// decoded (otp/dist/detail/control.hpp: the pass-through byte 112, the control message, the
// message); one that does not decode ends the connection, logged. The node answers net_kernel's
// is_auth itself (so a BEAM node's net_adm:ping of ours is pong); every other frame goes, bytes
// and terms, to the frame consumer as a Frame message, or is dropped when there is none: a
// connection stays up whatever well-formed frames the peer sends (a BEAM node's `global` sends
// its own messages at once). send_frame writes a frame's bytes as given.
//
// A runtime that starts no Node is unchanged: nothing here runs until start_link.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "otp/co.hpp"
#include "otp/dist/epmd.hpp"
#include "otp/dist/handshake.hpp"
#include "otp/dist/term.hpp"
#include "otp/duration.hpp"
#include "otp/pid.hpp"
#include "otp/result.hpp"

namespace otp::dist {

struct NodeOptions {
  std::string name;                   // alive@host: long names (host as written, 127.0.0.1 ...)
  std::optional<std::string> cookie;  // else the first line of ~/.erlang.cookie
  std::string listen_address = "127.0.0.1";  // "0.0.0.0" to accept other hosts
  std::uint16_t listen_port = 0;             // 0: one the kernel picks
  Duration net_ticktime = std::chrono::seconds(60);
  Duration setup_timeout = std::chrono::seconds(7);  // a handshake's limit (net_setuptime)
  std::size_t max_frame = std::size_t{64} << 20;     // the longest frame taken
  Epmd epmd = Epmd::from_environment();
  bool register_with_epmd = true;  // false: reachable only by its port (tests)
  std::uint64_t flags = default_flags;
};

// To the subscribers of monitor_nodes and, for its node, to a process that monitor_node'd it.
struct NodeUp {
  std::string node;
};
struct NodeDown {
  std::string node;
  Reason reason;  // why the connection ended (or why it could not be made)
};
// A frame a peer sent that the node does not handle itself (set_frame_consumer): its bytes and
// its terms.
struct Frame {
  std::string node;
  std::string bytes;            // the pass-through byte 112, the control message, the message
  Term control;                 // the control message: a tuple, the operation first
  std::optional<Term> message;  // for the operations that carry one (REG_SEND, SEND, ...)
};

class Node {
 public:
  // Starts this runtime's node, linked to the caller. Fails with {invalid_node_name, ...},
  // {no_cookie, Path}, a listen error, or EPMD's (econnrefused when no EPMD runs; {epmd,
  // {alive2, 1}} when the name is taken).
  static Co<Result<Node>> start_link(NodeOptions options);

  const std::string& name() const { return name_; }
  Pid pid() const { return pid_; }
  std::uint32_t creation() const { return creation_; }
  std::uint16_t port() const { return port_; }  // where it listens

 private:
  Pid pid_;
  std::string name_;
  std::uint32_t creation_ = 0;
  std::uint16_t port_ = 0;
};

// Connects to `peer` (alive@host) unless connected (net_kernel:connect_node): PORT_PLEASE2 to
// the EPMD of the peer's host, then the handshake. ok once connected; the reason otherwise.
Co<Result<void>> connect_node(Node node, std::string peer);
// The connected nodes (Erlang's nodes()).
Co<std::vector<std::string>> nodes(Node node);
// Erlang's monitor_node(Node, Flag): with `on`, the caller gets one NodeDown when the connection
// to `peer` ends or cannot be made (a connection is attempted when there is none); each call
// is one monitor, and `on = false` removes one.
Co<void> monitor_node(Node node, std::string peer, bool on = true);
// net_kernel:monitor_nodes(Flag): NodeUp and NodeDown for every node, to the caller.
Co<void> monitor_nodes(Node node, bool on = true);
// Ends the connection to `peer`: true when there was one.
Co<bool> disconnect_node(Node node, std::string peer);
// Writes `bytes` as one frame to `peer`. Fails with noconnection when not connected.
Co<Result<void>> send_frame(Node node, std::string peer, std::string bytes);
// Frame messages go to `consumer` from now on (an empty Pid: dropped again).
Co<void> set_frame_consumer(Node node, Pid consumer);
// Stops the node: every connection closes (its peers see nodedown) and the name leaves EPMD.
Co<void> stop(Node node);

}  // namespace otp::dist
