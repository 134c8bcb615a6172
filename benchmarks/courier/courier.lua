-- POST /v1/courier/kratos: Kratos's v26.2 `recovery_valid` document (`function(ctx) ctx`), each request
-- with a link token of its own, so that none is a repost. BENCH_API_KEY and COURIER_FIXTURE come from
-- the environment.
local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

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


function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("ANSWERS_PER_SECOND %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("FAILED_REQUESTS %d\n", bad))
  io.write(string.format("P50_MS %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("P99_MS %.2f\n", latency:percentile(99) / 1000))
end
