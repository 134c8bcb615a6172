-- POST /v1/recovery-emails for the stand-in's default identity, each request with an Idempotency-Key of
-- its own (the cooldown is off in the benchmark configuration). BENCH_API_KEY comes from the environment.
local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  body = '{"identity_id":"a251ebc2-880c-4f76-a8f3-38e6940eab0e"}'
  key = "Bearer " .. os.getenv("BENCH_API_KEY")
end

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json", ["Authorization"] = key,
    ["Idempotency-Key"] = string.format("bench-%d-%d", thread_id, counter),
  }
  return wrk.format("POST", "/v1/recovery-emails", headers, body)
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("ANSWERS_PER_SECOND %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("FAILED_REQUESTS %d\n", bad))
  io.write(string.format("P50_MS %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("P99_MS %.2f\n", latency:percentile(99) / 1000))
end
