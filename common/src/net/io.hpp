// The machinery behind otp/net/tcp.hpp: one IO thread per runtime, and the
// state of each socket and listener. Not installed.
//
// The IO thread. A runtime's first socket call makes its `Io` service
// (detail::service_of), which starts one thread running a Boost.Asio
// io_context. Every asio object (socket, acceptor, resolver, timer) is
// touched only on that thread, except that listen() builds its acceptor on
// the caller's thread under Io's mutex before anyone else can see it. Other
// threads talk to it through Io::post, a FIFO command queue drained by one
// asio handler: commands run in the order they were posted, so a send posted
// before a close is written before it. Scheduler threads never wait for IO:
// recv, accept and connect post a command and then wait in the process's
// mailbox (an ordinary selective receive on a reply ref), holding no thread.
// The IO thread answers by otp::send, which is safe from any thread. An idle
// IO thread sleeps in epoll_wait: no timers tick, no CPU is used.
//
// The direct send. A send whose socket has nothing queued (`queued` is 0: no
// bytes posted, pending or being written) writes on the calling thread with
// ::send(fd, MSG_DONTWAIT | MSG_NOSIGNAL), which never blocks whatever the
// descriptor's mode, and never wakes the IO thread. What it leaves (a partial
// write, a full buffer, an error) is counted in `queued` and posted as before;
// the IO thread writes it, and reports an error as it would have. The state's
// `wm` makes the check, the write and the post one step, so the bytes of
// concurrent senders never interleave out of order, and a send that finds
// bytes queued posts behind them. `direct_fd` is set (under wm) once the
// connection is up (start_mode) and reset under wm by close_now before the
// socket is closed, so no direct write can reach a closed or reused
// descriptor. `queued` drops to 0 only after the IO thread's write completed,
// so a direct write never overtakes queued bytes.
//
// The re-arm. In active once the read stays armed between messages: the
// IO thread reads on, and what it reads goes straight to the owner if the
// owner is armed, else it is held (the state's `gate_`, under `m`) and the
// IO thread stops reading until the owner re-arms, so the owner's mailbox
// holds at most one Tcp message and at most one read is held above the
// kernel's buffer. setopts(active::once) from any thread is then a flag flip
// under `m` (rearm_once): no post, no wake of the IO thread. Where bytes
// were held it delivers them itself (the owner gets them without a hop) and
// posts a `resume` so that the IO thread reads again; an end or an error read
// while not armed is held too, and told (TcpError/TcpClosed) when the owner
// re-arms, as before, when the read happened only then. A setopts or recv that
// must run on the IO thread (any other mode, a passive recv) is counted in
// `gate_.posted` before it is posted; no re-arm takes the short way while one
// is pending, so calls keep their order. Such a call moves what was held back
// into `in_` (leave_gate) and goes on as before. A request/response client
// re-arms right after each reply, before it sends the next request: with
// the post, each round trip woke the IO thread twice (the re-arm's command,
// then the reply's readiness), now once.
//
// Passive recv still posts: with the read not armed there is nothing to
// deliver early, and a direct non-blocking read would find EAGAIN in the
// request/response pattern, where the recv follows the send at once.
//
// Rejected after measuring (net_echo, docs/semantics.md "Sockets"): letting
// the IO thread poll for 30-50 us after an event before it sleeps again made a
// round trip 2-5 times slower on a 2-core machine, since it takes the core
// from the schedulers that hand it work.
//
// Why one thread, not asio on the schedulers: a scheduler that ran
// io_context::poll between processes would add a syscall to every slice and
// still need a waker while the others sleep; a dedicated thread keeps the
// scheduler loop as it is and costs one hop per event received, none per
// send that writes directly (measured in docs/semantics.md, "Sockets").
//
// Ownership and lifetime. A state (SocketState, ListenerState) is held
// strongly by Io's table of owners (`owned_`, pid -> states) from creation
// until it is closed, so its lifetime follows its owner, not its handles.
// The first state a process owns arms one exit hook on it (detail::on_exit);
// the hook marks the process's states closed and posts their close; each
// leaves the table when its close has run, so a stop finds every state that
// still has an asio object. Handles (Socket, Listener) and asio handlers hold shared_ptrs, so a
// handler that completes after the owner died finds its state alive, sees
// it is done and returns; a reply to a dead pid is dropped by the runtime.
//
// Closing a state (IO thread) destroys its asio objects at once: the socket
// is closed, and pending operations complete with operation_aborted. A
// listener's descriptor is closed sooner, on the thread that retires its
// owner (in the exit hook, before links and monitors fire) or that calls
// close(): as a port closes with its owner in Erlang, whoever hears of the
// exit, a supervisor restarting the owner above all, can bind the port again.
// (Posted to the IO thread, the close came after the Down in most runs, and a
// restarted listener failed with eaddrinuse.) It shuts the socket down before
// it closes it: a close alone can leave the socket listening a little longer
// when the IO thread holds a reference to it just then (epoll polling the
// descriptor), which two test processes side by side showed in one run of 2. Stop
// (Runtime::shutdown): the command queue is closed, the thread joined, every
// state still in the table is closed from the stopping thread (the IO thread
// is gone, so nothing races it), and then the io_context is destroyed with
// the handlers still queued in it. No asio object outlives its io_context:
// a handle kept after shutdown points to a state with none left, and its
// calls answer `closed`.
//
// Locks. Io::m_ guards the command queue, `owned_` and `stopped_`. A
// state's `m` guards its owner and a socket's `gate_`; the IO thread holds it while it sends to the
// owner, so controlling_process (which holds it while it moves the caller's
// pending messages) cannot interleave with a delivery. A socket's `wm` guards
// `direct_fd` and orders sends (see the direct send); it is never held
// with `m`. Order: a state's `m`, or its `wm`, before Io::m_ (send posts
// under wm). Exit hooks take Io::m_, then (not under it) a listener's `am`, which is a leaf.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "otp/detail/runtime_service.hpp"
#include "otp/net/tcp.hpp"
#include "otp/process.hpp"

