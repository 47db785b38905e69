// The HTTP service (docs/service.md): HangTen's routes on the otp::http server, which runs a
// process per connection, so a bad request can end only its own connection.
//
//   POST   /sessions                  {"login"} -> 201 {login, token, expires_at} (200: existing)
//   POST   /sessions/{login}/validate {"token"} -> 200 {valid, request_count} | 403 {valid}
//   POST   /sessions/{login}/rotate             -> 200 {login, token, expires_at} | 404
//   GET    /sessions/{login}                    -> 200 {login, request_count, expires_at} | 404
//   DELETE /sessions/{login}                    -> 204 | 404
//   GET    /healthz (the process answers), GET /readyz (503 while the stash cannot answer)
//   GET    /metrics, GET / (what is served here)
//   GET    /observer                            -> the web observer (docs/observer.md)
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>

#include "application.hpp"
#include "hang_ten.hpp"
#include "metrics.hpp"
#include "otp/http/server.hpp"
#include "otp/observer/web.hpp"
#include "otp/otp.hpp"

namespace hang_ten {

using otp::http::Request;
using otp::http::Response;
using Json = nlohmann::json;

// The session as the service shows it; the token only in the answers to opening and rotating
// it, never in a GET. The caller is trusted: see docs/service.md.
inline Json to_json(const User& u, bool with_token) {
  Json out{
      {"login", u.login},
      {"request_count", u.request_count},
      {"expires_at", fmt::format("{:%FT%TZ}", fmt::gmtime(WallClock::to_time_t(u.expires_at)))}};
  if (with_token) out["token"] = u.token.reveal();
  return out;
}

inline otp::http::Router routes() {
  otp::http::Router r;
  r.on_error<StashUnavailable>(503, "stash unavailable");
  r.on_error<TooManySessions>([](const TooManySessions&) {
    metrics.refused_session();
    return Response::error(503, "too many sessions");
  });
  r.on_error<std::invalid_argument>(400);  // check_login's message
  r.post("/sessions", [](Request& req) -> otp::Co<Response> {
    auto [user, created] = co_await sessions().open(req.string_field("login"));
    co_return Response::json(created ? 201 : 200, to_json(user, true));
  });
  r.post("/sessions/{login}/validate", [](Request& req) -> otp::Co<Response> {
    auto count =
        co_await sessions().validate(std::string(req.param("login")), req.string_field("token"));
    metrics.validated(count.has_value());
    if (!count) co_return Response::json(403, {{"valid", false}});
    co_return Response::json(200, {{"valid", true}, {"request_count", *count}});
  });
  r.post("/sessions/{login}/rotate", [](Request& req) -> otp::Co<Response> {
    auto user = co_await sessions().rotate(std::string(req.param("login")));
    if (!user) co_return Response::error(404, "no such session");
    co_return Response::json(200, to_json(*user, true));
  });
  r.get("/sessions/{login}", [](Request& req) -> otp::Co<Response> {
    auto user = co_await sessions().find(std::string(req.param("login")));
    if (!user) co_return Response::error(404, "no such session");
    co_return Response::json(200, to_json(*user, false));
  });
  r.del("/sessions/{login}", [](Request& req) -> otp::Co<Response> {
    if (!co_await stop(std::string(req.param("login"))))
      co_return Response::error(404, "no such session");
    co_return Response::no_content();
  });
  r.get("/healthz", [](Request&) { return Response::json(200, {{"status", "ok"}}); });
  r.get("/readyz", [](Request&) -> otp::Co<Response> {  // can the stash answer now?
    const bool ready = co_await sessions().ready();
    co_return Response::json(ready ? 200 : 503, {{"status", ready ? "ready" : "unavailable"},
                                                 {"stash", sessions().kind()}});
  });
  r.get("/metrics", [](Request&) -> otp::Co<Response> {
    co_return Response::text(200, co_await metrics.render(),
                             std::string(otp::http::Prometheus::content_type));
  });
  r.get("/", [endpoints = r.endpoints()](Request&) {  // for a person who opens the root
    return Response::json(200, {{"service", "HangTen"},
                                {"endpoints", endpoints},
                                {"observer", "/observer"},
                                {"docs", "docs/service.md"}});
  });
  return r;
}

// The HTTP listener, a child of the application once served, with the observer beside the API.
struct Service {
  static constexpr const char* name = "HangTen.Service";
  static otp::Start start_link(otp::http::Options options, otp::observer::WebOptions observer) {
    options.stats = metrics.http;
    otp::http::Router router = routes();
    otp::observer::Web::mount(router, observer);
    return otp::http::Server::start_link(otp::Name::local(name), std::move(router),
                                         std::move(options));
  }

  // Starts the listener as a child of the application (`hang_ten serve`, the console's serve):
  // its URL. Throws when it cannot listen.
  static std::string serve(otp::Scoped& me, otp::http::Options options, bool observer_readonly) {
    options.json_bodies_only = true;  // a form another site may post without asking: 415
    auto started = me.await(otp::Supervisor::start_child(
        Application::name,
        otp::child<Service>(options, otp::observer::WebOptions{.readonly = observer_readonly})));
    auto url = started ? me.await(otp::http::Server::url(started.pid()))
                       : otp::Result<std::string>(started.reason());
    if (!url)
      throw std::runtime_error(
          fmt::format("cannot listen on {}:{}: {}", options.address, options.port, url.reason()));
    return url.value();
  }
};

}  // namespace hang_ten
