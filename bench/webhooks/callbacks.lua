-- wrk script: POST pre-signed status callbacks from REQUESTS (a Lua file returning
-- {path, body, signature} rows). Each wrk thread takes every Nth row, so no callback is sent
-- twice until the list wraps. DELAY_MS > 0 paces each connection (for a fixed request rate).
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local rows, index, step, pause, first

function init(args)
  rows = dofile(os.getenv("REQUESTS"))
  step = tonumber(os.getenv("THREADS") or "1")
  -- OFFSET: where this run starts in the list, so successive runs use fresh texts.
  first = tonumber(os.getenv("OFFSET") or "0") + id + 1
  index = first
  pause = tonumber(os.getenv("DELAY_MS") or "0")
end

function request()
  local row = rows[index]
  index = index + step
  if index > #rows then index = id + 1 end  -- wrapped: duplicates from here on
  return wrk.format("POST", row[1], {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = row[3],
  }, row[2])
end

function delay()
  return pause
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d sockerr=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
