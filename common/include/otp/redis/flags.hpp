// otp::redis::add_flag — a program's flag for the Redis it uses, as a URL (Options::from_url).
//
//   std::optional<otp::redis::Options> redis;     // none: the program works without Redis
//   otp::redis::add_flag(console.cli(), "--stash", "where sessions live", redis, "memory");
//   // `--stash redis://127.0.0.1:6379` sets it; `--stash memory` (the default) leaves it unset
//
// A bad URL is refused when the command line is parsed, with the flag's name and why
// (`--stash: expected redis://host:port, ...`). Header only: a program that uses it links
// otp::console (CLI11) and otp::redis, which it does anyway.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "otp/console.hpp"
#include "otp/redis/connection.hpp"

namespace otp::redis {

// Adds `name` to `app`: a redis:// URL sets `options`, the word `none` (the default, shown by
// --help) leaves it unset.
inline CLI::Option* add_flag(CLI::App& app, const std::string& name, const std::string& help,
                             std::optional<Options>& options, const std::string& none) {
  return Console::flag(app, name, help + ": " + none + ", or redis://host:port",
                       [&options, none](const std::string& text) {
                         if (text == none) {
                           options.reset();
                         } else {
                           options = Options::from_url(text);
                         }
                       })
      ->default_str(none)
      ->type_name("URL");
}

}  // namespace otp::redis
