// otp::dist EPMD client — the Erlang Port Mapper Daemon's requests a node needs.
//
//   auto epmd = otp::dist::Epmd::from_environment();         // ERL_EPMD_PORT, else 4369
//   auto reg = co_await otp::dist::register_node(epmd, "cpp", listener.port());
//   // reg->creation: this incarnation's creation; keep reg->socket open to stay registered
//   auto peer = co_await otp::dist::port_please(epmd, "erl");  // where erl@host listens
//   auto all = co_await otp::dist::names(epmd);                 // {"erl", 40123}, ...
//
// Every request is one TCP connection to EPMD, made by the calling process (it owns the socket).
// A registration (ALIVE2_REQ, answered by ALIVE2_X_RESP with a 32-bit creation, or by the older
// ALIVE2_RESP with a 16-bit one) lasts as long as its connection stays open: close
// Registration::socket, or let its owner exit, and EPMD forgets the name. PORT_PLEASE2_REQ and
// NAMES_REQ are answered and the connection closed by EPMD.
//
// Where EPMD is: Epmd::from_environment() reads ERL_EPMD_PORT as erl does (4369 when unset). A
// node registers with the EPMD of its own host at the loopback address, which EPMD always listens
// on whatever ERL_EPMD_ADDRESS (the addresses EPMD itself listens on) says; a peer's EPMD is
// reached at the host part of the peer's name.
// Errors are values: the socket's (`econnrefused`, `timeout`, `closed`, ...), or `{epmd, ...}`
// for a refusal or an answer EPMD should not have given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "otp/co.hpp"
#include "otp/duration.hpp"
#include "otp/net/tcp.hpp"
#include "otp/result.hpp"

namespace otp::dist {

struct Epmd {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4369;
  Duration timeout = std::chrono::seconds(5);  // each request, connect included

  // Port from ERL_EPMD_PORT when it is set and valid; the host is the loopback address.
  static Epmd from_environment();
};

struct Registration {
  net::Socket socket;          // open while the name is registered
  std::uint32_t creation = 0;  // what EPMD gave this incarnation of the node
};

// Where a registered node listens (PORT2_RESP).
struct NodePort {
  std::uint16_t port = 0;
  std::uint16_t highest_version = 0;
  std::uint16_t lowest_version = 0;
  bool hidden = false;  // node type 72 (a hidden node) rather than 77
};

struct RegisteredName {
  std::string name;  // the part before '@'
  std::uint16_t port = 0;
  friend bool operator==(const RegisteredName&, const RegisteredName&) = default;
};

// Registers `alive` (the part of the node's name before '@') as listening on `port`, as a
// normal node speaking version 6. Fails with {epmd, {alive2, N}} when EPMD refuses (the name is
// taken: N = 1).
Co<Result<Registration>> register_node(Epmd epmd, std::string alive, std::uint16_t port);
// Where the node `alive` of epmd.host listens. Fails with {epmd, not_registered} when it is not
// registered.
Co<Result<NodePort>> port_please(Epmd epmd, std::string alive);
// The names registered with EPMD and their ports.
Co<Result<std::vector<RegisteredName>>> names(Epmd epmd);

}  // namespace otp::dist
