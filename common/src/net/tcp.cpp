// otp::net's TCP API: the caller's side of each operation. The IO thread's
// side, and why it is split so, are in io.hpp.
#include "otp/net/tcp.hpp"

#include <stdexcept>

#include <sys/socket.h>

#include "io.hpp"
#include "otp/receive.hpp"

namespace otp::net {

using detail::Io;
using detail::ListenerState;
using detail::RecvReply;
using detail::SocketReply;
using detail::SocketState;

// ---- handles -------------------------------------------------------------------

Socket::Socket(std::shared_ptr<SocketState> state) : state_(std::move(state)) {}
std::uint64_t Socket::id() const { return state_ ? state_->id : 0; }
std::uint16_t Socket::local_port() const { return state_ ? state_->local_port : 0; }
std::uint16_t Socket::peer_port() const { return state_ ? state_->peer_port : 0; }
std::string Socket::peer_address() const { return state_ ? state_->peer_address : std::string{}; }
std::string Socket::to_string() const { return fmt::format("#Port<0.{}>", id()); }

Listener::Listener(std::shared_ptr<ListenerState> state) : state_(std::move(state)) {}
std::uint64_t Listener::id() const { return state_ ? state_->id : 0; }
std::uint16_t Listener::port() const { return state_ ? state_->port : 0; }
std::string Listener::to_string() const { return fmt::format("#Port<0.{}>", id()); }

// ---- operations ------------------------------------------------------------------

namespace {

Pid caller_or_throw(const char* what) {
  Pid me = otp::detail::caller();
  if (!me)
    throw std::logic_error(std::string("otp::net::") + what +
                           " must be called from a process or an otp::Scoped handle");
  return me;
}

Reason failure_of(const SocketState& s) {
  std::lock_guard lock(s.m);
  return s.failure;
}

// Picks the caller's pending messages of one socket out of its mailbox.
struct SocketMessages : otp::detail::Waiter {
  explicit SocketMessages(const SocketState* s) : target(s) { match = &matches; }
  const SocketState* target;

  static bool matches(otp::detail::Waiter* w, otp::detail::Msg* m) {
    using otp::detail::is;
    using otp::detail::value_of;
    const SocketState* t = static_cast<SocketMessages*>(w)->target;
    if (is<Tcp>(m)) return value_of<Tcp>(m).socket.state().get() == t;
    if (is<TcpClosed>(m)) return value_of<TcpClosed>(m).socket.state().get() == t;
    if (is<TcpError>(m)) return value_of<TcpError>(m).socket.state().get() == t;
    if (is<TcpPassive>(m)) return value_of<TcpPassive>(m).socket.state().get() == t;
    return false;
  }
};

}  // namespace

Co<Result<Socket>> connect(std::string host, std::uint16_t port, Duration timeout,
                           SocketOptions options) {
  auto io = Io::of_caller("connect");
  const Pid me = otp::detail::caller();
  auto st = std::make_shared<SocketState>(io, me, std::move(options));
  if (!io->adopt(st, me)) co_return error("closed");
  const Ref ref = make_ref();
  bool posted = io->post([st, host = std::move(host), port, timeout, me, ref]() mutable {
    st->start_connect(std::move(host), port, timeout, me, ref);
  });
  if (!posted) co_return error("closed");
  auto reply = co_await receive<SocketReply>([ref](const SocketReply& r) { return r.ref == ref; });
  co_return std::move(reply.result);
}

Result<Listener> listen(std::uint16_t port, ListenOptions options) {
  namespace asio = boost::asio;
  using asio::ip::tcp;
  auto io = Io::of_caller("listen");
  const Pid me = otp::detail::caller();
  auto st = std::make_shared<ListenerState>(io, me, std::move(options));
  // Adopted first: a shutdown from now on closes the acceptor, whenever it is made.
  if (!io->adopt(st, me)) return error("closed");
  boost::system::error_code ec;
  bool ran = io->with_context([&](asio::io_context& ioc) {
    auto address = asio::ip::make_address(st->options.address, ec);
    if (ec) return;
    const tcp::endpoint at(address, port);
    st->acceptor.emplace(ioc);
    st->acceptor->open(at.protocol(), ec);
    if (!ec && st->options.reuse_address)
      st->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) st->acceptor->bind(at, ec);
    if (!ec) st->acceptor->listen(st->options.backlog, ec);
    if (!ec) st->port = st->acceptor->local_endpoint(ec).port();
    if (ec) st->acceptor.reset();
  });
  if (!ran || ec) {
    st->closed.store(true, std::memory_order_release);
    io->disown(st.get(), me);
    return ran ? detail::error_of(ec) : error("closed");
  }
  return st->handle();
}

