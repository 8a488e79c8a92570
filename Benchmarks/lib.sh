# Shared by the benchmark scripts (sourced, never run): where the checkout and the peers are,
# release builds, starting axond and waiting for it, stopping on every exit path what a script
# started, and reading wrk's reports.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# Sourcing sets ROOT (this checkout), PEERS, PEERS_VENV and PEERS_DATA (../shared/peers, its
# venv and its data; PEERS_DIR, PEERS_VENV and PEERS_DATA override them), CC, and an exit trap
# that stops every process in BENCH_PIDS and removes every directory in BENCH_DIRS.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="${PEERS_DIR:-$ROOT/../shared/peers}"
[ -d "$PEERS" ] || PEERS=/work/shared/peers
PEERS_VENV="${PEERS_VENV:-/tmp/peers-venv}"
PEERS_DATA="${PEERS_DATA:-/tmp/peers-data}"
# A C compiler: $CC, else cc, else the clang that ships with the Swift toolchain.
CC=${CC:-$(command -v cc || command -v clang)}

# Processes to stop and directories to remove on exit; scripts add their own.
BENCH_PIDS=()
BENCH_DIRS=()
# Command words put before every axond the script starts, e.g. (taskset -c 0) to pin it.
SERVER_PREFIX=()

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ ${#BENCH_DIRS[@]} -gt 0 ]; then rm -rf "${BENCH_DIRS[@]}"; fi
}
trap bench_cleanup EXIT
# A signal ends the script (through the exit trap) instead of resuming it after the handler.
trap 'exit 130' INT
trap 'exit 143' TERM

# Creates a temporary directory that is removed on exit and stores its path in the variable
# named $1; $2 names it (/tmp/axon-$2-XXXXXX). Call it directly, never in $(...): a
# subshell's registration would never reach the exit trap.
bench_tempdir() {
    local _made
    _made="$(mktemp -d "/tmp/axon-${2:-bench}-XXXXXX")"
    BENCH_DIRS+=("$_made")
    printf -v "$1" '%s' "$_made"
}

# Makes directory $1 and an empty results file in it, results.jsonl unless $2 names another,
# whose path goes to RESULTS.
bench_results() {
    mkdir -p "$1"
    RESULTS="$1/${2:-results.jsonl}"
    : >"$RESULTS"
}

# A progress line on stderr, stamped with the script ("predict/run") and the time.
log() { echo "[$(basename "$(dirname "$0")")/$(basename "$0" .sh) $(date +%H:%M:%S)] $*" >&2; }

