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
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PEERS="${PEERS_DIR:-$ROOT/../shared/peers}"
[ -d "$PEERS" ] || PEERS=/work/shared/peers
BASELINE="${1:?usage: compare.sh BASELINE_AXOND [CANDIDATE_AXOND] [-d SECONDS] [-r ROUNDS]}"
shift
CANDIDATE=""
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then CANDIDATE="$1"; shift; fi
DURATION=10
ROUNDS=5
while [ $# -gt 0 ]; do
  case "$1" in
    -d) DURATION="$2"; shift 2 ;;
    -r) ROUNDS="$2"; shift 2 ;;
    *) echo "unknown arg $1" >&2; exit 2 ;;
  esac
done
OUT="${OUT:-/tmp/axon-bench-compare}"
source "$HERE/../ab.sh"
ab_start "$BASELINE" A_PORT
ab_start "$CANDIDATE" B_PORT
for port in "$A_PORT" "$B_PORT"; do  # both serve the same digits model
  curl -sf -X POST "http://127.0.0.1:$port/train?model=digits&target=digit&layers=64,128,64,10&epochs=20&seed=7&wait=true" \
    -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/digits.csv" > /dev/null
done
python3 - "$ROOT/examples/digits.csv" "$OUT" <<'PYEOF'
import json, sys
row = [float(x) for x in open(sys.argv[1]).readlines()[1].strip().split(",")[:64]]
json.dump({"model": "digits", "inputs": [row]}, open(f"{sys.argv[2]}/predict_1.json", "w"), separators=(",", ":"))
json.dump({"inputs": [{"name": "input", "shape": [1, 64], "datatype": "FP32", "data": row}]},
          open(f"{sys.argv[2]}/v2_1.json", "w"), separators=(",", ":"))
PYEOF

round() {  # $1 build $2 port $3 route-name $4 path $5 body $6 round
  local out="$OUT/$1.$3.$6.txt"
  BODY_FILE="$5" timeout $((DURATION + 20)) wrk -t2 -c16 -d"${DURATION}s" --latency --timeout 5s \
    -s "$PEERS/post.lua" "http://127.0.0.1:$2$4" > "$out" 2>&1 || true
  python3 - "$1" "$3" "$6" "$out" <<'PYEOF' | tee -a "$RESULTS"
import json, re, sys
build, route, rnd, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
txt = open(path).read()
m = re.search(r"LUA_SUMMARY (.*)", txt)
kv = dict(p.split("=") for p in m.group(1).split()) if m else {}
rps = re.search(r"Requests/sec:\s+([\d.]+)", txt)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
print(json.dumps({"build": build, "route": route, "round": rnd, "rps": float(rps.group(1)) if rps else None,
                  "p50_ms": int(kv.get("p50_us", 0)) / 1000, "p99_ms": int(kv.get("p99_us", 0)) / 1000,
                  "non2xx": int(non2xx.group(1)) if non2xx else 0}))
PYEOF
}

for port in "$A_PORT" "$B_PORT"; do  # warm-up
  BODY_FILE="$OUT/predict_1.json" wrk -t2 -c16 -d2s -s "$PEERS/post.lua" "http://127.0.0.1:$port/predict" > /dev/null 2>&1 || true
done
for r in $(seq 1 "$ROUNDS"); do
  # Alternate which build goes first, so neither always runs on the warmer machine.
  if [ $((r % 2)) = 1 ]; then order="baseline:$A_PORT candidate:$B_PORT"; else order="candidate:$B_PORT baseline:$A_PORT"; fi
  for entry in $order; do
    round "${entry%%:*}" "${entry##*:}" predict /predict "$OUT/predict_1.json" "$r"
    round "${entry%%:*}" "${entry##*:}" v2 /v2/models/digits/infer "$OUT/v2_1.json" "$r"
  done
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