namespace otp::net::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

// Erlang's name for an asio/system error: econnrefused, nxdomain, closed, ...
Reason error_of(const boost::system::error_code& ec);

// Replies to the waiting caller of connect/accept (ConnectReply) and recv.
struct SocketReply {
  Ref ref;
  Result<Socket> result;
};
struct RecvReply {
  Ref ref;
  Result<std::string> result;
};

class Io;

// What sockets and listeners share: identity, owner, closing.
class Owned : public std::enable_shared_from_this<Owned> {
 public:
  Owned(std::shared_ptr<Io> io, Pid owner);
  virtual ~Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;

  Pid owner() const {
    std::lock_guard lock(m);
    return owner_;
  }
  // Sends `msg` to the owner, in order with controlling_process.
  template <class M>
  void to_owner(M msg) {
    std::lock_guard lock(m);
    otp::send(owner_, std::move(msg));
  }
  // The calling process gives this to `to` (see tcp.hpp); `forward` moves the
  // caller's pending messages of this state (under `m`).
  Result<void> transfer(const Pid& to, const std::function<void(const Pid&)>& forward);

  // IO thread (or the stopping thread): close now; drop every asio object.
  virtual void close_now() = 0;
  // IO thread: the owner exited or close() was called.
  virtual void close_soon() { close_now(); }
  // Any thread, when the owner exits or close() is called, before anyone hears of it: frees
  // what others may be waiting to take again (a listener's port). The rest closes on the IO
  // thread, by close_soon.
  virtual void close_at_once() {}

  const std::shared_ptr<Io> io;
  const std::uint64_t id;
  std::atomic<bool> closed{false};  // no new operations are accepted
  mutable std::mutex m;

 protected:
  Pid owner_;  // guarded by m
};

class SocketState final : public Owned {
 public:
  SocketState(std::shared_ptr<Io> io, Pid owner, SocketOptions options);

  Socket handle() { return Socket{std::static_pointer_cast<SocketState>(shared_from_this())}; }

  // IO thread.
  void start_connect(std::string host, std::uint16_t port, Duration timeout, Pid to, Ref ref);
  void opened(tcp::socket socket);  // an accepted socket: sets its ports
  void start_mode();                // a new connection: its options, its first mode
  void write(std::string data);
  void recv(Pid from, Ref ref, std::size_t n, Duration timeout);
  void setopts(Active mode);
  void resume();     // after a re-arm that delivered held bytes or found the end
  void told_held();  // calls the held hook (net::set_held_hook), under m
  void close_now() override;

  // The caller's side of setopts(active::once) without the IO thread (see the
  // re-arm at the top): true when it re-armed or delivered held bytes; false
  // when the IO thread must do it (the caller posts setopts, counted in
  // gate_.posted).
  bool rearm_once();
  // The caller posts a setopts or recv: a re-arm that follows waits for it.
  void will_post() {
    std::lock_guard lock(m);
    ++gate_.posted;
  }
  void close_soon() override;

  const SocketOptions options;
  std::atomic<std::size_t> queued{0};  // bytes send() queued, not yet written
  // send()'s direct path (see the comment at the top): the connected socket's
  // descriptor, -1 before it connects and from when it closes. Guarded by wm,
  // which a direct write holds for its ::send, and close_now for the reset.
  std::mutex wm;
  int direct_fd = -1;
  // Set before the handle is published (before the reply that carries it).
  std::uint16_t local_port = 0;
  std::uint16_t peer_port = 0;
  std::string peer_address;
  // Why the socket closed, for the next send (guarded by m).
  Reason failure = error("closed");

