// TermsCache: a key/value cache in one GenServer, with a time to live per key.
//
//   co_await lab::TermsCache::start_link();                 // evicts every second
//   co_await lab::TermsCache::put("greeting", "hello", 5s); // gone after 5 s
//   co_await lab::TermsCache::put("motto", "hang ten");     // no TTL: stays
//   std::optional<std::string> v = co_await lab::TermsCache::get("greeting");
//
// Every put and get is a call to the one process "terms_cache", so they are served one at a
// time, in arrival order, and a get always sees the puts that returned before it. An expired
// entry is never returned; the memory it holds is freed by the eviction, a message the server
// sends itself with send_after and handles like any other. The eviction removes expired entries
// only: an entry put without a TTL expires at infinity and is never evicted.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

#include "entry.hpp"
#include "otp/otp.hpp"

namespace lab {

class TermsCache : public otp::GenServer<TermsCache, std::unordered_map<std::string, Entry>> {
 public:
  struct Put {
    std::string key;
    std::string value;
    otp::Duration ttl;
  };
  struct Get {
    std::string key;
  };
  struct Size {};
  struct Evict {};
  using Info = otp::Messages<Evict>;

  static constexpr const char* name = "terms_cache";

  static otp::Start start_link(otp::Duration eviction_interval = std::chrono::seconds(1)) {
    return GenServer::start_link(otp::Name::local(name), eviction_interval);
  }
  static auto put(const std::string& key, const std::string& value,
                  otp::Duration ttl = otp::infinity) {
    return call(name, Put{key, value, ttl});
  }
  static auto get(const std::string& key) { return call(name, Get{key}); }
  // Entries held, expired ones not yet evicted included.
  static auto size() { return call(name, Size{}); }

  std::unordered_map<std::string, Entry> init(otp::Duration eviction_interval) {
    interval_ = eviction_interval;
    otp::send_after(interval_, otp::self(), Evict{});
    return {};
  }

  void handle_call(Put put) {
    state()[put.key] = Entry{std::move(put.value), Entry::expiry(otp::now(), put.ttl)};
  }
  std::optional<std::string> handle_call(Get get) {
    auto it = state().find(get.key);
    if (it == state().end() || it->second.expired(otp::now())) return std::nullopt;
    return it->second.value;
  }
  std::size_t handle_call(Size) { return state().size(); }

  void handle_info(Evict) {
    // exercise: cache-evict — drop the expired entries only, then ask for the next eviction
    const otp::Duration now = otp::now();
    std::erase_if(state(), [now](const auto& item) { return item.second.expired(now); });
    otp::send_after(interval_, otp::self(), Evict{});
    // end exercise
  }

 private:
  otp::Duration interval_{};
};

}  // namespace lab
