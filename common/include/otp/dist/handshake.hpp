// otp::dist::Handshake — the distribution handshake (version 6, OTP 23 and later) as a pure state
// machine: bytes in, bytes out, no sockets, no clock. A connection process drives it
// (otp/dist/node.hpp); tests and the fuzz target feed it bytes directly.
//
//   auto hs = otp::dist::Handshake::initiate({.name = "cpp@127.0.0.1", .cookie = "secret",
//                                             .creation = 7}, random_challenge);
//   net::send(socket, hs.take_output());                // send_name
//   while (hs.state() == otp::dist::Handshake::State::running) {
//     hs.feed(co_await net::recv(socket, 0));          // whatever arrived, in any pieces
//     net::send(socket, hs.take_output());
//   }
//   if (hs.state() == otp::dist::Handshake::State::done) use(hs.peer(), hs.take_rest());
//
// The two roles, A the initiator (it connected) and B the acceptor, each message framed by a
// 2-byte big-endian length:
//   A -> B  'N' flags:8 creation:4 nlen:2 name       send_name
//   B -> A  's' status                                ok, ok_simultaneous, nok, not_allowed, alive
//   A -> B  's' "true" | "false"                      only after `alive`
//   B -> A  'N' flags:8 challenge:4 creation:4 nlen:2 name
//   A -> B  'r' challenge:4 digest:16                 digest = MD5(cookie ++ B's challenge)
//   B -> A  'a' digest:16                             digest = MD5(cookie ++ A's challenge)
// A challenge enters the digest as its unsigned decimal text. Each side checks the other's digest
// against its own cookie, so a wrong cookie fails on both sides: B refuses A's reply (and sends
// nothing more), A never gets a valid ack.
//
// The acceptor's status is the node's decision, not the handshake's: once B has A's name the
// state is needs_status, and the driver answers with answer(status) after looking at its own
// connections (simultaneous connect: the node with the greater name keeps its own attempt and
// answers `nok`; the other answers `ok_simultaneous` and drops its attempt; `alive` when a
// connection to A is up). On `alive` the initiator answers "true": it is connecting, so any older
// connection of its own to B is gone.
//
// Either side refuses a peer whose flags lack the mandatory set (mandatory_flags below, OTP 26's:
// OTP 26 and later refuse a peer without UNLINK_ID and V4_NC), a message longer than
// Options::max_message, a message that is malformed or comes out of turn, and the old version 5
// send_name ('n'). Any failure is final: state() is failed and error() says why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace otp::dist {

// Capability flags (erts/emulator/beam/dist.h's values).
namespace flag {
inline constexpr std::uint64_t published = 0x1;
inline constexpr std::uint64_t atom_cache = 0x2;
inline constexpr std::uint64_t extended_references = 0x4;
inline constexpr std::uint64_t dist_monitor = 0x8;
inline constexpr std::uint64_t fun_tags = 0x10;
inline constexpr std::uint64_t dist_monitor_name = 0x20;
inline constexpr std::uint64_t hidden_atom_cache = 0x40;
inline constexpr std::uint64_t new_fun_tags = 0x80;
inline constexpr std::uint64_t extended_pids_ports = 0x100;
inline constexpr std::uint64_t export_ptr_tag = 0x200;
inline constexpr std::uint64_t bit_binaries = 0x400;
inline constexpr std::uint64_t new_floats = 0x800;
inline constexpr std::uint64_t unicode_io = 0x1000;
inline constexpr std::uint64_t dist_hdr_atom_cache = 0x2000;
inline constexpr std::uint64_t small_atom_tags = 0x4000;
inline constexpr std::uint64_t utf8_atoms = 0x10000;
inline constexpr std::uint64_t map_tag = 0x20000;
inline constexpr std::uint64_t big_creation = 0x40000;
inline constexpr std::uint64_t send_sender = 0x80000;
inline constexpr std::uint64_t big_seqtrace_labels = 0x100000;
inline constexpr std::uint64_t exit_payload = 0x400000;
inline constexpr std::uint64_t fragments = 0x800000;
inline constexpr std::uint64_t handshake_23 = 0x1000000;
inline constexpr std::uint64_t unlink_id = 0x2000000;
inline constexpr std::uint64_t mandatory_25_digest = 0x4000000;
inline constexpr std::uint64_t spawn = std::uint64_t{1} << 32;
inline constexpr std::uint64_t name_me = std::uint64_t{1} << 33;
inline constexpr std::uint64_t v4_nc = std::uint64_t{1} << 34;
inline constexpr std::uint64_t alias = std::uint64_t{1} << 35;
}  // namespace flag

