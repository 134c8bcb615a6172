-- Reference: the cheapest route of the same server (GET /health/alive).
function done(summary, latency, requests)
  io.write(string.format("REQUESTS_PER_SECOND %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("FAILED_REQUESTS %d\n", summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
