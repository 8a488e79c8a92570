#!/usr/bin/env python3
"""Runs Axon's image and checks it end to end (`make image-check`).

    check.py --layout .build/image/oci --archive .build/image/axon-0.1.0.oci.tar --tag 0.1.0 \
        --iris examples/iris.csv [--runner auto|podman|chroot]

1. starts the image on an empty state volume (a host directory owned by 10001),
2. trains iris through its HTTP API (CSV, ?wait=true) and predicts three rows,
3. stops it and starts a new container on the same volume: the same three predictions,
   byte for byte,
4. sends SIGTERM while a long training job runs and expects exit status 0 within the
   drain timeout (drain_timeout_seconds, 30 s by default),
5. the read-only mode on the same volume mounted read-only: it serves the trained model and
   refuses training with 405.

Runners:
- podman: `podman run` of the image as built (user 10001, its entrypoint, environment and
  volume). On machines like this one (cgroups v1, a hard RLIMIT_NPROC the runtime may not
  set) crun fails; runc with the cgroupfs manager and explicit --ulimit values works, so
  those are the flags used. Host networking, so requests go to 127.0.0.1 only.
- chroot: the image's root filesystem unpacked by umoci, run with unshare (mount and PID
  namespaces) + chroot as user 10001, with the image's own entrypoint and environment read
  from its configuration. The fallback where podman cannot start containers at all.
- auto: podman if a trivial container starts, otherwise chroot.

Every wait is bounded; the containers are removed on every path.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PODMAN_FLAGS = [
    "--runtime", "runc", "--cgroup-manager", "cgroupfs",
    "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096",
]
ROWS = {"instances": [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]}


def log(message):
    print(f"image-check: {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, content_type="application/json", timeout=60):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(port, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"image-check: the container exited with {process.returncode} before it was ready")
        try:
            if request(port, "GET", "/readyz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"image-check: not ready on port {port} within {seconds} s")


class PodmanRunner:
    name = "podman run (runc, cgroupfs, --ulimit nofile/nproc, host network)"

    def __init__(self, archive, tag, image=None):
        self.names = []
        if image:
            self.image = image
            return
        self.image = f"localhost/axon:{tag}"
        loaded = subprocess.run(["podman", "load", "-q", "-i", archive], check=True, capture_output=True, text=True)
        name = loaded.stdout.strip().rpartition("Loaded image: ")[2].splitlines()[0]
        subprocess.run(["podman", "tag", name, self.image], check=True)
        # The archive names it axon:VERSION already; should another name come, only ours stays.
        if name != self.image:
            subprocess.run(["podman", "untag", name, name], capture_output=True)

    def start(self, volume, port, extra=(), read_only=False):
        name = f"axon-check-{os.getpid()}-{len(self.names)}"
        self.names.append(name)
        mount = f"{volume}:/var/lib/axon" + (":ro" if read_only else "")
        command = ["podman", "run", "--rm", "--pull=never", "--name", name, "--network", "host", *PODMAN_FLAGS,
                   "-v", mount, "-e", f"AXON_HTTP_PORT={port}", self.image, *extra]
        return subprocess.Popen(command)

    def stop_all(self):
        for name in self.names:
            subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True)


class ChrootRunner:
    name = "unshare (mount + PID namespaces) + chroot of the image's root filesystem, user 10001"

    def __init__(self, layout, tag, workdir):
        self.bundle = os.path.join(workdir, "bundle")
        subprocess.run(["umoci", "unpack", "--image", f"{layout}:{tag}", self.bundle], check=True, capture_output=True)
        with open(os.path.join(self.bundle, "config.json")) as f:
            process = json.load(f)["process"]
        self.args = process["args"]
        self.env = process["env"]
        self.user = f'{process["user"]["uid"]}:{process["user"]["gid"]}'
        self.root = os.path.join(self.bundle, "rootfs")

    def start(self, volume, port, extra=(), read_only=False):
        state = os.path.join(self.root, "var/lib/axon")
        options = "ro," if read_only else ""
        script = (
            f'mount --bind "$1" "{state}" && mount -o remount,{options}bind "{state}" && '
            f'mount -t proc proc "{self.root}/proc" && shift && exec "$@"'
        )
        env = [e for e in self.env if not e.startswith("AXON_HTTP_PORT=")] + [f"AXON_HTTP_PORT={port}"]
        command = ["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c", script, "sh", volume,
                   "chroot", f"--userspec={self.user}", self.root, "/usr/bin/env", "-i", *env, *self.args, *extra]
        # unshare --fork forwards SIGTERM to nothing: signal the daemon by its own pid instead.
        return subprocess.Popen(command, start_new_session=True)

    def stop_all(self):
        pass


def terminate(process):
    """SIGTERM to axond itself (PID 1 of its namespace when chroot: its parent forwards)."""
    if isinstance(process.args, list) and process.args[0] == "unshare":
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        inner = subprocess.run(["pgrep", "-P", children[0]], capture_output=True, text=True).stdout.split() if children else []
        os.kill(int((inner or children)[0]), signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layout", required=True)
    parser.add_argument("--archive", required=True, help="the same image as one OCI archive (podman load)")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--image", help="an image podman already holds (e.g. built from the Containerfile); podman runner only")
    parser.add_argument("--iris", required=True)
    parser.add_argument("--runner", default="auto", choices=["auto", "podman", "chroot"])
    parser.add_argument("--drain", type=float, default=30.0)
    options = parser.parse_args()
    began = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="axon-image-check-")
    volume = os.path.join(workdir, "state")
    os.mkdir(volume)
    os.chown(volume, 10001, 10001)
    runner = None
    processes = []
    try:
        if options.runner in ("auto", "podman"):
            try:
                runner = PodmanRunner(options.archive, options.tag, options.image)
                probe = subprocess.run(["podman", "run", "--rm", "--pull=never", "--network", "host", *PODMAN_FLAGS, "--entrypoint",
                                        "/usr/local/bin/axond", runner.image, "--version"], capture_output=True, text=True, timeout=120)
                if probe.returncode != 0:
                    raise RuntimeError(probe.stderr.strip())
                log(f"axond --version in the image: {probe.stdout.strip()}")
            except (OSError, RuntimeError, subprocess.SubprocessError) as error:
                if options.runner == "podman":
                    raise SystemExit(f"image-check: podman cannot start the image: {error}")
                log(f"podman cannot start the image ({error}); falling back to chroot")
                runner = None
        if runner is None:
            runner = ChrootRunner(options.layout, options.tag, workdir)
        log(f"runner: {runner.name}")

        # 1-2: train iris and predict.
        port = free_port()
        first = runner.start(volume, port)
        processes.append(first)
        started = time.monotonic()
        wait_ready(port, first)
        log(f"ready {time.monotonic() - started:.2f} s after start")
        with open(options.iris, "rb") as f:
            csv = f.read()
        status, body = request(port, "POST", "/train?model=iris&target=species&epochs=200&seed=1&wait=true", csv, "text/csv", timeout=300)
        if status != 200:
            raise SystemExit(f"image-check: training answered {status}: {body[:300]!r}")
        job = json.loads(body)
        log(f"trained iris version {job.get('version')}: accuracy {job.get('metrics', {}).get('accuracy')}")
        status, before = request(port, "POST", "/v1/models/iris:predict", ROWS)
        if status != 200:
            raise SystemExit(f"image-check: predict answered {status}: {before[:300]!r}")
        log(f"predicted: {json.loads(before)['predictions']}")
        terminate(first)
        first.wait(timeout=options.drain + 10)
        if first.returncode != 0:
            raise SystemExit(f"image-check: first container exited {first.returncode} on SIGTERM")
        files = sorted(os.path.relpath(os.path.join(d, n), volume) for d, _, names in os.walk(volume) for n in names)
        log(f"volume after the first run: {', '.join(f for f in files if f.startswith('models/'))}")

        # 3: a new container on the same volume predicts the same bytes.
        port = free_port()
        second = runner.start(volume, port)
        processes.append(second)
        wait_ready(port, second)
        status, after = request(port, "POST", "/v1/models/iris:predict", ROWS)
        if status != 200 or after != before:
            raise SystemExit(f"image-check: after restart {status} {after!r} != {before!r}")
        log("after a restart on the same volume: the same predictions, byte for byte")

        # 4: SIGTERM with a training job running: exit 0 within the drain.
        status, body = request(port, "POST", "/train?model=slow&target=species&epochs=100000&seed=1", csv, "text/csv")
        if status != 202:
            raise SystemExit(f"image-check: long training answered {status}: {body[:300]!r}")
        signalled = time.monotonic()
        terminate(second)
        try:
            second.wait(timeout=options.drain + 10)
        except subprocess.TimeoutExpired:
            raise SystemExit("image-check: still running past the drain after SIGTERM")
        drained = time.monotonic() - signalled
        if second.returncode != 0:
            raise SystemExit(f"image-check: exit status {second.returncode} after SIGTERM")
        log(f"SIGTERM with a training job running: exit 0 after {drained:.2f} s (drain limit {options.drain:.0f} s)")

        # 5: read-only on the same volume, mounted read-only.
        port = free_port()
        third = runner.start(volume, port, extra=["--read-only"], read_only=True)
        processes.append(third)
        wait_ready(port, third)
        status, readonly = request(port, "POST", "/v1/models/iris:predict", ROWS)
        if status != 200 or readonly != before:
            raise SystemExit(f"image-check: read-only predict {status} {readonly!r}")
        status, body = request(port, "POST", "/train?model=iris&target=species&epochs=1&wait=true", csv, "text/csv")
        if status != 405 or json.loads(body)["error"]["code"] != "read_only":
            raise SystemExit(f"image-check: read-only training answered {status}: {body[:300]!r}")
        terminate(third)
        third.wait(timeout=options.drain + 10)
        if third.returncode != 0:
            raise SystemExit(f"image-check: read-only container exited {third.returncode}")
        log("read-only on the volume mounted read-only: the same predictions, training refused with 405 read_only")
        log(f"passed in {time.monotonic() - began:.1f} s")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        if runner is not None:
            runner.stop_all()
        subprocess.run(["rm", "-rf", workdir])


if __name__ == "__main__":
    main()
