#!/usr/bin/env bash
# Does watching a job slow it down? The same training job (digits, 64-128-64-10, EPOCHS epochs,
# one event per epoch) with no event reader and with READERS readers of GET /events, in
# alternating rounds on one release axond; prints the job's own training time per round and
# the median of the per-round ratios (with readers / without).
#
#   Benchmarks/events/run.sh [ROUNDS]      (env: AXOND, READERS (10), EPOCHS (200), PORT (19480))
set -euo pipefail
shopt -s inherit_errexit
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
ROUNDS=${1:-7}
READERS=${READERS:-10}
EPOCHS=${EPOCHS:-200}
PORT=${PORT:-19480}
AXOND="${AXOND:-$(release_binary axond)}"
bench_tempdir TMP bench-events
axond_start "$PORT" "$TMP/state" "$TMP/axond.log"
URL="http://127.0.0.1:$PORT/train?model=digits&target=digit&layers=64,128,64,10&epochs=$EPOCHS&batch_size=32&learning_rate=0.001&patience=100000&validation_split=0&seed=7&wait=true"

# Prints the job's training seconds (metrics.training_seconds) of one run with $1 readers.
run() {
    local readers=() i seconds events=0
    for i in $(seq 1 "$1"); do
        curl -sN --max-time 600 "http://127.0.0.1:$PORT/events" >"$TMP/reader.$i" &
        readers+=($!)
    done
    # The readers are connected once the server counts their streams (bounded wait).
    if [ "$1" -gt 0 ]; then
        for _ in $(seq 1 200); do
            [ "$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^axon_event_streams_open / { print $2 + 0 }')" = "$1" ] && break
            sleep 0.05
        done
    fi
    seconds=$(curl -sf --max-time 600 -X POST -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/digits.csv" "$URL" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["metrics"]["training_seconds"])')
    for pid in "${readers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    if [ "$1" -gt 0 ]; then events=$(grep -c '^event: epoch' "$TMP/reader.1" || true); fi
    echo "$seconds $events"
}

run 0 >/dev/null  # warm-up
echo "digits 64-128-64-10, $EPOCHS epochs, batch 32: training seconds without and with $READERS readers of GET /events"
: >"$TMP/ratios"
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then
        read -r none _ < <(run 0); read -r with seen < <(run "$READERS")
    else
        read -r with seen < <(run "$READERS"); read -r none _ < <(run 0)
    fi
    ratio=$(awk -v a="$with" -v b="$none" 'BEGIN { printf "%.3f", a / b }')
    echo "$ratio" >>"$TMP/ratios"
    echo "round $round: none ${none}s, $READERS readers ${with}s (each read $seen epoch events), ratio $ratio"
done
echo "median ratio (with readers / without): $(median <"$TMP/ratios")"
