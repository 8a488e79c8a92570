# Shared by the side-by-side (A/B) benchmarks that run two axond builds at once: sourced after
# the script has set ROOT, BASELINE, CANDIDATE (empty: this checkout's release build) and OUT.
# Sets RESULTS, stops every daemon it started on exit, and offers `ab_start BINARY VAR`.

if [ -z "$CANDIDATE" ]; then
  (cd "$ROOT" && swift build -c release --product axond >/dev/null)
  CANDIDATE="$(cd "$ROOT" && swift build -c release --show-bin-path)/axond"
fi
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
AB_PIDS=()
AB_STATES=()
ab_cleanup() {
  for pid in "${AB_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for dir in "${AB_STATES[@]}"; do rm -rf "$dir" "$dir.log"; done
}
trap ab_cleanup EXIT INT TERM

ab_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts BINARY ($1) on a free port with a fresh state directory and sets the variable named $2
# to the port once it is ready (bounded: 20 s). Call it directly, never in $(...): a subshell's
# pid would never reach the exit trap, and the daemon would outlive the run.
ab_start() {
  local state port
  state="$(mktemp -d /tmp/axon-ab-XXXXXX)"; AB_STATES+=("$state")
  port="$(ab_free_port)"
  "$1" serve --port "$port" --state-dir "$state" --no-access-log --log-level warning > "$state.log" 2>&1 &
  AB_PIDS+=($!)
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
  printf -v "$2" '%s' "$port"
}
