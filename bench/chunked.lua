-- wrk script for the chunked-body scenarios; CHUNKED selects the request:
--   up    POST of a 4096-byte body in four chunks, two with extensions;
--         the upstream answers 400 unless it read exactly 4096 bytes
--   down  GET answered with a 4096-byte body in four chunks
--   mix   keep-alive GET, up and down in turn on each connection
-- up and down are built once (wrk sends the same bytes on every request);
-- mix calls request() for each request, which costs wrk, not the proxy.
local function chunk(size, ext)
  return string.format("%x%s\r\n", size, ext or "") .. string.rep("x", size) .. "\r\n"
end

local up = "POST /upload?len=4096 HTTP/1.1\r\nHost: bench\r\n"
  .. "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
  .. chunk(1460, ";name=part1") .. chunk(1000) .. chunk(1000, ';sig="a1b2"') .. chunk(636)
  .. "0\r\n\r\n"
local down = "GET /chunked HTTP/1.1\r\nHost: bench\r\n\r\n"
local get = "GET /api/items?id=42 HTTP/1.1\r\nHost: bench\r\n\r\n"

local mode = os.getenv("CHUNKED") or "up"
if mode == "mix" then
  local reqs, i = { get, up, down }, 0
  function request()
    i = i % #reqs + 1
    return reqs[i]
  end
else
  local req = (mode == "down") and down or up
  -- wrk builds its static request with wrk.format() once per thread.
  wrk.format = function() return req end
end
