"""Writes the ingest benchmark's bodies: ROWS x 64 numeric features and a class label, as a
CSV with a header (`x0..x63,label`) and as the same data in a JSON training body.

    python make_data.py OUT_DIR [--rows 150000] [--seed 7]

Features are standard normal values printed with 5 decimals (`-0.12345`), the label an
integer class 0..9 from a fixed linear rule, so the file is about 82 MB at 150,000 rows and
the network has something to learn. Only the standard library: the same bytes on every machine.
"""
import argparse
import json
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--rows", type=int, default=150_000)
parser.add_argument("--seed", type=int, default=7)
parser.add_argument("--features", type=int, default=64)
parser.add_argument("--csv-only", action="store_true", help="skip the JSON body (for the 1 GB case)")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
rng = random.Random(args.seed)
weights = [rng.uniform(-1, 1) for _ in range(args.features)]
csv_path = os.path.join(args.out, f"ingest-{args.rows}.csv")
json_path = os.path.join(args.out, f"ingest-{args.rows}.json")
with open(csv_path, "w") as csv, open(os.devnull if args.csv_only else json_path, "w") as js:
    csv.write(",".join(f"x{k}" for k in range(args.features)) + ",label\n")
    js.write('{"model":"ingest","epochs":3,"inputs":[')
    labels = []
    for row in range(args.rows):
        cells = [f"{rng.gauss(0, 1):.5f}" for _ in range(args.features)]
        score = sum(w * float(c) for w, c in zip(weights, cells))
        label = min(9, max(0, int(score + 5)))
        labels.append(label)
        csv.write(",".join(cells) + f",{label}\n")
        js.write(("," if row else "") + "[" + ",".join(cells) + "]")
    js.write('],"targets":' + json.dumps(labels, separators=(",", ":")) + "}")
print(csv_path, os.path.getsize(csv_path))
if not args.csv_only:
    print(json_path, os.path.getsize(json_path))
