// The web observer (otp/observer/web.hpp): the page, the checks, the socket's loop.
//
// A page's socket is served by its connection's process: it waits for the page's requests up
// to the next tick, and at each tick takes a snapshot and sends View::update (nothing when
// nothing changed but the system line). A request that changes what the page shows (open a
// branch, select, search, sort) is answered at once with an update. Ticks are `interval`
// apart, or twice the time an update took when that is longer (half a million processes).
//
// Requests, one JSON object per WebSocket message:
//   {"op": "expand"|"collapse"|"more"|"select", "pid": "<0.7.0>"}
//   {"op": "search", "text": "eric"}          -> {"found": pid or null} and an update
//   {"op": "table", "sort": "mailbox", "descending": true, "filter": "", "limit": 100}
//   {"op": "kill", "pid": "<0.9.0>", "reason": "kill"}  -> {"killed": pid} or {"error": ...}
#include "otp/observer/web.hpp"

#include <array>
#include <deque>
#include <memory>
#include <mutex>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

// The tokens of the pages served, newest last; the oldest go past 256.
class Tokens {
 public:
  std::string issue() {
    std::array<std::uint64_t, 2> words{};
    {
      std::lock_guard lock(m_);
      for (auto& w : words) w = rng_();
    }
    std::string token = fmt::format("{:016x}{:016x}", words[0], words[1]);
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
  std::mt19937_64 rng_{std::random_device{}()};
};

struct Shared {
  explicit Shared(WebOptions o) : options(std::move(o)) {}
  WebOptions options;
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

bool origin_ok(const http::Request& req) {
  auto origin = req.header("Origin");
  auto host = req.header("Host");
  return origin && host && *origin == "http://" + std::string(*host);
}

std::string query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    if (part.starts_with(key) && part.size() > key.size() && part[key.size()] == '=')
      return std::string(part.substr(key.size() + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
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
  std::string html(detail::page_html);
  html = replace_all(std::move(html), "/*OBSERVER_CSS*/", detail::page_css);
  html = replace_all(std::move(html), "/*OBSERVER_JS*/", detail::page_js);
  html = replace_all(std::move(html), "{{token}}", shared->tokens.issue());
  html = replace_all(std::move(html), "{{prefix}}", html_escape(shared->options.prefix));
  html = replace_all(std::move(html), "{{readonly}}", shared->options.readonly ? "true" : "false");
  auto response = http::Response::text(200, std::move(html), "text/html; charset=utf-8");
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

Co<void> serve(std::shared_ptr<Shared> shared, http::WebSocket& ws) {
  View view;
  {
    std::lock_guard lock(shared->m);
    if (shared->hidden) view.hide(shared->hidden);
  }
  send(ws, nlohmann::json{{"hello", {{"readonly", shared->options.readonly}}}});
  auto next = std::chrono::steady_clock::now();
  Duration cost{};  // what the last update took
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next) {
      // A runtime with many processes takes longer to read: wait for the late answers, and
      // leave at least twice the reading's time between two updates (a page costs a third of
      // a core at most).
      const Duration timeout = std::chrono::milliseconds(250) + cost;
      Snapshot snap = co_await snapshot(timeout);
      nlohmann::json update = view.update(snap);
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
    const bool changed = co_await Web::apply(view, msg->data, shared->options.readonly,
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
        if (!shared->tokens.valid(query_value(req.query, "token")))
          return http::Response::error(403, "unknown token");
        return std::nullopt;
      });
}

}  // namespace

Co<bool> Web::apply(View& view, std::string_view text, bool readonly,
                    const std::function<void(const nlohmann::json&)>& reply) {
  nlohmann::json req = nlohmann::json::parse(text, nullptr, false);
  if (!req.is_object()) co_return false;
  const std::string op = field(req, "op");
  if (op == "expand") {
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
    Snapshot snap = co_await snapshot();
    auto found = view.search(snap, field(req, "text"));
    reply(nlohmann::json{{"found", found ? nlohmann::json(*found) : nlohmann::json(nullptr)}});
  } else if (op == "kill") {
    if (readonly) {
      reply(nlohmann::json{{"error", "read-only observer"}});
      co_return false;
    }
    Snapshot snap = co_await snapshot();
    const std::string pid_text = field(req, "pid");
    auto pid = find_pid(snap, pid_text);
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
