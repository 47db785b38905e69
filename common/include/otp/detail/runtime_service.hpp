// Per-runtime services: machinery that a library outside the core (otp::net's
// IO thread) attaches to a Runtime. Not part of the public API.
//
// A service is made on first use, one per runtime and key, and lives as long
// as someone holds it; the runtime stops it exactly once, in Runtime::shutdown
// after its processes have ended (and before its scheduler threads stop), or
// in the runtime's destructor. A service asked for after that is made and
// stopped at once, so it never outlives the runtime's threads running.
#pragma once

#include <functional>
#include <memory>

#include "otp/pid.hpp"

namespace otp::detail {

class RuntimeImpl;

class Service {
 public:
  Service() = default;
  virtual ~Service() = default;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  // Called once by the runtime (see above), on the thread that shuts it down.
  virtual void stop() noexcept = 0;
};

// The service of `pid`'s runtime stored under `key` (the address of a static
// of the service's library), made by `make` on first use. Null when `pid` is
// empty. Any thread.
std::shared_ptr<Service> service_of(const Pid& pid, const void* key,
                                    const std::function<std::shared_ptr<Service>()>& make);

}  // namespace otp::detail
