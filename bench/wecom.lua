-- wrk script: POST pre-encrypted WeCom callbacks, each with its own MsgId, read from a file
-- written by bench/wecom_callbacks.py (one "query<TAB>body" per line). Thread k of n sends
-- lines k, k+n, …, so no two threads send the same message; a thread that runs out starts
-- again (its repeats are WeCom-style retries, counted as "repeats"). Prints one JSON line.
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  local file, path, count = args[1], args[2], tonumber(args[3])
  local headers = {["Content-Type"] = "text/xml"}
  requests, index, repeats = {}, 0, 0
  local n = 0
  for line in io.lines(file) do
    n = n + 1
    if (n - 1) % count == tid - 1 then
      local query, body = line:match("^([^\t]*)\t(.*)$")
      table.insert(requests, wrk.format("POST", path .. "?" .. query, headers, body))
    end
  end
end

function request()
  index = index + 1
  if index > #requests then
    index, repeats = 1, repeats + #requests
  end
  return requests[index]
end

function done(summary, latency, requests)
  local repeated = 0
  for _, thread in ipairs(threads) do
    repeated = repeated + (thread:get("repeats") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,' ..
    '"non_2xx":%d,"socket_errors":%d,"timeouts":%d,"repeats":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, errors.timeout, repeated))
end
