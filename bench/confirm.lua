-- bench/confirm.lua: wrk script for bench/confirm.sh. Every request POSTs
-- a confirmation (response=参集できる) to a distinct recipient link; the
-- paths come from the file named by $CONFIRM_PATHS, split between threads.
-- Stops once every path was posted; done() prints `name value unit` lines.
-- wrk's own duration is the -d time, not the time the work took, so each
-- thread times itself with CLOCK_MONOTONIC (LuaJIT ffi) from its first
-- request to its last answer, and the rate is computed from that.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } cc_timespec;
int clock_gettime(int clk, cc_timespec *tp);
]]
local function now_us()
	local ts = ffi.new("cc_timespec")
	ffi.C.clock_gettime(1, ts)	-- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end
local paths = {}
for l in io.lines(os.getenv("CONFIRM_PATHS")) do paths[#paths + 1] = l end
local threads = {}

function setup(thread)
	thread:set("tid", #threads)
	thread:set("nthreads", tonumber(os.getenv("CONFIRM_THREADS") or "1"))
	table.insert(threads, thread)
end

function init(args)
	i = tid + 1
	sent, answered, bad = 0, 0, 0
	t_first, t_last = 0, 0
	share = 0
	for k = tid + 1, #paths, nthreads do share = share + 1 end
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
	wrk.body = "response=%E5%8F%82%E9%9B%86%E3%81%A7%E3%81%8D%E3%82%8B"
end

function request()
	local p = paths[i]
	if p == nil then p = paths[tid + 1] end	-- past the end: a repeat
	i = i + nthreads
	if sent == 0 then t_first = now_us() end
	sent = sent + 1
	return wrk.format(nil, p)
end

function response(status, headers, body)
	answered = answered + 1
	if status ~= 200 then bad = bad + 1 end
	if answered >= share then
		t_last = now_us()
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local bad_total, first, last = 0, nil, 0
	for _, t in ipairs(threads) do
		bad_total = bad_total + t:get("bad")
		local f, l = t:get("t_first"), t:get("t_last")
		if first == nil or f < first then first = f end
		if l > last then last = l end
	end
	local secs = (last - (first or 0)) / 1e6
	if last == 0 then secs = summary.duration / 1e6 end	-- never finished
	print(string.format("confirm_requests %d requests", summary.requests))
	print(string.format("confirm_rate %.0f confirmations/s",
	    summary.requests / secs))
	print(string.format("confirm_elapsed %.3f s", secs))
	print(string.format("confirm_p50 %.2f ms", latency:percentile(50) / 1000))
	print(string.format("confirm_p99 %.2f ms", latency:percentile(99) / 1000))
	print(string.format("confirm_max %.2f ms", latency.max / 1000))
	print(string.format("confirm_non2xx %d requests", bad_total +
	    summary.errors.status))
end
