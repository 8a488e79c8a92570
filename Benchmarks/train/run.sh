#!/usr/bin/env bash
# Trains the peers' benchmark networks with Axon (axon-bench), PyTorch (1 thread) and
# scikit-learn on the same standardized CSV files, interleaving the three so that noise from
# other processes hits all of them alike, then prints medians and Axon's speed-up ratios.
#
#   Benchmarks/train/run.sh                       # digits, synthetic, x2; 3 runs each
#   DATASETS="digits" RUNS=5 Benchmarks/train/run.sh
#
# Needs the peers' venv and data (../shared/peers/README.md):
#   PEERS_VENV=/tmp/peers-venv  PEERS_DIR=/work/shared/peers  PEERS_DATA=/tmp/peers-data
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
DATASETS="${DATASETS:-digits synthetic x2}"
RUNS="${RUNS:-3}"
# Seconds the peer scripts may wait for a quiet machine before each run (0: start at once).
QUIET_WAIT="${QUIET_WAIT:-0}"
python="$PEERS_VENV/bin/python"

[ -x "$python" ] || { echo "no peers venv at $PEERS_VENV (see $PEERS/README.md)" >&2; exit 1; }
for name in $DATASETS; do
    if [ ! -f "$PEERS_DATA/${name}_std_train.csv" ]; then
        echo "writing $PEERS_DATA (data.py --standardize --synthetic)" >&2
        "$python" "$PEERS/data.py" --standardize --synthetic --out "$PEERS_DATA" >/dev/null
        break
    fi
done

bench="$(release_binary axon-bench)"
results="$(mktemp /tmp/axon-bench-train.XXXXXX.jsonl)"
echo "raw results: $results" >&2

for name in $DATASETS; do
    for run in $(seq 1 "$RUNS"); do
        echo "[$name run $run/$RUNS] axon, torch, sklearn" >&2
        "$bench" train --data-dir "$PEERS_DATA" --dataset "$name" >>"$results"
        "$python" "$PEERS/torch_train.py" --dataset "$name" --threads 1 --data-dir "$PEERS_DATA" \
            --quiet-wait "$QUIET_WAIT" 2>/dev/null | grep '^{' >>"$results"
        "$python" "$PEERS/sklearn_train.py" --dataset "$name" --threads 1 --data-dir "$PEERS_DATA" \
            --quiet-wait "$QUIET_WAIT" 2>/dev/null | grep '^{' >>"$results"
    done
done

python3 "$ROOT/Benchmarks/train/summarize.py" "$results"