# Parses a script's flags. $1 pairs each flag with the variable it sets ("-d DURATION -r REPS");
# a pair whose variable is written VAR=value is a switch ("--no-peers PEER_RUN=0"). Anything
# else exits 2 with the flags it knows.
bench_flags() {
    local -a _spec
    local -A _takes=()
    local _i _var _known=$1
    read -r -a _spec <<<"$1"
    shift
    for ((_i = 0; _i + 1 < ${#_spec[@]}; _i += 2)); do _takes[${_spec[_i]}]=${_spec[_i + 1]}; done
    while [ $# -gt 0 ]; do
        _var=${_takes[$1]:-}
        if [ -z "$_var" ]; then echo "unknown argument $1 (flags: $_known)" >&2; exit 2; fi
        if [[ $_var == *=* ]]; then
            printf -v "${_var%%=*}" '%s' "${_var#*=}"
            shift
        else
            if [ $# -lt 2 ]; then echo "$1 needs a value" >&2; exit 2; fi
            printf -v "$_var" '%s' "$2"
            shift 2
        fi
    done
}

# Builds release product $1 of the package in $2 (default: this checkout) and prints the
# binary's path; the build's output shows only when it fails.
release_binary() {
    local package=${2:-$ROOT} output
    if ! output="$(cd "$package" && "${SWIFT:-swift}" build -c release --product "$1" 2>&1)"; then
        echo "$output" >&2
        return 1
    fi
    echo "$package/.build/release/$1"
}

# A TCP port free on 127.0.0.1 right now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until GET $1 answers 2xx, for at most $2 seconds (default 30); fails otherwise. Further
# arguments go to curl (e.g. -H "Authorization: Bearer ...").
wait_http() {
    local url=$1 seconds=${2:-30} _
    shift
    if [ $# -gt 0 ]; then shift; fi
    for _ in $(seq 1 $((seconds * 20))); do
        curl -sf -o /dev/null "$@" "$url" && return 0
        sleep 0.05
    done
    echo "no answer from $url within ${seconds}s" >&2
    return 1
}

# Starts $AXOND serve on 127.0.0.1:$1 with state directory $2, access log off and log level
# warning (flags after the third argument are added and win), its output appended to file $3;
# then waits until GET /readyz answers (AXOND_READY_SECONDS, 30; AXOND_READY_HEADER is sent
# along when the probes need a token). Sets AXOND_PID; the exit trap stops the daemon.
# VAR=value before the call reaches the daemon's environment (and AXOND=path picks another
# binary). Call it directly, never in $(...), for the same reason as bench_tempdir.
axond_start() {
    local port=$1 state=$2 log=$3
    shift 3
    "${SERVER_PREFIX[@]}" "${AXOND:?AXOND names no binary}" serve --host 127.0.0.1 --port "$port" --state-dir "$state" \
        --no-access-log --log-level warning "$@" >>"$log" 2>&1 &
    AXOND_PID=$!
    BENCH_PIDS+=("$AXOND_PID")
    local header=()
    if [ -n "${AXOND_READY_HEADER:-}" ]; then header=(-H "$AXOND_READY_HEADER"); fi
    wait_http "http://127.0.0.1:$port/readyz" "${AXOND_READY_SECONDS:-30}" "${header[@]}"
}

# Starts binary $1 on a free port with a fresh state directory (removed on exit, its log
# beside it) and, once the daemon is ready, stores the port in the variable named $2 and the
# directory in the one named $3 when given.
axond_start_fresh() {
    local fresh_state fresh_port
    bench_tempdir fresh_state axond
    BENCH_DIRS+=("$fresh_state.log")
    fresh_port="$(free_port)"
    AXOND="$1" axond_start "$fresh_port" "$fresh_state" "$fresh_state.log"
    printf -v "$2" '%s' "$fresh_port"
    if [ -n "${3:-}" ]; then printf -v "$3" '%s' "$fresh_state"; fi
}

# Stops daemon $1 (default: AXOND_PID) with SIGTERM, waits for it (at most 60 s, then SIGKILL)
# and returns its exit status.
axond_stop() {
    local pid=${1:-$AXOND_PID} _
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "daemon $pid did not exit within 60 s of SIGTERM; killing it" >&2
        kill -KILL "$pid"
    fi
    wait "$pid"
}

# CPU time (user + system) process $1 has used, in clock ticks (getconf CLK_TCK a second).
# Fields 14 and 15 of /proc/PID/stat, counted after the ')' that ends the command name.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# Trains "digits" (64-128-64-10, seed 7) from examples/digits.csv on the daemon at base URL $1
# for $2 epochs and prints the finished job.
train_digits() {
    curl -sf --max-time 600 -X POST "$1/train?model=digits&target=digit&layers=64,128,64,10&epochs=$2&seed=7&wait=true" \
        -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/digits.csv"
}

# Writes the one-row digits requests into directory $1: predict_1.json (POST /predict) and
# v2_1.json (KServe V2 infer). The row is $2 (a JSON array), else the first row of
# examples/digits.csv as its text has it.
digits_bodies() {
    python3 - "$ROOT/examples/digits.csv" "$1" "${2:-}" <<'PYEOF'
import csv, json, sys
path, out, row = sys.argv[1:4]
if row:
    row = json.loads(row)
else:
    with open(path) as f:
        reader = csv.reader(f)
        target = next(reader).index("digit")
        row = [json.loads(v) for k, v in enumerate(next(reader)) if k != target]
compact = {"separators": (",", ":")}
json.dump({"model": "digits", "inputs": [row]}, open(f"{out}/predict_1.json", "w"), **compact)
json.dump({"inputs": [{"name": "input", "shape": [1, len(row)], "datatype": "FP32", "data": row}]},
          open(f"{out}/v2_1.json", "w"), **compact)
PYEOF
}

# One round of wrk against POST $1 with body file $2: -t2 -c16 (the method of the peers'
# bench_predict.sh) for DURATION seconds, through Benchmarks/post.lua. The report goes to file
# $3; its JSON line (Benchmarks/wrk_report.py, further arguments KEY=VALUE fields) is printed
# and appended to RESULTS. With SERVER_PID set, the line also has that process's CPU time per
# request over the run.
wrk_round() {
    local url=$1 body=$2 report=$3 before="" cpu=()
    shift 3
    if [ -n "${SERVER_PID:-}" ]; then before=$(cpu_ticks "$SERVER_PID"); fi
    BODY_FILE="$body" timeout $((DURATION + 20)) wrk -t2 -c16 -d"${DURATION}s" --latency --timeout 5s \
        -s "$ROOT/Benchmarks/post.lua" "$url" >"$report" 2>&1 || true
    if [ -n "$before" ]; then
        cpu=(--cpu-seconds "$(awk -v a="$before" -v b="$(cpu_ticks "$SERVER_PID")" -v hz="$(getconf CLK_TCK)" 'BEGIN { print (b - a) / hz }')")
    fi
    python3 "$ROOT/Benchmarks/wrk_report.py" "$report" "${cpu[@]}" "$@" | tee -a "$RESULTS"
}

# The settings of the loopback wrk benchmarks (Benchmarks/http/bench.sh, metrics/bench.sh):
# RUNS rounds of DURATION seconds, wrk -tWRK_THREADS -cCONNECTIONS against THREADS server
# threads; PIN=1 puts the servers on CPU 0 (SERVER_PREFIX) and wrk on CPU 1 (CLIENT_PREFIX).
loopback_settings() {
    RUNS=${RUNS:-5}
    DURATION=${DURATION:-5}
    CONNECTIONS=${CONNECTIONS:-64}
    THREADS=${THREADS:-2}
    WRK_THREADS=${WRK_THREADS:-2}
    CLIENT_PREFIX=()
    if [ "${PIN:-0}" = 1 ]; then SERVER_PREFIX=(taskset -c 0) CLIENT_PREFIX=(taskset -c 1); fi
}

# Reads a wrk --latency report on stdin; prints "REQUESTS_PER_S P50_US P99_US REQUESTS ERRORS",
# ERRORS being wrk's socket-error and non-2xx lines (nothing when there were none).
wrk_stats() {
    awk 'function us(v) { n = v + 0; if (v ~ /us$/) return n; if (v ~ /ms$/) return n * 1000; if (v ~ /s$/) return n * 1000000; return n }
        /^Requests\/sec:/ { rps = $2 } /requests in/ { requests = $1 } $1 == "50%" { p50 = us($2) } $1 == "99%" { p99 = us($2) }
        /Socket errors|Non-2xx/ { errors = errors $0 " " }
        END { print rps, p50, p99, requests, errors }'
}

# Median of the numbers on stdin.
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# In a tab-separated results file whose lines start "ROUND<TAB>TARGET": the median of column
# $3 over target $2's lines...
column_median() { awk -F'\t' -v t="$2" -v c="$3" '$2 == t { print $c }' "$1" | median; }

# ...and the median over rounds of target $2's column $4 divided by target $3's in the same round
# (ratios within a round cancel most of the drift other load on a shared machine causes).
paired_ratio() {
    awk -F'\t' -v a="$2" -v b="$3" -v c="$4" '$2 == a { x[$1] = $c } $2 == b { y[$1] = $c } END { for (r in x) print x[r] / y[r] }' "$1" | median
}
