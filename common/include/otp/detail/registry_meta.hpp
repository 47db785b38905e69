// Registry's metadata (Elixir's Registry.meta/put_meta/delete_meta): a small map from names to
// values of any copyable type, behind its own lock, apart from the key shards (so it costs
// register and lookup nothing).
#pragma once

#include <any>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

namespace otp::detail {

class RegistryMeta {
 public:
  // The value stored under `key`, if any; std::bad_any_cast when it was stored as another type.
  template <class T>
  std::optional<T> get(std::string_view key) const {
    std::shared_lock lock(m_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return std::any_cast<T>(it->second);
  }
  void put(std::string key, std::any value) {
    std::unique_lock lock(m_);
    map_.insert_or_assign(std::move(key), std::move(value));
  }
  bool erase(std::string_view key) {
    std::unique_lock lock(m_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    map_.erase(it);
    return true;
  }

 private:
  mutable std::shared_mutex m_;
  std::map<std::string, std::any, std::less<>> map_;
};

}  // namespace otp::detail
