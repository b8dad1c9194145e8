#!/usr/bin/env python3
"""Stream scoring: the project's /v1/stream against a seed-style server, in one run, printing ratios.

Baseline (built like the seed's server): Flask, per-card history in process memory, Keras `model.predict` and
xgboost `Booster.predict(DMatrix)` on every event. Project: the deployed app (history in SQLite with WAL, numpy
LSTM and tree runtimes). Both get the same events, in the same process, through Flask's WSGI test client, so the
numbers compare the serving paths, not the network. `--http` adds the project behind gunicorn over real HTTP.

Usage: python bench/fraud_serve.py --model artifacts/models/fraud --data artifacts/data/fraud.csv
       [--events 2000] [--baseline-events 300] [--http]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from rocketce_fraud.api import Transaction, to_columns  # noqa: E402
from rocketce_fraud.app import create_app  # noqa: E402
from rocketce_fraud.bundle import ModelBundle  # noqa: E402
from rocketce_fraud.client import post, row_to_event  # noqa: E402
from rocketce_fraud.features import WINDOW, CardState, SeenSets  # noqa: E402


def load_events(path: Path, n: int) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        return [row_to_event(row) for _, row in zip(range(n), csv.DictReader(handle))]


def seed_style_app(model_dir: Path):
    """The seed's serving pattern: in-memory buffers, Keras and xgboost `predict` per request."""
    import keras
    import xgboost as xgb
    from flask import Flask, jsonify, request

    bundle = ModelBundle.load(model_dir)
    lstm = keras.models.load_model(model_dir / "lstm.keras")
    booster = xgb.Booster(model_file=str(model_dir / "xgb.json"))
    states: dict[int, CardState] = {}
    seen = SeenSets()
    app = Flask("seed_style")

    @app.post("/v1/stream")
    def stream():
        cols = to_columns([Transaction.model_validate(request.get_json())])
        key = int(cols.card_key[0])
        state = states.setdefault(key, CardState())
        flags = seen.check_and_add(key, int(cols.merchant[0]), int(cols.mcc[0]), cols.city[0])
        hist = state.step(int(cols.minute[0]), float(cols.amount[0]), merchant_new=flags[0], mcc_new=flags[1],
                          city_new=flags[2], online=bool(cols.channel[0] == 2))
        row = np.concatenate([bundle.encoder.transform(cols)[0], np.asarray(hist, dtype=np.float32)])
        scaled = bundle.scaler.transform(row[None, :])
        score = float(booster.predict(xgb.DMatrix(scaled))[0])
        if len(state.window) == WINDOW - 1:
            window = bundle.scaler.transform(np.asarray(state.window + [row.tolist()], dtype=np.float32))
            lstm_score = float(lstm.predict(window[None, :, :], verbose=0)[0, 0])
            score = bundle.lstm_weight * lstm_score + (1 - bundle.lstm_weight) * score
        state.push_window(row.tolist())
        return jsonify({"score": score, "fraud": score >= bundle.threshold})

    return app


def run_events(app, events: list[dict]) -> tuple[list[float], list[float]]:
    client = app.test_client()
    client.post("/v1/stream", json=events[0])   # warm-up outside the timing (first Keras call traces a graph)
    latencies, scores = [], []
    for event in events[1:]:
        started = time.perf_counter()
        response = client.post("/v1/stream", json=event)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.get_json()}")
        scores.append(response.get_json()["score"])
    return latencies, scores


def summary(name: str, latencies: list[float]) -> dict:
    lat = sorted(latencies)
    return {"name": name, "events": len(lat), "events_per_s": round(len(lat) / sum(lat), 1),
            "p50_ms": round(statistics.median(lat) * 1000, 3),
            "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, 3)}


def http_run(model: Path, events: list[dict], port: int) -> dict:
    with tempfile.TemporaryDirectory() as state:
        env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=f"{state}/prom")
        proc = subprocess.Popen([sys.executable, "-m", "rocketce_fraud.cli", "serve", "--model", str(model),
                                 "--bind", f"127.0.0.1:{port}", "--state-dir", state, "--workers", "2"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                        break
                except OSError:
                    time.sleep(0.2)
            latencies = []
            for event in events:
                started = time.perf_counter()
                code, _ = post(f"http://127.0.0.1:{port}/v1/stream", event)
                latencies.append(time.perf_counter() - started)
                if code != 200:
                    raise SystemExit(f"HTTP {code}")
            return summary("project over HTTP (gunicorn, 2 workers)", latencies)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("artifacts/models/fraud"))
    parser.add_argument("--data", type=Path, default=Path("artifacts/data/fraud.csv"))
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--baseline-events", type=int, default=300)
    parser.add_argument("--http", action="store_true", help="also time the project over HTTP behind gunicorn")
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args()

    events = load_events(args.data, args.events + 1)
    with tempfile.TemporaryDirectory() as state:
        project_lat, project_scores = run_events(create_app(args.model, state), events)
    baseline_lat, baseline_scores = run_events(seed_style_app(args.model), events[: args.baseline_events + 1])
    # Same features and models on both sides: the scores must agree, only the serving path differs.
    n = len(baseline_scores)
    max_diff = float(np.max(np.abs(np.asarray(project_scores[:n]) - np.asarray(baseline_scores))))
    project, baseline = summary("project /v1/stream", project_lat), summary("seed-style baseline", baseline_lat)
    result = {
        "project": project, "baseline": baseline,
        "ratio_events_per_s": round(project["events_per_s"] / baseline["events_per_s"], 1),
        "ratio_p99": round(baseline["p99_ms"] / project["p99_ms"], 1),
        "max_score_diff": max_diff,
        "targets": {"p99_ms_le_10": project["p99_ms"] <= 10.0,
                    "events_per_s_ge_10x": project["events_per_s"] >= 10 * baseline["events_per_s"]},
    }
    if args.http:
        result["project_http"] = http_run(args.model, events[: args.events], args.port)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
