#!/usr/bin/env python3
"""Turns the report of one wrk run with a LUA_SUMMARY script (Benchmarks/post.lua or
../shared/peers/post.lua) into one JSON line.

    wrk_report.py REPORT [--cpu-seconds S] [KEY=VALUE ...]

Prints the KEY=VALUE fields first (a VALUE that parses as JSON is kept as such: rep=3 is a
number, train_rows_per_s=null a null), then requests, rps, p50_ms, p99_ms, max_ms, non2xx
(wrk's "Non-2xx or 3xx responses"), socket_errors (connect, read, write and timeout errors)
and load (the 1-minute load average now). --cpu-seconds adds server_cpu_us_per_request: the
server's CPU time over the run divided by its requests. Standard library only.
"""
import json
import re
import sys


def value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def main():
    arguments = sys.argv[1:]
    if not arguments:
        sys.exit(__doc__)
    text = open(arguments.pop(0)).read()
    cpu_seconds = None
    if arguments[:1] == ["--cpu-seconds"]:
        cpu_seconds = float(arguments[1])
        arguments = arguments[2:]
    record = {key: value(raw) for key, raw in (argument.split("=", 1) for argument in arguments)}

    summary = re.search(r"LUA_SUMMARY (.*)", text)
    fields = {k: float(v) for k, v in (p.split("=") for p in summary.group(1).split())} if summary else {}
    requests = int(fields.get("requests", 0))
    seconds = fields.get("duration_us", 0) / 1e6
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    record.update({
        "requests": requests,
        "rps": round(requests / seconds, 1) if seconds else None,
        "p50_ms": fields.get("p50_us", 0) / 1000,
        "p99_ms": fields.get("p99_us", 0) / 1000,
        "max_ms": fields.get("max_us", 0) / 1000,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": int(sum(fields.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_timeout"))),
        "load": float(open("/proc/loadavg").read().split()[0]),
    })
    if cpu_seconds is not None:
        record["server_cpu_us_per_request"] = round(cpu_seconds * 1e6 / requests, 1) if requests else None
    print(json.dumps(record))


if __name__ == "__main__":
    main()