// What OTP 25 requires of a peer; a peer may stand for all of it with mandatory_25_digest.
inline constexpr std::uint64_t mandatory_25_flags =
    flag::extended_references | flag::fun_tags | flag::extended_pids_ports | flag::utf8_atoms |
    flag::new_fun_tags | flag::big_creation | flag::new_floats | flag::map_tag |
    flag::export_ptr_tag | flag::bit_binaries | flag::handshake_23;
// What OTP 26 and later require (and so do we).
inline constexpr std::uint64_t mandatory_flags = mandatory_25_flags | flag::unlink_id | flag::v4_nc;
// What a node advertises by default: the mandatory set, the digest bit OTP 27 requires, and
// `published` (a normal, visible node). Frames go without a distribution header (no
// dist_hdr_atom_cache): each is the pass-through byte 112 followed by the terms.
inline constexpr std::uint64_t default_flags =
    mandatory_flags | flag::mandatory_25_digest | flag::published;

// Whether `flags` has every mandatory capability (the 25 set spelled out or by its digest bit).
constexpr bool has_mandatory_flags(std::uint64_t flags) {
  const bool has25 = (flags & mandatory_25_flags) == mandatory_25_flags ||
                     (flags & flag::mandatory_25_digest) != 0;
  const std::uint64_t need26 = flag::unlink_id | flag::v4_nc | flag::handshake_23;
  return has25 && (flags & need26) == need26;
}

// The acceptor's answer to a send_name.
enum class AcceptStatus : unsigned char { ok, ok_simultaneous, nok, not_allowed, alive };
std::string_view to_string(AcceptStatus status);

// What the handshake learnt of the other node.
struct Peer {
  std::string name;
  std::uint64_t flags = 0;
  std::uint32_t creation = 0;
};

// MD5(cookie ++ decimal text of challenge): the 16-byte digest both sides check.
std::string handshake_digest(std::uint32_t challenge, std::string_view cookie);

class Handshake {
 public:
  enum class Role : unsigned char { initiator, acceptor };
  enum class State : unsigned char { running, needs_status, done, failed };

  struct Options {
    std::string name;  // our full name, alive@host
    std::string cookie;
    std::uint32_t creation = 0;
    std::uint64_t flags = default_flags;
    // The initiator: the node it means to reach; a challenge from another name fails. Empty:
    // any.
    std::string expected_peer{};
    std::size_t max_message = 4096;  // the longest handshake message taken
  };

  // The initiator's side: its send_name is in take_output() at once.
  static Handshake initiate(Options options, std::uint32_t challenge);
  // The acceptor's side: waits for the peer's send_name.
  static Handshake accept(Options options, std::uint32_t challenge);

  // Takes received bytes, in pieces of any size. Bytes past the last handshake message are kept
  // for take_rest(). Ignored once done or failed.
  void feed(std::string_view bytes);
  // The acceptor, in needs_status: its answer to the peer's send_name (peer().name is known).
  void answer(AcceptStatus status);

  // The bytes to send now (and forgets them).
  std::string take_output();
  // Once done: the bytes received after the handshake (the first frames of the connection).
  std::string take_rest();

  State state() const { return state_; }
  Role role() const { return role_; }
  // Why it failed (empty while not failed).
  const std::string& error() const { return error_; }
  // The other node: its name once it is known, all of it once done.
  const Peer& peer() const { return peer_; }
  // The flags both sides have (once done).
  std::uint64_t agreed_flags() const { return options_.flags & peer_.flags; }

 private:
  enum class Step : unsigned char {
    name,             // acceptor: waits for send_name
    status,           // initiator: waits for the status
    alive_answer,     // acceptor: sent `alive`, waits for "true"/"false"
    challenge,        // initiator: waits for B's challenge
    challenge_reply,  // acceptor: waits for A's reply
    challenge_ack,    // initiator: waits for B's ack
    finished
  };

  Handshake(Role role, Options options, std::uint32_t challenge);
  void message(std::string_view m);
  void fail(std::string why);
  void write(std::string_view body);
  void send_challenge();
  void on_name(std::string_view m);
  void on_status(std::string_view m);
  void on_alive_answer(std::string_view m);
  void on_challenge(std::string_view m);
  void on_challenge_reply(std::string_view m);
  void on_challenge_ack(std::string_view m);

  Role role_;
  State state_ = State::running;
  Step step_;
  Options options_;
  std::uint32_t challenge_;  // ours
  Peer peer_;
  std::string in_;
  std::string out_;
  std::string error_;
};

}  // namespace otp::dist
