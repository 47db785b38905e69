// otp::http — an HTTP/1.1 server whose connections are processes.
//
//   otp::http::Router router;
//   router.get("/sessions/{login}", [stash](otp::http::Request& req) -> otp::Co<otp::http::Response> {
//     Stash::Get get{std::string(req.param("login"))};  // named: GCC 12 and co_await
//     User user = co_await Stash::call(stash, std::move(get));
//     co_return otp::http::Response::json(200, nlohmann::json{{"login", user.login}});
//   });
//   router.post("/echo", [](otp::http::Request& req) {   // a plain handler
//     return otp::http::Response::json(201, req.json());  // 400 when the body is not JSON
//   });
//   auto started = co_await otp::http::Server::start_link(router, {.port = 4000});
//
// The listener is a process (supervise it like any child); each accepted connection gets a
// process of its own that parses the requests and runs the handlers, so a handler may co_await
// calls to other processes, and a handler that crashes ends its own connection only. How the
// connections work: src/http/connection.cpp. WebSocket routes: otp/http/websocket.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "otp/co.hpp"
#include "otp/names.hpp"
#include "otp/pid.hpp"
#include "otp/result.hpp"
#include "otp/runtime.hpp"
#include "otp/server_ref.hpp"

namespace otp::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/sessions/eric?x=1"
  std::string path;    // the target without the query
  std::string query;   // after '?', "" if none
  Headers headers;
  std::string body;
  std::vector<std::pair<std::string, std::string>> params;  // route parameters, set by Router
  std::string peer;  // the address of the connection's other end: "127.0.0.1", "::1"

  // The first header of that name, case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const;
  // A route parameter, percent-decoded ("eric%40example.com" is "eric@example.com"); "" when
  // absent.
  std::string_view param(std::string_view name) const;
  // The body as JSON. Throws Error(415) when a Content-Type other than application/json is given
  // (none at all is accepted), Error(400, "malformed JSON: ...") when the body is not JSON or
  // holds a number no double can (1e400).
  nlohmann::json json() const;
  // A string field of the body's JSON object, as json() reads it; Error(400, "\"login\" must be
  // a string") when the body is not an object or the field is missing or not a string.
  std::string string_field(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Type among them; Content-Length is added when it is sent
  std::string body;

  static Response json(int status, const nlohmann::json& body);
  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  // {"error": message}
  static Response error(int status, std::string_view message);
  // 204, no body.
  static Response no_content();

  std::optional<std::string_view> header(std::string_view name) const;
};

// Thrown by a handler (or Request::json) to answer Response::error(status, what()).
struct Error : std::runtime_error {
  int status;
  Error(int status, std::string message);
};

// A handler runs inside the connection's process: it may co_await calls to other processes.
using Handler = std::function<Co<Response>(Request&)>;
using PlainHandler = std::function<Response(Request&)>;
// A WebSocket handler (otp/http/websocket.hpp): runs in the connection's process after the
// upgrade; the connection closes when it returns.
class WebSocket;
using WsHandler = std::function<Co<void>(WebSocket&, Request&)>;
// Decides whether an upgrade may go on: nullopt, or the answer that refuses it (a 403 for a
// foreign Origin, say), sent instead of 101.
using WsGuard = std::function<std::optional<Response>(const Request&)>;

// Routes by method and path pattern: "/sessions/{login}/validate", where {name} matches one
// non-empty path segment. The first route added that matches wins. A path no route matches
// answers 404; a path that matches with other methods only, 405 with an Allow header.
class Router {
 public:
  Router& route(std::string method, std::string pattern, Handler h);
  Router& route(std::string method, std::string pattern, PlainHandler h);
  template <class F>
  Router& get(std::string pattern, F&& h) {
    return add("GET", std::move(pattern), std::forward<F>(h));
  }
  template <class F>
  Router& post(std::string pattern, F&& h) {
    return add("POST", std::move(pattern), std::forward<F>(h));
  }
  template <class F>
  Router& put(std::string pattern, F&& h) {
    return add("PUT", std::move(pattern), std::forward<F>(h));
  }
  template <class F>
  Router& del(std::string pattern, F&& h) {
    return add("DELETE", std::move(pattern), std::forward<F>(h));
  }

  // A WebSocket route: a GET with the upgrade headers gets 101 and the handler
  // (otp/http/websocket.hpp); a GET without them, 426 Upgrade Required.
  Router& websocket(std::string pattern, WsHandler h, WsGuard guard = {});

  // An exception of type E (or one derived from it) out of any handler is answered
  // Response::error(status, message), or with its what() when message is empty:
  //   router.on_error<StashUnavailable>(503, "stash unavailable");
  // The first on_error whose type matches wins; Error needs none.
  template <class E>
  Router& on_error(int status, std::string message = {}) {
    return on_error<E>([status, message = std::move(message)](const E& e) {
      return Response::error(status, message.empty() ? std::string_view(e.what()) : message);
    });
  }
  // ... or with what `answer` makes of it (count it, then answer).
  template <class E, class F>
  requires std::is_invocable_r_v<Response, F&, const E&> Router& on_error(F answer) {
    errors_.push_back([answer = std::move(answer)](std::exception_ptr e) mutable {
      try {
        std::rethrow_exception(std::move(e));
      } catch (const E& error) {
        return std::optional<Response>(answer(error));
      } catch (...) {
        return std::optional<Response>();
      }
    });
    return *this;
  }

