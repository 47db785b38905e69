// The node (otp/dist/node.hpp): the kernel, the acceptor and the connection processes.
//
// Who holds what. The kernel (NetKernel below) is the only one that reads or writes the table of
// connections, `links`, keyed by peer name: for each peer at most one connection process is
// current, pending (its handshake runs) or up. A connection process learns what it needs by
// calls to the kernel (Incoming: the acceptor's status; Established: the handshake is done) and
// owns its socket alone. The kernel traps exits and is linked to every connection and to the
// acceptor, so any connection's end reaches it as an Exit, however it ended; an Exit from a
// process that is no longer the current one of its peer (an attempt replaced by a simultaneous
// one) changes nothing.
//
// Simultaneous connect. When A and B connect to each other at once, each kernel sees an
// Incoming from the other while its own attempt is pending. The greater name (as Erlang compares
// atoms: byte by byte) answers `nok` and keeps its own attempt; the lesser answers
// `ok_simultaneous`, kills its own attempt, and makes the incoming connection current, its
// waiters (connect_node callers) carried over.
#include "otp/dist/node.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <utility>

#include "otp/dist/detail/control.hpp"
#include "otp/gen_server.hpp"
#include "otp/logger.hpp"
#include "otp/net/tcp.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"

namespace otp::dist {

namespace {

struct Config {
  std::string name;
  std::string cookie;
  std::uint32_t creation = 0;
  std::uint64_t flags = default_flags;
  Duration ticktime{};
  Duration setup_timeout{};
  std::size_t max_frame = 0;
  Epmd epmd;
};
using ConfigPtr = std::shared_ptr<const Config>;

// Kernel -> connection.
struct SendFrame {
  std::string bytes;
};
struct SetConsumer {
  Pid consumer;
};
// Acceptor -> connection.
struct Handoff {
  net::Socket socket;
};

struct Link {
  Pid conn;
  bool up = false;
  bool outgoing = false;
  std::vector<From<Result<void>>> waiting;  // connect_node callers
};

struct KernelState {
  ConfigPtr config;
  net::Listener listener;
  net::Socket registration;
  Pid acceptor;
  std::map<std::string, Link> links;
  std::map<Pid, std::string> peer_of;             // connection process -> peer
  std::multimap<std::string, Pid> node_monitors;  // monitor_node
  std::vector<Pid> subscribers;                   // monitor_nodes
  Pid consumer;
};

std::uint32_t random_challenge() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  return static_cast<std::uint32_t>(gen());
}

std::string be32(std::size_t n) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[3 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

Reason dist_reason(std::string_view what) { return Reason::other(std::string(what)); }

Co<void> accept_loop(net::Listener listener, Pid kernel, ConfigPtr config);
Co<void> accepted_connection(Pid kernel, ConfigPtr config);
Co<void> outgoing_connection(Pid kernel, ConfigPtr config, std::string peer);

class NetKernel : public GenServer<NetKernel, KernelState> {
 public:
  struct Register {
    Epmd epmd;
  };
  struct GetInfo {};
  struct Description {
    std::string name;
    std::uint32_t creation = 0;
    std::uint16_t port = 0;
  };
  struct Connect {
    std::string peer;
  };
  struct Incoming {
    std::string peer;
    Pid conn;
  };
  struct Established {
    std::string peer;
    Pid conn;
  };
  struct Nodes {};
  struct MonitorNode {
    std::string peer;
    bool on = true;
  };
  struct MonitorNodes {
    bool on = true;
  };
  struct Disconnect {
    std::string peer;
  };
  struct Send {
    std::string peer;
    std::string bytes;
  };
  struct Consumer {
    Pid pid;
  };

  KernelState init(NodeOptions& options) {
    otp::trap_exit(true);
    auto config = std::make_shared<Config>();
    config->name = options.name;
    config->cookie = *options.cookie;
    config->flags = options.flags;
    config->ticktime = options.net_ticktime;
    config->setup_timeout = options.setup_timeout;
    config->max_frame = options.max_frame;
    config->epmd = options.epmd;
    auto listener =
        net::listen(options.listen_port, net::ListenOptions{.address = options.listen_address});
    if (!listener) fail_start(listener.reason());
    KernelState s;
    s.listener = listener.value();
    s.config = config;
    s.acceptor = otp::spawn_link(accept_loop, s.listener, self(), ConfigPtr(config));
    return s;
  }

  // EPMD next, once the kernel runs (a call may wait; init may not): see Node::start_link.
  Co<Result<std::uint32_t>> handle_call(Register req) {
    const auto& name = state().config->name;
    auto reg = co_await register_node(std::move(req.epmd), name.substr(0, name.find('@')),
                                      state().listener.port());
    if (!reg) co_return reg.reason();
    state().registration = reg.value().socket;
    auto config = std::make_shared<Config>(*state().config);
    config->creation = reg.value().creation;
    state().config = config;
    co_return reg.value().creation;
  }

  Description handle_call(GetInfo) {
    return {state().config->name, state().config->creation, state().listener.port()};
  }

  Reply<Result<void>> handle_call(const Connect& req, From<Result<void>> from) {
    if (req.peer == state().config->name) return Result<void>{};
    auto it = state().links.find(req.peer);
    if (it != state().links.end()) {
      if (it->second.up) return Result<void>{};
      it->second.waiting.push_back(from);
      return noreply;
    }
    if (req.peer.find('@') == std::string::npos)
      return Result<void>(dist_reason("{invalid_node_name, " + req.peer + "}"));
    Link& link = start_outgoing(req.peer);
    link.waiting.push_back(from);
    return noreply;
  }

  AcceptStatus handle_call(const Incoming& req) {
    auto& s = state();
    auto it = s.links.find(req.peer);
    if (it == s.links.end()) {
      s.links[req.peer] = Link{req.conn, false, false, {}};
      s.peer_of[req.conn] = req.peer;
      return AcceptStatus::ok;
    }
    Link& link = it->second;
    if (link.up) {
      s.peer_of[req.conn] = req.peer;  // replaces the old one if the handshake goes on
      return AcceptStatus::alive;
    }
    if (!link.outgoing) return AcceptStatus::not_allowed;  // another attempt from it runs
    if (s.config->name > req.peer) return AcceptStatus::nok;
    // Its attempt goes on, ours ends.
    s.peer_of.erase(link.conn);
    otp::exit(link.conn, Reason::kill());
    link.conn = req.conn;
    link.outgoing = false;
    s.peer_of[req.conn] = req.peer;
    return AcceptStatus::ok_simultaneous;
  }

  Pid handle_call(const Established& req) {
    auto& s = state();
    Link& link = s.links[req.peer];
    if (link.up && link.conn != req.conn) {  // `alive`: the old connection is gone
      s.peer_of.erase(link.conn);
      otp::exit(link.conn, Reason::kill());
      node_down(req.peer, dist_reason("connection_replaced"));
    }
    link.conn = req.conn;
    link.up = true;
    s.peer_of[req.conn] = req.peer;
    for (auto& w : link.waiting) otp::reply(w, Result<void>{});
    link.waiting.clear();
    for (const Pid& p : s.subscribers) otp::send(p, NodeUp{req.peer});
    return s.consumer;
  }

  std::vector<std::string> handle_call(Nodes) {
    std::vector<std::string> out;
    for (const auto& [peer, link] : state().links)
      if (link.up) out.push_back(peer);
    return out;
  }

  Reply<Ok> handle_call(const MonitorNode& req, From<Ok> from) {
    auto& s = state();
    if (!req.on) {
      auto [b, e] = s.node_monitors.equal_range(req.peer);
      for (auto it = b; it != e; ++it)
        if (it->second == from.caller) {
          s.node_monitors.erase(it);
          break;
        }
      return Ok{};
    }
    if (req.peer == s.config->name) return Ok{};
    if (!s.links.contains(req.peer)) {
      if (req.peer.find('@') == std::string::npos) {
        otp::send(from.caller, NodeDown{req.peer, dist_reason("invalid_node_name")});
        return Ok{};
      }
      start_outgoing(req.peer);
    }
    s.node_monitors.emplace(req.peer, from.caller);
    return Ok{};
  }

  Reply<Ok> handle_call(MonitorNodes req, From<Ok> from) {
    auto& subs = state().subscribers;
    if (req.on) {
      subs.push_back(from.caller);
    } else if (auto it = std::find(subs.begin(), subs.end(), from.caller); it != subs.end()) {
      subs.erase(it);
    }
    return Ok{};
  }

  bool handle_call(const Disconnect& req) {
    auto it = state().links.find(req.peer);
    if (it == state().links.end()) return false;
    otp::exit(it->second.conn, Reason::shutdown());
    return true;
  }

  Result<void> handle_call(Send req) {
    auto it = state().links.find(req.peer);
    if (it == state().links.end() || !it->second.up) return Reason::other("noconnection");
    otp::send(it->second.conn, SendFrame{std::move(req.bytes)});
    return {};
  }

  void handle_call(Consumer req) {
    state().consumer = req.pid;
    for (const auto& [peer, link] : state().links)
      if (link.up) otp::send(link.conn, SetConsumer{req.pid});
  }

  void handle_info(const Exit& e) {
    auto& s = state();
    if (e.from == s.acceptor) return stop(e.reason);  // the listener is gone
    auto p = s.peer_of.find(e.from);
    if (p == s.peer_of.end()) return;
    const std::string peer = p->second;
    s.peer_of.erase(p);
    auto it = s.links.find(peer);
    if (it == s.links.end() || it->second.conn != e.from) return;  // a replaced attempt
    const bool was_up = it->second.up;
    for (auto& w : it->second.waiting) otp::reply(w, Result<void>(e.reason));
    s.links.erase(it);
    if (was_up) {
      node_down(peer, e.reason);
    } else {
      notify_monitors(peer, e.reason);
    }
  }

  void terminate(const Reason&) {
    for (const auto& [pid, peer] : state().peer_of) otp::exit(pid, Reason::shutdown());
    otp::exit(state().acceptor, Reason::shutdown());
    net::close(state().registration);
    net::close(state().listener);
  }

 private:
  Link& start_outgoing(const std::string& peer) {
    auto& s = state();
    Pid conn = otp::spawn_link(outgoing_connection, self(), s.config, std::string(peer));
    Link& link = s.links[peer];
    link = Link{conn, false, true, {}};
    s.peer_of[conn] = peer;
    return link;
  }

  void notify_monitors(const std::string& peer, const Reason& reason) {
    auto [b, e] = state().node_monitors.equal_range(peer);
    for (auto it = b; it != e; ++it) otp::send(it->second, NodeDown{peer, reason});
    state().node_monitors.erase(peer);
  }

  void node_down(const std::string& peer, const Reason& reason) {
    notify_monitors(peer, reason);
    for (const Pid& p : state().subscribers) otp::send(p, NodeDown{peer, reason});
  }
};

// --- the connection processes -------------------------------------------------------------------

// Runs the handshake on `socket` to its end: the bytes that followed it, or why it failed.
Co<Result<std::string>> handshake(net::Socket socket, Handshake& hs, Pid kernel, Duration timeout) {
  const Duration deadline = otp::now() + timeout;
  for (;;) {
    if (auto out = hs.take_output(); !out.empty()) net::send(socket, std::move(out));
    if (hs.state() == Handshake::State::done) co_return hs.take_rest();
    if (hs.state() == Handshake::State::failed) co_return dist_reason(hs.error());
    if (hs.state() == Handshake::State::needs_status) {
      NetKernel::Incoming incoming{hs.peer().name, otp::self()};
      hs.answer(co_await NetKernel::call(kernel, std::move(incoming)));
      continue;
    }
    const Duration left = deadline - otp::now();
    if (left <= Duration::zero()) co_return Reason::timeout();
    auto got = co_await net::recv(socket, 0, left);
    if (!got) co_return got.reason();
    hs.feed(got.value());
  }
}

// The connection, once up: frames in, frames out, ticks. Ends (throws ExitError) when it is down.
Co<void> run_connection(net::Socket socket, Pid kernel, ConfigPtr config, std::string peer,
                        std::string buffered) {
  NetKernel::Established established{peer, otp::self()};
  Pid consumer = co_await NetKernel::call(kernel, std::move(established));
  const Duration tick = config->ticktime / 4;
  Duration last_in = otp::now();
  Duration last_out = otp::now();
  std::string in = std::move(buffered);
  std::optional<Reason> down;
  const ExternalPid me{config->name, static_cast<std::uint32_t>(otp::self().id()),
                       static_cast<std::uint32_t>(otp::self().id() >> 32), config->creation};
  // Decodes the whole frames in `in` (a tick is an empty one) and answers or hands out each; an
  // oversized one, or one that does not decode, is the end.
  auto take_frames = [&] {
    std::size_t at = 0;
    while (in.size() - at >= 4) {
      std::size_t len = 0;
      for (int i = 0; i < 4; ++i) len = len << 8 | static_cast<unsigned char>(in[at + i]);
      if (len > config->max_frame) {
        down = dist_reason("{frame_too_large, " + std::to_string(len) + "}");
        break;
      }
      if (in.size() - at - 4 < len) break;
      if (len > 0) {
        const std::string_view bytes(in.data() + at + 4, len);
        auto frame = detail::decode_frame(bytes);
        if (!frame) {
          log::warning("dist: connection to {} ends: a frame does not decode: {}", peer,
                       frame.reason());
          down = frame.reason();
          break;
        }
        if (auto reply = detail::answer(frame.value(), me)) {
          auto sent = net::send(socket, be32(reply->size()) + *reply);
          if (!sent) {
            down = sent.reason();
            break;
          }
          last_out = otp::now();
        } else if (consumer) {
          otp::send(consumer, Frame{peer, std::string(bytes), std::move(frame.value().control),
                                    std::move(frame.value().message)});
        }
      }
      at += 4 + len;
    }
    in.erase(0, at);
  };
  take_frames();
  net::setopts(socket, net::active::once);
  while (!down) {
    const Duration now = otp::now();
    const Duration wait =
        std::max(Duration::zero(), std::min(last_out + tick, last_in + config->ticktime) - now);
    co_await otp::receive(
        [&](const net::Tcp& t) {
          last_in = otp::now();
          in += t.data;
          take_frames();
          net::setopts(socket, net::active::once);
        },
        [&](const net::TcpClosed&) { down = dist_reason("connection_closed"); },
        [&](const net::TcpError& e) { down = e.reason; },
        [&](const SendFrame& f) {
          auto sent = net::send(socket, be32(f.bytes.size()) + f.bytes);
          if (!sent) down = sent.reason();
          last_out = otp::now();
        },
        [&](SetConsumer c) { consumer = c.consumer; }, otp::after(wait, [&] {
          const Duration t = otp::now();
          if (t - last_in >= config->ticktime) {
            down = dist_reason("net_tick_timeout");
          } else if (t - last_out >= tick) {
            net::send(socket, std::string(4, '\0'));
            last_out = t;
          }
        }));
  }
  otp::exit(*down);
}

Co<void> accept_loop(net::Listener listener, Pid kernel, ConfigPtr config) {
  otp::set_label("dist_acceptor");
  for (;;) {
    auto accepted = co_await net::accept(listener);
    if (!accepted) otp::exit(accepted.reason());
    Pid conn = otp::spawn(accepted_connection, kernel, ConfigPtr(config));
    if (net::controlling_process(accepted.value(), conn)) {
      otp::send(conn, Handoff{accepted.value()});
    } else {
      net::close(accepted.value());
    }
  }
}

Co<void> accepted_connection(Pid kernel, ConfigPtr config) {
  otp::set_label("dist_connection");
  otp::link(kernel);
  auto handoff = co_await otp::receive<Handoff>(config->setup_timeout);
  if (!handoff) otp::exit(Reason::timeout());
  net::Socket socket = handoff->socket;
  auto hs = Handshake::accept({.name = config->name,
                               .cookie = config->cookie,
                               .creation = config->creation,
                               .flags = config->flags},
                              random_challenge());
  auto rest = co_await handshake(socket, hs, kernel, config->setup_timeout);
  if (!rest) {
    if (!hs.peer().name.empty() && hs.error().find("cookie") != std::string::npos)
      log::warning("dist: connection attempt from {} refused: {}", hs.peer().name, hs.error());
    otp::exit(rest.reason());
  }
  co_await run_connection(socket, kernel, config, hs.peer().name, std::move(rest).value());
}

Co<void> outgoing_connection(Pid kernel, ConfigPtr config, std::string peer) {
  otp::set_label("dist_connection");
  const auto at = peer.find('@');
  Epmd epmd = config->epmd;
  epmd.host = peer.substr(at + 1);
  auto where = co_await port_please(epmd, peer.substr(0, at));
  if (!where) otp::exit(where.reason());
  if (where.value().highest_version < 6)
    otp::exit(dist_reason("{unsupported_protocol, " + peer + "}"));
  auto socket = co_await net::connect(epmd.host, where.value().port, config->setup_timeout);
  if (!socket) otp::exit(socket.reason());
  auto hs = Handshake::initiate({.name = config->name,
                                 .cookie = config->cookie,
                                 .creation = config->creation,
                                 .flags = config->flags,
                                 .expected_peer = peer},
                                random_challenge());
  auto rest = co_await handshake(socket.value(), hs, kernel, config->setup_timeout);
  if (!rest) otp::exit(rest.reason());
  co_await run_connection(socket.value(), kernel, config, peer, std::move(rest).value());
}

std::optional<std::string> cookie_file(std::string& path) {
  const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe): once, at start
  path = std::string(home ? home : "") + "/.erlang.cookie";
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.pop_back();
  if (line.empty()) return std::nullopt;
  return line;
}

}  // namespace

