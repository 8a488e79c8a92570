#!/usr/bin/env python3
"""Client compatibility check: real clients, unchanged, against a live axond.

Starts axond on a free loopback port with a temporary state directory, trains a small iris
classifier through POST /train, then drives it with:

  * NVIDIA's tritonclient.http (the sync client and the asyncio one): health, server and model
    metadata, model configuration, inference with and without binary tensor data, per-output
    binary flags, request ids, versioned routes, the classification extension and errors;
  * plain urllib for TF-Serving REST: status, metadata, row and columnar forms, named inputs,
    signature_name.

Every answer is compared with Axon's own POST /predict on the same rows; numbers must agree
exactly (Axon writes the shortest text that reads back as the same float32). Exits 1 on the
first mismatch, 2 when the daemon cannot be started, 3 when the deadline passes. The daemon is
always stopped: on success, on failure, on SIGTERM (as sent by `timeout`), at the deadline, and
by the kernel if this script is killed outright.

    python Tests/clients/triton_client_check.py --axond .build/debug/axond
"""
import argparse
import asyncio
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np
import tritonclient.http as httpclient
import tritonclient.http.aio as aioclient
from tritonclient.utils import InferenceServerException

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests/harness"))
import axond_harness  # noqa: E402  (found through the path above)

MODEL = "iris"
ROWS = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]], dtype=np.float32)


class Mismatch(Exception):
    """A client saw something other than what the protocol promises."""


CHECKS = []


def check(condition, what, detail=""):
    """Records `what` as passed, or raises with `detail` (what was received) appended."""
    if not condition:
        raise Mismatch(f"{what}: {detail}" if detail else what)
    CHECKS.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=30):
    """(status, parsed JSON or raw bytes) of one request; HTTP errors are answers too."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    return axond_harness.answer(request, timeout)


class Daemon:
    """axond on a free port over a temporary state directory; stop() is idempotent."""

    def __init__(self, binary, workdir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "axond.log"), "wb")
        self.process = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--state-dir", os.path.join(workdir, "var"), "--no-access-log", "--log-level", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=axond_harness.terminate_with_parent)

    def wait_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if http("GET", self.base + "/readyz", timeout=2)[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stop(self):
        axond_harness.stop(self.process, timeout=15)
        self.log.close()


def train(daemon):
    csv = (ROOT / "examples/iris.csv").read_bytes()
    status, job = http(
        "POST", daemon.base + f"/train?model={MODEL}&target=species&epochs=30&seed=1&wait=true", csv,
        {"Content-Type": "text/csv"}, timeout=120)
    check(status == 200 and job.get("status") == "succeeded", "POST /train answers a succeeded job", f"got {status}")


def reference(daemon):
    """Axon's own /predict on ROWS: outputs (float32) and labels."""
    status, answer = http("POST", daemon.base + "/predict", json.dumps({"model": MODEL, "inputs": ROWS.tolist()}))
    check(status == 200, "/predict answers 200", f"got {status}: {answer}")
    return np.array(answer["outputs"], dtype=np.float32), answer["labels"]


