-- wrk script: POST the body in the file named by BODY_FILE (as JSON), or GET when it is unset or
-- empty; prints the exact percentiles in microseconds and the error counts on one LUA_SUMMARY
-- line, with the fields of ../shared/peers/post.lua (Benchmarks/wrk_report.py reads both).
-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses: N").
local path = os.getenv("BODY_FILE")
if path and path ~= "" then
  local f = assert(io.open(path, "rb"), "cannot open BODY_FILE " .. path)
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  io.write(string.format(
    "LUA_SUMMARY requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
