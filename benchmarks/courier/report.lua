-- The figures both courier.sh scripts print at the end of a wrk run (loaded with dofile from the
-- repository root).
function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("ANSWERS_PER_SECOND %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("FAILED_REQUESTS %d\n", bad))
  io.write(string.format("P50_MS %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("P99_MS %.2f\n", latency:percentile(99) / 1000))
end

-- Numbers each wrk thread so that the requests of every thread are told apart.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
