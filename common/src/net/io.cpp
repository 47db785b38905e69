// The IO thread and the socket and listener state machines. See io.hpp.
#include "io.hpp"

#include <csignal>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <pthread.h>
#include <sys/socket.h>

#include "otp/detail/exit_hook.hpp"

namespace otp::net::detail {

namespace {
constexpr std::size_t chunk_size = 64 * 1024;

// What a read lands in before it is copied out: one per IO thread, not one per socket, so that
// a socket waiting for its peer holds no buffer (an idle connection would cost 64 KiB each).
char* read_chunk() {
  thread_local std::unique_ptr<char[]> chunk;
  if (!chunk) chunk = std::make_unique<char[]>(chunk_size);
  return chunk.get();
}

bool finite(Duration d) { return d != infinity && d.count() >= 0; }

std::atomic<HeldHook> held_hook{nullptr};  // set_held_hook
}  // namespace

Reason error_of(const boost::system::error_code& ec) {
  namespace e = asio::error;
  if (ec == e::eof || ec == e::bad_descriptor || ec == e::not_connected) return error("closed");
  if (ec == e::host_not_found || ec == e::host_not_found_try_again || ec == e::no_data)
    return error("nxdomain");
  if (ec == e::timed_out) return error("etimedout");
  if (ec.category() == boost::system::system_category() ||
      ec.category() == boost::system::generic_category()) {
    switch (ec.value()) {
      case ECONNREFUSED:
        return error("econnrefused");
      case ECONNRESET:
        return error("econnreset");
      case ECONNABORTED:
        return error("econnaborted");
      case EPIPE:
        return error("epipe");
      case EHOSTUNREACH:
        return error("ehostunreach");
      case ENETUNREACH:
        return error("enetunreach");
      case EADDRINUSE:
        return error("eaddrinuse");
      case EADDRNOTAVAIL:
        return error("eaddrnotavail");
      case EACCES:
        return error("eacces");
      case EINVAL:
        return error("einval");
      case ENOBUFS:
        return error("enobufs");
      case EMFILE:
        return error("emfile");
      default:
        break;
    }
  }
  return error(fmt::format("{{{}, {}}}", ec.category().name(), ec.value()));
}

// ---- Io --------------------------------------------------------------------

Io::Io() {
  ioc_.emplace(1);
  work_.emplace(ioc_->get_executor());
  // Like the scheduler threads, the IO thread leaves asynchronous signals to
  // the program's own threads.
  sigset_t block;
  sigset_t old;
  sigfillset(&block);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  thread_ = std::thread([this] {
    // A handler that throws (out of memory) loses its own operation, not the thread.
    for (;;) {
      try {
        ioc_->run();
        return;
      } catch (...) {
      }
    }
  });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

Io::~Io() { stop(); }

std::shared_ptr<Io> Io::of_caller(const char* what) {
  static const char key = 0;
  Pid me = otp::detail::caller();
  if (!me)
    throw std::logic_error(std::string("otp::net::") + what +
                           " must be called from a process or an otp::Scoped handle");
  auto s = otp::detail::service_of(me, &key, [] { return std::make_shared<Io>(); });
  return std::static_pointer_cast<Io>(s);
}

bool Io::post(std::function<void()> fn) {
  std::lock_guard lock(m_);
  if (stopped_) return false;
  queue_.push_back(std::move(fn));
  if (!scheduled_) {
    scheduled_ = true;
    asio::post(*ioc_, [this] { run_queue(); });
  }
  return true;
}

void Io::run_queue() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(m_);
    batch.swap(queue_);
    scheduled_ = false;
  }
  for (auto& fn : batch) fn();
}

bool Io::with_context(const std::function<void(asio::io_context&)>& fn) {
  std::lock_guard lock(m_);
  if (stopped_) return false;
  fn(*ioc_);
  return true;
}

bool Io::adopt(const std::shared_ptr<Owned>& s, const Pid& owner) {
  std::lock_guard lock(m_);
  if (stopped_) return false;
  auto [it, fresh] = owned_.try_emplace(owner.id());
  if (it->second.exited) return false;
  if (fresh) {
    std::weak_ptr<Io> weak = weak_from_this();
    bool armed = otp::detail::on_exit(owner, [weak](const Pid& pid, const Reason&) {
      if (auto io = weak.lock()) io->owner_exited(pid);
    });
    if (!armed) {
      owned_.erase(it);
      return false;
    }
  }
  it->second.states.emplace(s.get(), s);
  return true;
}

