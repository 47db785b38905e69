// The public runtime API in one include: the core library, otp::otp. The console
// (otp/console.hpp, otp::console), the workshop's stubs (otp/workshop.hpp) and the libraries on
// the network (otp/net, otp/http, otp/observer/web.hpp) are included where they are used.
#pragma once

#include "otp/application.hpp"
#include "otp/async_stream.hpp"
#include "otp/co.hpp"
#include "otp/duration.hpp"
#include "otp/gen_server.hpp"
#include "otp/logger.hpp"
#include "otp/names.hpp"
#include "otp/observer.hpp"
#include "otp/persistent_term.hpp"
#include "otp/pg.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/registry.hpp"
#include "otp/request_id.hpp"
#include "otp/runtime.hpp"
#include "otp/scoped.hpp"
#include "otp/state_machine.hpp"
#include "otp/supervisor.hpp"
#include "otp/table.hpp"
#include "otp/task.hpp"
#include "otp/task_supervisor.hpp"
#include "otp/timer.hpp"
