// The web observer in a program's console: its `observer` command and its --observer and
// --observer-readonly flags (otp/console.hpp).
//
//   // in one file of a program that links otp::console and otp::observer, before main runs:
//   static const bool observer_in_console = otp::observer::serve_in_console();
//
// otp_program(... OBSERVER) (common/cmake/otp_program.cmake) adds that line to a program and its
// tests. The console library itself does not link the observer, so a console program without
// this line builds and links neither otp::observer nor otp::http, otp::net and Boost.Beast.
// Header-only: neither library depends on the other; the program that includes it links both.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "otp/console.hpp"
#include "otp/observer/web.hpp"
#include "otp/scoped.hpp"

namespace otp::observer {

// Makes Web::start (on loopback, at the port a console asks for) what the consoles of this
// program start; true, for a static initializer.
inline bool serve_in_console() {
  Console::web_observer([](Scoped& me, std::uint16_t port, bool readonly) {
    WebOptions options;
    options.port = port;
    options.readonly = readonly;
    auto started = me.await(Web::start(options));
    if (!started)
      throw ConsoleError(fmt::format("the observer could not start: {}", started.reason()),
                         "RuntimeError");
    return started.value().url;
  });
  return true;
}

}  // namespace otp::observer
