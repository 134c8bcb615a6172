-- wrk script of benchmarks/e2e.sh: POST /v1/recovery-emails, each request with its own
-- Idempotency-Key and the next identity of a file (they repeat only once the file is used up). Environment: E2E_API_KEY (bearer key),
-- E2E_IDENTITIES (one identity id per line), E2E_RUN (unique per run, part of every key),
-- E2E_DELAY_MS (the pause of each connection between its requests: 0 = flat out; with C
-- connections, C * 1000 / rate paces the offered load at `rate` requests per second).
-- done() prints ACCEPTED, OTHER (answers that are not 202, and socket errors), ACCEPTED_PER_SECOND,
-- P50_MS and P99_MS (wrk's latency: from sending a request to its answer, the pause not counted).
local delay_ms = tonumber(os.getenv("E2E_DELAY_MS") or "0")
local run = os.getenv("E2E_RUN") or "run"
local headers = {
  ["Authorization"] = "Bearer " .. os.getenv("E2E_API_KEY"),
  ["Content-Type"] = "application/json",
}
local identities = {}
for line in io.lines(os.getenv("E2E_IDENTITIES")) do
  if line ~= "" then identities[#identities + 1] = line end
end

local threads = {}
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
  threads[thread_count] = thread
  for _, each in ipairs(threads) do each:set("thread_total", thread_count) end
end

-- Globals, so that done() can read each thread's counts (thread:get).
sent, accepted, other = 0, 0, 0

function request()
  sent = sent + 1
  local key = run .. "-" .. thread_index .. "-" .. sent
  headers["Idempotency-Key"] = key
  -- The threads take turns through the file: every request a new identity until it wraps around.
  local identity = identities[((sent - 1) * thread_total + thread_index - 1) % #identities + 1]
  return wrk.format("POST", "/v1/recovery-emails", headers,
    '{"identity_id":"' .. identity .. '","reason":"e2e benchmark"}')
end

if delay_ms > 0 then
  function delay() return delay_ms end
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local total_accepted, total_other = 0, 0
  for _, thread in ipairs(threads) do
    total_accepted = total_accepted + thread:get("accepted")
    total_other = total_other + thread:get("other")
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("ACCEPTED %d\n", total_accepted))
  io.write(string.format("OTHER %d\n", total_other + errors))
  io.write(string.format("ACCEPTED_PER_SECOND %.1f\n", total_accepted / (summary.duration / 1e6)))
  io.write(string.format("P50_MS %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("P99_MS %.2f\n", latency:percentile(99) / 1000))
end