  // Finds the route, fills req.params and runs the handler; 404 and 405 as above. An Error the
  // handler throws is answered here, as is one on_error names; any other exception propagates.
  Co<Response> dispatch(Request& req) const;
  // The WebSocket handler of the route dispatch would pick for req (req.params filled); null
  // when that route is not a WebSocket route.
  const WsHandler* websocket_route(Request& req) const;
  // The answer of that route's guard (nullopt: no guard, or the guard lets it through).
  std::optional<Response> websocket_refusal(const Request& req) const;
  // The routes added so far, "METHOD /pattern" in order (WebSocket routes left out): what a
  // service may list at its root for a person who opens it.
  std::vector<std::string> endpoints() const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for a parameter
    Handler handler;
    WsHandler ws;  // set for a WebSocket route (then handler is empty)
    WsGuard guard;
  };
  template <class F>
  Router& add(std::string method, std::string pattern, F&& h) {
    if constexpr (std::is_invocable_r_v<Co<Response>, F&, Request&>) {
      return route(std::move(method), std::move(pattern), Handler(std::forward<F>(h)));
    } else {
      return route(std::move(method), std::move(pattern), PlainHandler(std::forward<F>(h)));
    }
  }

  std::vector<Route> routes_;
  std::vector<std::function<std::optional<Response>(std::exception_ptr)>> errors_;
};

struct Stats;

// What a connection may hold. A connection buffers at most header_limit (plus one read of
// 64 KiB) of a request's head, chunk lines and trailers, body_limit of its body, and
// output_high_water (plus the answer that crossed it) of answers its peer has not read yet: with
// the defaults, about 400 KiB and the largest answer. Idle, it holds no buffer at all.
struct Options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 4000;            // 0: the kernel picks one
  std::size_t body_limit = 64 * 1024;   // over it: 413, then close
  std::size_t header_limit = 8 * 1024;  // the head, a chunk line or the trailers over it: 431
  Duration idle_timeout = std::chrono::seconds(60);  // a keep-alive connection with no request
  Duration read_timeout = std::chrono::seconds(10);  // a started request must be complete by then
  // Answers written and not yet sent over it: the connection reads no new request until they
  // drain below it; when they have not moved for write_timeout, the connection is cut.
  std::size_t output_high_water = 256 * 1024;
  Duration write_timeout = std::chrono::seconds(30);
  // Over it: 503, then close. The first server raises the process's open-files limit to its
  // hard limit, and logs a warning when that is fewer than max_connections and 64.
  std::size_t max_connections = 10000;
  // The names a request's Host (its port left out) may have, besides `address` (which the
  // server adds); another is answered 421 Misdirected Request. Empty: any.
  std::vector<std::string> allowed_hosts;
  // The origins (scheme://host[:port]) a request's Origin header may name besides the request's
  // own (http:// and its Host, which allowed_hosts vouches for); another is answered 403. A
  // request without Origin is let through. Unset: any origin; an empty list: the own only.
  std::optional<std::vector<std::string>> allowed_origins;
  // A request with a body whose Content-Type is not application/json (or is missing) is
  // answered 415 before any route sees it. Off: Request::json() alone checks it.
  bool json_bodies_only = false;
  std::shared_ptr<Stats> stats;                   // when set, the server counts into it
  std::size_t websocket_message_limit = 1 << 20;  // a WebSocket message over it: close 1009

  // Sets address and port from "host:port" (otp/net/address.hpp; throws std::invalid_argument).
  Options& listen(std::string_view host_port);
};

// The listener process. It owns the listening socket; connections are processes of their own,
// not linked to it: a connection that crashes ends alone.
class Server {
 public:
  static Start start_link(Router router, Options options);
  static Start start_link(Name name, Router router, Options options);
  static Start start(Router router, Options options);
  // The port the server listens on (the kernel's choice for port 0).
  static Co<Result<std::uint16_t>> port(Pid server);
  // Its URL, "http://127.0.0.1:4000" (the port the kernel's choice for port 0).
  static Co<Result<std::string>> url(Pid server);
  // Connections open now.
  static Co<Result<std::size_t>> connections(Pid server);
};

// What a connection process answers when a client sends `bytes` and then closes its side: the
// responses, in order, as they would go on the wire (a WebSocket upgrade gets its 101 and stops
// there). The same code as a connection's, without the socket and its timeouts: for tests and
// fuzzing of a Router under given Options. Runs its handlers in the calling process.
Co<std::string> answer_bytes(const Router& router, const Options& options, std::string bytes);

}  // namespace otp::http
