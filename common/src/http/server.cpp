// The listener: a GenServer owning the listening socket, with an acceptor process linked to it.
//
// The acceptor loops on net::accept. Each accepted socket gets a connection process of its own
// (connection.cpp), spawned unlinked so that nothing a connection does can reach the listener;
// the listener monitors it and counts it open until its Down. Over max_connections the
// acceptor answers 503 itself and closes the socket (logged at most once a second, with the
// count: RefusalLog). The count is an atomic in Shared: the acceptor reads it, the listener's
// Down handler lowers it.
//
// A stop of the listener by its supervisor (a shutdown, the service stopping in order) is a
// drain: the listening socket closes, every connection is asked to stop (it answers the request
// it is handling, with Connection: close, and ends) and the listener waits for them, up to
// drain_timeout. Only then does it exit, so that whatever its supervisor stops next (in HangTen,
// the sessions) is never seen half-gone by a request in flight: no valid token is answered 403
// because its session was being torn down. A kill skips the drain; the connections then finish
// on their own.
#include <chrono>
#include <mutex>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <sys/resource.h>

#include "connection.hpp"
#include "otp/gen_server.hpp"
#include "otp/http/stats.hpp"
#include "otp/logger.hpp"
#include "otp/net/address.hpp"
#include "otp/net/tcp.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"

namespace otp::http {

namespace {

struct Opened {
  Pid pid;
};

struct ListenerState {
  std::shared_ptr<detail::Shared> shared;
  net::Listener listener;
  std::unordered_set<Pid> connections;  // open: monitored until their Down
};

// How long a stopping listener waits for its connections' requests in flight (less than the
// 5 s its supervisor gives a worker before it kills it).
constexpr Duration drain_timeout = std::chrono::seconds(4);

Co<void> accept_loop(std::shared_ptr<detail::Shared> shared, net::Listener listener, Pid server) {
  otp::set_label("http acceptor");  // linked to its listener, in the observer's tree
  const Options& options = shared->options;
  for (;;) {
    auto accepted = co_await net::accept(listener);
    if (!accepted) {
      if (accepted.reason() == Reason::parse("closed")) co_return;
      // Out of file descriptors (emfile, enfile) the next accept fails at once too: wait a
      // little for connections to close instead of spinning.
      log::warning("http: accept failed: {}", accepted.reason());
      co_await otp::sleep(std::chrono::milliseconds(100));
      continue;
    }
    net::Socket socket = std::move(accepted).value();
    if (options.stats) options.stats->connection_opened();
    if (shared->open.load() >= options.max_connections) {
      shared->refusals.note(503, fmt::format("{} connections open, one from {}",
                                             options.max_connections, socket.peer_address()));
      (void)net::send(socket,
                      detail::serialize(Response::error(503, "too many connections"), false));
      net::close(socket);
      if (options.stats) {
        options.stats->record(503, 0.0);
        options.stats->refused(503);
        options.stats->connection_closed();
      }
      continue;
    }
    shared->open.fetch_add(1);
    Pid pid = spawn(detail::serve_connection, shared);
    send(server, Opened{pid});  // before the handoff: the monitor may see it end at once
    if (net::controlling_process(socket, pid)) {
      send(pid, detail::Handoff{socket});
    } else {  // the peer is gone already: so is the process that would have served it
      net::close(socket);
      otp::exit(pid, Reason::kill());
    }
  }
}

// A connection is a file descriptor: the first listener raises the process's limit of open files
// to the hard limit, and says so once when even that is short of max_connections (past it,
// accept fails instead of answering 503).
void raise_open_files_limit(std::size_t max_connections) {
  static std::once_flag once;
  std::call_once(once, [max_connections] {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur != RLIM_INFINITY && max_connections + 64 > limit.rlim_cur)
      log::warning("http: at most {} open files: fewer than max_connections {}", limit.rlim_cur,
                   max_connections);
  });
}

class Listener : public GenServer<Listener, ListenerState> {
 public:
  using Info = Messages<Opened>;
  struct GetPort {};
  struct GetUrl {};
  struct GetConnections {};

  ListenerState init(Router& router, Options& options) {
    otp::trap_exit(true);  // the supervisor's shutdown runs terminate: the drain
    if (!options.allowed_hosts.empty()) options.allowed_hosts.push_back(options.address);
    auto shared = std::make_shared<detail::Shared>(std::move(router), std::move(options));
    const auto& o = shared->options;
    raise_open_files_limit(o.max_connections);
    auto listener = net::listen(o.port, net::ListenOptions{.address = o.address});
    if (!listener) fail_start(listener.reason());  // the start's error: its caller says it
    spawn_link(accept_loop, shared, listener.value(), self());
    return ListenerState{std::move(shared), std::move(listener).value(), {}};
  }

  std::uint16_t handle_call(GetPort) { return state().listener.port(); }
  std::string handle_call(GetUrl) {
    return "http://" +
           net::Address{state().shared->options.address, state().listener.port()}.to_string();
  }
  std::size_t handle_call(GetConnections) { return state().shared->open.load(); }

  void handle_info(Opened opened) {
    monitor(opened.pid);
    state().connections.insert(opened.pid);
  }
  void handle_info(Down down) { closed(down.pid); }
  // The listener traps exits only to drain on its supervisor's shutdown: any other exit signal
  // but normal (its acceptor's end, the observer's kill with a reason of its own) ends it as it
  // would end a process that does not trap them.
  void handle_info(const Exit& e) {
    if (!e.reason.is_normal()) stop(e.reason);
  }

  Co<void> terminate(const Reason& reason) {
    if (!reason.is_orderly()) co_return;
    net::close(state().listener);  // no new connection from here on
    for (const Pid& pid : state().connections) otp::exit(pid, Reason::shutdown());
    const auto until = std::chrono::steady_clock::now() + drain_timeout;
    while (!state().connections.empty()) {
      const auto left =
          std::chrono::duration_cast<Duration>(until - std::chrono::steady_clock::now());
      if (left <= Duration::zero()) break;
      auto down = co_await otp::receive<Down>(left);
      if (!down) break;
      closed(down->pid);
    }
    if (!state().connections.empty())
      log::warning("http: {} connections still open after the drain", state().connections.size());
  }

 private:
  void closed(const Pid& pid) {
    if (state().connections.erase(pid) == 0) return;
    state().shared->open.fetch_sub(1);
    if (auto& stats = state().shared->options.stats) stats->connection_closed();
  }
};

}  // namespace

Start Server::start_link(Router router, Options options) {
  return Listener::start_link(std::move(router), std::move(options));
}

Start Server::start_link(Name name, Router router, Options options) {
  return Listener::start_link(std::move(name), std::move(router), std::move(options));
}

Start Server::start(Router router, Options options) {
  return Listener::start(std::move(router), std::move(options));
}

Co<Result<std::uint16_t>> Server::port(Pid server) {
  Listener::GetPort request;
  auto r = co_await Listener::try_call(server, request);
  if (!r) co_return r.reason();
  co_return r.value();
}

Co<Result<std::string>> Server::url(Pid server) {
  Listener::GetUrl request;
  auto r = co_await Listener::try_call(server, request);
  if (!r) co_return r.reason();
  co_return std::move(r).value();
}

Options& Options::listen(std::string_view host_port) {
  auto parsed = net::Address::parse(host_port);
  address = std::move(parsed.host);
  port = parsed.port;
  return *this;
}

Co<Result<std::size_t>> Server::connections(Pid server) {
  Listener::GetConnections request;
  auto r = co_await Listener::try_call(server, request);
  if (!r) co_return r.reason();
  co_return r.value();
}

}  // namespace otp::http
