// What both caches store for a key: the value and the moment it expires.
#pragma once

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "otp/otp.hpp"

namespace lab {

struct Entry {
  std::string value;
  otp::Duration expires_at = otp::infinity;  // infinity: put without a TTL, never expires

  // The moment an entry put at `now` with `ttl` expires (infinity stays infinity).
  static otp::Duration expiry(otp::Duration now, otp::Duration ttl) {
    // exercise: entry-expiry — an entry without a TTL (infinity) never expires: not now + infinity
    return ttl == otp::infinity ? otp::infinity : now + ttl;
    // end exercise
  }
  bool expired(otp::Duration now) const { return expires_at <= now; }
};

}  // namespace lab

// How the observer's Tables page (and a log line) writes an entry: %Entry{value: "hello",
// expires_at: 12500ms}, the moment on the runtime's clock (otp::now()).
template <>
struct fmt::formatter<lab::Entry> : fmt::formatter<std::string_view> {
  auto format(const lab::Entry& e, fmt::format_context& ctx) const {
    if (e.expires_at == otp::infinity)
      return fmt::format_to(ctx.out(), "%Entry{{value: \"{}\", expires_at: :infinity}}", e.value);
    return fmt::format_to(
        ctx.out(), "%Entry{{value: \"{}\", expires_at: {}ms}}", e.value,
        std::chrono::duration_cast<std::chrono::milliseconds>(e.expires_at).count());
  }
};
