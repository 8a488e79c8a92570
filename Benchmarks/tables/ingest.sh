#!/usr/bin/env bash
# How long POST /train takes to read a large table and answer 202 (parse, validate, fit the
# preprocessing, build the data set; training itself runs after the answer), for two axond
# builds side by side, rounds interleaved (A, B, B, A, ...) so machine noise falls on both.
#
#   Benchmarks/tables/ingest.sh BASELINE_AXOND [CANDIDATE_AXOND] [-r ROUNDS] [--rows N]
#
# Bodies: a numeric CSV (N rows x 20 columns + target: the fast path, which must not get
# slower), the same rows as JSON, and, for the candidate only, the CSV with one text column
# and 5% empty cells (the table path). Prints one JSON line per measurement and a summary of
# medians and candidate/baseline ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../ab.sh"
ROUNDS=7
ROWS=200000
OUT="${OUT:-/tmp/axon-bench-ingest}"
ab_setup "ingest.sh BASELINE_AXOND [CANDIDATE_AXOND] [-r ROUNDS] [--rows N]" "-r ROUNDS --rows ROWS" "$@"

python3 - "$OUT" "$ROWS" <<'PYEOF'
import json, random, sys
out, rows = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
data = [[round(rng.uniform(-3, 3), 4) for _ in range(20)] for _ in range(rows)]
target = [round(sum(r[:5]) + rng.gauss(0, 0.1), 4) for r in data]
with open(f"{out}/numeric.csv", "w") as f:
    f.write(",".join(f"x{k}" for k in range(20)) + ",y\n")
    for r, t in zip(data, target):
        f.write(",".join(map(str, r)) + f",{t}\n")
with open(f"{out}/numeric.json", "w") as f:
    json.dump({"model": "ingest", "epochs": 1, "inputs": data, "targets": target}, f, separators=(",", ":"))
colors = ["red", "green", "blue", "cyan", "magenta", "yellow"]
with open(f"{out}/table.csv", "w") as f:
    f.write(",".join(f"x{k}" for k in range(19)) + ",color,y\n")
    for r, t in zip(data, target):
        cells = ["" if rng.random() < 0.05 else str(v) for v in r[:19]]
        f.write(",".join(cells) + f",{rng.choice(colors)},{t}\n")
PYEOF
ls -la "$OUT"/*.csv "$OUT"/*.json >&2

measure() {  # $1 build $2 port $3 body-name $4 round
  local file="$OUT/$3" type="text/csv" path="/train?model=ingest&epochs=1"
  case "$3" in *.json) type="application/json"; path="/train" ;; esac
  # Let the previous job finish first, so the daemon is idle when the clock starts.
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$2/jobs?limit=1" | grep -q '"status":"\(queued\|running\)"' || break; sleep 0.1
  done
  local result
  result=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST "http://127.0.0.1:$2$path" \
    -H "Content-Type: $type" --data-binary @"$file")
  python3 -c 'import json,sys; c,t=sys.argv[5].split(); print(json.dumps({"build":sys.argv[1],"body":sys.argv[3],"round":int(sys.argv[4]),"status":int(c),"seconds":float(t)}))' \
    "$1" "$2" "$3" "$4" "$result" | tee -a "$RESULTS"
}

numeric() {  # $1 build $2 port $3 round
  measure "$1" "$2" numeric.csv "$3"
  measure "$1" "$2" numeric.json "$3"
}

for r in $(seq 1 "$ROUNDS"); do
  ab_both "$r" numeric "$r"
  measure candidate "$B_PORT" table.csv "$r"
done

python3 - "$RESULTS" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for body in ("numeric.csv", "numeric.json", "table.csv"):
    get = lambda b: {r["round"]: r["seconds"] for r in rows if r["build"] == b and r["body"] == body and r["status"] == 202}
    a, b = get("baseline"), get("candidate")
    ratios = [b[k] / a[k] for k in a if k in b]
    print(json.dumps({"body": body,
                      "baseline_s": round(statistics.median(a.values()), 4) if a else None,
                      "candidate_s": round(statistics.median(b.values()), 4) if b else None,
                      "median_per_round_ratio": round(statistics.median(ratios), 3) if ratios else None,
                      "not_202": sum(1 for r in rows if r["body"] == body and r["status"] != 202)}))
PYEOF
