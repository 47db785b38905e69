// The terms cache: lab 02's cache with its Table, and a writer that keeps the Table moving.
//
//   terms_cache (Supervisor, rest_for_one)
//   ├─ table_terms_cache   lab 02's TableTermsCache: owns the Table, evicts every second
//   └─ terms_writer        five times a second, puts term_<n % 40> with a TTL of 1 to 9 s
//
// So the observer's Tables page shows a table whose rows change and whose size goes up and
// down. The Table lives and dies with its owner: kill table_terms_cache and a new, empty Table
// takes its place (rest_for_one restarts the writer after it, which fills the new one).
#pragma once

#include <chrono>
#include <string>

#include "../../02_terms_cache/src/table_terms_cache.hpp"
#include "otp/otp.hpp"

namespace lab {

class TermsWriter : public otp::GenServer<TermsWriter, int> {  // the state: puts so far
 public:
  struct Tick {};
  using Info = otp::Messages<Tick>;

  static constexpr const char* name = "terms_writer";
  static constexpr otp::Duration every = std::chrono::milliseconds(200);

  static otp::Start start_link() { return GenServer::start_link(otp::Name::local(name)); }

  int init() {
    otp::send_after(every, otp::self(), Tick{});
    return 0;
  }

  otp::Co<void> handle_info(Tick) {
    const int n = state()++;
    co_await TableTermsCache::put(fmt::format("term_{}", n % 40), fmt::format("value {}", n),
                                  std::chrono::seconds(1 + n % 9));
    otp::send_after(every, otp::self(), Tick{});
  }
};

struct TermsCacheApp : otp::Supervisor {
  static constexpr const char* name = "terms_cache";

  static otp::Start start_link() {
    return Supervisor::start_link(
        otp::Name::local(name),
        {otp::child<TableTermsCache>(std::chrono::seconds(1)), otp::child<TermsWriter>()},
        {.strategy = otp::Strategy::rest_for_one});
  }
};

}  // namespace lab
