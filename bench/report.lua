-- Shared by every phase: the bearer token from the environment, wrk's second thread on a second
-- server when BENCH_SECOND_PORT names one (two processes on one database), and one
-- machine-readable line at the end that bench/run turns into the table.
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local second_port = os.getenv("BENCH_SECOND_PORT")
if second_port and second_port ~= "" then
  local threads = 0
  function setup(thread)
    threads = threads + 1
    if threads % 2 == 0 then
      thread.addr = wrk.lookup("127.0.0.1", second_port)[1]
    end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
