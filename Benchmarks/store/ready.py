#!/usr/bin/env python3
"""Times axond from process start to the first 200 from /readyz, RUNS times, on one state directory.

    ready.py <axond> <state-dir> <runs>

axond binds 127.0.0.1 port 0; the port is read from its "axond listening" log line. Readiness is
reported only after the ModelStore has loaded every model, so this is the end-to-end start-up
cost a load balancer sees. The store's own load time is parsed from its "models loaded" log line.
Prints one line per run and the medians. Standard library only.
"""
import http.client
import re
import signal
import statistics
import subprocess
import sys
import time

PORT = re.compile(r"http\.address=[^\s:]*:(\d+)")
LOADED = re.compile(r"store\.models=(\d+).*store\.seconds=([0-9.e-]+)|store\.seconds=([0-9.e-]+).*store\.models=(\d+)")
DEADLINE = 30.0  # seconds per run before giving up


def ready_status(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def one_run(axond, state):
    start = time.perf_counter()
    process = subprocess.Popen(
        [axond, "serve", "--port", "0", "--state-dir", state, "--no-access-log", "--log-level", "info"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines = []
    port = None
    try:
        for line in process.stderr:
            lines.append(line)
            match = PORT.search(line)
            if match:
                port = int(match.group(1))
                break
            if time.perf_counter() - start > DEADLINE:
                break
        if port is None:
            raise RuntimeError("axond printed no listening address:\n" + "".join(lines))
        polls = 0
        while ready_status(port) != 200:
            polls += 1
            if time.perf_counter() - start > DEADLINE:
                raise RuntimeError("axond not ready within %.0f s" % DEADLINE)
            time.sleep(0.0005)
        ready = time.perf_counter() - start
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=DEADLINE)
        lines.append(rest)
    models, load_seconds = None, None
    for line in "".join(lines).splitlines():
        if "models loaded" in line:
            match = LOADED.search(line)
            if match:
                models = int(match.group(1) or match.group(4))
                load_seconds = float(match.group(2) or match.group(3))
    if process.returncode != 0:
        raise RuntimeError("axond exited %d" % process.returncode)
    return ready, models, load_seconds, polls


def main():
    axond, state, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ready_times, load_times = [], []
    for run in range(runs):
        ready, models, load_seconds, polls = one_run(axond, state)
        print("run %d: ready after %.1f ms (store load %.1f ms, %s models, %d polls before 200)"
              % (run + 1, ready * 1000, (load_seconds or 0) * 1000, models, polls))
        ready_times.append(ready)
        if load_seconds is not None:
            load_times.append(load_seconds)
    print("median of %d: process start -> /readyz 200 = %.1f ms; ModelStore.load = %.1f ms"
          % (runs, statistics.median(ready_times) * 1000, statistics.median(load_times) * 1000 if load_times else float("nan")))


if __name__ == "__main__":
    main()
