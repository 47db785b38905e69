// The web observer (otp/observer/web.hpp): the page, the checks, the socket's loop.
//
// A page's socket is served by its connection's process: it waits for the page's requests up
// to the next tick, and at each tick gets the shared snapshot (Snapshots: the last one while it
// is fresh, so N pages read the runtime once an interval, not N times) and sends View::update
// (nothing when nothing changed but the system line). A request that changes what the page
// shows (open a branch, select, search, sort) is answered at once with an update. Ticks are
// `interval` apart, or twice the time an update took when that is longer.
//
// A page's requests pass a token bucket (WebOptions::messages_per_second, bursts of twice
// that): a client past it is closed with 1008 rather than having its messages dropped, since
// a page that lost requests would show what its reader did not ask for, and the page itself
// never comes near the limit.
//
// Requests, one JSON object per WebSocket message:
//   {"op": "expand"|"collapse"|"more"|"select", "pid": "<0.7.0>"}
//   {"op": "expand", "pids": ["<0.7.0>", ...]}  the branches the page opens by itself
//   {"op": "search", "text": "eric"}          -> {"found": pid or null} and an update
//   {"op": "table", "sort": "mailbox", "descending": true, "filter": "", "limit": 100}
//   {"op": "kill", "pid": "<0.9.0>", "reason": "kill"}  -> {"killed": pid} or {"error": ...}
#include "otp/observer/web.hpp"

#include <array>
#include <cerrno>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "otp/http/websocket.hpp"
#include "otp/logger.hpp"
#include "otp/observer/view.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"

namespace otp::observer {

namespace detail {
// The page's files, embedded by CMake (common/observer/*; see cmake/otp_embed.cmake).
extern const std::string_view page_html;
extern const std::string_view page_css;
extern const std::string_view page_js;
}  // namespace detail

namespace {

// `n` bytes from the kernel's CSPRNG: getrandom(2), or /dev/urandom where the kernel is older
// than getrandom. A token an attacker could predict (a seeded mt19937's) is no token.
void random_bytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r < 0 && errno == ENOSYS) {
      break;
    } else if (r < 0 && errno != EINTR) {
      throw std::runtime_error("getrandom failed");
    }
  }
  if (got == n) return;
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("no /dev/urandom");
  while (got < n) {
    const ssize_t r = ::read(fd, out + got, n - got);
    if (r <= 0 && errno != EINTR) break;
    if (r > 0) got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  if (got < n) throw std::runtime_error("short read from /dev/urandom");
}

// The tokens of the pages served, newest last; the oldest go past 256.
class Tokens {
 public:
  std::string issue() {
    std::array<unsigned char, 16> bytes{};
    random_bytes(bytes.data(), bytes.size());
    std::string token;
    for (unsigned char b : bytes) token += fmt::format("{:02x}", b);
    std::lock_guard lock(m_);
    tokens_.push_back(token);
    if (tokens_.size() > 256) tokens_.pop_front();
    return token;
  }
  bool valid(std::string_view token) const {
    if (token.size() != 32) return false;
    std::lock_guard lock(m_);
    return std::find(tokens_.begin(), tokens_.end(), token) != tokens_.end();
  }

 private:
  mutable std::mutex m_;
  std::deque<std::string> tokens_;
};

struct Shared {
  explicit Shared(WebOptions o)
      : options(std::move(o)),
        snapshots(options.snapshots ? options.snapshots
                                    : std::make_shared<Snapshots>(options.interval)) {}
  WebOptions options;
  std::shared_ptr<Snapshots> snapshots;
  Tokens tokens;
  std::mutex m;
  Pid hidden;  // the own listener, when started by Web::start
};

std::string_view host_name(std::string_view host) {
  if (host.starts_with('[')) return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.rfind(':') == std::string_view::npos ? host.size() : host.rfind(':'));
}

bool host_ok(const http::Request& req, const WebOptions& options) {
  auto host = req.header("Host");
  if (!host || host->empty()) return false;
  const auto name = host_name(*host);
  return name == "127.0.0.1" || name == "localhost" || name == "[::1]" ||
         (options.address != "0.0.0.0" && options.address != "::" && name == options.address);
}

bool peer_ok(std::string_view address, const WebOptions& options) {
  const bool loopback =
      address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
  for (const auto& allowed : options.peers) {
    if (allowed == "*" || allowed == address || (allowed == "loopback" && loopback)) return true;
  }
  return false;
}

bool origin_ok(const http::Request& req) {
  auto origin = req.header("Origin");
  auto host = req.header("Host");
  return origin && host && *origin == "http://" + std::string(*host);
}

// The token's cookie, one per port: two observers on one host (cookies do not tell ports
// apart) keep a token each.
std::string cookie_name(const http::Request& req) {
  const auto host = req.header("Host").value_or("");
  const auto name = host_name(host);
  std::string port(host.substr(std::min(host.size(), name.size() + 1)));
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) port = "";
  return port.empty() ? "observer_token" : "observer_token_" + port;
}

