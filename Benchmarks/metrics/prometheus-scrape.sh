#!/usr/bin/env bash
# A real Prometheus server (Debian's `prometheus`) scrapes axond on loopback and must see every
# Axon metric family; also runs `promtool check metrics` on a live scrape.
#
# Bounded: everything lives in a temp dir that is removed on exit, both processes are stopped on
# every path, and the wait for Prometheus to ingest is capped at DEADLINE seconds (60).
# Per-model families need a model: a small real one (iris, 20 epochs) is trained through
# POST /train?wait=true and asked for predictions on all three inference routes.
#
# Environment: AXOND (default: the debug build), PORT_BASE (19190), DEADLINE (60).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT_BASE=${PORT_BASE:-19190}
DEADLINE=${DEADLINE:-60}
AXOND=${AXOND:-$ROOT/.build/debug/axond}
[ -x "$AXOND" ] || (cd "$ROOT" && swift build --product axond >/dev/null)
command -v prometheus >/dev/null && command -v promtool >/dev/null || { echo "needs Debian's prometheus package (make deps-test)" >&2; exit 2; }

# Family name and type: histograms are checked through their _count series.
FAMILIES=(
    axon_http_requests_total:counter axon_http_request_duration_seconds:histogram
    axon_http_requests_in_flight:gauge axon_http_request_bytes_total:counter
    axon_http_response_bytes_total:counter axon_http_rejections_total:counter
    axon_inference_rows_total:counter axon_inference_predict_duration_seconds:histogram
    axon_inference_batch_size_rows:histogram
    axon_training_jobs_total:counter axon_training_jobs_queued:gauge axon_training_jobs_running:gauge
    axon_training_epochs_total:counter axon_training_last_train_loss:gauge
    axon_training_last_validation_loss:gauge axon_training_last_job_samples_per_second:gauge
    axon_training_job_duration_seconds:histogram axon_training_early_stops_total:counter
    axon_store_models_loaded:gauge axon_store_versions_on_disk:gauge
    axon_store_checkpoint_write_duration_seconds:histogram axon_store_checkpoint_written_bytes_total:counter
    axon_store_checkpoint_failures_total:counter axon_store_quarantined_files_total:counter
    axon_store_last_checkpoint_timestamp_seconds:gauge axon_build_info:gauge
    process_start_time_seconds:gauge process_resident_memory_bytes:gauge process_virtual_memory_bytes:gauge
    process_cpu_seconds_total:counter process_open_fds:gauge process_max_fds:gauge
)

bench_tempdir WORK prometheus-scrape
P_AXOND=$PORT_BASE P_PROM=$((PORT_BASE + 1))
axond_start "$P_AXOND" "$WORK/var" "$WORK/axond.log" --enable-debug-routes
BASE="http://127.0.0.1:$P_AXOND"
curl -sf -o /dev/null --max-time 120 -X POST -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/iris.csv" \
    "$BASE/train?model=iris&target=species&epochs=20&seed=1&wait=true"
curl -sf -o /dev/null -X POST -d '{"model": "iris", "inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}' "$BASE/predict"
curl -sf -o /dev/null -X POST -d '{"instances": [[5.1, 3.5, 1.4, 0.2]]}' "$BASE/v1/models/iris:predict"
curl -sf -o /dev/null -X POST \
    -d '{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}' \
    "$BASE/v2/models/iris/infer"
curl -sf -o /dev/null -X POST -d 'hello' "http://127.0.0.1:$P_AXOND/debug/echo"

curl -sf "http://127.0.0.1:$P_AXOND/metrics" >"$WORK/scrape.txt"
echo "promtool check metrics:"
promtool check metrics <"$WORK/scrape.txt"
echo "  no problems"

cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: axond
    static_configs:
      - targets: ["127.0.0.1:$P_AXOND"]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
    --web.listen-address="127.0.0.1:$P_PROM" --log.level=warn 2>"$WORK/prometheus.log" &
BENCH_PIDS+=($!)
API="http://127.0.0.1:$P_PROM/api/v1"

missing=()
end=$((SECONDS + DEADLINE))
while :; do
    names=$(curl -sf "$API/label/__name__/values" || true)
    missing=()
    for entry in "${FAMILIES[@]}"; do
        name=${entry%%:*} type=${entry##*:}
        series=$name
        [ "$type" = histogram ] && series=${name}_count
        grep -q "\"$series\"" <<<"$names" || missing+=("$series")
    done
    [ ${#missing[@]} = 0 ] && break
    if [ $SECONDS -ge $end ]; then
        echo "after ${DEADLINE}s Prometheus still lacks: ${missing[*]}" >&2
        tail -5 "$WORK/prometheus.log" >&2
        exit 1
    fi
    sleep 0.5
done

# The scrape target must be up, and Prometheus must hold the types axond declared.
up=$(curl -sf "$API/query" --data-urlencode 'query=up{job="axond"}')
grep -q '"value":\[[0-9.]*,"1"\]' <<<"$up" || { echo "target not up: $up" >&2; exit 1; }
metadata=$(curl -sf "$API/metadata")
bad=()
for entry in "${FAMILIES[@]}"; do
    name=${entry%%:*} type=${entry##*:}
    grep -q "\"$name\":\[{\"type\":\"$type\"" <<<"$metadata" || bad+=("$name:$type")
done
[ ${#bad[@]} = 0 ] || { echo "Prometheus metadata disagrees on: ${bad[*]}" >&2; exit 1; }
echo "Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') sees all ${#FAMILIES[@]} families with their types; target up"
