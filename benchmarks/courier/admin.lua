-- POST /v1/recovery-emails for the stand-in's default identity, each request with an Idempotency-Key of
-- its own (the cooldown is off in the benchmark configuration). BENCH_API_KEY comes from the environment.
dofile("benchmarks/courier/report.lua")
local counter = 0
thread_id = 0

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
