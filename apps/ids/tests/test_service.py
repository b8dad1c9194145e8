"""The real service under gunicorn: readiness, multiprocess metrics, worker kill -9 recovery, the client."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from rocketce_ids.cli import main


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = response.read().decode()
            return response.status, json.loads(body) if body.startswith("{") else body
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_ready(base: str, deadline_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        try:
            if _get(base + "/readyz")[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} not ready within {deadline_s} s")


def _worker_pids(master: int) -> list[int]:
    children = f"/proc/{master}/task/{master}/children"
    with open(children) as handle:
        return [int(pid) for pid in handle.read().split()]


@pytest.fixture(scope="module")
def service(trained, tmp_path_factory):
    port = _free_port()
    # A directory that does not exist yet, as under systemd's RuntimeDirectory: the service must create it.
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path_factory.mktemp("prom") / "metrics"))
    process = subprocess.Popen(
        [sys.executable, "-m", "rocketce_ids.cli", "serve", "--model", str(trained[0]),
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, 30)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_client_streams_a_file_and_metrics_add_up_across_workers(service, test_slice, capsys):
    base, _ = service
    assert main(["client", "--url", base, "--file", str(test_slice), "--batch-size", "400"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records"] == 3000
    assert 0 < summary["flagged_as_attack"] < 3000
    assert summary["accuracy_vs_labels"] > 0.6
    status, text = _get(base + "/metrics")
    assert status == 200
    scored = [line for line in text.splitlines() if line.startswith("ids_records_scored_total")]
    assert scored and float(scored[0].split()[-1]) == 3000.0  # summed over both workers' files


def test_worker_killed_with_sigkill_is_replaced_within_10s(service):
    base, process = service
    workers = _worker_pids(process.pid)
    assert len(workers) == 2
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert _wait_ready(base, 10) < 10
    deadline = time.monotonic() + 10
    while set(_worker_pids(process.pid)) & set(workers) or len(_worker_pids(process.pid)) < 2:
        assert time.monotonic() < deadline, "workers not replaced"
        time.sleep(0.1)


def test_client_reports_http_errors_and_missing_files(service, test_slice, tmp_path, capsys):
    base, _ = service
    assert main(["client", "--url", base + "/nowhere", "--file", str(test_slice)]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert main(["client", "--url", base, "--file", str(tmp_path / "missing.txt")]) == 1
    assert "missing.txt" in capsys.readouterr().err


def test_workers_die_with_a_killed_master(trained, tmp_path):
    """kill -9 of the master must not leave workers holding the port (a restarted master could not bind)."""
    port = _free_port()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    process = subprocess.Popen(
        [sys.executable, "-m", "rocketce_ids.cli", "serve", "--model", str(trained[0]),
         "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", 30)
        workers = _worker_pids(process.pid)
        assert len(workers) == 2
    finally:
        process.kill()
        process.wait(timeout=5)
    deadline = time.monotonic() + 5
    while any(_state(pid) not in ("gone", "Z") for pid in workers):
        assert time.monotonic() < deadline, "workers survived their master"
        time.sleep(0.1)
    with socket.socket() as sock:
        # as gunicorn binds (SO_REUSEADDR ignores TIME_WAIT leftovers): fails only while something still listens
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"
