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
// <prefix>/ws; the connection's process takes a snapshot every `interval` and pushes what
// changed (otp/observer/view.hpp); the page sends what it opens, selects, searches and kills.
//
// Safety. Only a page the observer served may talk to it: each page load gets a fresh token
// (kept among the last 256), and the WebSocket upgrade is refused (403) unless its Host is a
// loopback name or the bound address, its Origin is that same host (no other site, and no DNS
// rebinding, reaches it from a victim's browser), and it carries a known token. `readonly`
// leaves the kill action out of the page and refuses it on the socket.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

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
  // "collapse" | "more" | "select", "pid"}, {"op": "search", "text"}, {"op": "table", "sort",
  // "descending", "filter", "limit"}, {"op": "kill", "pid", "reason"}. Answers (search, kill)
  // go to `reply`; anything else, malformed JSON included, is ignored. True when the page is due
  // an update at once.
  static Co<bool> apply(View& view, std::string_view text, bool readonly,
                        const std::function<void(const nlohmann::json&)>& reply);
};

}  // namespace otp::observer
