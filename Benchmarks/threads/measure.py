"""Runs one axon-bench command on a shared machine and says how shared it was.

Waits (at most --quiet-wait seconds) until the whole machine was less than --threshold busy
over one second, runs the command, and adds to its JSON line: the wait, the machine's busy
CPU seconds during the run, the command's own CPU seconds, and the foreign share, the part of
the machine's capacity (cores x wall time) that other processes used meanwhile. A two-core
scaling figure is only meaningful from runs whose foreign share is small.

    python3 measure.py --quiet-wait 60 --threshold 0.1 -- axon-bench train ...
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def busy_jiffies():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    return sum(values) - values[3] - values[4]


def busy_fraction(window=1.0):
    before = busy_jiffies()
    time.sleep(window)
    return (busy_jiffies() - before) / (HZ * window * CORES)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quiet-wait", type=float, default=60)
    parser.add_argument("--threshold", type=float, default=0.10)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command

    start = time.time()
    busy = busy_fraction() if arguments.quiet_wait > 0 else None
    while busy is not None and busy > arguments.threshold and time.time() - start < arguments.quiet_wait:
        busy = busy_fraction()
    waited = time.time() - start

    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    jiffies_before = busy_jiffies()
    wall_before = time.perf_counter()
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    wall = time.perf_counter() - wall_before
    machine = (busy_jiffies() - jiffies_before) / HZ
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    foreign = max(0.0, machine - own)

    row = json.loads(output.strip().splitlines()[-1])
    row.update({
        "quiet_waited_s": round(waited, 1), "busy_before": None if busy is None else round(busy, 3),
        "machine_busy_cpu_s": round(machine, 3), "own_cpu_s": round(own, 3),
        "foreign_share": round(foreign / max(1e-9, wall * CORES), 3),
    })
    print(json.dumps(row))


if __name__ == "__main__":
    main()
