"""Medians and ratios of Benchmarks/ingest/run.sh results (JSON lines), as Markdown tables.

    python summarize.py results.jsonl
"""
import collections
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = collections.defaultdict(list)
for row in rows:
    groups[(row.get("mode", "parse"), row["framework"], row["format"])].append(row)


def median(key, group):
    values = [r[key] for r in group if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


print("| mode | framework | body | runs | median s | median CPU s | MB/s | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|")
for (mode, framework, fmt), group in sorted(groups.items()):
    statuses = {r.get("status") for r in group if "status" in r}
    note = f" (HTTP {sorted(statuses)})" if statuses and statuses - {200, 202} else ""
    print(f"| {mode} | {framework}{note} | {fmt} | {len(group)} | {median('seconds', group):.3f} | "
          f"{median('cpu_seconds', group):.3f} | {median('mb_per_s', group):.1f} | {median('peak_rss_mb', group):.0f} |")


def per_run_ratio(a, b, key="seconds"):
    """Median over runs of b/a (how many times faster a is than b), pairing runs by number."""
    by_run = {r.get("run"): r[key] for r in groups.get(a, [])}
    ratios = [r[key] / by_run[r.get("run")] for r in groups.get(b, []) if r.get("run") in by_run and by_run[r.get("run")]]
    return statistics.median(ratios) if ratios else float("nan")


print()
pairs = [
    ("Axon CSV parse vs pandas.read_csv", ("parse", "axon", "csv"), ("parse", "pandas", "csv")),
    ("Axon CSV parse vs numpy.loadtxt", ("parse", "axon", "csv"), ("parse", "numpy", "csv")),
    ("Axon JSON parse vs json.load", ("parse", "axon", "json"), ("parse", "json", "json")),
    ("Axon CSV parse vs the baseline's (whole body in memory)", ("parse", "axon", "csv"), ("parse", "baseline", "csv")),
    ("Axon JSON parse vs the baseline's (whole body in memory)", ("parse", "axon", "json"), ("parse", "baseline", "json")),
    ("POST /train CSV: this build vs baseline", ("post_train", "axon", "csv"), ("post_train", "baseline", "csv")),
    ("POST /train JSON: this build vs baseline", ("post_train", "axon", "json"), ("post_train", "baseline", "json")),
    ("POST /train CSV to 202 (receive, parse, plan): this build vs baseline", ("post_202", "axon", "csv"), ("post_202", "baseline", "csv")),
    ("POST /train JSON to 202 (receive, parse, plan): this build vs baseline", ("post_202", "axon", "json"), ("post_202", "baseline", "json")),
]
print("| speed-up (median of per-run ratios; wall / CPU) | ratio |")
print("|---|---|")
for name, a, b in pairs:
    if a in groups and b in groups:
        cpu = per_run_ratio(a, b, "cpu_seconds") if all("cpu_seconds" in r for r in groups[a] + groups[b]) else None
        print(f"| {name} | {per_run_ratio(a, b):.2f}x" + (f" / {cpu:.2f}x" if cpu else "") + " |")