void Io::disown(const Owned* s, const Pid& owner) {
  std::shared_ptr<Owned> keep;  // released after the lock
  std::lock_guard lock(m_);
  auto it = owned_.find(owner.id());
  if (it == owned_.end()) return;
  auto found = it->second.states.find(s);
  if (found == it->second.states.end()) return;
  keep = std::move(found->second);
  it->second.states.erase(found);
  if (it->second.exited && it->second.states.empty()) owned_.erase(it);
}

std::size_t Io::open_count() {
  std::lock_guard lock(m_);
  std::size_t n = 0;
  for (auto& [pid, owner] : owned_)
    for (auto& [raw, s] : owner.states) n += s->closed.load(std::memory_order_acquire) ? 0 : 1;
  return n;
}

void Io::owner_exited(const Pid& pid) {
  std::vector<std::shared_ptr<Owned>> states;
  {
    std::lock_guard lock(m_);
    auto it = owned_.find(pid.id());
    if (it == owned_.end()) return;
    if (it->second.states.empty()) {
      owned_.erase(it);
      return;
    }
    it->second.exited = true;
    for (auto& [raw, s] : it->second.states) {
      s->closed.store(true, std::memory_order_release);
      states.push_back(s);
    }
  }
  for (auto& s : states) {
    s->close_at_once();
    post([s] { s->close_soon(); });
  }
}

void Io::stop() noexcept {
  std::unordered_map<std::uint64_t, Owner> left;
  {
    std::lock_guard lock(m_);
    if (stopped_) return;
    stopped_ = true;
    queue_.clear();
    left.swap(owned_);
  }
  work_.reset();
  ioc_->stop();
  if (thread_.joinable()) thread_.join();
  // The IO thread is gone: closing from here races nothing.
  for (auto& [pid, owner] : left)
    for (auto& [raw, s] : owner.states) s->close_now();
  left.clear();
  ioc_.reset();  // destroys the handlers still queued, and their references
}

// ---- Owned -------------------------------------------------------------------

Owned::Owned(std::shared_ptr<Io> io_, Pid owner)
    : io(std::move(io_)), id(io->next_id()), owner_(owner) {}

Result<void> Owned::transfer(const Pid& to, const std::function<void(const Pid&)>& forward) {
  const Pid me = otp::detail::caller();
  std::lock_guard lock(m);
  if (closed.load(std::memory_order_acquire)) return error("closed");
  if (me != owner_) return error("not_owner");
  if (to == owner_) return {};
  if (!io->adopt(shared_from_this(), to)) return error(is_alive(to) ? "closed" : "badarg");
  io->disown(this, owner_);
  owner_ = to;
  forward(to);
  return {};
}

// ---- SocketState ---------------------------------------------------------------

SocketState::SocketState(std::shared_ptr<Io> io_, Pid owner, SocketOptions options_)
    : Owned(std::move(io_), owner), options(std::move(options_)) {}

void SocketState::start_connect(std::string host, std::uint16_t port, Duration timeout, Pid to,
                                Ref ref) {
  if (done_ || closed.load(std::memory_order_acquire))
    return finish_connect(error("closed"), to, ref);
  auto self = std::static_pointer_cast<SocketState>(shared_from_this());
  auto& ioc = io->context();
  socket_.emplace(ioc);
  resolver_.emplace(ioc);
  connecting_ = true;
  if (finite(timeout)) {
    timer_.emplace(ioc);
    timer_->expires_after(timeout);
    timer_->async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->done_ || !self->connecting_) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      if (self->resolver_) self->resolver_->cancel();
      if (self->socket_) self->socket_->close(ignored);
    });
  }
  resolver_->async_resolve(
      host, std::to_string(port),
      [self, to, ref](const boost::system::error_code& ec,
                      const tcp::resolver::results_type& results) {
        if (self->done_) return;
        if (ec || self->timed_out_) {
          return self->finish_connect(self->timed_out_ ? error("timeout") : error_of(ec), to, ref);
        }
        asio::async_connect(
            *self->socket_, results,
            [self, to, ref](const boost::system::error_code& ec2, const tcp::endpoint&) {
              if (self->done_) return;
              if (ec2 || self->timed_out_) {
                return self->finish_connect(self->timed_out_ ? error("timeout") : error_of(ec2), to,
                                            ref);
              }
              boost::system::error_code ignored;
              auto local = self->socket_->local_endpoint(ignored);
              auto peer = self->socket_->remote_endpoint(ignored);
              self->local_port = local.port();
              self->peer_port = peer.port();
              self->peer_address = peer.address().to_string();
              self->finish_connect(self->handle(), to, ref);
            });
      });
}

