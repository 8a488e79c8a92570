#!/usr/bin/env bash
# Builds an older commit's release axond and a probe of its whole-body training parsers, for
# run.sh's BASELINE_AXOND and BASELINE_PROBE:
#
#   Benchmarks/ingest/baseline.sh 6e2f1c8 /tmp/ingest-baseline
#   BASELINE_AXOND=/tmp/ingest-baseline/.build/release/axond \
#   BASELINE_PROBE=/tmp/ingest-baseline/.build/release/baseline-probe Benchmarks/ingest/run.sh
#
# The commit is exported with git archive into OUT (nothing in this checkout changes); the probe
# (baseline-probe/: one public wrapper over TrainRequest's parsers and a main that times it,
# the body read whole into memory first as those routes received it) is added to the copy only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMMIT="${1:?usage: baseline.sh COMMIT OUT_DIR}"
OUT="${2:?usage: baseline.sh COMMIT OUT_DIR}"
rm -rf "$OUT"
mkdir -p "$OUT"
git -C "$HERE" archive "$COMMIT" | tar -x -C "$OUT"
cp "$HERE/baseline-probe/BaselineProbe.swift" "$OUT/Sources/AxonServer/API/BaselineProbe.swift"
mkdir -p "$OUT/Sources/baseline-probe"
cp "$HERE/baseline-probe/main.swift" "$OUT/Sources/baseline-probe/main.swift"
python3 - "$OUT/Package.swift" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
anchor = "        // Second process for the checkpoint crash-safety and watch tests."
assert anchor in text, "Package.swift layout changed; add the baseline-probe target by hand"
text = text.replace(anchor, '        .executableTarget(name: "baseline-probe", dependencies: ["AxonServer"]),\n' + anchor)
open(path, "w").write(text)
PY
cd "$OUT" && swift build -c release --product axond && swift build -c release --product baseline-probe
