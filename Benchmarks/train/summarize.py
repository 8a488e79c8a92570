#!/usr/bin/env python3
"""Medians per (dataset, framework) of train JSON lines, and Axon's ratios to each peer.

    python3 summarize.py results.jsonl

Speed ratio = Axon samples/s / peer samples/s (medians). The issue's targets: digits and
synthetic at least 3x the faster peer; digits accuracy >= 0.97; synthetic accuracy within
0.01 of the peers.
"""
import json
import statistics
import sys
from collections import defaultdict


def main():
    runs = defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            if row.get("kind", "train") != "train":
                continue
            runs[(row["dataset"], row["framework"])].append(row)

    def median(rows, key):
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else None

    datasets = sorted({d for d, _ in runs}, key=["digits", "synthetic", "x2"].index)
    print(f"{'dataset':<10} {'framework':<8} {'runs':>4} {'wall s':>8} {'samples/s':>11} "
          f"{'accuracy':>9} {'macro F1':>9} {'test mse':>9} {'r2':>7}")
    verdicts = []
    for dataset in datasets:
        medians = {}
        for framework in ("axon", "torch", "sklearn"):
            rows = runs.get((dataset, framework), [])
            if not rows:
                continue
            m = {k: median(rows, k) for k in
                 ("train_wall_s", "samples_per_s", "test_accuracy", "test_macro_f1", "test_mse", "test_r2")}
            medians[framework] = m

            def fmt(v, spec):
                width = int(spec.split(".")[0].rstrip(",")) if spec[0].isdigit() else 0
                return format(v, spec) if v is not None else "-".rjust(width)
            print(f"{dataset:<10} {framework:<8} {len(rows):>4} {fmt(m['train_wall_s'], '8.3f')} "
                  f"{fmt(m['samples_per_s'], '11,.0f')} {fmt(m['test_accuracy'], '9.4f')} "
                  f"{fmt(m['test_macro_f1'], '9.4f')} {fmt(m['test_mse'], '9.4f')} {fmt(m['test_r2'], '7.4f')}")
        axon = medians.get("axon")
        peers = {k: v for k, v in medians.items() if k != "axon"}
        if not axon or not peers:
            continue
        ratios = {k: axon["samples_per_s"] / v["samples_per_s"] for k, v in peers.items()}
        fastest = max(peers, key=lambda k: peers[k]["samples_per_s"])
        line = ", ".join(f"{ratios[k]:.2f}x {k}" for k in peers)
        ok = ratios[fastest] >= 3.0
        note = f"{dataset}: axon speed = {line}; vs faster peer ({fastest}) {ratios[fastest]:.2f}x [{'PASS' if ok else 'FAIL'} >= 3x]"
        if axon.get("test_accuracy") is not None:
            gaps = {k: axon["test_accuracy"] - v["test_accuracy"] for k, v in peers.items() if v.get("test_accuracy") is not None}
            note += "; accuracy gap " + ", ".join(f"{g:+.4f} vs {k}" for k, g in gaps.items())
        verdicts.append(note)
    print()
    for note in verdicts:
        print(note)


if __name__ == "__main__":
    main()