// Whether any cookie of that name (a browser may send several, from several paths) is a
// token this observer issued.
bool has_token(const http::Request& req, const Tokens& tokens) {
  const std::string name = cookie_name(req);
  for (const auto& [key, value] : req.headers) {
    if (key.size() != 6 || strncasecmp(key.c_str(), "cookie", 6) != 0) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view part = rest.substr(0, semi);
      while (part.starts_with(' ')) part.remove_prefix(1);
      if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=' &&
          tokens.valid(part.substr(name.size() + 1)))
        return true;
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return false;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string replace_all(std::string text, std::string_view what, std::string_view with) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
  return text;
}

http::Response page(const std::shared_ptr<Shared>& shared, http::Request& req) {
  if (!host_ok(req, shared->options)) return http::Response::error(403, "forbidden host");
  // The page carries the token's cookie: it goes to an allowed peer only, as the socket does.
  if (!peer_ok(req.peer, shared->options)) {
    otp::log::warning("observer: the page refused to {} (WebOptions::peers)", req.peer);
    return http::Response::error(403, "forbidden peer");
  }
  std::string html(detail::page_html);
  html = replace_all(std::move(html), "/*OBSERVER_CSS*/", detail::page_css);
  html = replace_all(std::move(html), "/*OBSERVER_JS*/", detail::page_js);
  html = replace_all(std::move(html), "{{prefix}}", html_escape(shared->options.prefix));
  html = replace_all(std::move(html), "{{readonly}}", shared->options.readonly ? "true" : "false");
  auto response = http::Response::text(200, std::move(html), "text/html; charset=utf-8");
  response.headers.emplace_back(
      "Set-Cookie", fmt::format("{}={}; Path={}; HttpOnly; SameSite=Strict", cookie_name(req),
                                shared->tokens.issue(), shared->options.prefix));
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'none'; script-src 'unsafe-inline'; "
                                "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'");
  return response;
}

std::optional<Pid> find_pid(const Snapshot& snap, std::string_view text) {
  for (const auto& p : snap.processes)
    if (p.pid.to_string() == text) return p.pid;
  return std::nullopt;
}

std::string field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void send(http::WebSocket& ws, const nlohmann::json& j) {
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)ws.send_text(text);
}

// A page's messages: `rate` a second, in bursts of up to twice as many.
class Bucket {
 public:
  explicit Bucket(unsigned rate) : rate_(rate), tokens_(2.0 * rate) {}
  bool take() {
    const auto now = std::chrono::steady_clock::now();
    tokens_ =
        std::min(2.0 * rate_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double rate_, tokens_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

Co<void> serve(std::shared_ptr<Shared> shared, http::WebSocket& ws) {
  if (!peer_ok(ws.socket().peer_address(), shared->options)) {
    otp::log::warning("observer: a socket from {} refused (WebOptions::peers)",
                      ws.socket().peer_address());
    ws.close(1008, "forbidden peer");
    co_return;
  }
  View view;
  {
    std::lock_guard lock(shared->m);
    if (shared->hidden) view.hide(shared->hidden);
  }
  send(ws, nlohmann::json{{"hello", {{"readonly", shared->options.readonly}}}});
  Bucket bucket(shared->options.messages_per_second);
  auto next = std::chrono::steady_clock::now();
  Duration cost{};  // what the last update took
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next) {
      // The snapshot every page shares; the page that finds it stale takes the next one (and
      // then waits twice that long, as the snapshot stays fresh for twice its reading's time).
      auto snap = co_await shared->snapshots->get();
      nlohmann::json update = view.update(*snap);
      send(ws, update);
      const auto done = std::chrono::steady_clock::now();
      cost = std::chrono::duration_cast<Duration>(done - now);
      next = done + std::max(shared->options.interval, 2 * cost);
    }
    const auto wait = std::chrono::duration_cast<Duration>(next - std::chrono::steady_clock::now());
    auto msg = co_await ws.receive(std::max(wait, Duration::zero()));
    if (!msg) {
      if (msg.reason() == Reason::timeout()) continue;
      co_return;
    }
    if (!bucket.take()) {
      otp::log::warning("observer: a page sent more than {} messages a second; closed",
                        shared->options.messages_per_second);
      ws.close(1008, "too many messages");
      co_return;
    }
    const bool changed =
        co_await Web::apply(view, msg->data, shared->options.readonly, *shared->snapshots,
                            [&ws](const nlohmann::json& j) { send(ws, j); });
    if (changed) next = std::chrono::steady_clock::now();
  }
}

void install(http::Router& router, const std::shared_ptr<Shared>& shared) {
  const std::string& prefix = shared->options.prefix;
  auto serve_page = [shared](http::Request& req) { return page(shared, req); };
  router.get(prefix, serve_page);
  router.get(prefix + "/", serve_page);
  router.websocket(
      prefix + "/ws",
      [shared](http::WebSocket& ws, http::Request&) -> Co<void> { return serve(shared, ws); },
      [shared](const http::Request& req) -> std::optional<http::Response> {
        if (!host_ok(req, shared->options) || !origin_ok(req))
          return http::Response::error(403, "forbidden origin");
        if (!has_token(req, shared->tokens)) return http::Response::error(403, "unknown token");
        return std::nullopt;
      });
}

}  // namespace

