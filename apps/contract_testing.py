"""The OpenAPI contract test both apps run against their live service (loaded by path from apps/*/tests).

The two apps are separate packages with test suites of their own (one pytest process each); this module is the one
place the schemathesis run and its assertions live. Schemathesis runs every check: schema-valid cases must be
accepted, schema-invalid ones rejected with a documented 4xx, every answer must match its documented status,
content type and schema, other methods must get 405 with `Allow`. `--generation-deterministic` makes the cases the
same on every run (no random seed, no example database); everything stays on loopback.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CASES_PER_OPERATION = 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def live_service(argv: list[str], env: dict, log_path: Path, base: str, timeout_s: float) -> Iterator[None]:
    """Run a `serve` command (stdout and stderr to log_path) until /readyz answers 200; SIGTERM it afterwards."""
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(argv, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=1):  # noqa: S310 - http://127.0.0.1 only
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def run_schemathesis(base: str, workdir: Path) -> dict:
    """`schemathesis run` with every check against base/openapi.json; returns its JSON report (+ the output)."""
    report = workdir / "schemathesis.json"
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json", "--checks", "all",
               "--max-examples", str(CASES_PER_OPERATION), "--generation-deterministic", "--workers", "2",
               "--no-color", "--request-timeout", "10", "--report", "json", "--report-json-path", str(report)]
    # cwd: schemathesis reads a schemathesis.toml from the working directory upwards; there must be none to find
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600, check=False)
    assert report.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(report.read_text())
    result["output"] = done.stdout
    return result


def assert_contract_holds(base: str, workdir: Path, operations: int, counter: str, routes: tuple[str, ...]) -> str:
    """Schemathesis finds nothing, and the service's own counter saw >= CASES_PER_OPERATION requests per route."""
    started = time.monotonic()
    report = run_schemathesis(base, workdir)
    elapsed = time.monotonic() - started
    assert report["exit_code"] == 0 and report["failures"] == [] and report["errors"] == [], report["output"]
    assert report["operations"]["tested"] == report["operations"]["selected"] == operations, report["operations"]
    # a warning would mean part of the spec was not exercised (an unsupported regex, a low valid-case rate, ...)
    assert not any(report["warnings"].values()), report["warnings"]
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:  # noqa: S310 - loopback
        metrics = response.read().decode()
    sent = {route: sum(float(line.split()[-1]) for line in metrics.splitlines()
                       if line.startswith(counter + "{") and f'route="{route}"' in line) for route in routes}
    # Operations with input; the GET probes take none, so each has exactly one distinct request to make.
    assert min(sent.values()) >= CASES_PER_OPERATION, sent
    return f"schemathesis: {report['test_cases']['generated']} cases ({sent}), 0 failures, {elapsed:.1f} s"


def assert_json_log_lines(log_path: Path) -> None:
    events = [json.loads(line) for line in log_path.read_text().splitlines()]  # each line one JSON object
    assert events and all({"time", "level", "logger", "message"} <= set(event) for event in events), events[:3]
