"""What the Python checks (Tests/clients, Tests/ui) share about the axond they drive: it dies
with the check, however the check dies; it stops gracefully; its answers, errors included, are
read one way. Standard library only.
"""
import ctypes
import json
import signal
import subprocess
import urllib.error
import urllib.request

PR_SET_PDEATHSIG = 1


def terminate_with_parent():
    """Pass as Popen's preexec_fn: in the child before exec, asks the kernel to send it SIGTERM
    when the check dies, however it dies (even SIGKILL from `timeout -k`), so no daemon outlives
    the check."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(process, timeout):
    """SIGTERM, then SIGKILL if `process` has not exited within `timeout` seconds; nothing when
    it has already exited."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answer(request, timeout=30):
    """(status, parsed JSON or raw bytes) of one urllib request; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw
