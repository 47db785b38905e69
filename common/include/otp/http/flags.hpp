// otp::http::add_flags — an HTTP service's command-line flags, for a program built on
// otp::Console (CLI11): where it listens, what a connection may cost, and who may call it.
//
//   otp::http::Options http;
//   CLI::App* serve = console.cli().add_subcommand("serve", "runs the HTTP service");
//   otp::http::add_flags(*serve, http);   // --listen 127.0.0.1:4000, --body-limit, ...
//
// The flags and their defaults (those of Options; `--help` prints them):
//   --listen HOST:PORT      address and port                      (127.0.0.1:4000)
//   --body-limit BYTES      the largest request body, else 413    (65536)
//   --header-limit BYTES    the largest request head, else 431    (8192)
//   --max-connections N     connections at once, else 503         (10000)
//   --idle-timeout D        a keep-alive connection idle this long is closed   (1m)
//   --read-timeout D        a request not read in this time is answered 408   (10s)
//   --allowed-host NAME     a name clients may reach it by, besides the loopback names and the
//                           --listen address; else 421 (repeatable)
//   --allowed-origin ORIGIN an origin whose pages may call it, besides its own; else 403
//                           (repeatable)
// With them, a service answers only requests whose Host is its own and whose Origin, when a
// browser sends one, is its own or an allowed one: a page on another site, or a DNS name
// rebound to 127.0.0.1, cannot use it (docs/http.md). Header only: a program that uses it links
// otp::console and otp::http, which it does anyway.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "otp/console.hpp"
#include "otp/http/server.hpp"
#include "otp/net/address.hpp"

namespace otp::http {

// The names every service answers to: the loopback ones.
inline std::vector<std::string> loopback_hosts() {
  return {"localhost", "127.0.0.1", "[::1]", "::1"};
}

// Adds the flags above to `app`, each writing into `options`; allowed_hosts starts as the
// loopback names (the server adds the address it listens on), and allowed_origins starts empty (the service's
// own origin only).
inline void add_flags(CLI::App& app, Options& options) {
  options.allowed_hosts = loopback_hosts();  // and the --listen address: the server adds it
  options.allowed_origins.emplace();
  Console::flag(app, "--listen", "the address and port to listen on",
                [&options](const std::string& text) { options.listen(text); })
      ->default_str(net::Address{options.address, options.port}.to_string())
      ->type_name("HOST:PORT");
  app.add_option("--body-limit", options.body_limit,
                 "the largest request body, in bytes (else 413)")
      ->capture_default_str();
  app.add_option("--header-limit", options.header_limit,
                 "the largest request head, in bytes (else 431)")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections, "connections at once (else 503)")
      ->capture_default_str();
  Console::flag(app, "--idle-timeout", "closes a keep-alive connection idle this long",
                options.idle_timeout);
  Console::flag(app, "--read-timeout", "answers 408 to a request not read in this time",
                options.read_timeout);
  app.add_option_function<std::vector<std::string>>(
         "--allowed-host",
         [&options](const std::vector<std::string>& names) {
           options.allowed_hosts.insert(options.allowed_hosts.end(), names.begin(), names.end());
         },
         "a name clients reach the service by, besides the loopback names and the --listen "
         "address (repeatable; else 421)")
      ->type_name("NAME");
  app.add_option_function<std::vector<std::string>>(
         "--allowed-origin",
         [&options](const std::vector<std::string>& origins) {
           options.allowed_origins->insert(options.allowed_origins->end(), origins.begin(),
                                           origins.end());
         },
         "an origin (http://host:port) whose pages may call the API, besides the service's own "
         "(repeatable; else 403)")
      ->type_name("ORIGIN");
}

}  // namespace otp::http
