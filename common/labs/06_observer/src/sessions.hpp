// Sessions: a small HangTen. Each user is a supervisor over a Stash and a Server, all named
// after the user, under one DynamicSupervisor.
//
//   sessions (DynamicSupervisor)
//   └─ ana_sup (Supervisor, rest_for_one)
//      ├─ ana_stash    the visits, kept while the Server comes and goes
//      └─ ana_server   counts a visit and writes the count to the Stash at once
//
// The Server writes on every visit rather than in terminate, so the count survives even `kill`,
// which runs no terminate. rest_for_one: a Stash that dies takes the Server with it (the Server
// would otherwise keep a count the new Stash does not have), and both start again from zero.
#pragma once

#include <string>

#include <fmt/format.h>

#include "otp/otp.hpp"

namespace lab {

class Stash : public otp::GenServer<Stash, int> {
 public:
  struct Get {};
  struct Put {
    int visits;
  };

  static otp::Start start_link(const std::string& login) {
    return GenServer::start_link(otp::Name::local(login + "_stash"));
  }

  int init() { return 0; }
  int handle_call(Get) { return state(); }
  void handle_cast(Put put) { state() = put.visits; }

  std::string format_state() const { return fmt::format("%{{visits: {}}}", state()); }
};

struct Visits {
  std::string login;
  int count = 0;
};

class Server : public otp::GenServer<Server, Visits> {
 public:
  struct Visit {};

  static otp::Start start_link(const std::string& login) {
    return GenServer::start_link(otp::Name::local(login + "_server"), login);
  }

  otp::Co<Visits> init(std::string login) {
    const int count = co_await Stash::call(login + "_stash", Stash::Get{});
    co_return Visits{std::move(login), count};
  }

  int handle_call(Visit) {
    Stash::cast(state().login + "_stash", Stash::Put{++state().count});
    return state().count;
  }

  std::string format_state() const {
    return fmt::format("%{{login: \"{}\", visits: {}}}", state().login, state().count);
  }
};

struct UserSupervisor : otp::Supervisor {
  static otp::Start start_link(const std::string& login) {
    return Supervisor::start_link(otp::Name::local(login + "_sup"),
                                  {otp::child<Stash>(login), otp::child<Server>(login)},
                                  {.strategy = otp::Strategy::rest_for_one});
  }
};

struct Sessions : otp::DynamicSupervisor {
  static constexpr const char* name = "sessions";

  static otp::Start start_link() { return DynamicSupervisor::start_link(otp::Name::local(name)); }
  static otp::Start start_session(const std::string& login) {
    return DynamicSupervisor::start_child(name, otp::child<UserSupervisor>(login));
  }
  static auto visit(const std::string& login) {
    return Server::call(login + "_server", Server::Visit{});
  }
};

}  // namespace lab
