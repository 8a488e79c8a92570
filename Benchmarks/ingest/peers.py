"""One parse of the benchmark body by a peer, as a JSON line like `axon-bench ingest` prints.

    python peers.py pandas|numpy|json FILE

pandas: `pandas.read_csv` (C engine) and the feature columns to a float32 matrix; numpy:
`numpy.loadtxt` of the CSV as float32; json: `json.load` of the JSON body and its rows to a
float32 matrix. Seconds are wall time of the parse alone; peak RSS is the process's VmHWM.
"""
import json
import sys
import time

framework, path = sys.argv[1], sys.argv[2]
import numpy  # noqa: E402  (imported before the clock starts)

if framework == "pandas":
    import pandas

size = __import__("os").path.getsize(path)
start, cpu = time.perf_counter(), time.process_time()
if framework == "pandas":
    frame = pandas.read_csv(path)
    matrix = frame.drop(columns=["label"]).to_numpy(dtype=numpy.float32)
elif framework == "numpy":
    matrix = numpy.loadtxt(path, delimiter=",", skiprows=1, dtype=numpy.float32)[:, :-1]
elif framework == "json":
    with open(path) as f:
        body = json.load(f)
    matrix = numpy.asarray(body["inputs"], dtype=numpy.float32)
else:
    raise SystemExit(f"unknown framework {framework}")
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(json.dumps({
    "framework": framework, "format": "json" if framework == "json" else "csv", "seconds": seconds, "cpu_seconds": cpu,
    "mb_per_s": size / 1e6 / seconds, "bytes": size, "rows": int(matrix.shape[0]), "columns": int(matrix.shape[1]),
    "peak_rss_mb": hwm * 1024 / 1e6,
}, sort_keys=True))