Co<Result<Node>> Node::start_link(NodeOptions options) {
  const auto at = options.name.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == options.name.size() ||
      options.name.find('@', at + 1) != std::string::npos)
    co_return dist_reason("{invalid_node_name, " + options.name + "}");
  if (!options.cookie) {
    std::string path;
    options.cookie = cookie_file(path);
    if (!options.cookie) co_return dist_reason("{no_cookie, " + path + "}");
  }
  const bool register_it = options.register_with_epmd;
  Epmd epmd = options.epmd;
  auto started = co_await NetKernel::start_link(std::move(options));
  if (!started) co_return started.reason();
  if (register_it) {
    NetKernel::Register req{std::move(epmd)};
    auto registered = co_await NetKernel::call(started.pid(), std::move(req));
    if (!registered) {
      co_await otp::stop(started.pid(), Reason::shutdown());
      co_return registered.reason();
    }
  }
  NetKernel::GetInfo get;
  auto info = co_await NetKernel::call(started.pid(), get);
  Node node;
  node.pid_ = started.pid();
  node.name_ = std::move(info.name);
  node.creation_ = info.creation;
  node.port_ = info.port;
  co_return node;
}

Co<Result<void>> connect_node(Node node, std::string peer) {
  NetKernel::Connect req{std::move(peer)};
  co_return co_await NetKernel::call(node.pid(), std::move(req), infinity);
}

Co<std::vector<std::string>> nodes(Node node) {
  NetKernel::Nodes req;
  co_return co_await NetKernel::call(node.pid(), req);
}

Co<void> monitor_node(Node node, std::string peer, bool on) {
  NetKernel::MonitorNode req{std::move(peer), on};
  co_await NetKernel::call(node.pid(), std::move(req));
}

Co<void> monitor_nodes(Node node, bool on) {
  NetKernel::MonitorNodes req{on};
  co_await NetKernel::call(node.pid(), req);
}

Co<bool> disconnect_node(Node node, std::string peer) {
  NetKernel::Disconnect req{std::move(peer)};
  co_return co_await NetKernel::call(node.pid(), std::move(req));
}

Co<Result<void>> send_frame(Node node, std::string peer, std::string bytes) {
  NetKernel::Send req{std::move(peer), std::move(bytes)};
  co_return co_await NetKernel::call(node.pid(), std::move(req));
}

Co<void> set_frame_consumer(Node node, Pid consumer) {
  NetKernel::Consumer req{consumer};
  co_await NetKernel::call(node.pid(), req);
}

Co<void> stop(Node node) { co_await otp::stop(node.pid(), Reason::shutdown()); }

}  // namespace otp::dist
