// The web observer's page messages (otp/observer/web.hpp) on any text: each line of the input is
// one WebSocket message from a page ({"op": "expand", "pid": ...}, search, table, select, more,
// collapse, kill), applied to a View by the observer's own code in a process of the runtime, as
// a page's connection process does: an update follows each message that makes the page due one
// (Web::apply says when: each request it acts on), and one more ends the input (the next tick).
// The application is stage 05's with a few live sessions, on a runtime of one thread, so that a
// snapshot's answers come without waking another thread. A kill may end any process of the
// application, or the page's own process (which ends the input); the application is started
// again when it is gone.
//
// Findings: a crash or a sanitizer report; an exception out of the request or the update; an
// update that does not serialise; an update over the page's bound (the tree shows the roots and
// at most View::page children more per request that asked for more).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/observer/view.hpp"
#include "otp/observer/web.hpp"
#include "otp/otp.hpp"

namespace {

constexpr std::size_t max_input = 512;  // a few page messages; fuzz.sh passes it as -max_len

struct Fixture {
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};

  Fixture() {
    otp::log::set_level(otp::Level::none);
    start();
  }
  void start() {
    if (otp::whereis(hang_ten::Application::name)) return;
    // The exits of the applications killed before (each was linked to this process).
    while (me.receive<otp::Exit>(otp::Duration::zero())) {
    }
    if (!me.await(hang_ten::Application::start())) std::abort();
    for (const char* login : {"eric", "jose", "ann"}) (void)me.await(hang_ten::create(login));
  }
};

otp::Co<void> update(otp::observer::View& view) {
  const auto snap = co_await otp::observer::snapshot();
  const std::string text =
      view.update(snap).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > (1u << 20)) {
    fmt::print(stderr, "an update of {} bytes\n", text.size());
    std::abort();
  }
}

// The page's connection process, on one input.
otp::Co<void> page(std::string input) {
  try {
    otp::observer::View view;
    std::string_view rest(input);
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      const std::string line(rest.substr(0, end));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
      const bool due =
          co_await otp::observer::Web::apply(view, line, false, [](const nlohmann::json& j) {
            (void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
          });
      if (due) co_await update(view);
    }
    co_await update(view);
  } catch (const std::exception& e) {
    fmt::print(stderr, "an exception: {}\n", e.what());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* fixture = new Fixture;
  if (size > max_input) return 0;
  const otp::Pid pid =
      fixture->rt.spawn(page, std::string(reinterpret_cast<const char*>(data), size));
  const otp::Ref ref = fixture->me.monitor(pid);
  (void)fixture->me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  fixture->start();
  return 0;
}
