-- wrk script for bench/serve_load.sh: POSTs one audio file to /v1/tag and counts the answers by
-- status. wrk -s bench/serve_load.lua URL -- FILE
local counts_name = "counts"

function setup(thread)
  threads = threads or {}
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "audio/wav"
  counts = {}
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get(counts_name)) do total[status] = (total[status] or 0) + n end
  end
  local s = summary.duration / 1e6
  io.write(string.format("requests %d in %.1f s: %.1f requests/s\n", summary.requests, s,
                         summary.requests / s))
  io.write(string.format("latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                         latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
                         latency:percentile(99) / 1e3, latency.max / 1e3))
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, string.format("%d: %d", status, n)) end
  table.sort(parts)
  io.write("status " .. table.concat(parts, ", ") .. "\n")
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d\n",
                         summary.errors.connect, summary.errors.read, summary.errors.write,
                         summary.errors.timeout))
end
