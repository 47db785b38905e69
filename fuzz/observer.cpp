// The web observer's page messages (otp/observer/web.hpp) on any text: each line of the input is
// one WebSocket message from a page ({"op": "expand", "pid": ...}, search, table, select, more,
// collapse, kill), applied to a View by the observer's own code, each followed by an update,
// against stage 05's application with a few live sessions. A kill may end any process of the
// application; the application is started again when it is gone.
//
// Findings: a crash or a sanitizer report; an exception out of the request or the update; an
// update that does not serialise; an update over the page's bound (the tree shows the roots and
// at most View::page children more per request that asked for more).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/observer/view.hpp"
#include "otp/observer/web.hpp"
#include "otp/otp.hpp"

namespace {

using namespace std::chrono_literals;

struct Fixture {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};

  Fixture() {
    otp::log::set_level(otp::Level::none);
    start();
  }
  void start() {
    if (otp::whereis(hang_ten::Application::name)) return;
    if (!me.await(hang_ten::Application::start())) std::abort();
    for (const char* login : {"eric", "jose", "ann"}) (void)me.await(hang_ten::create(login));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* fixture = new Fixture;
  if (size > 8192) return 0;
  otp::observer::View view;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string line(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    fixture->me.await(otp::observer::Web::apply(view, line, false, [](const nlohmann::json& j) {
      (void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }));
    auto snap = fixture->me.await(otp::observer::snapshot());
    const std::string update =
        view.update(snap).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (update.size() > (1u << 20)) {
      fmt::print(stderr, "an update of {} bytes\n", update.size());
      std::abort();
    }
  }
  fixture->start();
  return 0;
}
