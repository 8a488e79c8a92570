#!/usr/bin/env bash
# End-to-end start-up benchmark of the ModelStore: writes a state directory of MODELS small
# models (checkpoint-stress generate-models: 4-16-3 classifiers with normalizer statistics,
# Adam moments and full metadata, the real ModelCheckpoint format), then starts release axond
# on 127.0.0.1:0 RUNS times and times process start -> first 200 from /readyz.
#
#   Benchmarks/store/run.sh                  # MODELS=1000 RUNS=7
#   MODELS=5000 RUNS=5 Benchmarks/store/run.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
MODELS="${MODELS:-1000}"
RUNS="${RUNS:-7}"

axond="$(release_binary axond)"
stress="$(release_binary checkpoint-stress)"
bench_tempdir state store-bench
start=$(date +%s.%N)
"$stress" generate-models "$state" "$MODELS" >/dev/null
end=$(date +%s.%N)
files=$(find "$state/models" -name '*.axon' | wc -l)
bytes=$(find "$state/models" -name '*.axon' -printf '%s\n' | sort -n | uniq -c | sort -rn | head -1 | awk '{print $2}')
printf 'state directory: %s models, %s bytes per file, written durably in %.1f s\n' "$files" "$bytes" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
# The page cache is warm (the files were just written); dropping it would disturb the other
# processes on a shared machine. The figure is the CPU and system-call cost of start-up.
python3 "$ROOT/Benchmarks/store/ready.py" "$axond" "$state" "$RUNS"
