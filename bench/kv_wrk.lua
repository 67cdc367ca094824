-- kv_wrk.lua: one wrk script for key-value load on synod's Consul-style HTTP API or etcd's
-- v3 JSON gateway, so that both are driven by the same client doing the same work
-- (bench/etcd_vs_synod.sh). Parameters come from the environment, read when wrk loads the
-- script (before its threads start):
--
--   KV_TARGET      synod: PUT /v1/kv/<key> (body: the value; answer `true`),
--                         GET /v1/kv/<key> (linearizable by default; a JSON array, 404 if absent)
--                  etcd:  POST /v3/kv/put {"key":b64,"value":b64},
--                         POST /v3/kv/range {"key":b64} (linearizable by default)
--   KV_OP          put | get: a random key of the KV_KEYS per request, for wrk's -d;
--                  load: every key once, in order, on one thread (wrk -t 1); the process
--                  exits once every write is answered, printing "kv_wrk-load: ..."
--   KV_KEYS        how many keys (default 10000); key i is "key:%012d" (16 bytes)
--   KV_VALUE_SIZE  value bytes (default 128), the same printable value for every key
--
-- Errors: any status outside 200-299 counts (wrk itself counts only >= 400), and so does a
-- 2xx whose body is wrong: a synod PUT answered with something other than `true`, or an etcd
-- range with no "kvs" (the key is absent: a read that missed). done() prints one line,
-- "kv_wrk: ...", with the rate, p50/p90/p99 latency, every status seen and the error counts.
-- Every request string is built before the run (request() only picks one).

local target = os.getenv("KV_TARGET") or "synod"
local op = os.getenv("KV_OP") or "get"
local key_count = tonumber(os.getenv("KV_KEYS") or "10000")
local value_size = tonumber(os.getenv("KV_VALUE_SIZE") or "128")
assert(target == "synod" or target == "etcd", "KV_TARGET must be synod or etcd")
assert(op == "put" or op == "get" or op == "load", "KV_OP must be put, get or load")
assert(key_count and key_count >= 1, "KV_KEYS must be a positive number")
assert(value_size and value_size >= 1, "KV_VALUE_SIZE must be a positive number")

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
    local out = {}
    for i = 1, #s, 3 do
        local a, b, c = s:byte(i, i + 2)
        local n = a * 65536 + (b or 0) * 256 + (c or 0)
        local c1 = math.floor(n / 262144) % 64
        local c2 = math.floor(n / 4096) % 64
        local c3 = math.floor(n / 64) % 64
        local c4 = n % 64
        out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1) ..
            (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
    end
    return table.concat(out)
end

local function key_name(i) return string.format("key:%012d", i) end

-- the value: printable, fixed, value_size bytes
local value
do
    local t = {}
    for i = 1, value_size do
        t[i] = string.char(97 + (i * 7) % 26)
    end
    value = table.concat(t)
end

local function build_request(i, write)
    local key = key_name(i)
    if target == "synod" then
        if write then
            return wrk.format("PUT", "/v1/kv/" .. key, nil, value)
        end
        return wrk.format("GET", "/v1/kv/" .. key)
    end
    local json = { ["Content-Type"] = "application/json" }
    if write then
        return wrk.format("POST", "/v3/kv/put", json,
            '{"key":"' .. base64(key) .. '","value":"' .. base64(value) .. '"}')
    end
    return wrk.format("POST", "/v3/kv/range", json, '{"key":"' .. base64(key) .. '"}')
end

-- ---- main state: thread numbering and the summary ------------------------------------------
local threads = {}

function setup(thread)
    thread:set("thread_index", #threads)
    threads[#threads + 1] = thread
end

function done(summary, latency, requests)
    local statuses, bad = {}, 0
    for _, t in ipairs(threads) do
        for code, n in pairs(t:get("statuses") or {}) do
            statuses[code] = (statuses[code] or 0) + n
        end
        bad = bad + (t:get("bad_bodies") or 0)
    end
    local non2xx, list = 0, {}
    for code, n in pairs(statuses) do
        code = tonumber(code)
        if code < 200 or code > 299 then
            non2xx = non2xx + n
        end
        list[#list + 1] = string.format("%d:%d", code, n)
    end
    table.sort(list)
    local e = summary.errors
    local seconds = summary.duration / 1e6
    io.write(string.format("kv_wrk: target=%s op=%s requests=%d seconds=%.2f rps=%.0f " ..
        "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d bad_body=%d " ..
        "socket_errors=%d timeouts=%d statuses=%s\n",
        target, op, summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000, non2xx, bad,
        e.connect + e.read + e.write, e.timeout, table.concat(list, ",")))
end

-- ---- thread states: the requests and what came back ----------------------------------------
statuses = {}
bad_bodies = 0
local requests_prebuilt = {}
local granted, issued, answered = 0, 0, 0

function init(args)
    local seed = (thread_index or 0) * 7919 + os.time()
    math.randomseed(seed)
    for i = 0, key_count - 1 do
        requests_prebuilt[i + 1] = build_request(i, op ~= "get")
    end
end

if op == "load" then
    -- One pass over the keys. delay() runs once before each request a connection sends: it
    -- grants the key_count requests, then holds every connection (600 s: past wrk -d).
    -- request() hands out the keys in turn; its first call, before any delay(), is wrk
    -- checking the request (script_verify_request) and sends nothing. The process exits
    -- once every granted request is answered.
    function delay()
        if granted < key_count then
            granted = granted + 1
            return 0
        end
        return 600000
    end

    function request()
        if granted == 0 then
            return requests_prebuilt[1]
        end
        issued = issued + 1
        return requests_prebuilt[math.min(issued, key_count)]
    end
else
    function request()
        return requests_prebuilt[math.random(key_count)]
    end
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status >= 200 and status <= 299 then
        if target == "synod" and op ~= "get" then
            if body:sub(1, 4) ~= "true" then
                bad_bodies = bad_bodies + 1
            end
        elseif target == "etcd" and op == "get" then
            if not body:find('"kvs"', 1, true) then
                bad_bodies = bad_bodies + 1
            end
        end
    end
    if op == "load" then
        answered = answered + 1
        if answered >= key_count then
            local ok = statuses[200] or 0
            io.write(string.format("kv_wrk-load: target=%s keys=%d answered=%d ok=%d bad_body=%d\n",
                target, key_count, answered, ok, bad_bodies))
            io.flush()
            os.exit((ok == answered and bad_bodies == 0) and 0 or 1)
        end
    end
end
