-- wrk script: POST /v1/online-features, one random driver of driver_stats per request (the serving bench's 1x1 case).
-- Usage: wrk -t1 -c64 -d10s -s bench/wrk_lookup.lua http://127.0.0.1:6581
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {}
math.randomseed(42)
for i = 1, 4096 do
  bodies[i] = string.format('{"features":["driver_stats"],"entities":{"driver_id":[%d]}}', 1001 + math.random(0, 9999))
end
local n = 0
request = function()
  n = n % 4096 + 1
  return wrk.format(nil, "/v1/online-features", nil, bodies[n])
end
done = function(summary, latency, requests)
  io.write(string.format("http: requests_per_s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
