// The public runtime API in one include.
#pragma once

#include "otp/co.hpp"
#include "otp/gen_server.hpp"
#include "otp/logger.hpp"
#include "otp/names.hpp"
#include "otp/persistent_term.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/runtime.hpp"
#include "otp/scoped.hpp"
#include "otp/state_machine.hpp"
#include "otp/supervisor.hpp"
#include "otp/table.hpp"
#include "otp/task.hpp"
#include "otp/timer.hpp"
