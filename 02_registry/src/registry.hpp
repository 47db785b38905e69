// The registry: a user's processes are found by login and kind ("eric_server"), whatever
// their pids are now. An entry vanishes when its process exits.
#pragma once

#include <string>
#include <string_view>

#include "login.hpp"
#include "otp/otp.hpp"
#include "otp/registry.hpp"

namespace hang_ten {

inline otp::Registry<> registry{otp::Keys::unique, "HangTen.Registry"};

inline otp::Via via(const std::string& login, std::string_view kind) {
  // exercise: via-name — a name in the registry: the key is "<login>_<kind>", checked first
  return {&registry, check_login(login) + "_" + std::string(kind)};
  // end exercise
}

}  // namespace hang_ten