 private:
  struct PendingRecv {
    Pid to;
    Ref ref;
    std::size_t n;
  };
  void finish_connect(Result<Socket> result, Pid to, Ref ref);
  bool wants_data();
  void apply_mode(Active mode);
  bool gated() const { return mode_.kind == Active::Kind::once; }
  void enter_gate();  // mode_ became once
  void leave_gate();  // a posted setopts or recv runs
  void gate_read(const boost::system::error_code& ec, std::size_t n);
  bool told_of_end();  // under an active mode an owner hears of the end
  void start_read();
  void on_readable(const boost::system::error_code& ec);
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void dispatch();
  void start_write();
  void fail(const Reason& reason);  // the peer closed, or an error: tell, then close
  void reply_recv(Result<std::string> r);

  // IO thread only.
  std::optional<tcp::socket> socket_;
  std::optional<tcp::resolver> resolver_;
  std::optional<asio::steady_timer> timer_;  // connect timeout, recv timeout, linger
  bool done_ = false;                        // asio objects dropped
  bool connecting_ = false;
  bool timed_out_ = false;
  bool closing_ = false;  // close() called: drain writes, tell nothing
  bool reading_ = false;
  bool writing_active_ = false;
  Active mode_ = passive;
  std::optional<PendingRecv> recv_;
  std::string in_;             // read, not yet delivered (but see gate_)
  std::optional<Reason> end_;  // the end or an error, read while no one wanted it
  // Active once (see the re-arm at the top); guarded by m.
  struct Gate {
    bool on = false;            // mode_ is once: the IO thread reads into `held`
    bool armed = false;         // the owner wants its one Tcp message
    std::string held;           // read while not armed: no read until it goes
    std::optional<Reason> end;  // the end or an error, read while not armed
    int posted = 0;             // setopts/recv posted, not yet run
  } gate_;
  std::string writing_;  // being written
  std::string pending_;  // queued behind it
};

class ListenerState final : public Owned {
 public:
  ListenerState(std::shared_ptr<Io> io, Pid owner, ListenOptions options);

  Listener handle() {
    return Listener{std::static_pointer_cast<ListenerState>(shared_from_this())};
  }

  // IO thread.
  void accept(Pid to, Ref ref, Duration timeout);
  void close_now() override;
  // Any thread: closes the listening descriptor, so its port is free when this returns.
  void close_at_once() override;

  const ListenOptions options;
  std::uint16_t port = 0;
  // Built by listen(); then used on the IO thread, and closed by close_at_once on the thread of
  // the owner's exit or of close(), all under `am` (asio's objects are not thread-safe, its
  // reactor is: a close from here aborts the IO thread's pending accept).
  std::mutex am;
  std::optional<tcp::acceptor> acceptor;

 private:
  struct Waiter {
    Pid to;
    Ref ref;
    std::unique_ptr<asio::steady_timer> timer;
  };
  void start_accept();
  void hand_over(tcp::socket socket);

  bool done_ = false;
  bool accepting_ = false;
  std::optional<tcp::socket> incoming_;
  std::deque<Waiter> waiters_;
  std::deque<tcp::socket> ready_;  // accepted while nobody waited
};

class Io final : public otp::detail::Service, public std::enable_shared_from_this<Io> {
 public:
  Io();
  ~Io() override;

  // The service of the calling process's runtime; throws std::logic_error
  // outside a process or Scoped.
  static std::shared_ptr<Io> of_caller(const char* what);

  // Runs fn on the IO thread after everything posted before; false (fn
  // dropped) once stopped.
  bool post(std::function<void()> fn);
  // Runs fn(io_context) here, under the service's mutex, unless stopped.
  bool with_context(const std::function<void(asio::io_context&)>& fn);
  asio::io_context& context() { return *ioc_; }  // IO thread

  // Adds `s` to `owner`'s states, arming the owner's exit hook with its first;
  // false when the owner is not alive (or the service stopped).
  bool adopt(const std::shared_ptr<Owned>& s, const Pid& owner);
  void disown(const Owned* s, const Pid& owner);
  std::size_t open_count();
  std::uint64_t next_id() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  void stop() noexcept override;

 private:
  void run_queue();
  void owner_exited(const Pid& pid);

  std::mutex m_;
  bool stopped_ = false;
  bool scheduled_ = false;
  std::vector<std::function<void()>> queue_;
  // A process's states, from adoption until each is closed (on the IO thread,
  // or by stop); `exited` once its exit hook ran (the entry goes with its last state).
  struct Owner {
    bool exited = false;
    std::unordered_map<const Owned*, std::shared_ptr<Owned>> states;
  };
  std::unordered_map<std::uint64_t, Owner> owned_;
  std::optional<asio::io_context> ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace otp::net::detail
