#!/usr/bin/env bash
# Property-based API check: schemathesis generates requests from openapi.json (valid ones and
# deliberately invalid ones) against a live axond and checks every answer: no 5xx, a documented
# status code, a body that matches the documented schema, the documented content type, and
# schema-valid requests accepted. Two models ("iris", a classifier, and "digits") are trained
# first and named in the generated requests, so the checks reach the handlers, not only 404s.
#
#   Tests/clients/api_fuzz.sh AXOND VENV_PYTHON [MAX_EXAMPLES]
#
# Bounded: the daemon runs on a free loopback port with a temporary state directory and is
# stopped on every path; schemathesis gets --max-time.
set -euo pipefail
AXOND=$1
PY=$2
EXAMPLES=${3:-40}
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="$(mktemp -d /tmp/axon-api-fuzz-XXXXXX)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$STATE"
}
trap cleanup EXIT INT TERM

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$AXOND" serve --port "$PORT" --state-dir "$STATE/var" --no-access-log --log-level error &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 200); do curl -sf -o /dev/null "$BASE/readyz" && break; sleep 0.05; done
# Two models the generated requests can reach (schemathesis learns their names from the
# responses, and the stateful phase from GET /models and the jobs that trained them).
seed_models() {
  for model in iris digits; do
    target=$([ "$model" = iris ] && echo species || echo digit)
    curl -sf --max-time 60 -X POST "$BASE/train?model=$model&target=$target&epochs=5&wait=true" \
      -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/$model.csv" > /dev/null
  done
}
seed_models

# Every check and every phase. Tests/clients/schemathesis.toml says which answers to a
# schema-valid request are still acceptable (413 and 422 where a rule is beyond a schema) and
# why; Tests/clients/schemathesis_hooks.py leaves CSV bodies out.
schemathesis() {
  SCHEMATHESIS_HOOKS="$ROOT/Tests/clients/schemathesis_hooks.py" \
    "$PY" -m schemathesis.cli --config-file "$ROOT/Tests/clients/schemathesis.toml" run "$BASE/openapi.json" --url "$BASE" \
    --checks all --max-examples "$EXAMPLES" --request-timeout 20 --seed 7 --warnings off "$@"
}
status=0
schemathesis --phases examples,coverage,fuzzing --max-time 170 || status=1
# The stateful phase follows the schema's links (train -> job -> model -> predict, evaluate,
# continue, rollback, delete; GET /models and GET /jobs lead there too), where use_after_free
# (a deleted job or model answers 404) and ensure_resource_availability are checked. It starts
# from the two models again: the phases before have deleted them.
seed_models
schemathesis --phases stateful --max-time 70 || status=1
exit $status