def triton_sync(daemon, expected, labels):
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{daemon.port}")
    try:
        check(client.is_server_live(), "tritonclient is_server_live")
        check(client.is_server_ready(), "tritonclient is_server_ready")
        check(client.is_model_ready(MODEL), "tritonclient is_model_ready")
        check(client.is_model_ready(MODEL, "1"), "tritonclient is_model_ready(version 1)")
        check(not client.is_model_ready("no-such-model"), "tritonclient is_model_ready is False for an unknown model")

        server = client.get_server_metadata()
        check(server["name"] == "axon" and "binary_tensor_data" in server["extensions"],
              "get_server_metadata names axon and binary_tensor_data", f"{server}")

        metadata = client.get_model_metadata(MODEL)
        check(metadata["name"] == MODEL and metadata["versions"] == ["1"], "get_model_metadata name and versions", f"{metadata}")
        tensor_in, tensor_out = metadata["inputs"][0], metadata["outputs"][0]
        check((tensor_in["name"], tensor_in["datatype"], tensor_in["shape"]) == ("input", "FP32", [-1, 4]),
              "get_model_metadata input", f"{tensor_in}")
        check((tensor_out["name"], tensor_out["datatype"], tensor_out["shape"]) == ("output", "FP32", [-1, 3]),
              "get_model_metadata output", f"{tensor_out}")
        check(client.get_model_metadata(MODEL, model_version="1")["versions"] == ["1"], "get_model_metadata(version 1)")

        config = client.get_model_config(MODEL)
        check(config["name"] == MODEL and config["max_batch_size"] > 0, "get_model_config name and max_batch_size", f"{config}")
        check(config["input"][0]["name"] == "input" and config["input"][0]["data_type"] == "TYPE_FP32"
              and config["input"][0]["dims"] == [4], "get_model_config input", f"{config['input']}")
        check(config["output"][0]["dims"] == [3], "get_model_config output", f"{config['output']}")
        check(client.get_model_config(MODEL, model_version="1")["name"] == MODEL, "get_model_config(version 1)")

        # Names and shapes come from the metadata, as a generic client builds its request.
        def infer_input(binary):
            tensor = httpclient.InferInput(tensor_in["name"], list(ROWS.shape), tensor_in["datatype"])
            tensor.set_data_from_numpy(ROWS, binary_data=binary)
            return tensor

        for binary_in in (True, False):
            for binary_out in (None, True, False):
                outputs = None if binary_out is None else [httpclient.InferRequestedOutput("output", binary_data=binary_out)]
                result = client.infer(MODEL, [infer_input(binary_in)], outputs=outputs, request_id="req-7")
                got = result.as_numpy("output")
                label = f"infer binary input={binary_in}, binary output={binary_out}"
                check(got is not None and got.dtype == np.float32 and got.shape == expected.shape, f"{label}: shape {None if got is None else got.shape}")
                check(np.array_equal(got, expected), f"{label}: outputs equal /predict bit for bit")
                response = result.get_response()
                check(response["id"] == "req-7" and response["model_name"] == MODEL and response["model_version"] == "1",
                      f"{label}: id, model_name and model_version echoed", f"{response}")

        versioned = client.infer(MODEL, [infer_input(True)], model_version="1")
        check(np.array_equal(versioned.as_numpy("output"), expected), "infer on /versions/1 equals /predict")

        classes = client.infer(
            MODEL, [infer_input(True)], outputs=[httpclient.InferRequestedOutput("output", class_count=2)])
        top = classes.as_numpy("output")
        check(top.shape == (len(ROWS), 2), "classification extension shape", f"{top.shape}")
        for row in range(len(ROWS)):
            value, index, name = top[row][0].decode().split(":")
            check(int(index) == int(np.argmax(expected[row])) and name == labels[row]
                  and np.float32(value) == expected[row].max(),
                  f"classification row {row}: {top[row][0]!r} is the argmax with its label")

        single = httpclient.InferInput("input", [4], "FP32")
        single.set_data_from_numpy(ROWS[0], binary_data=True)
        one = client.infer(MODEL, [single]).as_numpy("output")
        # One row takes Axon's single-row path, whose sums may round apart from the batch path's.
        status, alone = http("POST", daemon.base + "/predict", json.dumps({"model": MODEL, "inputs": ROWS[0].tolist()}))
        check(one.shape == (1, 3) and np.array_equal(one, np.array(alone["outputs"], dtype=np.float32)),
              "infer on a 1-D [4] tensor answers one row, equal to /predict of that row")

        # A batch large enough to arrive in many socket reads, binary both ways.
        batch = np.random.default_rng(7).uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(2000, 4)).astype(np.float32)
        status, answer = http("POST", daemon.base + "/predict", json.dumps({"model": MODEL, "inputs": batch.tolist()}))
        big = httpclient.InferInput("input", list(batch.shape), "FP32")
        big.set_data_from_numpy(batch, binary_data=True)
        got = client.infer(MODEL, [big]).as_numpy("output")
        check(status == 200 and np.array_equal(got, np.array(answer["outputs"], dtype=np.float32)),
              "infer on 2000 binary rows equals /predict on the same rows", f"{status}")

        pending = client.async_infer(MODEL, [infer_input(True)])
        check(np.array_equal(pending.get_result(timeout=30).as_numpy("output"), expected), "async_infer equals /predict")

        wrong = httpclient.InferInput("input", [1, 3], "FP32")
        wrong.set_data_from_numpy(ROWS[:1, :3], binary_data=True)
        try:
            client.infer(MODEL, [wrong])
            check(False, "infer with a [1, 3] tensor is refused")
        except InferenceServerException as error:
            check(error.status() == "422" and "expects [-1, 4]" in str(error.message()),
                  "infer with a [1, 3] tensor: 422 naming the expected shape", f"{error.status()}: {error.message()}")
        wrong_type = httpclient.InferInput("input", [1, 4], "FP64")
        wrong_type.set_data_from_numpy(ROWS[:1].astype(np.float64), binary_data=True)
        try:
            client.infer(MODEL, [wrong_type])
            check(False, "infer with FP64 is refused")
        except InferenceServerException as error:
            check(error.status() == "400" and "FP64" in str(error.message()) and "FP32" in str(error.message()),
                  "infer with FP64: 400 naming both datatypes", f"{error.message()}")
        try:
            client.get_model_metadata("no-such-model")
            check(False, "metadata of an unknown model is refused")
        except InferenceServerException as error:
            check(error.status() == "404", "metadata of an unknown model: 404", f"{error.status()}")
    finally:
        client.close()


