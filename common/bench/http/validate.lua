-- wrk script for `common/bench/run.sh http`: POST /sessions/<login>/validate with each
-- session's valid token, round-robin over every session.
--
--   wrk -t2 -c64 -d10s --latency -s validate.lua http://127.0.0.1:PORT -- TOKENS [THREADS]
--
-- TOKENS is a Lua file that returns a flat list {login1, token1, login2, token2, ...}
-- (run.sh writes it from the answers to POST /sessions). Every request is formatted once,
-- in init(), so the request() callback costs the same for every server it is aimed at.
-- Thread k starts at session k*n/THREADS (THREADS: wrk's -t, default 1), so the threads
-- do not walk the sessions in step.
-- An answer other than 200 counts as an error. done() prints, for run.sh:
--   WRK requests <n> duration_us <us> req_per_s <v> p50_ms <v> p99_ms <v>
--   WRK non200 <n> connect <n> read <n> write <n> timeout <n>

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if path == nil then
    error("validate.lua: pass the tokens file after --, e.g. wrk ... -s validate.lua URL -- tokens.lua")
  end
  local list = dofile(path)
  local n = #list / 2
  if n < 1 then error("validate.lua: no sessions in " .. path) end
  local headers = { ["Content-Type"] = "application/json" }
  requests = {}
  for i = 0, n - 1 do
    local login, token = list[2 * i + 1], list[2 * i + 2]
    requests[i + 1] = wrk.format("POST", "/sessions/" .. login .. "/validate", headers,
                                 '{"token":"' .. token .. '"}')
  end
  count = n
  local nthreads = tonumber(args[2] or "") or 1
  next_index = (id * math.floor(n / math.max(nthreads, 1))) % n
  non200 = 0
end

function request()
  next_index = next_index + 1
  if next_index > count then next_index = 1 end
  return requests[next_index]
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("non200") or 0) end
  local seconds = summary.duration / 1e6
  io.write(string.format("WRK requests %d duration_us %d req_per_s %.1f p50_ms %.3f p99_ms %.3f\n",
                         summary.requests, summary.duration, summary.requests / seconds,
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("WRK non200 %d connect %d read %d write %d timeout %d\n", bad,
                         summary.errors.connect, summary.errors.read, summary.errors.write,
                         summary.errors.timeout))
end