Co<bool> Web::apply(View& view, std::string_view text, bool readonly,
                    const std::function<void(const nlohmann::json&)>& reply) {
  Snapshots fresh(Duration::zero());  // one of its own: each call reads the runtime anew
  co_return co_await apply(view, text, readonly, fresh, reply);
}

Co<bool> Web::apply(View& view, std::string_view text, bool readonly, Snapshots& snapshots,
                    const std::function<void(const nlohmann::json&)>& reply) {
  nlohmann::json req = nlohmann::json::parse(text, nullptr, false);
  if (!req.is_object()) co_return false;
  const std::string op = field(req, "op");
  if (op == "expand" && req.contains("pids")) {
    const auto& pids = req["pids"];
    if (!pids.is_array()) co_return false;
    std::size_t n = 0;
    for (const auto& pid : pids) {
      if (++n > 1000) break;
      if (pid.is_string()) view.expand(pid.get<std::string>());
    }
  } else if (op == "expand") {
    view.expand(field(req, "pid"));
  } else if (op == "collapse") {
    view.collapse(field(req, "pid"));
  } else if (op == "more") {
    view.more(field(req, "pid"));
  } else if (op == "select") {
    view.select(field(req, "pid"));
  } else if (op == "table") {
    const auto flag = req.find("descending");
    const auto limit = req.find("limit");
    view.table(field(req, "sort"), flag != req.end() && flag->is_boolean() && flag->get<bool>(),
               field(req, "filter"),
               limit != req.end() && limit->is_number_unsigned() ? limit->get<std::size_t>()
                                                                 : std::size_t{100});
  } else if (op == "search") {
    // The last snapshot first; one new when it has no such process (started since, perhaps).
    auto snap = co_await snapshots.get();
    auto found = view.search(*snap, field(req, "text"));
    if (!found) {
      snap = co_await snapshots.get(true);
      found = view.search(*snap, field(req, "text"));
    }
    reply(nlohmann::json{{"found", found ? nlohmann::json(*found) : nlohmann::json(nullptr)}});
  } else if (op == "kill") {
    if (readonly) {
      reply(nlohmann::json{{"error", "read-only observer"}});
      co_return false;
    }
    // The last snapshot is enough to find the pid (a pid is never reused, and an exit to one
    // that ended since does nothing); a new one when the pid started since.
    auto snap = co_await snapshots.get();
    const std::string pid_text = field(req, "pid");
    auto pid = find_pid(*snap, pid_text);
    if (!pid) {
      snap = co_await snapshots.get(true);
      pid = find_pid(*snap, pid_text);
    }
    if (!pid) {
      reply(nlohmann::json{{"error", "no process " + pid_text}});
      co_return false;
    }
    std::string reason = field(req, "reason");
    if (reason.empty()) reason = "kill";
    otp::log::info("observer: exit({}, {}) from the web page", pid_text, reason);
    otp::exit(*pid, Reason::parse(reason));
    reply(nlohmann::json{{"killed", pid_text}});
  } else {
    co_return false;
  }
  co_return true;
}

void Web::mount(http::Router& router, const WebOptions& options) {
  install(router, std::make_shared<Shared>(options));
}

Co<Result<Web::Started>> Web::start(WebOptions options) {
  auto shared = std::make_shared<Shared>(options);
  http::Router router;
  install(router, shared);
  if (!options.prefix.empty()) {  // its own port: the root leads to the page
    router.get("/", [prefix = options.prefix](http::Request&) {
      http::Response moved = http::Response::text(302, "the observer is at " + prefix + "\n");
      moved.headers.emplace_back("Location", prefix);
      return moved;
    });
  }
  http::Options http_options;
  http_options.address = options.address;
  http_options.port = options.port;
  auto started = co_await http::Server::start(std::move(router), std::move(http_options));
  if (!started) co_return started.reason();
  const Pid server = started.pid();
  {
    std::lock_guard lock(shared->m);
    shared->hidden = server;
  }
  auto port = co_await http::Server::port(server);
  if (!port) co_return port.reason();
  std::string host = options.address.find(':') != std::string::npos ? "[" + options.address + "]"
                                                                    : options.address;
  co_return Started{server, fmt::format("http://{}:{}{}", host, port.value(), options.prefix)};
}

}  // namespace otp::observer
