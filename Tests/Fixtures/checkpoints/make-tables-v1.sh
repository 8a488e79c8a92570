#!/usr/bin/env bash
# Writes tables-v1-csv.axon: iris trained from examples/iris.csv (a CSV with a header, the
# path issue 12 gives column names and medians) by a release axond built from e782b58, and
# tables-v1-csv.predictions: what its /predict answered for four rows, one row at a time, as
# the shortest float text axond writes.
#
#   bash Tests/Fixtures/checkpoints/make-tables-v1.sh path/to/e782b58/axond
#
# PreprocessingCheckpointTests loads the file with today's code and requires bit-identical
# predictions and an identical re-encoding. Re-running this with a newer axond would defeat
# the point: keep the files.
set -euo pipefail
AXOND="${1:?path to an axond built from e782b58}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The benchmarks' daemon helpers start, await and stop the old axond as they do theirs.
source "$HERE/../../../Benchmarks/lib.sh"
axond_start_fresh "$AXOND" PORT STATE
curl -sf -X POST "127.0.0.1:$PORT/train?model=iris&target=species&epochs=30&seed=1&wait=true" \
  -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/iris.csv" >/dev/null
{
  echo "# single row: input values | output values as axond printed them"
  for row in '[5.1,3.5,1.4,0.2]' '[6.0,2.9,4.5,1.5]' '[7.7,3.8,6.7,2.2]' '[0,0,0,0]'; do
    out=$(curl -sf -X POST "127.0.0.1:$PORT/predict" -H 'Content-Type: application/json' -d "{\"model\":\"iris\",\"inputs\":[$row]}")
    python3 - "$row" "$out" <<'PY'
import json, sys
row = json.loads(sys.argv[1])
out = json.loads(sys.argv[2], parse_float=str)["outputs"][0]
print("single " + " ".join(map(repr, row)) + " | " + " ".join(out))
PY
  done
} > "$HERE/tables-v1-csv.predictions"
cp "$STATE/models/iris/00000001.axon" "$HERE/tables-v1-csv.axon"
echo "wrote $HERE/tables-v1-csv.axon"
