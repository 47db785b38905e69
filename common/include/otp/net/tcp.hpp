// otp::net — TCP sockets owned by processes (Erlang's gen_tcp).
//
//   auto l = otp::net::listen(0);                            // 127.0.0.1, an ephemeral port
//   auto s = co_await otp::net::accept(*l, 5s);              // the caller owns the socket
//   otp::net::send(*s, "hello");
//   auto bytes = co_await otp::net::recv(*s, 0, 1s);         // passive: whatever is there
//   otp::net::setopts(*s, otp::net::active::once);           // or: one Tcp message, then re-arm
//   co_await otp::receive([](otp::net::Tcp t) { ... }, [](otp::net::TcpClosed c) { ... });
//
// Ownership. A socket is owned by one process, its controlling process: the
// one that connected or accepted it, until controlling_process gives it to
// another. Only the owner receives its messages and may recv; any process may
// send, setopts or close. When the owner exits the socket closes (queued data
// is still written, for up to linger_timeout, then the peer sees EOF); its
// lifetime follows the owner, not the handles: a Socket is a plain value to
// copy and send in messages, and a handle to a closed socket answers `closed`.
// A Listener is owned the same way by the process that called listen; its port
// is free by the time the owner's exit reaches its links, monitors and
// supervisor, so a restarted listener can always bind it again.
//
// Modes (Erlang's {active, ...}; the default here is passive, as
// {active, false}):
//   passive       co_await recv(s, n, timeout): exactly n bytes, or with n = 0
//                 whatever is available (at least one byte). Nothing is read
//                 from the kernel while no recv waits: the peer is held back
//                 by TCP's own flow control.
//   active::once  one Tcp{socket, data} message, then the socket is passive
//                 again until the next setopts: at most one Tcp message waits
//                 in the owner's mailbox.
//   active::n(k)  k Tcp messages, then TcpPassive{socket} and passive; as in
//                 Erlang, n(k) on a socket already in that mode adds k.
//   active::on    a Tcp message for every read (no flow control).
// In an active mode the end of the stream arrives as TcpClosed{socket}, an
// error as TcpError{socket, reason} followed by TcpClosed.
//
// Errors are values: otp::Result<T> (otp/result.hpp) holds the value or an
// otp::Reason named like Erlang's inet errors: `closed`, `timeout`,
// `econnrefused`, `nxdomain`, `econnreset`, `not_owner`, `einval`, ...
//
// send is asynchronous: the bytes are queued to the IO thread, and send
// returns at once. A write error closes the socket; the owner learns it as
// TcpError/TcpClosed (active) or from its next recv or send (passive). The
// queue is bounded: a send that would take it past SocketOptions::send_limit
// bytes fails with `enobufs` (a send to an empty queue is always taken), so
// a slow peer cannot make memory grow without bound; queued_bytes() lets a
// sender slow down before that.
//
// recv, accept and connect wait in the caller's mailbox (holding no OS
// thread); their timeouts run on the IO thread's real clock, even in a
// virtual-clock runtime. Each runtime has one IO thread, started on first use
// and stopped by Runtime::shutdown, which closes every socket left open. How
// it works: src/net/io.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/pid.hpp"
#include "otp/reason.hpp"
#include "otp/result.hpp"
#include "otp/runtime.hpp"

namespace otp::net {

// The reason for an inet error atom: error("econnrefused") renders as `econnrefused`;
// error("timeout") is Reason::timeout().
inline Reason error(std::string_view atom) { return Reason::parse(atom); }

namespace detail {
class SocketState;
class ListenerState;
}  // namespace detail

// A connected TCP socket (a handle: copy it freely; equal handles name the
// same socket). Rendered like an Erlang port: #Port<0.7>.
class Socket {
 public:
  Socket() = default;
  explicit Socket(std::shared_ptr<detail::SocketState> state);
  explicit operator bool() const { return state_ != nullptr; }
  std::uint64_t id() const;
  std::uint16_t local_port() const;
  std::uint16_t peer_port() const;
  std::string peer_address() const;
  std::string to_string() const;
  friend bool operator==(const Socket& a, const Socket& b) { return a.state_ == b.state_; }
  const std::shared_ptr<detail::SocketState>& state() const { return state_; }

 private:
  std::shared_ptr<detail::SocketState> state_;
};

// A listening socket.
class Listener {
 public:
  Listener() = default;
  explicit Listener(std::shared_ptr<detail::ListenerState> state);
  explicit operator bool() const { return state_ != nullptr; }
  std::uint64_t id() const;
  // The port it listens on (the one the kernel chose for port 0).
  std::uint16_t port() const;
  std::string to_string() const;
  friend bool operator==(const Listener& a, const Listener& b) { return a.state_ == b.state_; }
  const std::shared_ptr<detail::ListenerState>& state() const { return state_; }

