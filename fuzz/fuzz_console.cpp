// A console's command lines (otp/console.hpp) on any text: the input is an -e script, split on
// `;` and run line by line by Console::execute against a live application, stage 05's session
// tree on a deterministic runtime (so `sleep` moves the virtual clock and returns at once). This
// reaches the tokenizer (quotes, blanks), durations (`sleep`), pids and names (`kill`, with any
// reason), logins (`new`, `show`, `boom`, as the stage's own commands use them) and the
// application's restarts. A console answers bad input with an error line: a crash, a sanitizer
// report or an exception out of execute() is a finding. So is a duration that does not survive
// format_duration, or a login check_login accepts outside its alphabet.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/console.hpp"
#include "otp/otp.hpp"

namespace {

using Args = otp::Console::Args;

struct Fixture {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  std::ostringstream out;
  otp::Console console{"fuzz", me, out};
  int inputs = 0;

  Fixture() {
    otp::log::set_level(otp::Level::none);  // crash reports of `boom` are expected
    console.application(hang_ten::Application::name,
                        [this] { return me.await(hang_ten::Application::start()); });
    console.command("new", "<login>", "starts a session",
                    [this](const Args& a) { return me.await(hang_ten::create(a[0])).to_string(); });
    console.command("show", "<login>", "the session's user", [this](const Args& a) {
      return fmt::format("{}", me.await(hang_ten::show(hang_ten::check_login(a[0]))));
    });
    console.command("boom", "<login>", "crashes the session's Server", [this](const Args& a) {
      return fmt::format("{}", me.await(hang_ten::boom(hang_ten::check_login(a[0]))));
    });
    console.execute("start");
  }
};

void check_duration(std::string_view word) {
  auto d = otp::parse_duration(word);
  if (!d) return;
  auto again = otp::parse_duration(otp::format_duration(*d));
  if (!again || *again != *d) {
    fmt::print(stderr, "duration {:?} reads back as {}\n", word, otp::format_duration(*d));
    std::abort();
  }
}

void check_login(const std::string& word) {
  try {
    hang_ten::check_login(word);
  } catch (const std::invalid_argument&) {
    return;
  }
  for (char c : word) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("._@-").find(c) != std::string_view::npos;
    if (!ok || word.empty() || word.size() > 64) {
      fmt::print(stderr, "check_login accepted {:?}\n", word);
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* fixture = new Fixture;  // one runtime for the whole run, as in a console
  if (size > 4096) return 0;           // a console line, not a file
  const std::string_view script(reinterpret_cast<const char*>(data), size);
  for (const std::string& line : otp::Console::split_script(script)) {
    try {
      for (const std::string& word : otp::Console::split_words(line)) {
        check_duration(word);
        check_login(word);
      }
    } catch (const otp::ConsoleError&) {
      // an unterminated quote: execute() answers it with a SyntaxError line
    }
    fixture->console.execute(line);
  }
  // The sessions of the previous inputs go, so that the run does not grow without bound.
  if (++fixture->inputs % 256 == 0) {
    fixture->console.execute("kill HangTen.Application shutdown");
  }
  if (fixture->console.stopped()) fixture->console.execute("start");
  fixture->out.str("");
  return 0;
}
