// otp::observer::Web — the observer in a browser: the live supervision tree, the process
// table, a process's details (and a kill button), the system's charts, served by the runtime.
//
//   otp::Scoped me(rt);
//   auto web = me.await(otp::observer::Web::start({.port = 0}));   // loopback, a free port
//   fmt::print("{}\n", web.value().url);                           // http://127.0.0.1:PORT/observer
//
//   otp::http::Router router = my_routes();                        // or beside an API:
//   otp::observer::Web::mount(router, {});                         // GET /observer, WS /observer/ws
//
// The page (common/observer/: HTML, CSS and JS, embedded at build time) opens a WebSocket to
// <prefix>/ws; the connection's process pushes what changed every `interval`
// (otp/observer/view.hpp), from the snapshot all pages share (Snapshots: one reading of the
// runtime per interval, however many pages); the page sends what it opens, selects, searches
// and kills, at most `messages_per_second`.
//
// Safety. Only a page the observer served may talk to it: each page load gets a fresh token of
// 128 bits from the kernel's CSPRNG (getrandom; kept among the last 256) in a cookie, HttpOnly
// and SameSite=Strict, so it is never in a URL (a log, the history, a Referer), the page's
// script cannot read it, and the browser sends it only with the observer's own requests. The
// WebSocket upgrade is refused (403) unless its Host is a loopback name or the bound address,
// its Origin is that same host (no other site, and no DNS rebinding, reaches it from a victim's
// browser), and it carries a known token; the socket is then closed (1008) unless its peer's
// address is one `peers` allows (loopback only, by default). `readonly` leaves the kill action
// out of the page and refuses it on the socket.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "otp/http/server.hpp"
#include "otp/observer/view.hpp"
#include "otp/pid.hpp"
#include "otp/result.hpp"
#include "otp/runtime.hpp"

namespace otp::observer {

struct WebOptions {
  std::string address = "127.0.0.1";  // Web::start's listener: loopback unless told otherwise
  std::uint16_t port = 0;             // 0: the kernel picks one
  bool readonly = false;              // no kill button, and kill refused
  std::string prefix = "/observer";   // where mount puts the page
  Duration interval = std::chrono::milliseconds(500);  // between two updates of a page
  // Who may open the socket, by the peer's address: "loopback" (127.0.0.0/8, ::1), an address
  // ("192.168.1.20"), or "*" for anyone.
  std::vector<std::string> peers = {"loopback"};
  // A page's messages: this many a second, in bursts of up to twice as many; past it the
  // socket is closed (1008). The page sends one per click, and its own opening of branches as
  // one message per update.
  unsigned messages_per_second = 20;
  // Where the pages take their snapshots; none: one of this Web's own, with `interval`. One
  // given to two mounts serves both.
  std::shared_ptr<Snapshots> snapshots{};
};

class Web {
 public:
  struct Started {
    Pid server;       // the listener (otp::http::Server), not linked to the caller
    std::string url;  // http://address:port/observer
  };
  // Adds the page and its WebSocket to `router`, under options.prefix.
  static void mount(http::Router& router, const WebOptions& options);
  // A listener of its own that serves only the observer; its processes are left out of the
  // tree it shows.
  static Co<Result<Started>> start(WebOptions options);

  // Applies one message of a page to its View, as the page's WebSocket does: {"op": "expand" |
  // "collapse" | "more" | "select", "pid"}, {"op": "expand", "pids": [...]} (up to 1000),
  // {"op": "search", "text"}, {"op": "table", "sort", "descending", "filter", "limit"},
  // {"op": "kill", "pid", "reason"}. Answers (search, kill) go to `reply`; anything else,
  // malformed JSON included, is ignored. True when the page is due an update at once. Search
  // and kill read the runtime from `snapshots` (the last one while it is fresh); the overload
  // without takes a new snapshot each time.
  static Co<bool> apply(View& view, std::string_view text, bool readonly, Snapshots& snapshots,
                        const std::function<void(const nlohmann::json&)>& reply);
  static Co<bool> apply(View& view, std::string_view text, bool readonly,
                        const std::function<void(const nlohmann::json&)>& reply);
};

}  // namespace otp::observer
