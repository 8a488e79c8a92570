#!/usr/bin/env python3
"""Soak: a running axond under mixed load on loopback for a fixed time, then a restart.

Threads, each with its own keep-alive connection:
  predict   x2  /predict, TF-Serving :predict, KServe V2 JSON and V2 binary, on iris and digits
  train         new models, continued training, evaluate, rollbacks, deletes, re-trains
  scrape        GET /metrics every second (must parse as Prometheus text)
  hostile       the request classes of issue 11 (deep nesting, huge numbers, wide models, ...)
A sampler reads the daemon's RSS every 5 s.

Checked throughout: no connection error (a crash shows up as one), no 5xx, and no torn
version: the first answer seen for (model, version, input) is remembered and every later one
must be bit-identical. At the end the daemon is restarted on the same state directory and
every version it listed must still be there and answer bit-identically (none lost).

Prints one JSON summary line; exits non-zero when a check failed.
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.statuses = {}
        self.errors = []
        self.server_errors = []
        self.torn = []
        self.hostile_unexpected = []

    def record(self, kind, status):
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1
            key = f"{status // 100}xx"
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def fail(self, what, detail):
        with self.lock:
            getattr(self, what).append(detail)


class Client:
    """One keep-alive connection; reconnects after the server closes it (Connection: close)."""

    def __init__(self, port, stats, timeout=30):
        self.port, self.stats, self.timeout = port, stats, timeout
        self.conn = None

    def request(self, kind, method, path, body=None, headers=None, expect_error=False):
        headers = dict(headers or {})
        if body is not None and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                self.stats.record(kind, response.status)
                if response.status >= 500:
                    self.stats.fail("server_errors", f"{kind} {method} {path}: {response.status} {data[:200]!r}")
                return response.status, response.getheaders(), data
            except (ConnectionError, http.client.HTTPException, socket.timeout, OSError) as error:
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                # A keep-alive connection the server closed while idle is retried once; a
                # second failure (refused, reset, timeout) counts.
                if attempt == 1:
                    self.stats.fail("errors", f"{kind} {method} {path}: {error!r}")
                    return None, [], b""
        return None, [], b""


def load_csv(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    return header, rows


def wait_ready(port, deadline):
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(axond, state, port, log):
    return subprocess.Popen(
        [axond, "serve", "--port", str(port), "--state-dir", state, "--no-access-log", "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Versions:
    """What each (model, version, input) answered first: later answers must be identical."""

    def __init__(self, stats):
        self.lock = threading.Lock()
        self.first = {}
        self.stats = stats

    def check(self, model, version, key, values):
        # As float32 bits, so the JSON text of one protocol and the bytes of another compare.
        flat = []
        for value in values:
            flat.extend(value if isinstance(value, list) else [value])
        outputs = struct.pack(f"<{len(flat)}f", *flat)
        with self.lock:
            seen = self.first.setdefault((model, version, key), outputs)
        if seen != outputs:
            self.stats.fail("torn", f"{model} v{version} input {key}: {outputs.hex()[:80]} != {seen.hex()[:80]}")


def predict_loop(port, stats, versions, stop, datasets):
    client = Client(port, stats)
    rng = random.Random(threading.get_ident())
    while not stop.is_set():
        model = rng.choice(list(datasets))
        rows = datasets[model]
        k = rng.randrange(len(rows))
        row = rows[k]
        protocol = rng.randrange(4)
        if protocol == 0:
            status, _, data = client.request("predict", "POST", "/predict", json.dumps({"model": model, "inputs": [row]}))
            if status == 200:
                answer = json.loads(data)
                versions.check(model, answer["version"], k, answer["outputs"])
        elif protocol == 1:
            status, _, _ = client.request("tf", "POST", f"/v1/models/{model}:predict", json.dumps({"instances": [row]}))
        elif protocol == 2:
            body = {"inputs": [{"name": "input", "shape": [1, len(row)], "datatype": "FP32", "data": row}]}
            status, _, data = client.request("v2", "POST", f"/v2/models/{model}/infer", json.dumps(body))
            if status == 200:
                answer = json.loads(data)
                versions.check(model, int(answer["model_version"]), k, answer["outputs"][0]["data"])
        else:
            header = json.dumps({"inputs": [{"name": "input", "shape": [1, len(row)], "datatype": "FP32",
                                             "parameters": {"binary_data_size": 4 * len(row)}}],
                                 "parameters": {"binary_data_output": True}}).encode()
            body = header + struct.pack(f"<{len(row)}f", *row)
            status, headers, data = client.request(
                "v2-binary", "POST", f"/v2/models/{model}/infer", body,
                {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))})
            if status == 200:
                length = int(dict(headers).get("Inference-Header-Content-Length", "0"))
                answer = json.loads(data[:length])
                floats = struct.unpack(f"<{(len(data) - length) // 4}f", data[length:])
                versions.check(model, int(answer["model_version"]), k, list(floats))
        if status not in (200, 404, None):
            stats.fail("hostile_unexpected", f"prediction answered {status}")


def train_loop(port, stats, stop, csv_bodies, known):
    """Jobs of every kind, one after the other; `known` collects the versions installed."""
    client = Client(port, stats, timeout=120)
    cycle = 0
    while not stop.is_set():
        cycle += 1
        name = "iris"
        status, _, data = client.request(
            "train", "POST", f"/models/{name}/train?wait=true",
            csv_bodies["iris-continue"], {"Content-Type": "text/csv"})
        step = cycle % 4
        if step == 0:
            status, _, data = client.request("versions", "GET", f"/models/{name}/versions")
            if status == 200:
                listed = [v["version"] for v in json.loads(data)["versions"]]
                if len(listed) >= 2:
                    client.request("rollback", "POST", f"/models/{name}/rollback", json.dumps({"version": listed[-2]}))
        elif step == 1:
            client.request("evaluate", "POST", f"/models/{name}/evaluate", json.dumps(csv_bodies["iris-evaluate"]))
        elif step == 2:
            # A model deleted while its job trains: the delete wins, nothing is re-created.
            client.request("train", "POST", "/train?model=scratch&epochs=2000", csv_bodies["iris"], {"Content-Type": "text/csv"})
            time.sleep(0.1)
            client.request("delete", "DELETE", "/models/scratch")
            client.request("train", "POST", "/train?model=scratch&epochs=5&wait=true", csv_bodies["iris"], {"Content-Type": "text/csv"})
        else:
            # A job cancelled while it runs, and one whose model is deleted under it.
            status, _, data = client.request("train", "POST", "/train?model=doomed&epochs=100000", csv_bodies["iris"],
                                             {"Content-Type": "text/csv"})
            if status == 202:
                job = json.loads(data)["id"]
                time.sleep(0.2)
                client.request("cancel", "DELETE", f"/jobs/{job}")
        time.sleep(0.1)


def scrape_loop(port, stats, stop):
    client = Client(port, stats)
    while not stop.is_set():
        status, _, data = client.request("metrics", "GET", "/metrics")
        if status == 200:
            text = data.decode()
            bad = [line for line in text.splitlines() if line and not line.startswith("#") and len(line.rsplit(" ", 1)) != 2]
            if bad:
                stats.fail("hostile_unexpected", f"/metrics line does not parse: {bad[0][:120]}")
        stop.wait(1)


def hostile_requests():
    deep = '{"a":' * 200_000 + "1" + "}" * 200_000
    return [
        ("POST", "/v2/models/iris/infer", '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"parameters":{"x":' + deep + "}}", {}),
        ("POST", "/train?model=commas", "," * 1_000_000 + "\n1,2\n", {"Content-Type": "text/csv"}),
        ("POST", "/train", json.dumps({"model": "big", "task": "classification", "inputs": [[0], [1]], "targets": [0, 2_000_000_000]}), {}),
        ("POST", "/train", json.dumps({"model": "deep", "inputs": [[0], [1]], "targets": [0.5, 1.5], "layers": [1] + [1024] * 40 + [1],
                                       "batch_size": 65536, "dropout": 0.5}), {}),
        ("POST", "/predict", '{"model":"iris","inputs":[[1' + "0" * 500_000 + ",2,3,4]]}", {}),
        ("POST", "/predict", '{"model":"' + "m" * 1_000_000 + '","inputs":[[1]]}', {}),
        ("POST", "/train", json.dumps({"model": "classes", "task": "classification", "inputs": [[0], [1]], "targets": [0, 65535]}), {}),
        ("POST", "/predict", json.dumps({"model": "iris", "inputs": [[1, 2, 3, 4]] * 5 + [[1, 2, 3]]}), {}),
        ("POST", "/v1/models/iris:predict", '{"instances":' + "[" * 100_000 + "]" * 100_000 + "}", {}),
    ]


def hostile_loop(port, stats, stop):
    client = Client(port, stats)
    requests = hostile_requests()
    k = 0
    while not stop.is_set():
        method, path, body, headers = requests[k % len(requests)]
        k += 1
        status, _, data = client.request("hostile", method, path, body, headers)
        if status is not None and not 400 <= status < 500:
            stats.fail("hostile_unexpected", f"hostile #{k % len(requests)} {path}: {status} {data[:160]!r}")
        stop.wait(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--axond", required=True)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=120)
    args = parser.parse_args()

    stats = Stats()
    versions = Versions(stats)
    state = tempfile.mkdtemp(prefix="axon-soak-")
    port = free_port()
    log = open(os.path.join(state, "..", os.path.basename(state) + ".log"), "w")
    daemon = start(args.axond, state, port, log)
    if not wait_ready(port, time.time() + 30):
        print("axond did not become ready", file=sys.stderr)
        return 2

    header, iris_rows = load_csv(os.path.join(ROOT, "examples", "iris.csv"))
    _, digit_rows = load_csv(os.path.join(ROOT, "examples", "digits.csv"))
    iris_text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in iris_rows) + "\n"
    continue_rows = random.Random(1).sample(iris_rows, 60)
    csv_bodies = {
        "iris": iris_text,
        "iris-continue": ",".join(header) + "\n" + "\n".join(",".join(r) for r in continue_rows) + "\n",
        "iris-evaluate": {"inputs": [[float(x) for x in r[:4]] for r in iris_rows], "targets": [r[4] for r in iris_rows]},
    }
    setup = Client(port, stats, timeout=300)
    for name, body, query in [("iris", iris_text, "epochs=30"),
                              ("digits", open(os.path.join(ROOT, "examples", "digits.csv")).read(), "epochs=5")]:
        status, _, data = setup.request("setup", "POST", f"/train?model={name}&{query}&wait=true", body, {"Content-Type": "text/csv"})
        if status != 200:
            print(f"setup training of {name} failed: {status} {data[:300]!r}", file=sys.stderr)
            return 2
    datasets = {"iris": [[float(x) for x in r[:4]] for r in iris_rows[:50]],
                "digits": [[float(x) for x in r[:64]] for r in digit_rows[:50]]}

    stop = threading.Event()

    def guarded(loop, *loop_args):
        # A load thread that dies is a failed soak, not a quieter one.
        def run():
            try:
                loop(*loop_args)
            except Exception as error:  # noqa: BLE001
                stats.fail("errors", f"{loop.__name__} died: {error!r}")
        return threading.Thread(target=run)

    threads = [guarded(predict_loop, port, stats, versions, stop, datasets) for _ in range(2)]
    threads += [guarded(train_loop, port, stats, stop, csv_bodies, None), guarded(scrape_loop, port, stats, stop),
                guarded(hostile_loop, port, stats, stop)]
    started = time.time()
    for t in threads:
        t.start()
    samples = []
    while time.time() - started < args.seconds:
        if daemon.poll() is not None:
            break
        samples.append((time.time() - started, rss_bytes(daemon.pid)))
        time.sleep(5)
    stop.set()
    for t in threads:
        t.join(timeout=300)
    crashed = daemon.poll() is not None
    elapsed = time.time() - started

    # Every version listed now must survive a restart and answer as it did.
    expected = {}
    check = Client(port, stats)
    if not crashed:
        for model, rows in datasets.items():
            status, _, data = check.request("final", "GET", f"/models/{model}/versions")
            if status != 200:
                continue
            for entry in json.loads(data)["versions"]:
                version = entry["version"]
                status, _, data = check.request("final", "POST", "/predict",
                                                json.dumps({"model": model, "version": version, "inputs": rows[:5]}))
                if status == 200:
                    expected[(model, version)] = json.loads(data)["outputs"]
        daemon.send_signal(signal.SIGTERM)
        exit_code = daemon.wait(timeout=60)
    else:
        exit_code = daemon.returncode
    lost = []
    restarted = start(args.axond, state, port, log)
    if wait_ready(port, time.time() + 30):
        after = Client(port, stats)
        for (model, version), outputs in expected.items():
            status, _, data = after.request("restart", "POST", "/predict",
                                            json.dumps({"model": model, "version": version, "inputs": datasets[model][:5]}))
            if status != 200 or json.loads(data)["outputs"] != outputs:
                lost.append(f"{model} v{version}: {status}")
    else:
        lost.append("the daemon did not restart")
    restarted.send_signal(signal.SIGTERM)
    restarted.wait(timeout=60)

    # Medians of the first and last three samples after the warm-up, against single-sample noise.
    warm = [rss for t, rss in samples if t >= args.warmup]
    baseline = sorted(warm[:3])[len(warm[:3]) // 2] if warm else 0
    final = sorted(warm[-3:])[len(warm[-3:]) // 2] if warm else 0
    summary = {
        "seconds": round(elapsed, 1),
        "requests": sum(stats.requests.values()),
        "by_kind": stats.requests,
        "by_status": stats.statuses,
        "crashed": crashed,
        "sigterm_exit": exit_code,
        "connection_errors": len(stats.errors),
        "server_errors_5xx": len(stats.server_errors),
        "torn_versions": len(stats.torn),
        "lost_versions": len(lost),
        "versions_checked_after_restart": len(expected),
        "hostile_unexpected": len(stats.hostile_unexpected),
        "rss_after_warmup_mib": round(baseline / 2**20, 1),
        "rss_final_mib": round(final / 2**20, 1),
        "rss_peak_mib": round(max((r for _, r in samples), default=0) / 2**20, 1),
        "rss_growth_after_warmup": round(final / baseline - 1, 4) if baseline else None,
        # One sample a minute, MiB: whether memory levels off or keeps climbing.
        "rss_by_minute_mib": [round(rss / 2**20, 1) for t, rss in samples if int(t) % 60 < 5],
    }
    print(json.dumps(summary))
    for what in ("errors", "server_errors", "torn", "hostile_unexpected"):
        for detail in getattr(stats, what)[:10]:
            print(f"{what}: {detail}", file=sys.stderr)
    for detail in lost[:10]:
        print(f"lost: {detail}", file=sys.stderr)
    ok = (not crashed and exit_code == 0 and not stats.errors and not stats.server_errors and not stats.torn and not lost
          and not stats.hostile_unexpected and summary["rss_growth_after_warmup"] is not None
          and summary["rss_growth_after_warmup"] < 0.10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
