#!/usr/bin/env python3
"""Serving benchmark: the project's IDS service vs a seed-style baseline, same model, same run, same machine.

    python bench/ids_serve_bench.py --model artifacts/models/ids [--seconds 5] [--json out.json]

Baseline = how the seed served: the Flask development server, a pandas DataFrame built per request, categories
one-hot encoded per request with pandas, then the same numpy networks. Project = `rocketce-ids serve` (gunicorn,
vectorised numpy hot path, pydantic validation). Both listen on 127.0.0.1 only.

Reported: req/s and p50/p99 latency for single-record requests on 1 and 8 keep-alive connections, and rows/s for
scoring all of KDDTest+ (project: batches; baseline: one record per request, the only way the seed could), with
project/baseline ratios. The load generator is one asyncio process (raw HTTP/1.1), so it takes little CPU away
from the servers; on a shared 2-core machine absolute numbers move with other load, the ratios much less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "apps" / "ids" / "data" / "nsl-kdd" / "KDDTest+.txt.gz"


# ----------------------------------------------------------------------------- the seed-style baseline server
def baseline_app(model_dir: str):
    """A Flask app written the way the seed's server was: pandas per request, nothing vectorised across calls."""
    import pandas as pd
    from flask import Flask, jsonify, request
    from rocketce_ids.model import IdsModel
    from rocketce_ids.schema import CATEGORICAL_FEATURES, FEATURE_NAMES

    model = IdsModel.load(model_dir)
    pre = model.preprocessor
    app = Flask("seed_baseline")

    @app.post("/predict")
    def predict():
        frame = pd.DataFrame([request.get_json()["features"]], columns=list(FEATURE_NAMES))
        numeric = frame[pre.kept_numeric].astype(float)
        for name, use_log in zip(pre.kept_numeric, pre.log_scaled):
            if use_log:
                numeric[name] = np.log1p(numeric[name].clip(lower=0))
        scaled = (numeric - np.array(pre.minimum)) / np.array(pre.span)
        dummies = []
        for feature in CATEGORICAL_FEATURES:
            known = pre.vocabularies[feature]
            column = frame[feature].where(frame[feature].isin(known), "<unknown>")
            dummies.append(pd.get_dummies(pd.Categorical(column, categories=[*known, "<unknown>"])).astype(float))
        features = pd.concat([scaled, *dummies], axis=1).to_numpy(dtype=np.float32)
        error = float(model.reconstruction_error(features)[0])
        return jsonify({"reconstruction_error": error, "attack": error > model.ae_threshold})

    return app


def run_baseline(model_dir: str, port: int) -> None:
    baseline_app(model_dir).run(host="127.0.0.1", port=port, threaded=True)


# ----------------------------------------------------------------------------- process helpers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback URL built here
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {deadline_s} s")


