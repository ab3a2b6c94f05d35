-- Shared by every scenario: counts non-2xx answers per thread and, when wrk is done, prints
-- one JSON line that bench/harness.py reads. Latencies are in milliseconds.
--
-- Each scenario script loads it first: dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local threads = {}

-- Runs in the main Lua state, once per thread before it starts: gives it an id (1, 2, …).
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- Runs in each thread's own Lua state.
non2xx = 0
cache_hits = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  -- Answered from the API's in-process read cache (README: Read cache).
  if (headers["x-cit-cache"] or headers["X-Cit-Cache"]) == "hit" then
    cache_hits = cache_hits + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total, hits_total = 0, 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    hits_total = hits_total + (thread:get("cache_hits") or 0)
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local ms = function(p) return latency:percentile(p) / 1000 end
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,'
      .. '"max_ms":%.3f,"non2xx":%d,"socket_errors":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"timeouts":%d,"bytes":%d,"cache_hits":%d}\n',
    summary.requests, secs, summary.requests / secs, ms(50), ms(90), ms(99),
    latency.max / 1000, non2xx_total, e.connect + e.read + e.write + e.timeout, e.connect, e.read,
    e.write, e.timeout, summary.bytes, hits_total))
end