 private:
  std::shared_ptr<detail::ListenerState> state_;
};

// How data reaches the owner (see the top of this file).
struct Active {
  enum class Kind : unsigned char { passive, once, n, on };
  Kind kind = Kind::passive;
  int count = 0;  // for Kind::n
};
inline constexpr Active passive{Active::Kind::passive, 0};
namespace active {
inline constexpr Active once{Active::Kind::once, 0};
inline constexpr Active on{Active::Kind::on, 0};
constexpr Active n(int k) { return Active{Active::Kind::n, k}; }
}  // namespace active

// The messages an owner receives.
struct Tcp {
  Socket socket;
  std::string data;
};
struct TcpClosed {
  Socket socket;
};
struct TcpError {
  Socket socket;
  Reason reason;
};
struct TcpPassive {
  Socket socket;
};

struct SocketOptions {
  Active active = passive;
  bool nodelay = true;  // TCP_NODELAY: small writes go out at once
  // The most bytes send() may have queued and not yet written.
  std::size_t send_limit = std::size_t{64} << 20;
  // How long a close (or the owner's exit) lets queued data drain before the
  // socket is reset.
  Duration linger_timeout = std::chrono::seconds(5);
};

struct ListenOptions {
  // Loopback by default; "0.0.0.0" or "::" to listen on every interface.
  std::string address = "127.0.0.1";
  int backlog = 128;
  bool reuse_address = true;
  // The options of the sockets accept() returns.
  SocketOptions socket{};
};

// Connects to host:port (a name is resolved on the IO thread). The caller
// becomes the owner. Errors: econnrefused, nxdomain, timeout, ...
Co<Result<Socket>> connect(std::string host, std::uint16_t port, Duration timeout = infinity,
                           SocketOptions options = {});
// Listens on options.address:port (port 0: one the kernel picks). The caller
// becomes the owner. Errors: eaddrinuse, eacces, einval, ...
Result<Listener> listen(std::uint16_t port, ListenOptions options = {});
// Waits for a connection; the caller becomes the new socket's owner. Any
// process may accept on a listener, several at once. Errors: timeout, closed.
Co<Result<Socket>> accept(Listener listener, Duration timeout = infinity);

// Queues `data` for writing. Errors: closed (or the error that closed it),
// enobufs (over send_limit).
Result<void> send(const Socket& socket, std::string data);
// Passive mode, the owner only: exactly `n` bytes, or for n = 0 what is
// available. Errors: timeout (the bytes read so far stay for the next recv),
// closed, not_owner, einval (the socket is in an active mode), ...
Co<Result<std::string>> recv(Socket socket, std::size_t n, Duration timeout = infinity);
// Changes the mode (Erlang's inet:setopts(S, [{active, ...}])). Errors: closed.
Result<void> setopts(const Socket& socket, Active mode);
// Gives the socket to `new_owner`: from now on its messages go there, and the
// Tcp/TcpClosed/TcpError/TcpPassive messages of this socket already in the
// caller's mailbox are moved there, in order. The owner only (not_owner);
// badarg when new_owner is not alive; closed.
Result<void> controlling_process(const Socket& socket, const Pid& new_owner);
Result<void> controlling_process(const Listener& listener, const Pid& new_owner);
// Bytes queued by send and not yet written.
std::size_t queued_bytes(const Socket& socket);
// Closes the socket once its queued data is written (or linger_timeout has
// passed); at once, for the caller. Closing a closed socket does nothing. No
// TcpClosed follows a close: the owner knows.
void close(const Socket& socket);
// Stops listening; pending accepts answer `closed`. The port is free when close returns.
void close(const Listener& listener);

// The sockets and listeners of the caller's runtime that are open: owned by a
// live process and not closed (a test and observer hook).
std::size_t open_sockets();

// A test hook. When set, it is called on the IO thread each time an active-once socket keeps
// what it read because its owner has not re-armed: `held` is the bytes kept so far, `end` true
// when the end (or an error) is kept too. It runs under the socket's lock, so it should only
// record what it sees (in atomics). A test waits on what it recorded to re-arm, or recv, once
// the socket holds what it should, instead of sleeping and hoping. Null (the default): none.
using HeldHook = void (*)(const Socket& socket, std::size_t held, bool end);
void set_held_hook(HeldHook hook) noexcept;

}  // namespace otp::net

template <>
struct fmt::formatter<otp::net::Socket> : fmt::formatter<std::string_view> {
  auto format(const otp::net::Socket& s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(s.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<otp::net::Listener> : fmt::formatter<std::string_view> {
  auto format(const otp::net::Listener& l, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(l.to_string(), ctx);
  }
};