def start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# ----------------------------------------------------------------------------- load generation
def http_post(path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return status, headers, body


async def _connection(port: int, requests: list[bytes], stop_at: float, latencies: list[float],
                      errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            status, headers, _ = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            i += 1
    finally:
        writer.close()


async def _load(port: int, requests: list[bytes], connections: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[int] = []
    begin = time.perf_counter()
    await asyncio.gather(*(_connection(port, requests[c::connections] or requests, begin + seconds, latencies,
                                       errors) for c in range(connections)))
    elapsed = time.perf_counter() - begin
    ms = np.array(latencies) * 1000
    return {"connections": connections, "requests": len(latencies), "errors": len(errors),
            "req_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def load(port: int, requests: list[bytes], connections: int, seconds: float) -> dict:
    asyncio.run(_load(port, requests, connections, min(1.0, seconds / 4)))  # warm-up, not counted
    return asyncio.run(_load(port, requests, connections, seconds))


async def _one(port: int, request: bytes) -> tuple[float, dict, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
    started = time.perf_counter()
    writer.write(request)
    await writer.drain()
    status, headers, _ = await _read_response(reader)
    elapsed = time.perf_counter() - started
    writer.close()
    return elapsed, headers, status


def batch(port: int, body: bytes, rows: int, repeats: int = 3) -> dict:
    runs = [asyncio.run(_one(port, http_post("/v1/predict", body))) for _ in range(repeats)]
    if any(status != 200 for _, _, status in runs):
        raise SystemExit(f"batch request failed: {[s for _, _, s in runs]}")
    best = min(runs, key=lambda r: r[0])
    server_ms = float(best[1]["server-timing"].split("dur=")[1])
    return {"rows": rows, "client_ms": round(best[0] * 1000, 1), "server_ms": round(server_ms, 1),
            "rows_per_s": round(rows / best[0])}


# ----------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained model directory (rocketce-ids train --out)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="labelled NSL-KDD file for request bodies")
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement time per scenario")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)  # internal: run the baseline
    args = parser.parse_args()
    if args.baseline_server:
        run_baseline(args.model, args.baseline_server)
        return 0

    from rocketce_ids.client import record_values
    from rocketce_ids.data import load_nslkdd

    data = load_nslkdd(args.data)
    records = [record_values(n, c) for n, c in zip(data.records.numeric, data.records.categorical)]
    sample = records[:2000]
    project_requests = [http_post("/v1/predict", json.dumps({"record": r}).encode()) for r in sample]
    baseline_requests = [http_post("/predict", json.dumps({"features": r}).encode()) for r in sample]
    batch_body = json.dumps({"records": records}, separators=(",", ":")).encode()

    results: dict = {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()[0], "rows": len(records)}
    project_port, baseline_port = free_port(), free_port()
    project = start([sys.executable, "-m", "rocketce_ids.cli", "serve", "--model", args.model,
                     "--bind", f"127.0.0.1:{project_port}", "--workers", str(args.workers),
                     "--threads", str(args.threads)])
    baseline = start([sys.executable, __file__, "--model", args.model, "--baseline-server", str(baseline_port)])
    try:
        wait_http(f"http://127.0.0.1:{project_port}/readyz")
        _wait_listening(baseline_port)
        same_model_check(project_port, baseline_port, sample[:20])
        for connections in (1, 8):
            results[f"baseline_{connections}"] = load(baseline_port, baseline_requests, connections, args.seconds)
            results[f"project_{connections}"] = load(project_port, project_requests, connections, args.seconds)
        results["project_batch"] = batch(project_port, batch_body, len(records))
    finally:
        stop(project)
        stop(baseline)

    results["ratios"] = {
        f"req_per_s_{c}conn": round(results[f"project_{c}"]["req_per_s"] / results[f"baseline_{c}"]["req_per_s"], 1)
        for c in (1, 8)
    } | {
        f"p99_{c}conn_baseline_over_project": round(results[f"baseline_{c}"]["p99_ms"]
                                                     / results[f"project_{c}"]["p99_ms"], 1)
        for c in (1, 8)
    } | {"batch_rows_per_s_vs_baseline_8conn": round(results["project_batch"]["rows_per_s"]
                                                      / results["baseline_8"]["req_per_s"], 1)}
    report(results)
    failed = {k: v["errors"] for k, v in results.items() if isinstance(v, dict) and v.get("errors")}
    if failed:
        raise SystemExit(f"requests failed during the benchmark: {failed}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


def same_model_check(project_port: int, baseline_port: int, records: list) -> None:
    """Both servers must give the same reconstruction errors, or the comparison is meaningless."""
    for record in records:
        answers = []
        for port, path, body in ((project_port, "/v1/predict", {"record": record}),
                                 (baseline_port, "/predict", {"features": record})):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL
                answer = json.loads(response.read())
            answers.append(answer["results"][0] if "results" in answer else answer)
        if not np.isclose(answers[0]["reconstruction_error"], answers[1]["reconstruction_error"], rtol=1e-4):
            raise SystemExit(f"baseline and project disagree on {record}: {answers}")


def _wait_listening(port: int, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"baseline server on {port} did not come up")


def report(r: dict) -> None:
    print(f"machine: {r['cpus']} CPUs, load average at start {r['load_average_at_start']:.2f}")
    print(f"{'scenario':<26}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for key in ("baseline_1", "project_1", "baseline_8", "project_8"):
        m = r[key]
        print(f"{key + ' conn':<26}{m['req_per_s']:>10}{m['p50_ms']:>10}{m['p99_ms']:>10}{m['errors']:>8}")
    b = r["project_batch"]
    print(f"project batch of {b['rows']} rows: {b['client_ms']} ms round trip, {b['server_ms']} ms server time, "
          f"{b['rows_per_s']} rows/s (baseline: {r['baseline_8']['req_per_s']} rows/s, one row per request)")
    print("ratios project/baseline: " + ", ".join(f"{k}={v}" for k, v in r["ratios"].items()))


if __name__ == "__main__":
    sys.exit(main())
