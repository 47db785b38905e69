// What both caches store for a key: the value and the moment it expires.
#pragma once

#include <string>

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
