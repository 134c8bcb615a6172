-- One "pair" = what the gateway does per delivery: look the identity up, then create a link.
-- Requests alternate per connection: GET /admin/identities/{id}, POST /admin/recovery/link.
local identity = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
local get = wrk.format("GET", "/admin/identities/" .. identity)
local post = wrk.format("POST", "/admin/recovery/link", { ["Content-Type"] = "application/json" },
  '{"identity_id":"' .. identity .. '","expires_in":"1h"}')
local turn = 0

function request()
  turn = turn + 1
  if turn % 2 == 1 then return get end
  return post
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("PAIRS_PER_SECOND %.0f\n", summary.requests / 2 / seconds))
  io.write(string.format("FAILED_REQUESTS %d\n", bad))
  io.write(string.format("P99_MS %.2f\n", latency:percentile(99) / 1000))
end