async def triton_aio(daemon, expected):
    client = aioclient.InferenceServerClient(url=f"127.0.0.1:{daemon.port}")
    try:
        check(await client.is_server_live(), "tritonclient.http.aio is_server_live")
        check(await client.is_model_ready(MODEL), "tritonclient.http.aio is_model_ready")
        metadata = await client.get_model_metadata(MODEL)
        check(metadata["inputs"][0]["shape"] == [-1, 4], "tritonclient.http.aio get_model_metadata")
        config = await client.get_model_config(MODEL)
        check(config["input"][0]["dims"] == [4], "tritonclient.http.aio get_model_config")
        for binary in (True, False):
            tensor = aioclient.InferInput("input", list(ROWS.shape), "FP32")
            tensor.set_data_from_numpy(ROWS, binary_data=binary)
            result = await client.infer(MODEL, [tensor], request_id="aio")
            check(np.array_equal(result.as_numpy("output"), expected), f"tritonclient.http.aio infer binary={binary} equals /predict")
    finally:
        await client.close()


def tf_serving(daemon, expected):
    base = daemon.base + f"/v1/models/{MODEL}"
    rows = ROWS.tolist()

    status, answer = http("GET", base)
    check(status == 200 and answer["model_version_status"][0]["state"] == "AVAILABLE", "TF-Serving status", f"{answer}")
    status, answer = http("GET", base + "/metadata")
    signature = answer["metadata"]["signature_def"]["signature_def"]["serving_default"]
    check(status == 200 and "input" in signature["inputs"] and signature["inputs"]["input"]["dtype"] == "DT_FLOAT",
          "TF-Serving metadata names the input", f"{signature}")

    def predict(body, key, path=":predict"):
        status, answer = http("POST", base + path, json.dumps(body), {"Content-Type": "application/json"})
        check(status == 200, f"TF-Serving {path} with {sorted(body)} answers 200", f"{status}: {answer}")
        return np.array(answer[key], dtype=np.float32)

    forms = [
        ("row form, lists", {"instances": rows}, "predictions"),
        ("row form, named input objects", {"signature_name": "serving_default", "instances": [{"input": row} for row in rows]}, "predictions"),
        ("columnar form, lists", {"inputs": rows}, "outputs"),
        ("columnar form, named input", {"inputs": {"input": rows}}, "outputs"),
    ]
    for form, body, key in forms:
        check(np.array_equal(predict(body, key), expected), f"TF-Serving {form} equals /predict")
    check(np.array_equal(predict({"instances": rows}, "predictions", "/versions/1:predict"), expected), "TF-Serving versioned predict")

    status, answer = http("POST", base + ":predict", json.dumps({"signature_name": "other", "instances": rows}))
    check(status == 400 and "serving_default" in answer["error"]["message"], "TF-Serving unknown signature: 400", f"{answer}")
    status, answer = http("POST", base + ":predict", json.dumps({"instances": [{"x": rows[0]}]}))
    check(status == 400 and '"input"' in answer["error"]["message"], "TF-Serving unknown input name: 400 naming input", f"{answer}")


