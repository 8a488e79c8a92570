#!/usr/bin/env bash
# Training on one and two cores, in one run: this checkout's axon-bench with 1 and 2
# data-parallel threads (TrainingConfiguration.threads) and, for the choice between the two
# designs, with 2 OpenBLAS threads instead; plus a baseline axon-bench (by default built from
# BASE_REF) with 1 thread, to show the single-thread path did not get slower. The variants are
# interleaved, so noise from other processes hits all of them alike. Each run first waits (at
# most QUIET_WAIT seconds) for the machine to be idle and records how much of the machine other
# processes used while it ran (measure.py): a two-core figure means nothing while something
# else uses the second core, so the summary also gives the medians of the quiet runs alone.
#
#   Benchmarks/threads/run.sh                            # RUNS=5, BASE_REF=main
#   BASE_BENCH=/path/to/axon-bench RUNS=7 Benchmarks/threads/run.sh
#   DATASETS="wide" MODES="1 2" Benchmarks/threads/run.sh
#   RT=1 QUIET_WAIT=0 Benchmarks/threads/run.sh          # on a busy machine, see RT below
#
# Data (Benchmarks/threads/data.py, numpy): wide (20,000 x 64, 10 classes) trained as
# 64-512-512-10 at batch 64, 3 epochs; digits (examples/digits.csv) as 64-128-64-10 at batch 32;
# synthetic (the wide rows as 64-128-64-10 at batch 32, Benchmarks/train's synthetic
# settings); x2 (8 rows) as 1-16-16-1, the single-thread overhead check.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here="$ROOT/Benchmarks/threads"
DATA="${DATA:-/tmp/axon-threads-data}"
RUNS="${RUNS:-5}"
DATASETS="${DATASETS:-wide digits synthetic x2}"
MODES="${MODES:-1 2 blas2 base}"
BASE_REF="${BASE_REF:-main}"
# Seconds each run may wait for the machine to be less than 10% busy (0: start at once).
QUIET_WAIT="${QUIET_WAIT:-60}"
# RT=1 runs every variant under SCHED_FIFO (chrt -f 10, root or CAP_SYS_NICE): the benchmark's
# threads then preempt whatever else runs, which approximates an idle machine when none can be
# had. The kernel still keeps 5% of each second for the others (sched_rt_runtime_us).
RT="${RT:-0}"
priority=()
[ "$RT" = 1 ] && priority=(chrt -f 10)

[ -f "$DATA/x2_std_train.csv" ] || python3 "$here/data.py" "$DATA"

bench="$(release_binary axon-bench)"
if [[ " $MODES " == *" base "* && -z "${BASE_BENCH:-}" ]]; then
    bench_tempdir base_dir threads-base
    echo "building the baseline axon-bench from $BASE_REF in $base_dir" >&2
    git -C "$ROOT" archive "$BASE_REF" | tar -x -C "$base_dir"
    BASE_BENCH="$(release_binary axon-bench "$base_dir")"
fi

results="$(mktemp /tmp/axon-bench-threads.XXXXXX.jsonl)"
echo "raw results: $results" >&2

arguments() {
    case "$1" in
        wide) echo "--dataset wide --arch 64-512-512-10 --epochs 3 --batch 64 --task classification" ;;
        # 200 epochs, not the peers' 50: a 0.1 s run is too short to time on a shared machine.
        digits) echo "--dataset digits --arch 64-128-64-10 --epochs 200 --batch 32 --task classification" ;;
        # Benchmarks/train's synthetic settings (its network and batch) on the wide rows.
        synthetic) echo "--dataset wide --arch 64-128-64-10 --epochs 3 --batch 32 --task classification" ;;
        x2) echo "--dataset x2 --arch 1-16-16-1 --epochs 20000 --batch 32 --task regression" ;;
        *) echo "unknown data set $1" >&2; exit 2 ;;
    esac
}

for run in $(seq 1 "$RUNS"); do
    for name in $DATASETS; do
        for mode in $MODES; do
            # Two threads on x2's 8 rows measure only hand-offs; its point is the 1-thread A/B.
            [[ "$name" == x2 && "$mode" != 1 && "$mode" != base ]] && continue
            # OpenBLAS starts a thread per core when it loads, and each spins (sched_yield) for
            # about 0.1 s before it sleeps: on a short run that spinning takes a core from the
            # training threads. Only the OpenBLAS-threads variant needs that team.
            case "$mode" in
                1) command=(env OPENBLAS_NUM_THREADS=1 "$bench" train --train-threads 1) ;;
                2) command=(env OPENBLAS_NUM_THREADS=1 "$bench" train --train-threads 2) ;;
                blas2) command=("$bench" train --threads 2) ;;
                base) command=(env OPENBLAS_NUM_THREADS=1 "$BASE_BENCH" train) ;;
            esac
            echo "[run $run/$RUNS] $name $mode" >&2
            load="$(cut -d' ' -f1 /proc/loadavg)"
            # shellcheck disable=SC2046
            line="$(python3 "$here/measure.py" --quiet-wait "$QUIET_WAIT" -- "${priority[@]}" "${command[@]}" --data-dir "$DATA" $(arguments "$name"))"
            echo "{\"case\": \"$name\", \"mode\": \"$mode\", \"rt\": $RT, \"load_before\": $load, ${line#\{}" >>"$results"
        done
    done
done

python3 "$here/summarize.py" "$results"
