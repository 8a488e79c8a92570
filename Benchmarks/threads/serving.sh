#!/usr/bin/env bash
# What training on more threads costs serving: one client probes a one-row POST /predict (one
# connection, closed loop, wrk's exact percentiles) while a training job runs, on a release
# axond of this checkout with training.threads 1 and 2, alternating, REPS rounds each; and the
# same probe with nothing training. Reports the probe's median and p99 latency and requests/s,
# and the job's training throughput (rows per second, the median of its epochs).
#
#   Benchmarks/threads/serving.sh [-d SECONDS] [-r REPS] [-e EPOCHS]
#
# The job: the wide set of data.py (20,000 x 64 CSV) as 64-512-512-10, batch 64, no
# validation split, EPOCHS epochs (long enough to outlast the probe).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
DATA="${DATA:-/tmp/axon-threads-data}"
OUT="${OUT:-/tmp/axon-bench-threads-serving}"
PORT="${PORT:-8093}"
DURATION=5
REPS=3
EPOCHS=40
bench_flags "-d DURATION -r REPS -e EPOCHS" "$@"
bench_results "$OUT"
[ -f "$DATA/wide_std_train.csv" ] || python3 "$ROOT/Benchmarks/threads/data.py" "$DATA"
AXOND="${AXOND:-$(release_binary axond)}"
bench_tempdir state bench-threads-serving
base="http://127.0.0.1:$PORT"
start() { axond_start "$PORT" "$state" "$OUT/axond.log" --training-threads "$1"; }

start 1
train_digits "$base" 30 >/dev/null
digits_bodies "$OUT"
axond_stop

job_status() { curl -sf "$base/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }

probe() {  # $1: label, $2: threads, $3: job id or ""
    BODY_FILE="$OUT/predict_1.json" wrk -t1 -c1 -d"${DURATION}s" -s "$ROOT/Benchmarks/post.lua" "$base/predict" \
        >"$OUT/probe.txt" 2>&1
    local rate=null
    if [ -n "$3" ]; then
        # The job must still have been training when the probe ended, or the probe measured idle time.
        [ "$(job_status "$3")" = running ] || log "warning: the job was $(job_status "$3") when the probe ended; raise -e"
        # DELETE cancels the job and answers it as it ended (then forgets it).
        rate="$(curl -sf -X DELETE "$base/jobs/$3" | python3 -c '
import json, statistics, sys
history = json.load(sys.stdin)["history"]
rates = [e["samples_per_second"] for e in history if e.get("samples_per_second")]
print(json.dumps(statistics.median(rates) if rates else None))')"
    fi
    python3 "$ROOT/Benchmarks/wrk_report.py" "$OUT/probe.txt" case="$1" threads="$2" train_rows_per_s="$rate" | tee -a "$RESULTS"
}

for round in $(seq 1 "$REPS"); do
    for threads in 1 2; do
        log "round $round/$REPS: training.threads $threads"
        start "$threads"
        probe idle "$threads" ""
        job="$(curl -sf -X POST "$base/train?model=wide&target=label&layers=64,512,512,10&epochs=$EPOCHS&batch_size=64&validation_split=0&patience=$EPOCHS&seed=0" \
            -H 'Content-Type: text/csv' --data-binary @"$DATA/wide_std_train.csv" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
        # The job starts at once (one slot, nothing queued); a second of epochs first.
        sleep 1
        probe training "$threads" "$job"
        axond_stop
    done
done

python3 - "$RESULTS" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("| training.threads | while | probe req/s | p50 ms | p99 ms | training rows/s | load |")
print("|---|---|---|---|---|---|---|")
for threads in (1, 2):
    for case in ("idle", "training"):
        runs = [r for r in rows if r["threads"] == threads and r["case"] == case]
        if not runs:
            continue
        median = lambda key: statistics.median(r[key] for r in runs)
        rates = [r["train_rows_per_s"] for r in runs if r["train_rows_per_s"]]
        rate = f"{statistics.median(rates):,.0f}" if rates else "-"
        print(f"| {threads} | {case} | {median('rps'):,.0f} | {median('p50_ms'):.3f} | {median('p99_ms'):.2f} | {rate} | {median('load'):.1f} |")
PYEOF
