// The Redis connection's states; the design is at the top of otp/redis/connection.hpp.
#include "otp/redis/connection.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "otp/logger.hpp"
#include "otp/net/address.hpp"

namespace otp::redis {

namespace {
struct Connect {};    // internal: open the socket now
struct Reconnect {};  // state_timeout: the backoff is over

Reason closed_error() { return Reason::parse("closed"); }
Reason disconnected_error() { return Reason::parse("disconnected"); }

// Answers a request that cannot be sent.
void refuse(Event& ev, const Reason& why) {
  if (auto c = ev.call<Connection::Command>()) {
    c.reply(Result<Reply>(why));
  } else if (auto p = ev.call<Connection::Pipeline>()) {
    p.reply(Result<std::vector<Reply>>(why));
  }
}
}  // namespace

Options Options::from_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme))
    throw std::invalid_argument("expected redis://host:port, e.g. redis://127.0.0.1:6379");
  std::string_view rest = url.substr(scheme.size());
  if (rest.find('@') != std::string_view::npos)
    throw std::invalid_argument("a user or password in the URL is not supported yet");
  if (rest.find('/') != std::string_view::npos)
    throw std::invalid_argument("a database number in the URL is not supported yet");
  const bool has_port = rest.starts_with('[') ? rest.find("]:") != std::string_view::npos
                                              : rest.find(':') != std::string_view::npos;
  const auto address =
      net::Address::parse(has_port ? std::string(rest) : fmt::format("{}:6379", rest));
  if (address.host.empty()) throw std::invalid_argument("expected redis://host:port");
  Options options;
  options.host = address.host;
  options.port = address.port;
  return options;
}

Start Connection::start_link(Options options) {
  return StateMachine::start_link(std::move(options));
}
Start Connection::start_link(Name name, Options options) {
  return StateMachine::start_link(std::move(name), std::move(options));
}
Start Connection::start(Options options) { return StateMachine::start(std::move(options)); }

ConnectionData Connection::init(Options options) {
  set_state(&Connection::connecting);
  next_event(Connect{});
  Duration backoff = options.backoff_initial;
  return ConnectionData{std::move(options), {}, {}, {}, backoff, {}, 0, false};
}

Co<void> Connection::connecting(Event& ev) {
  if (!ev.is_internal<Connect>()) {
    postpone(ev);  // a request: sent once connected, refused if the connect fails
    co_return;
  }
  auto& d = data();
  auto socket = co_await net::connect(d.options.host, d.options.port, d.options.connect_timeout,
                                      net::SocketOptions{.active = net::active::once});
  if (!socket) {
    // Said once an outage, not at every attempt of the backoff: the first connect that fails
    // (at start, the server was never reached), or the first after a loss.
    if (d.failed_connects++ == 0)
      log::warning("redis: cannot connect to {}:{} ({}); retrying, requests fail until then",
                   d.options.host, d.options.port, socket.reason().to_string());
    lose_connection();
    co_return;
  }
  if (d.failed_connects > 0)
    log::notice("redis: connected to {}:{} after {} failed attempt{}", d.options.host,
                d.options.port, d.failed_connects, d.failed_connects == 1 ? "" : "s");
  else if (d.ever_connected)
    log::notice("redis: connected to {}:{} again", d.options.host, d.options.port);
  d.failed_connects = 0;
  d.ever_connected = true;
  d.socket = socket.value();
  d.parser = Parser{};
  d.backoff = d.options.backoff_initial;
  next_state(&Connection::connected);
}

void Connection::connected(Event& ev) {
  auto& d = data();
  if (auto c = ev.call<Command>()) {
    d.waiting.push_back(Waiting{c.reply_to(), 1, false, {}});
    write(std::move(c->encoded));
  } else if (auto p = ev.call<Pipeline>()) {
    if (p->count == 0) {
      p.reply(std::vector<Reply>{});
      return;
    }
    Waiting w{p.reply_to(), p->count, true, {}};
    w.replies.reserve(p->count);
    d.waiting.push_back(std::move(w));
    write(std::move(p->encoded));
  } else if (auto* tcp = ev.get<net::Tcp>()) {
    if (!(tcp->socket == d.socket)) return;  // from a socket already given up
    d.parser.feed(tcp->data);
    deliver();
    if (d.socket) net::setopts(d.socket, net::active::once);
    if (d.socket && !d.unsent.empty()) write({});
  } else if (auto* gone = ev.get<net::TcpClosed>()) {
    if (gone->socket == d.socket) lose_connection();
  } else if (auto* error = ev.get<net::TcpError>()) {
    if (error->socket == d.socket) lose_connection();
  }
}

void Connection::disconnected(Event& ev) {
  if (ev.is_state_timeout<Reconnect>()) {
    next_state(&Connection::connecting);
    next_event(Connect{});
    return;
  }
  refuse(ev, closed_error());
}

// Writes `bytes` after what is held back. While the socket still has bytes queued for the IO
// thread, new commands are held back here and go out together: with the next command that finds
// the queue empty, or after the next packet of replies (one always comes, since every command
// written has a caller waiting for its reply). Many callers' commands then travel in few writes,
// and their replies in few packets.
void Connection::write(std::string bytes) {
  auto& d = data();
  if (d.unsent.empty()) {
    d.unsent = std::move(bytes);
  } else {
    d.unsent += bytes;
  }
  if (d.unsent.empty() || net::queued_bytes(d.socket) != 0) return;
  if (auto sent = net::send(d.socket, std::exchange(d.unsent, {})); !sent) lose_connection();
}

// Hands every complete reply to the oldest waiting caller.
void Connection::deliver() {
  auto& d = data();
  try {
    while (auto reply = d.parser.next()) {
      if (d.waiting.empty()) {  // a reply nobody asked for: the stream is out of step
        lose_connection();
        return;
      }
      Waiting& w = d.waiting.front();
      if (!w.pipeline) {
        w.to.reply(Result<Reply>(std::move(*reply)));
        d.waiting.pop_front();
        continue;
      }
      w.replies.push_back(std::move(*reply));
      if (w.replies.size() == w.count) {
        w.to.reply(Result<std::vector<Reply>>(std::move(w.replies)));
        d.waiting.pop_front();
      }
    }
  } catch (const ProtocolError&) {
    lose_connection();
  }
}

// Closes the socket, fails every waiting caller and schedules the next attempt.
void Connection::lose_connection() {
  auto& d = data();
  if (in_state(&Connection::connected))
    log::warning("redis: lost the connection to {}:{}; reconnecting, requests fail until then",
                 d.options.host, d.options.port);
  if (d.socket) net::close(d.socket);
  d.socket = net::Socket{};
  d.parser = Parser{};
  d.unsent.clear();
  for (auto& w : d.waiting) {
    if (w.pipeline) {
      w.to.reply(Result<std::vector<Reply>>(disconnected_error()));
    } else {
      w.to.reply(Result<Reply>(disconnected_error()));
    }
  }
  d.waiting.clear();
  next_state(&Connection::disconnected);
  state_timeout(d.backoff, Reconnect{});
  auto next = std::chrono::duration_cast<Duration>(d.backoff * d.options.backoff_factor);
  d.backoff = std::min(next, d.options.backoff_max);
}

std::string Connection::format_state() {
  const auto& d = data();
  const char* state = in_state(&Connection::connected)    ? "connected"
                      : in_state(&Connection::connecting) ? "connecting"
                                                          : "disconnected";
  return fmt::format("{} {}:{}, {} waiting", state, d.options.host, d.options.port,
                     d.waiting.size());
}

}  // namespace otp::redis
