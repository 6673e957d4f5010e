-- wrk script: POST an H5 submission with a unique submission id per request (with an API key),
-- and print the result as one JSON line for bench/intake_submissions.py.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  run_id = args[1] or "run"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. (args[2] or "")
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"submission_id":"%s-%d-%d","description":"空调不制冷，外机有异响，需要上门检修",' ..
    '"customer":{"name":"张三","phone":"13800138000","address":"上海市浦东新区世纪大道 100 号"}}',
    run_id, tid, counter)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,' ..
    '"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
