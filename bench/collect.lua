-- wrk script for bench/collect.sh: each request is one page view, as the snippet sends it,
-- with a unique event id and a visitor drawn from a large pool (so the per-visitor rate limit
-- sees people, not one robot). Counts answers by status so the script can check that every
-- 204 is a stored event.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(tid * 7919 + os.time())
  ok, other = 0, 0
end

function request()
  counter = counter + 1
  local visitor = string.format("bench-visitor-%08d", math.random(1, 500000))
  local body = string.format(
    '{"events":[{"id":"bench-%d-%09d","visitor":"%s","type":"page_view","url":"https://www.example.com/solutions/intent-data","title":"Intent data"}]}',
    tid, counter, visitor)
  return wrk.format("POST", "/t/collect", {
    ["Content-Type"] = "text/plain",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
  }, body)
end

function response(status, headers, body)
  if status == 204 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local stored, failed = 0, 0
  for _, thread in ipairs(threads) do
    stored = stored + thread:get("ok")
    failed = failed + thread:get("other")
  end
  io.write(string.format("answered 204: %d, other: %d\n", stored, failed))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%s: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("events/s: %.0f\n", stored / (summary.duration / 1e6)))
end
