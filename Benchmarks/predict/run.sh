#!/usr/bin/env bash
# Predict benchmark: Axon against the fastest peer servers, side by side in one run, with the
# method of ../shared/peers/bench_predict.sh (wrk -t2 -c16 -d10s --latency, its post.lua's
# summary, single-row raw digits requests), then predictions while a training job runs at full speed.
#
#   Benchmarks/predict/run.sh [-d SECONDS] [-r REPS] [--no-peers] [--quiet-max SECONDS]
#
# Before every wrk round, Axon's and the peers' alike, it waits up to --quiet-max seconds (5)
# for the machine to be under 10% busy (the peers' sysnoise.py).
#
# Steps:
#   1. release axond on 127.0.0.1:$PORT (state in a temp dir, access log off), trains
#      "digits" 64-128-64-10 on examples/digits.csv and waits for the job;
#   2. REPS rounds of wrk against POST /predict and POST /v2/models/digits/infer (1 row);
#   3. the peers (fastapi-async, mlserver-pw0) through bench_predict.sh, same wrk settings;
#   4. training under load: a long training job starts, then REPS wrk rounds on /predict
#      while it runs; the job is cancelled afterwards. Ratio against the idle /predict median.
# Prints one JSON line per measurement and a summary with the ratios; non-2xx counts included.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
OUT="${OUT:-/tmp/axon-bench-predict}"
PORT="${PORT:-8090}"
DURATION=10
REPS=3
PEER_RUN=1
QUIET_MAX=5
bench_flags "-d DURATION -r REPS --no-peers PEER_RUN=0 --quiet-max QUIET_MAX" "$@"
bench_results "$OUT"

# Request bodies from the same raw test row the peers are measured with; a --no-peers run
# without the peers' data takes the first row of examples/digits.csv instead.
row=""
if [ -f "$PEERS_DATA/digits_test.json" ]; then
  row="$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["inputs"][0]))' "$PEERS_DATA/digits_test.json")"
elif [ "$PEER_RUN" = 1 ]; then
  echo "no $PEERS_DATA/digits_test.json (see $PEERS/README.md), or pass --no-peers" >&2; exit 1
fi

AXOND="${AXOND:-$(release_binary axond)}"
bench_tempdir STATE bench-state
# AXON_ARGS adds serve flags (e.g. "--threads 2") to compare settings; empty means the defaults.
# shellcheck disable=SC2086
axond_start "$PORT" "$STATE" "$OUT/axond.log" ${AXON_ARGS:-}
BASE="http://127.0.0.1:$PORT"

log "training digits"
train_digits "$BASE" 60 > "$OUT/train.json"

digits_bodies "$OUT" "$row"
curl -sf -X POST "$BASE/predict" -H 'Content-Type: application/json' --data-binary @"$OUT/predict_1.json" > "$OUT/sanity.json"

run_wrk() {  # $1 name $2 url $3 body $4 rep
  # As bench_predict.sh does before each peer round: wait (bounded) for a quiet machine.
  python3 "$PEERS/sysnoise.py" wait --max "$QUIET_MAX" > /dev/null || true
  # The server's CPU time per request does not depend on how much of the 2 cores wrk and other
  # jobs take, unlike requests/s and the tail.
  SERVER_PID="$AXOND_PID" wrk_round "$2" "$3" "$OUT/$1.$4.txt" server="$1" rep="$4"
}

log "axon idle"
BODY_FILE="$OUT/predict_1.json" wrk -t2 -c16 -d3s -s "$ROOT/Benchmarks/post.lua" "$BASE/predict" > /dev/null 2>&1 || true
for rep in $(seq 1 "$REPS"); do
  run_wrk axon-predict "$BASE/predict" "$OUT/predict_1.json" "$rep"
  run_wrk axon-v2 "$BASE/v2/models/digits/infer" "$OUT/v2_1.json" "$rep"
done

log "axon with a training job running"
curl -sf -X POST "$BASE/train?model=load&target=digit&epochs=100000&patience=0&validation_split=0" \
  -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/digits.csv" > "$OUT/load_job.json"
JOB="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT/load_job.json")"
for _ in $(seq 1 100); do
  curl -sf "$BASE/jobs/$JOB" | grep -q '"status":"running"' && break; sleep 0.1
done
for rep in $(seq 1 "$REPS"); do
  run_wrk axon-predict-training "$BASE/predict" "$OUT/predict_1.json" "$rep"
done
curl -sf "$BASE/jobs/$JOB" > "$OUT/load_job_running.json"
curl -sf -X DELETE "$BASE/jobs/$JOB" > /dev/null
axond_stop

if [ "$PEER_RUN" = 1 ]; then
  log "peers (bench_predict.sh)"
  PEERS_VENV="$PEERS_VENV" PEERS_DATA="$PEERS_DATA" bash "$PEERS/bench_predict.sh" -d "$DURATION" -r "$REPS" \
    --servers fastapi-async,mlserver-pw0 --out "$OUT/peers" --quiet-max "$QUIET_MAX" > /dev/null 2>"$OUT/peers.log" || true
  python3 - "$OUT/peers/serve.jsonl" <<'PYEOF' | tee -a "$RESULTS"
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("rows") == 1:
        print(json.dumps({"server": d["server"], "rep": d["rep"], "rps": d.get("rps"), "p50_ms": d.get("p50_ms"),
                          "p99_ms": d.get("p99_ms"), "non2xx": d.get("non2xx", 0), "socket_errors": 0}))
PYEOF
fi

python3 - "$RESULTS" "$OUT/load_job_running.json" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows: by.setdefault(r["server"], []).append(r)
med = {k: {m: statistics.median([x[m] for x in v if x[m] is not None]) for m in ("rps", "p50_ms", "p99_ms")} for k, v in by.items()}
fails = {k: sum(x["non2xx"] + x["socket_errors"] for x in v) for k, v in by.items()}
cpu = {k: statistics.median([x["server_cpu_us_per_request"] for x in v]) for k, v in by.items()
       if all(x.get("server_cpu_us_per_request") for x in v)}
print("\nserver                   median rps   p50 ms   p99 ms   p99 range ms   failed   server CPU us/request")
for k in by:
    p99s = sorted(x["p99_ms"] for x in by[k] if x["p99_ms"] is not None)
    spread = f"{p99s[0]:.2f}-{p99s[-1]:.2f}" if p99s else "-"
    print(f"{k:24s} {med[k]['rps']:10.0f} {med[k]['p50_ms']:8.2f} {med[k]['p99_ms']:8.2f} {spread:>14s} {fails[k]:8d}   "
          f"{cpu[k] if k in cpu else '-'}")
peers = [k for k in med if not k.startswith("axon")]
if peers:
    best = max(peers, key=lambda k: med[k]["rps"])
    print(f"\n/predict vs fastest peer ({best}): {med['axon-predict']['rps'] / med[best]['rps']:.1f}x")
    print(f"V2 infer vs fastest peer: {med['axon-v2']['rps'] / med[best]['rps']:.1f}x")
job = json.load(open(sys.argv[2]))
print(f"under training (job at {job.get('samples_per_second', 0):.0f} samples/s): "
      f"{med['axon-predict-training']['rps'] / med['axon-predict']['rps'] * 100:.0f}% of idle /predict throughput")
PYEOF