Co<Result<Socket>> accept(Listener listener, Duration timeout) {
  const Pid me = caller_or_throw("accept");
  auto st = listener.state();
  if (!st) co_return error("einval");
  const Ref ref = make_ref();
  if (st->closed.load(std::memory_order_acquire)) co_return error("closed");
  if (!st->io->post([st, me, ref, timeout] { st->accept(me, ref, timeout); }))
    co_return error("closed");
  auto reply = co_await receive<SocketReply>([ref](const SocketReply& r) { return r.ref == ref; });
  co_return std::move(reply.result);
}

Result<void> send(const Socket& socket, std::string data) {
  const auto& st = socket.state();
  if (!st) return error("einval");
  if (st->closed.load(std::memory_order_acquire)) return failure_of(*st);
  if (data.empty()) return {};
  // Under wm: a direct write and the posting of what it left are one step, so
  // the bytes of concurrent sends (any process may send) keep their order.
  std::lock_guard lock(st->wm);
  if (st->direct_fd >= 0 && st->queued.load(std::memory_order_acquire) == 0) {
    // Nothing queued or being written: write here, without waking the IO thread.
    const ssize_t n = ::send(st->direct_fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(data.size())) return {};
    // A partial write, a full buffer or an error: the IO thread writes the
    // rest, and reports the error as it would have.
    if (n > 0) data.erase(0, static_cast<std::size_t>(n));
  }
  const std::size_t size = data.size();
  const std::size_t before = st->queued.fetch_add(size, std::memory_order_relaxed);
  if (before != 0 && before + size > st->options.send_limit) {
    st->queued.fetch_sub(size, std::memory_order_relaxed);
    return error("enobufs");
  }
  if (!st->io->post([st, data = std::move(data)]() mutable { st->write(std::move(data)); })) {
    st->queued.fetch_sub(size, std::memory_order_relaxed);
    return error("closed");
  }
  return {};
}

Co<Result<std::string>> recv(Socket socket, std::size_t n, Duration timeout) {
  const Pid me = caller_or_throw("recv");
  auto st = socket.state();
  if (!st) co_return error("einval");
  if (st->closed.load(std::memory_order_acquire)) co_return failure_of(*st);
  if (st->owner() != me) co_return error("not_owner");
  const Ref ref = make_ref();
  st->will_post();
  if (!st->io->post([st, me, ref, n, timeout] { st->recv(me, ref, n, timeout); }))
    co_return error("closed");
  auto reply = co_await receive<RecvReply>([ref](const RecvReply& r) { return r.ref == ref; });
  co_return std::move(reply.result);
}

Result<void> setopts(const Socket& socket, Active mode) {
  const auto& st = socket.state();
  if (!st) return error("einval");
  if (st->closed.load(std::memory_order_acquire)) return failure_of(*st);
  // Re-arming an active-once socket is a flag flip, or the delivery of what
  // the IO thread read meanwhile: no wake of the IO thread (see io.hpp).
  if (mode.kind == Active::Kind::once && st->rearm_once()) return {};
  st->will_post();
  if (!st->io->post([st, mode] { st->setopts(mode); })) return error("closed");
  return {};
}

Result<void> controlling_process(const Socket& socket, const Pid& new_owner) {
  const auto& st = socket.state();
  if (!st) return error("einval");
  return st->transfer(new_owner, [&](const Pid& to) {
    SocketMessages pick(st.get());
    while (otp::detail::Msg* m = otp::detail::take_now(pick)) otp::detail::deliver(to, m);
  });
}

Result<void> controlling_process(const Listener& listener, const Pid& new_owner) {
  const auto& st = listener.state();
  if (!st) return error("einval");
  return st->transfer(new_owner, [](const Pid&) {});
}

std::size_t queued_bytes(const Socket& socket) {
  return socket ? socket.state()->queued.load(std::memory_order_relaxed) : 0;
}

void close(const Socket& socket) {
  const auto& st = socket.state();
  if (!st || st->closed.exchange(true)) return;
  st->io->post([st] { st->close_soon(); });
}

void close(const Listener& listener) {
  const auto& st = listener.state();
  if (!st || st->closed.exchange(true)) return;
  st->close_at_once();  // as gen_tcp:close: the port is free when close returns
  st->io->post([st] { st->close_now(); });
}

std::size_t open_sockets() { return Io::of_caller("open_sockets")->open_count(); }

}  // namespace otp::net
