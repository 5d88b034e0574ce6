-- wrk script: POST the body in $KITE_BENCH_BODY to the URL; with $KITE_BENCH_DELAY_MS each
-- connection waits that long between requests (wrk is closed-loop; this paces it to a rate).
local f = assert(io.open(os.getenv("KITE_BENCH_BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local pause = tonumber(os.getenv("KITE_BENCH_DELAY_MS") or "0")
if pause > 0 then
  function delay() return pause end
end
