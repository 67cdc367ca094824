#!/usr/bin/python3
"""http_kv.py: Consul's Python client (Debian's python3-consul) against synod's /v1/kv on a
real cluster: put, get, cas, flags, recurse, keys, delete, stale reads, and a blocking query
woken by a write on another node. Usage: http_kv.py PORT_A PORT_B (HTTP ports of two nodes).
Exits 1 with a message on the first wrong answer."""
import sys
import threading
import time

import consul


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


a = consul.Consul(host="127.0.0.1", port=int(sys.argv[1]))
b = consul.Consul(host="127.0.0.1", port=int(sys.argv[2]))

check(a.kv.put("py/config", "v1") is True, "put")
index, entry = b.kv.get("py/config")
check(entry["Value"] == b"v1" and entry["Flags"] == 0, "get on another node: %r" % entry)
check(int(index) == entry["ModifyIndex"], "X-Consul-Index is the key's ModifyIndex")
check(entry["CreateIndex"] == entry["ModifyIndex"], "a new key: CreateIndex == ModifyIndex")

# Check-and-set: the current ModifyIndex wins, a stale one loses, cas=0 only creates.
check(a.kv.put("py/config", "v2", cas=entry["ModifyIndex"]) is True, "cas with the index")
check(a.kv.put("py/config", "v3", cas=entry["ModifyIndex"]) is False, "cas with a stale index")
check(a.kv.put("py/config", "v3", cas=0) is False, "cas=0 on a present key")
check(a.kv.put("py/new", "n", cas=0) is True, "cas=0 on an absent key")
_, entry2 = a.kv.get("py/config")
check(entry2["Value"] == b"v2", "the cas write applied once")
check(entry2["CreateIndex"] == entry["CreateIndex"], "CreateIndex kept on update")

check(a.kv.put("py/dir/x", "1", flags=42) is True, "put with flags")
_, x = b.kv.get("py/dir/x")
check(x["Flags"] == 42, "flags read back")

index, items = b.kv.get("py/", recurse=True)
keys = [i["Key"] for i in items]
check(keys == ["py/config", "py/dir/x", "py/new"], "recurse lists in order: %r" % keys)
_, keys = b.kv.get("py/", keys=True, separator="/")
check(keys == ["py/config", "py/dir/", "py/new"], "keys with a separator: %r" % keys)

# A blocking query on node B returns when node A writes the key.
index, entry = b.kv.get("py/config")
result = {}


def watch():
    t0 = time.time()
    i, e = b.kv.get("py/config", index=index, wait="20s")
    result["seconds"] = time.time() - t0
    result["value"] = e["Value"]
    result["index"] = int(i)


thread = threading.Thread(target=watch)
thread.start()
time.sleep(0.5)
check(a.kv.put("py/other", "unrelated") is True, "unrelated write")
time.sleep(0.3)
check(thread.is_alive(), "a write to another key does not wake the query")
check(a.kv.put("py/config", "v4") is True, "the watched write")
thread.join(20)
check(not thread.is_alive(), "the blocking query returned")
check(result["value"] == b"v4", "the blocking query saw the new value: %r" % result)
check(result["index"] > int(index), "the index moved")
check(result["seconds"] < 5, "woken by the write, not by its wait: %.2f s" % result["seconds"])

# A blocking query whose key does not change returns after its wait, unchanged.
t0 = time.time()
i, e = b.kv.get("py/new", index=b.kv.get("py/new")[0], wait="1s")
check(0.9 <= time.time() - t0 < 5, "wait=1s honoured: %.2f s" % (time.time() - t0))

# Stale reads are served locally, and still see what was written.
_, e = b.kv.get("py/config", consistency="stale")
check(e is not None and e["Value"] == b"v4", "stale read")

check(a.kv.delete("py/config", cas=1) is False, "delete with a stale cas")
check(a.kv.delete("py/", recurse=True) is True, "delete recurse")
_, items = b.kv.get("py/", recurse=True)
check(items is None, "nothing left under py/: %r" % items)
print("python-consul: put, get, cas, flags, recurse, keys, blocking, stale, delete: ok")