def kserve_raw(daemon, expected):
    body = {"id": "raw-1", "inputs": [{"name": "input", "shape": list(ROWS.shape), "datatype": "FP32", "data": ROWS.flatten().tolist()}]}
    status, answer = http("POST", daemon.base + f"/v2/models/{MODEL}/infer", json.dumps(body), {"Content-Type": "application/json"})
    check(status == 200 and answer["id"] == "raw-1", "KServe V2 JSON infer echoes the id", f"{answer}")
    got = np.array(answer["outputs"][0]["data"], dtype=np.float32).reshape(answer["outputs"][0]["shape"])
    check(np.array_equal(got, expected), "KServe V2 JSON infer equals /predict")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axond", default=os.environ.get("AXOND", str(ROOT / ".build/debug/axond")))
    parser.add_argument("--deadline", type=int, default=int(os.environ.get("DEADLINE", "240")))
    args = parser.parse_args()

    def stop(signum, _frame):
        raise SystemExit(f"clients-check: stopped by signal {signum}")

    # `timeout` sends SIGTERM, which unwinds through the finally below. The watchdog thread
    # bounds the run without signals (gevent's loop may hold them): past the deadline it stops
    # the daemon itself and exits.
    signal.signal(signal.SIGTERM, stop)
    daemons = []

    def watchdog():
        for daemon in daemons:
            daemon.stop()
        print(f"clients-check: deadline of {args.deadline} s passed", file=sys.stderr)
        os._exit(3)

    timer = threading.Timer(args.deadline, watchdog)
    timer.daemon = True
    timer.start()

    with tempfile.TemporaryDirectory(prefix="axon-clients-") as workdir:
        try:
            daemon = Daemon(args.axond, workdir)
            daemons.append(daemon)
        except OSError as error:
            print(f"clients-check: cannot start axond: {error}", file=sys.stderr)
            return 2
        try:
            if not daemon.wait_ready():
                daemon.stop()
                print(pathlib.Path(workdir, "axond.log").read_text(errors="replace"), file=sys.stderr)
                print(f"clients-check: axond ({args.axond}) did not become ready", file=sys.stderr)
                return 2
            train(daemon)
            expected, labels = reference(daemon)
            triton_sync(daemon, expected, labels)
            asyncio.run(triton_aio(daemon, expected))
            tf_serving(daemon, expected)
            kserve_raw(daemon, expected)
        except Mismatch as failure:
            print(f"clients-check: MISMATCH after {len(CHECKS)} passing checks: {failure}", file=sys.stderr)
            return 1
        finally:
            daemon.stop()
    for line in CHECKS:
        print(f"  ok  {line}")
    print(f"clients-check: {len(CHECKS)} checks passed (tritonclient.http and .aio 2.73, TF-Serving REST via urllib)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
