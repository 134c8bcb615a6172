-- POST /v1/courier/kratos: Kratos's v26.2 `recovery_valid` document (`function(ctx) ctx`), each request
-- with a link token of its own, so that none is a repost. BENCH_API_KEY and COURIER_FIXTURE come from
-- the environment.
dofile("benchmarks/courier/report.lua")
local counter = 0
thread_id = 0

function init(args)
  local file = assert(io.open(os.getenv("COURIER_FIXTURE"), "r"))
  template = file:read("*a")
  file:close()
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_API_KEY") }
end

function request()
  counter = counter + 1
  local token = string.format("bench%dx%d", thread_id, counter)
  local body = template:gsub("token=[A-Za-z0-9_-]+", "token=" .. token)
  return wrk.format("POST", "/v1/courier/kratos", headers, body)
end
