// TableTermsCache: TermsCache's API, with reads straight from a Table (Erlang's ETS).
//
//   co_await lab::TableTermsCache::start_link();
//   co_await lab::TableTermsCache::put("greeting", "hello", 5s);   // a call to the owner
//   std::optional<std::string> v = lab::TableTermsCache::get("greeting");   // no message at all
//
// The server creates a protected Table: any process may read it, only the owner may write. A get
// is a lookup in the table from the caller's own thread, so readers never wait for the server or
// for each other. A put is a call: the owner inserts, then replies, so once put has returned the
// entry is in the table and every reader, on any thread, finds it. (Sleeping after a write "so
// that a read sees it" is never needed, and never enough.) The eviction runs in the owner, as in
// TermsCache, and also keeps the entries put without a TTL.
//
// Readers find the table through PersistentTerm, under the server's name: one cache per program.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "entry.hpp"
#include "otp/otp.hpp"

namespace lab {

using EntryTable = otp::Table<std::string, Entry>;

class TableTermsCache : public otp::GenServer<TableTermsCache, EntryTable> {
 public:
  struct Put {
    std::string key;
    std::string value;
    otp::Duration ttl;
  };
  struct Evict {};
  using Info = otp::Messages<Evict>;

  static constexpr const char* name = "table_terms_cache";

  static otp::Start start_link(otp::Duration eviction_interval = std::chrono::seconds(1)) {
    return GenServer::start_link(otp::Name::local(name), eviction_interval);
  }
  static auto put(const std::string& key, const std::string& value,
                  otp::Duration ttl = otp::infinity) {
    return call(name, Put{key, value, ttl});
  }
  static std::optional<std::string> get(const std::string& key) {
    // exercise: table-get — read the Table straight from the caller: no message to the owner
    std::optional<Entry> entry = table().lookup(key);
    if (!entry || entry->expired(otp::now())) return std::nullopt;
    return std::move(entry->value);
    // end exercise
  }
  // Entries held, expired ones not yet evicted included.
  static std::size_t size() { return table().size(); }

  EntryTable init(otp::Duration eviction_interval) {
    interval_ = eviction_interval;
    auto table = EntryTable::create({.access = otp::Access::protected_, .name = name});
    otp::persistent_term::put(name, table);
    otp::send_after(interval_, otp::self(), Evict{});
    return table;
  }

  void handle_call(Put put) {
    // exercise: table-put — the owner writes; the call returns after the insert
    state().insert(std::move(put.key),
                   Entry{std::move(put.value), Entry::expiry(otp::now(), put.ttl)});
    // end exercise
  }

  void handle_info(Evict) {
    const otp::Duration now = otp::now();
    state().select_delete([now](const std::string&, const Entry& e) { return e.expired(now); });
    otp::send_after(interval_, otp::self(), Evict{});
  }

  // The state as the observer shows it (the rows are on its Tables page).
  std::string format_state() const {
    return fmt::format("%{{table: {}, size: {}}}", name, state().size());
  }

 private:
  static const EntryTable& table() { return otp::persistent_term::get<EntryTable>(name); }

  otp::Duration interval_{};
};

}  // namespace lab
