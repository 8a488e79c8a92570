#!/usr/bin/env bash
# Writes the v1 checkpoint fixtures: trains two small models with a release axond built from
# the commit this fixture set names (e782b58, before issue 12), copies their checkpoint files
# here and records what /predict answered for them, one row at a time (the allocation-free
# path) and as one batch (the BLAS path), as the shortest float text axond writes.
#
#   bash Tests/Fixtures/checkpoints/make-v1.sh path/to/old/axond
#
# CheckpointFixtureTests loads these files with today's code and requires bit-identical
# predictions. Re-running this with a newer axond would defeat the point: keep the files.
set -euo pipefail
AXOND="${1:?path to an axond built from e782b58}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The benchmarks' daemon helpers start, await and stop the old axond as they do theirs.
source "$HERE/../../../Benchmarks/lib.sh"
axond_start_fresh "$AXOND" PORT STATE

post() { curl -sf -X POST "127.0.0.1:$PORT$1" -H 'Content-Type: application/json' -d "$2"; }

# Regression: y = 3 x0 - x1^2 + 0.5, 24 rows, standard normalizer.
REG_IN='[[0,0],[1,0.5],[2,1],[3,1.5],[4,2],[5,2.5],[0.5,3],[1.5,-1],[2.5,-2],[3.5,-0.5],[4.5,0.25],[-1,1],[-2,2],[-3,0],[0.25,0.75],[1.25,-1.75],[2.75,2.25],[3.25,-2.5],[4.75,1.25],[-0.5,-0.25],[-1.5,0.3],[-2.5,-1.2],[0.1,0.2],[5.5,-3]]'
REG_Y=$(python3 -c "import json; print(json.dumps([round(3*a-b*b+0.5,4) for a,b in json.loads('$REG_IN')]))")
post /train?wait=true "{\"model\":\"v1-regression\",\"layers\":[2,8,1],\"epochs\":40,\"batch_size\":8,\"seed\":3,\"normalize\":\"standard\",\"inputs\":$REG_IN,\"targets\":$REG_Y}" >/dev/null
# Classification: three named classes, min-max normalizer, softmax.
CLS_IN='[[5.1,3.5,1.4,0.2],[4.9,3.0,1.4,0.2],[4.7,3.2,1.3,0.2],[5.0,3.6,1.4,0.2],[7.0,3.2,4.7,1.4],[6.4,3.2,4.5,1.5],[6.9,3.1,4.9,1.5],[5.5,2.3,4.0,1.3],[6.3,3.3,6.0,2.5],[5.8,2.7,5.1,1.9],[7.1,3.0,5.9,2.1],[6.5,3.0,5.8,2.2]]'
CLS_Y='["setosa","setosa","setosa","setosa","versicolor","versicolor","versicolor","versicolor","virginica","virginica","virginica","virginica"]'
post /train?wait=true "{\"model\":\"v1-classification\",\"layers\":[4,6,3],\"epochs\":30,\"batch_size\":4,\"seed\":5,\"normalize\":\"min_max\",\"validation_split\":0,\"inputs\":$CLS_IN,\"targets\":$CLS_Y}" >/dev/null

record() { # model, rows (JSON array of arrays), file
  python3 - "$PORT" "$1" "$2" "$3" <<'PY'
import json, struct, sys, urllib.request
port, model, rows, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
def predict(inputs):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=json.dumps({"model": model, "inputs": inputs}).encode(),
                                     headers={"Content-Type": "application/json"})
    # parse_float=str keeps axond's exact text, so no float conversion can change a bit.
    return json.loads(urllib.request.urlopen(request).read(), parse_float=str)["outputs"]
with open(out, "w") as f:
    f.write("# path row: input values | output values as axond printed them | their float32 bit patterns\n")
    def line(path, row, output):
        bits = " ".join(format(struct.unpack("<I", struct.pack("<f", float(v)))[0], "08x") for v in output)
        return f"{path} {' '.join(map(repr, row))} | {' '.join(output)} | {bits}\n"
    for row in rows:
        f.write(line("single", row, predict([row])[0]))
    for row, output in zip(rows, predict(rows)):
        f.write(line("batch", row, output))
PY
}
record v1-regression '[[0,0],[1,2],[-4,3.5],[10,-10],[0.3,0.7]]' "$HERE/v1-regression.predictions"
record v1-classification '[[5.1,3.5,1.4,0.2],[6.0,2.9,4.5,1.5],[7.7,3.8,6.7,2.2],[0,0,0,0],[5.9,3.0,5.1,1.8]]' "$HERE/v1-classification.predictions"
cp "$STATE/models/v1-regression/00000001.axon" "$HERE/v1-regression.axon"
cp "$STATE/models/v1-classification/00000001.axon" "$HERE/v1-classification.axon"
echo "wrote $(ls "$HERE")"