void SocketState::finish_connect(Result<Socket> result, Pid to, Ref ref) {
  connecting_ = false;
  resolver_.reset();
  if (timer_) timer_->cancel();
  if (!result.ok()) {
    close_now();  // before the answer: a caller told "refused" finds no socket of it left open
    otp::send(to, SocketReply{ref, std::move(result)});
    return;
  }
  otp::send(to, SocketReply{ref, std::move(result)});
  start_mode();
}

void SocketState::opened(tcp::socket socket) {
  boost::system::error_code ignored;
  local_port = socket.local_endpoint(ignored).port();
  auto peer = socket.remote_endpoint(ignored);
  peer_port = peer.port();
  peer_address = peer.address().to_string();
  socket_.emplace(std::move(socket));
}

void SocketState::start_mode() {
  boost::system::error_code ignored;
  if (options.nodelay) socket_->set_option(tcp::no_delay(true), ignored);
  {
    std::lock_guard lock(wm);
    direct_fd = socket_->native_handle();
  }
  mode_ = Active{};
  apply_mode(options.active);
}

bool SocketState::wants_data() {
  if (closing_) return false;
  if (gated()) {
    std::lock_guard lock(m);
    return gate_.held.empty() && !gate_.end;
  }
  if (mode_.kind != Active::Kind::passive) return true;
  return recv_.has_value();
}

