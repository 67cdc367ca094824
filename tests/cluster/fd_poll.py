#!/usr/bin/env python3
"""fd_poll.py: failure-detection probes for tests/cluster/fd.sh and bench/fd_load.sh.

  wait PORT NAME STATE SECONDS T0FILE   polls the agent on 127.0.0.1:PORT, GET /v1/agent/members,
                                        every 50 ms; once T0FILE holds the event's time (epoch
                                        ms), waits until NAME's Health is STATE and prints the
                                        ms since the event. Started before the event, so that
                                        its start-up (slow on a loaded machine) is not counted.
  alive PORT...                         exit 0 when every agent sees every other alive
  logged LOG PATTERN FROM_MS            the ms from FROM_MS to the first line of LOG matching
                                        PATTERN at or after it, by the log's own timestamps
                                        (the agent's judgement, with no poller in between)
Every wait is bounded; exit 1 on a timeout or no match.
"""
import datetime, json, os, re, sys, time, urllib.request


def members(port):
    url = f"http://127.0.0.1:{port}/v1/agent/members"
    with urllib.request.urlopen(url, timeout=1) as r:
        return json.load(r)


def wait(port, name, state, seconds, t0file):
    deadline = time.time() + float(seconds)
    start_ms, last = None, None
    while time.time() < deadline:
        if start_ms is None and os.path.exists(t0file):
            with open(t0file) as f:
                text = f.read().strip()
            start_ms = int(text) if text else None
        try:
            last = next((m for m in members(port) if m["Name"] == name), None)
        except (OSError, ValueError):
            last = None
        if start_ms is not None and last is not None and last["Health"] == state:
            print(int(time.time() * 1000) - start_ms)
            return 0
        time.sleep(0.05)
    print(f"{name} never {state} (last seen: {last})")
    return 1


def alive(ports):
    try:
        ok = all(m["Health"] in ("alive", "self") for p in ports for m in members(p))
    except (OSError, ValueError):
        ok = False
    return 0 if ok else 1


def logged(path, pattern, start):
    start = int(start)
    with open(path, errors="replace") as f:
        for line in f:
            if not re.search(pattern, line):
                continue
            t = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
            ms = int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
            if ms >= start:
                print(ms - start)
                return 0
    return 1


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "wait":
        sys.exit(wait(*args))
    if cmd == "alive":
        sys.exit(alive(args))
    if cmd == "logged":
        sys.exit(logged(*args))
    sys.exit(2)
