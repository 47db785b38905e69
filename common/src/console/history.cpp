// See history.hpp.
#include "history.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace otp::detail {

std::string history_file(const std::string& program) {
  std::filesystem::path dir;
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    dir = state;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    dir = std::filesystem::path(home) / ".local" / "state";
  } else {
    return "";
  }
  dir /= program;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "";
  return (dir / "history").string();
}

}  // namespace otp::detail
