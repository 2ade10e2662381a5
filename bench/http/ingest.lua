-- wrk script: POST Segment batches of 100 events to /v1/batch over
-- keep-alive connections. Every event has a unique messageId (thread id,
-- request counter, index) so nothing is de-duplicated away.
-- Usage: WRITE_KEY=... wrk -t2 -c64 -d20s -s ingest.lua http://127.0.0.1:8080
local key = os.getenv("WRITE_KEY") or "bench-write-key"
local batch_size = tonumber(os.getenv("BATCH") or "100")
local counter = 0
thread_id = thread_id or 0  -- set per thread by setup()

local function b64(data)
  local b = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  return ((data:gsub('.', function(x)
    local r, byte = '', x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if (#x < 6) then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local names = { "Page Viewed", "Product Viewed", "Product Added", "Order Completed", "Video Played" }
local channels = { "douyin", "xiaohongshu", "wechat", "baidu", "weibo" }

function init(args)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. b64(key .. ":")
end

-- The batch body is built once per thread as fragments around the messageIds;
-- each request only joins the fragments with fresh ids (C-speed concat), so
-- the load generator spends its time sending, not formatting.
local fragments = nil

local function build_fragments()
  fragments = {}
  for i = 1, batch_size do
    local n = i
    local user = (thread_id * 7919 + i * 13) % 100000
    fragments[i] = string.format(
      '{"type":"track","event":"%s","userId":"u%d","timestamp":"2026-11-01T08:%02d:%02d.000Z",' ..
      '"properties":{"revenue":%d.5,"order_id":"o%d","sku":"sku-%d"},' ..
      '"context":{"campaign":{"source":"%s","medium":"cpc","name":"double11"},"ip":"10.0.0.1",' ..
      '"library":{"name":"wrk","version":"4"}},"messageId":"',
      names[n % 5 + 1], user, n % 60, i % 60, n % 500, n, n % 300, channels[n % 5 + 1])
  end
end

function request()
  if not fragments then build_fragments() end
  counter = counter + 1
  local parts = { '{"batch":[' }
  local prefix = "b" .. thread_id .. "-" .. counter .. "-"
  for i = 1, batch_size do
    parts[#parts + 1] = fragments[i]
    parts[#parts + 1] = prefix .. i
    parts[#parts + 1] = (i < batch_size) and '"},' or '"}]}'
  end
  return wrk.format("POST", "/v1/batch", nil, table.concat(parts))
end

local non200 = 0
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.3f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