void SocketState::start_read() {
  if (reading_ || done_ || !socket_ || !wants_data()) return;
  if (end_) return fail(*std::exchange(end_, std::nullopt));
  reading_ = true;
  auto self = std::static_pointer_cast<SocketState>(shared_from_this());
  // Readable first, then read: the buffer is the IO thread's, taken only while bytes are there.
  socket_->async_wait(tcp::socket::wait_read,
                      [self](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void SocketState::on_readable(const boost::system::error_code& ec) {
  if (ec || done_) return on_read(ec, 0);
  boost::system::error_code read_ec;
  socket_->non_blocking(true, read_ec);
  const auto n = socket_->read_some(asio::buffer(read_chunk(), chunk_size), read_ec);
  if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) {
    reading_ = false;  // woken for nothing: wait again
    return start_read();
  }
  on_read(read_ec, n);
}

void SocketState::on_read(const boost::system::error_code& ec, std::size_t n) {
  reading_ = false;
  if (done_) return;
  if (gated()) return gate_read(ec, n);
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    return fail(error_of(ec));
  }
  in_.append(read_chunk(), n);
  dispatch();
  start_read();
}

// Active once: the read stays armed between messages. What it reads goes to
// the owner if it is armed, else it is held (and reading stops) until the
// owner re-arms (rearm_once, or a posted setopts/recv: leave_gate).
void SocketState::gate_read(const boost::system::error_code& ec, std::size_t n) {
  if (ec == asio::error::operation_aborted) return;
  {
    std::lock_guard lock(m);
    if (!ec) {
      if (gate_.armed) {
        gate_.armed = false;
        otp::send(owner_, Tcp{handle(), std::string(read_chunk(), n)});
      } else {
        gate_.held.append(read_chunk(), n);
        told_held();
      }
    } else if (!gate_.armed) {
      gate_.end = error_of(ec);  // told when the owner re-arms
      told_held();
      return;
    }
  }
  if (ec) return fail(error_of(ec));
  start_read();
}

void SocketState::told_held() {
  if (HeldHook hook = held_hook.load(std::memory_order_acquire)) [[unlikely]]
    hook(handle(), gate_.held.size(), gate_.end.has_value());
}

void SocketState::enter_gate() {
  std::optional<Reason> end;
  {
    std::lock_guard lock(m);
    gate_.on = true;
    gate_.armed = true;
    gate_.held = std::exchange(in_, std::string{});
    gate_.end = std::exchange(end_, std::nullopt);
    if (!gate_.held.empty()) {
      gate_.armed = false;
      otp::send(owner_, Tcp{handle(), std::exchange(gate_.held, std::string{})});
    } else if (gate_.end) {
      end = std::exchange(gate_.end, std::nullopt);
    }
  }
  if (end) return fail(*end);
  start_read();
}

void SocketState::leave_gate() {
  if (!gated()) return;
  std::lock_guard lock(m);
  gate_.on = false;
  gate_.armed = false;
  in_ = std::exchange(gate_.held, std::string{});
  end_ = std::exchange(gate_.end, std::nullopt);
  mode_ = passive;
}

bool SocketState::rearm_once() {
  bool wake = false;
  {
    std::lock_guard lock(m);
    if (!gate_.on || gate_.posted > 0 || closed.load(std::memory_order_acquire)) return false;
    if (gate_.armed) return true;
    if (!gate_.held.empty()) {
      otp::send(owner_, Tcp{handle(), std::exchange(gate_.held, std::string{})});
      wake = true;  // the IO thread reads again
    } else {
      gate_.armed = true;
      wake = gate_.end.has_value();  // the IO thread tells the end
    }
  }
  if (wake) {
    auto self = std::static_pointer_cast<SocketState>(shared_from_this());
    io->post([self] { self->resume(); });
  }
  return true;
}

void SocketState::resume() {
  if (done_ || closing_ || !gated()) return;
  std::optional<Reason> end;
  {
    std::lock_guard lock(m);
    if (gate_.armed && gate_.held.empty() && gate_.end)
      end = std::exchange(gate_.end, std::nullopt);
  }
  if (end) return fail(*end);
  start_read();
}

bool SocketState::told_of_end() {
  if (mode_.kind == Active::Kind::passive) return false;
  if (!gated()) return true;
  std::lock_guard lock(m);
  return gate_.armed;
}

// Hands what has been read to the owner as the mode says: one message or one
// recv reply per call (a read delivers at most one message).
void SocketState::dispatch() {
  if (in_.empty() || closing_) return;
  switch (mode_.kind) {
    case Active::Kind::passive: {
      if (!recv_) return;
      if (recv_->n == 0) {
        reply_recv(std::exchange(in_, std::string{}));
      } else if (in_.size() >= recv_->n) {
        std::string head = in_.substr(0, recv_->n);
        in_.erase(0, recv_->n);
        reply_recv(std::move(head));
      }
      return;
    }
    case Active::Kind::once:
      mode_ = passive;
      to_owner(Tcp{handle(), std::exchange(in_, std::string{})});
      return;
    case Active::Kind::n:
      to_owner(Tcp{handle(), std::exchange(in_, std::string{})});
      if (--mode_.count <= 0) {
        mode_ = passive;
        to_owner(TcpPassive{handle()});
      }
      return;
    case Active::Kind::on:
      to_owner(Tcp{handle(), std::exchange(in_, std::string{})});
      return;
  }
}

void SocketState::reply_recv(Result<std::string> r) {
  PendingRecv p = *recv_;
  recv_.reset();
  if (timer_) timer_->cancel();
  otp::send(p.to, RecvReply{p.ref, std::move(r)});
}

void SocketState::recv(Pid from, Ref ref, std::size_t n, Duration timeout) {
  auto answer = [&](Reason r) { otp::send(from, RecvReply{ref, std::move(r)}); };
  bool armed = false;
  {
    std::lock_guard lock(m);
    --gate_.posted;
    armed = gate_.on && gate_.armed;
  }
  if (done_ || closing_) {
    std::lock_guard lock(m);
    return answer(failure);
  }
  if (from != owner()) return answer(error("not_owner"));
  if (armed) return answer(error("einval"));
  leave_gate();
  if (mode_.kind != Active::Kind::passive) return answer(error("einval"));
  if (recv_) return answer(error("ealready"));
  recv_ = PendingRecv{from, ref, n};
  dispatch();
  if (!recv_) return;
  if (finite(timeout)) {
    if (!timer_) timer_.emplace(io->context());
    timer_->expires_after(timeout);
    auto self = std::static_pointer_cast<SocketState>(shared_from_this());
    timer_->async_wait([self, ref](const boost::system::error_code& ec) {
      if (ec || self->done_ || !self->recv_ || self->recv_->ref != ref) return;
      self->reply_recv(error("timeout"));  // what was read stays in in_
    });
  }
  start_read();
}

void SocketState::setopts(Active mode) {
  {
    std::lock_guard lock(m);
    --gate_.posted;
  }
  apply_mode(mode);
}

void SocketState::apply_mode(Active mode) {
  if (done_ || closing_) return;
  leave_gate();
  if (mode.kind == Active::Kind::n) {
    const int before = mode_.kind == Active::Kind::n ? mode_.count : 0;
    mode_ = Active{Active::Kind::n, before + mode.count};
    if (mode_.count <= 0) {
      mode_ = passive;
      to_owner(TcpPassive{handle()});
      return;
    }
  } else {
    mode_ = mode;
  }
  if (gated()) return enter_gate();
  dispatch();  // data read while passive goes out now
  start_read();
}

void SocketState::write(std::string data) {
  if (done_) {
    queued.fetch_sub(data.size(), std::memory_order_relaxed);
    return;
  }
  pending_.append(data);
  if (!writing_active_) start_write();
}

void SocketState::start_write() {
  if (pending_.empty() || done_) return;
  writing_.swap(pending_);
  writing_active_ = true;
  auto self = std::static_pointer_cast<SocketState>(shared_from_this());
  asio::async_write(*socket_, asio::buffer(writing_),
                    [self](const boost::system::error_code& ec, std::size_t) {
                      self->writing_active_ = false;
                      self->queued.fetch_sub(self->writing_.size(), std::memory_order_release);
                      self->writing_.clear();
                      if (self->done_) return;
                      if (ec) {
                        if (ec == asio::error::operation_aborted) return;
                        return self->fail(error_of(ec));
                      }
                      if (!self->pending_.empty()) return self->start_write();
                      if (self->closing_) self->close_now();
                    });
}

// The peer closed the stream (reason `closed`), or a read or write failed.
// Erlang's exit_on_close: the socket closes; an active owner is told, a
// passive one learns it from its recv (now or next) or its next send.
void SocketState::fail(const Reason& reason) {
  {
    std::lock_guard lock(m);
    failure = reason;
  }
  closed.store(true, std::memory_order_release);
  if (!closing_) {
    if (recv_) {
      reply_recv(reason);
    } else if (told_of_end()) {
      if (reason != error("closed")) to_owner(TcpError{handle(), reason});
      to_owner(TcpClosed{handle()});
    }
  }
  close_now();
}

void SocketState::close_soon() {
  if (done_ || closing_) return;
  closed.store(true, std::memory_order_release);
  if (recv_) reply_recv(error("closed"));
  if (connecting_ || (!writing_active_ && pending_.empty()) || !socket_) return close_now();
  // Let the queued bytes drain, for up to linger_timeout.
  closing_ = true;
  if (!timer_) timer_.emplace(io->context());
  timer_->expires_after(options.linger_timeout);
  auto self = std::static_pointer_cast<SocketState>(shared_from_this());
  timer_->async_wait([self](const boost::system::error_code& ec) {
    if (!ec) self->close_now();
  });
}

void SocketState::close_now() {
  if (done_) return;
  done_ = true;
  closed.store(true, std::memory_order_release);
  connecting_ = false;
  if (recv_) reply_recv(error("closed"));
  {
    std::lock_guard lock(wm);  // no direct write is using the descriptor after this
    direct_fd = -1;
  }
  boost::system::error_code ignored;
  if (socket_) {
    socket_->shutdown(tcp::socket::shutdown_both, ignored);
    socket_->close(ignored);
  }
  socket_.reset();
  resolver_.reset();
  timer_.reset();
  in_.clear();
  end_.reset();
  {
    std::lock_guard lock(m);
    gate_.on = false;
    gate_.held.clear();
    gate_.end.reset();
  }
  queued.fetch_sub(pending_.size(), std::memory_order_relaxed);
  pending_.clear();
  io->disown(this, owner());
}

// ---- ListenerState ---------------------------------------------------------------

ListenerState::ListenerState(std::shared_ptr<Io> io_, Pid owner, ListenOptions options_)
    : Owned(std::move(io_), owner), options(std::move(options_)) {}

void ListenerState::accept(Pid to, Ref ref, Duration timeout) {
  if (done_) return otp::send(to, SocketReply{ref, error("closed")});
  if (!ready_.empty()) {
    waiters_.push_back(Waiter{to, ref, nullptr});
    tcp::socket s = std::move(ready_.front());
    ready_.pop_front();
    return hand_over(std::move(s));
  }
  Waiter w{to, ref, nullptr};
  if (finite(timeout)) {
    w.timer = std::make_unique<asio::steady_timer>(io->context());
    w.timer->expires_after(timeout);
    auto self = std::static_pointer_cast<ListenerState>(shared_from_this());
    w.timer->async_wait([self, ref](const boost::system::error_code& ec) {
      if (ec || self->done_) return;
      for (auto it = self->waiters_.begin(); it != self->waiters_.end(); ++it) {
        if (it->ref == ref) {
          otp::send(it->to, SocketReply{ref, error("timeout")});
          self->waiters_.erase(it);
          return;
        }
      }
    });
  }
  waiters_.push_back(std::move(w));
  start_accept();
}

void ListenerState::start_accept() {
  if (accepting_ || done_ || waiters_.empty()) return;
  std::lock_guard lock(am);
  if (!acceptor || !acceptor->is_open()) return;  // closed at once: close_now follows
  accepting_ = true;
  incoming_.emplace(io->context());
  auto self = std::static_pointer_cast<ListenerState>(shared_from_this());
  acceptor->async_accept(*incoming_, [self](const boost::system::error_code& ec) {
    self->accepting_ = false;
    if (self->done_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // A connection that failed before it was accepted (ECONNABORTED, EMFILE, ...):
      // the first waiter hears of it, as Erlang's accept would.
      if (!self->waiters_.empty()) {
        Waiter w = std::move(self->waiters_.front());
        self->waiters_.pop_front();
        otp::send(w.to, SocketReply{w.ref, error_of(ec)});
      }
    } else {
      tcp::socket s = std::move(*self->incoming_);
      self->incoming_.reset();
      self->hand_over(std::move(s));
    }
    self->start_accept();
  });
}

// Gives a fresh connection to the first waiter still alive; keeps it for the
// next accept when there is none.
void ListenerState::hand_over(tcp::socket socket) {
  while (!waiters_.empty()) {
    Waiter w = std::move(waiters_.front());
    waiters_.pop_front();
    auto st = std::make_shared<SocketState>(io, w.to, options.socket);
    if (!io->adopt(st, w.to)) continue;  // the waiter died meanwhile
    st->opened(std::move(socket));
    otp::send(w.to, SocketReply{w.ref, st->handle()});
    st->start_mode();
    return;
  }
  ready_.push_back(std::move(socket));
}

void ListenerState::close_now() {
  if (done_) return;
  done_ = true;
  closed.store(true, std::memory_order_release);
  for (auto& w : waiters_) otp::send(w.to, SocketReply{w.ref, error("closed")});
  waiters_.clear();
  close_at_once();
  {
    std::lock_guard lock(am);
    acceptor.reset();
  }
  incoming_.reset();
  ready_.clear();
  io->disown(this, owner());
}

void ListenerState::close_at_once() {
  std::lock_guard lock(am);
  if (!acceptor || !acceptor->is_open()) return;
  // Out of LISTEN first, on this thread: close() alone may leave the socket listening a little
  // longer, when the IO thread holds a reference to it at that moment (epoll_wait polling the
  // descriptor), and a new listener on the port would fail with eaddrinuse meanwhile. A socket
  // that no longer listens does not stand in a reuse_address bind's way.
  ::shutdown(acceptor->native_handle(), SHUT_RDWR);
  boost::system::error_code ignored;
  acceptor->close(ignored);
}

}  // namespace otp::net::detail

namespace otp::net {
void set_held_hook(HeldHook hook) noexcept {
  detail::held_hook.store(hook, std::memory_order_release);
}
}  // namespace otp::net
