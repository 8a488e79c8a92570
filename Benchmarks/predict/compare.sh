#!/usr/bin/env bash
# The small-request path of two axond builds side by side: one-row POST /predict and KServe V2
# /infer on digits, wrk rounds interleaved (A, B, A, B, ...) so machine noise falls on both.
#
#   Benchmarks/predict/compare.sh BASELINE_AXOND [CANDIDATE_AXOND] [-d SECONDS] [-r ROUNDS]
#
# CANDIDATE defaults to this checkout's release build. Both daemons run at once on their own
# ports and state directories (an idle one costs nothing); each trains digits the same way.
# Prints one JSON line per round and a summary: medians, and the median of the per-round
# candidate/baseline req/s ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../ab.sh"
DURATION=10
ROUNDS=5
OUT="${OUT:-/tmp/axon-bench-compare}"
ab_setup "compare.sh BASELINE_AXOND [CANDIDATE_AXOND] [-d SECONDS] [-r ROUNDS]" "-d DURATION -r ROUNDS" "$@"
for port in "$A_PORT" "$B_PORT"; do  # both serve the same digits model
  train_digits "http://127.0.0.1:$port" 20 > /dev/null
done
digits_bodies "$OUT"

routes() {  # $1 build $2 port $3 round
  wrk_round "http://127.0.0.1:$2/predict" "$OUT/predict_1.json" "$OUT/$1.predict.$3.txt" build="$1" route=predict round="$3"
  wrk_round "http://127.0.0.1:$2/v2/models/digits/infer" "$OUT/v2_1.json" "$OUT/$1.v2.$3.txt" build="$1" route=v2 round="$3"
}

for port in "$A_PORT" "$B_PORT"; do  # warm-up
  BODY_FILE="$OUT/predict_1.json" wrk -t2 -c16 -d2s -s "$ROOT/Benchmarks/post.lua" "http://127.0.0.1:$port/predict" > /dev/null 2>&1 || true
done
for r in $(seq 1 "$ROUNDS"); do
  ab_both "$r" routes "$r"
done

python3 - "$RESULTS" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for route in ("predict", "v2"):
    get = lambda b: {r["round"]: r for r in rows if r["build"] == b and r["route"] == route}
    a, b = get("baseline"), get("candidate")
    ratios = [b[k]["rps"] / a[k]["rps"] for k in a if k in b and a[k]["rps"] and b[k]["rps"]]
    med = lambda d, key: statistics.median(r[key] for r in d.values())
    print(json.dumps({"route": route, "baseline_rps": med(a, "rps"), "candidate_rps": med(b, "rps"),
                      "baseline_p99_ms": med(a, "p99_ms"), "candidate_p99_ms": med(b, "p99_ms"),
                      "ratio_of_medians": round(med(b, "rps") / med(a, "rps"), 3),
                      "median_per_round_ratio": round(statistics.median(ratios), 3) if ratios else None,
                      "non2xx": sum(r["non2xx"] for r in rows if r["route"] == route)}))
PYEOF
