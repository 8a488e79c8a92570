"""Medians and ratios of Benchmarks/threads/run.sh's JSON lines (one per training run).

    python3 Benchmarks/threads/summarize.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

MODES = {"1": "1 thread", "2": "2 data-parallel threads", "blas2": "2 OpenBLAS threads", "base": "baseline, 1 thread"}


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = defaultdict(list)
    for row in rows:
        by[(row["case"], row["mode"])].append(row)
    loads = [row["load_before"] for row in rows] + [row["load_after"] for row in rows]
    print(f"{len(rows)} runs; 1-minute load average during the runs: median {statistics.median(loads):.2f}, max {max(loads):.2f}")
    print()
    print("| case | variant | runs | median s | CPU s | samples/s | vs 1 thread | final train loss | test accuracy / R² | same weights every run |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dataset in dict.fromkeys(row["case"] for row in rows):
        one = by.get((dataset, "1"))
        one_time = statistics.median(r["train_wall_s"] for r in one) if one else None
        for mode, label in MODES.items():
            runs = by.get((dataset, mode))
            if not runs:
                continue
            seconds = statistics.median(r["train_wall_s"] for r in runs)
            rate = statistics.median(r["samples_per_s"] for r in runs)
            cpus = [r["train_cpu_s"] for r in runs if "train_cpu_s" in r]
            cpu = f"{statistics.median(cpus):.3f}" if cpus else "-"
            ratio = f"{one_time / seconds:.2f}x" if one_time else "-"
            losses = {r["final_train_loss"] for r in runs}
            loss = f"{runs[0]['final_train_loss']:.6f}" if len(losses) == 1 else "varies"
            metric = runs[0].get("test_accuracy", runs[0].get("test_r2"))
            prints = {r.get("weights_fnv1a") for r in runs}
            same = "yes" if len(prints) == 1 and None not in prints else ("n/a" if None in prints else "NO")
            print(f"| {dataset} | {label} | {len(runs)} | {seconds:.3f} | {cpu} | {rate:,.0f} | {ratio} | {loss} | {metric:.4f} | {same} |")
    print()
    for dataset in dict.fromkeys(row["case"] for row in rows):
        one, base = by.get((dataset, "1")), by.get((dataset, "base"))
        if one and base:
            identical = {r["final_train_loss"] for r in one} == {r["final_train_loss"] for r in base}
            print(f"{dataset}: 1 thread against the baseline: {statistics.median(r['train_wall_s'] for r in base) / statistics.median(r['train_wall_s'] for r in one):.3f}x "
                  f"(above 1: this checkout faster); same final loss as the baseline: {'yes' if identical else 'NO'}")


if __name__ == "__main__":
    main()
