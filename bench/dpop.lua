-- wrk script for the gateway-dpop benchmark: each request carries the next unused DPoP proof
-- from the file bench/server.py wrote (one proof a line), as a real client signs one per call.
-- A proof is accepted once (RFC 9449 §11.1), so successive runs continue where the last one
-- stopped: the offset lives in a state file, read at start and advanced in done().
--
--   wrk -t1 ... -H "Authorization: DPoP <token>" -s bench/dpop.lua <url> -- <proofs> <state>
-- Use one thread (-t1): the offset is counted per thread.

-- Globals, so done() can read them from the thread (thread:get).
proofs_file, state_file = nil, nil
local threads = {}

local function read_offset(path)
  local f = io.open(path, "r")
  if not f then return 0 end
  local n = tonumber(f:read("*l")) or 0
  f:close()
  return n
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  proofs_file, state_file = args[1], args[2]
  local offset = read_offset(state_file)
  proofs, used, index = {}, 0, 0
  headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  for line in io.lines(proofs_file) do
    index = index + 1
    if index > offset then proofs[#proofs + 1] = line end
  end
end

function request()
  used = used + 1
  -- Past the end the last proof is sent again: a replay, refused, and counted as non-2xx.
  -- wrk.format replaces wrk.headers with the table it is given: keep the -H headers in it.
  headers["DPoP"] = proofs[math.min(used, #proofs)] or ""
  return wrk.format(nil, nil, headers)
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("used") or 0)
  end
  local state = threads[1] and threads[1]:get("state_file")
  if state then
    local offset = read_offset(state)
    local f = io.open(state, "w")
    f:write(tostring(offset + total), "\n")
    f:close()
  end
end
