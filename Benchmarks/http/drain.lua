-- wrk script for Benchmarks/http/drain.sh: counts answers by status class in every thread and
-- prints one machine-readable line at the end. 503 is the refusal of a request that arrived on an
-- open connection after the drain began; any other non-2xx is a failure.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    ok, refused, other = 0, 0, 0
end

function response(status, headers, body)
    if status >= 200 and status < 300 then
        ok = ok + 1
    elseif status == 503 then
        refused = refused + 1
    else
        other = other + 1
    end
end

function done(summary, latency, requests)
    local total_ok, total_refused, total_other = 0, 0, 0
    for _, thread in ipairs(threads) do
        total_ok = total_ok + thread:get("ok")
        total_refused = total_refused + thread:get("refused")
        total_other = total_other + thread:get("other")
    end
    local e = summary.errors
    io.write(string.format("DRAIN ok=%d refused503=%d other=%d connect=%d read=%d write=%d timeout=%d\n",
        total_ok, total_refused, total_other, e.connect, e.read, e.write, e.timeout))
end
