"""Helpers shared by the benchmarks: server processes, loopback JSON requests, the figures of `make bench`.

Not a benchmark itself (no `main(argv)`): bench/run.py runs only the bench/*.py files that have one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv: list[str], env: dict | None = None) -> subprocess.Popen:
    """A server in a process group of its own (stop() ends the group: gunicorn master and workers)."""
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=env)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _loopback(url: str) -> str:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"benchmarks talk to loopback servers only, not {url}")
    return url


def wait_http(url: str, process: subprocess.Popen, deadline_s: float = 120.0) -> None:
    """Until url answers at all (any HTTP status: a 405 on GET of a POST route means the server is up)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(_loopback(url), timeout=1):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {deadline_s} s")


def post_json(url: str, payload: dict, timeout: float = 60.0) -> tuple[int, dict, dict]:
    """POST payload as JSON; (status, decoded answer, headers), 4xx/5xx included."""
    request = urllib.request.Request(_loopback(url), data=json.dumps(payload).encode(),  # noqa: S310 - loopback
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers)


def figure(*, name: str, value: float, unit: str, baseline_name: str | None = None,
           baseline_value: float | None = None, ratio: float | None = None, target: str | None = None,
           met: bool | None = None, notes: str = "") -> dict:
    """One entry of a benchmark's "figures" list (the `make bench` contract)."""
    return {"name": name, "value": value, "unit": unit, "baseline_name": baseline_name,
            "baseline_value": baseline_value, "ratio": None if ratio is None else round(ratio, 1),
            "target": target, "met": met, "notes": notes}
