"""Medians and ratios of Benchmarks/threads/run.sh's JSON lines (one per training run): over
every run, then over the quiet runs alone (other processes used at most QUIET of the machine
while they ran; measure.py's foreign share).

    python3 Benchmarks/threads/summarize.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

MODES = {"1": "1 thread", "2": "2 data-parallel threads", "blas2": "2 OpenBLAS threads", "base": "baseline, 1 thread"}
QUIET = 0.05


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def table(rows, title):
    by = defaultdict(list)
    for row in rows:
        by[(row["case"], row["mode"])].append(row)
    shares = [r["foreign_share"] for r in rows if r.get("foreign_share") is not None]
    print(f"### {title}: {len(rows)} runs" + (f", foreign share median {statistics.median(shares):.1%}, max {max(shares):.1%}" if shares else ""))
    print()
    print("| case | variant | runs | median s | fastest s | CPU s | samples/s | vs 1 thread | fastest vs fastest | final train loss | test accuracy / R² | same weights every run |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    cases = list(dict.fromkeys(row["case"] for row in rows))
    for case in cases:
        one = by.get((case, "1"))
        one_time = median(one, "train_wall_s") if one else None
        one_best = min(r["train_wall_s"] for r in one) if one else None
        for mode, label in MODES.items():
            runs = by.get((case, mode))
            if not runs:
                continue
            seconds = median(runs, "train_wall_s")
            cpu = median(runs, "train_cpu_s")
            ratio = f"{one_time / seconds:.2f}x" if one_time else "-"
            best = min(r["train_wall_s"] for r in runs)
            best_ratio = f"{one_best / best:.2f}x" if one_best else "-"
            losses = {r["final_train_loss"] for r in runs}
            loss = f"{runs[0]['final_train_loss']:.6f}" if len(losses) == 1 else "varies"
            metric = runs[0].get("test_accuracy", runs[0].get("test_r2"))
            prints = {r.get("weights_fnv1a") for r in runs}
            same = "n/a" if None in prints else ("yes" if len(prints) == 1 else "NO")
            print(f"| {case} | {label} | {len(runs)} | {seconds:.3f} | {best:.3f} | {'-' if cpu is None else f'{cpu:.3f}'} | "
                  f"{median(runs, 'samples_per_s'):,.0f} | {ratio} | {best_ratio} | {loss} | {metric:.4f} | {same} |")
    print()
    for case in cases:
        one, base = by.get((case, "1")), by.get((case, "base"))
        if one and base:
            identical = {r["final_train_loss"] for r in one} == {r["final_train_loss"] for r in base}
            print(f"- {case}: 1 thread against the baseline {median(base, 'train_wall_s') / median(one, 'train_wall_s'):.3f}x "
                  f"(above 1: this checkout faster); same final loss as the baseline: {'yes' if identical else 'NO'}")
    print()


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    table(rows, "All runs")
    quiet = [r for r in rows if r.get("foreign_share") is not None and r["foreign_share"] <= QUIET]
    if quiet:
        table(quiet, f"Quiet runs (foreign share at most {QUIET:.0%})")
    else:
        print(f"No quiet runs (foreign share at most {QUIET:.0%}): measure again on an idle machine.")


if __name__ == "__main__":
    main()
