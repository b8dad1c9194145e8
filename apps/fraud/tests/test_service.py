"""Training outputs and the HTTP service on a small trained model."""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from rocketce_fraud.app import create_app
from rocketce_fraud.bundle import ModelBundle, sha256_file
from rocketce_fraud.client import replay, row_to_event
from rocketce_fraud.features import WINDOW, SeenSets, history_features, window_positions
from rocketce_fraud.reader import read_chunks


def card_rows(data: Path, min_rows: int = 12, skip: int = 0) -> list[dict]:
    """The first rows of a card that has at least min_rows rows (skip the first `skip` such cards)."""
    with gzip.open(data, "rt", newline="") as handle:
        current, rows = None, []
        for row in csv.DictReader(handle):
            key = (row["User"], row["Card"])
            if key != current:
                if len(rows) >= min_rows:
                    if skip == 0:
                        return rows[:min_rows]
                    skip -= 1
                current, rows = key, []
            rows.append(row)
    raise AssertionError("no card with enough rows")


@pytest.fixture()
def client(trained, tmp_path):
    return create_app(trained["model"], tmp_path / "state").test_client()


def test_training_writes_reports_and_learns(trained):
    model, metrics = trained["model"], trained["metrics"]
    on_disk = json.loads((model / "metrics.json").read_text())
    assert on_disk["ensemble"]["test"]["pr_auc"] == metrics["ensemble"]["test"]["pr_auc"]
    test = metrics["data"]["split"]["test"]
    base_rate = test["fraud"] / test["rows"]
    assert test["fraud"] > 0
    # A useless model scores PR-AUC ~ base rate (~0.0012); this one must be far above it.
    assert metrics["ensemble"]["test"]["pr_auc"] > 50 * base_rate
    assert metrics["xgboost"]["test"]["pr_auc"] > 50 * base_rate
    for name in ("best_f1", "min_cost", "target_recall"):
        report = metrics["ensemble"]["test"]["at_threshold"][name]
        assert set(report["confusion"]) == {"tn", "fp", "fn", "tp"}
        assert sum(report["confusion"].values()) == test["rows"]
    assert metrics["window_level"]["window"] == WINDOW
    assert metrics["runtime_parity"]["xgb_max_abs_diff"] < 1e-4
    assert metrics["runtime_parity"]["lstm_max_abs_diff"] < 1e-4
    assert (model / "plots" / "pr_curves.png").stat().st_size > 1000
    manifest = json.loads((model / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert sha256_file(model / name) == entry["sha256"]


def test_split_is_chronological(trained):
    metrics = trained["metrics"]
    t_val, t_test = metrics["data"]["split_minutes"]
    assert t_val < t_test
    cols = next(read_chunks(trained["data"], chunk_rows=10**7))[0]
    assert (cols.minute < t_val).mean() == pytest.approx(0.70, abs=0.01)


def test_tampered_model_is_not_ready(trained, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(trained["model"], model)
    with open(model / "xgb.json", "a") as handle:
        handle.write(" ")
    client = create_app(model, tmp_path / "state").test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "sha256" in ready.json["reason"]
    assert client.get("/livez").status_code == 200
    row = card_rows(trained["data"])[0]
    assert client.post("/v1/stream", json=row_to_event(row)).status_code == 503


def test_stream_scores_equal_the_offline_pipeline(trained, client):
    rows = card_rows(trained["data"], min_rows=12)
    streamed = [client.post("/v1/stream", json=row_to_event(r)).json for r in rows]
    assert [s["card_history"] for s in streamed] == list(range(12))
    assert [s["model"] for s in streamed] == ["xgboost"] * (WINDOW - 1) + ["ensemble"] * (12 - WINDOW + 1)
    # Offline: the training code path over the same rows.
    bundle = ModelBundle.load(trained["model"])
    import pandas as pd
    from rocketce_fraud.reader import frame_to_columns

    frame = pd.DataFrame(rows).astype({c: int for c in ("User", "Card", "Year", "Month", "Day", "MCC")})
    frame["Merchant Name"] = frame["Merchant Name"].astype(np.int64)
    cols = frame_to_columns(frame)
    x = np.hstack([bundle.encoder.transform(cols), history_features(cols, {}, SeenSets())])
    pos = window_positions(cols.card_key)
    windows = [x[i - WINDOW + 1:i + 1] if pos[i] >= WINDOW - 1 else None for i in range(len(rows))]
    offline, _ = bundle.score(x, windows)
    assert np.allclose([s["score"] for s in streamed], offline, atol=1e-5)


def test_history_survives_a_restart_and_batches_do_not_change_it(trained, tmp_path):
    rows = card_rows(trained["data"], min_rows=8, skip=1)
    first = create_app(trained["model"], tmp_path / "state").test_client()
    for row in rows[:6]:
        assert first.post("/v1/stream", json=row_to_event(row)).status_code == 200
    batch = first.post("/v1/score", json={"transactions": [row_to_event(r) for r in rows[6:8]]})
    assert batch.status_code == 200
    assert [r["model"] for r in batch.json["results"]] == ["ensemble", "ensemble"]
    assert [r["card_history"] for r in batch.json["results"]] == [6, 7]
    # A new process on the same state directory: the 7th event gets the full window.
    second = create_app(trained["model"], tmp_path / "state").test_client()
    result = second.post("/v1/stream", json=row_to_event(rows[6])).json
    assert result["card_history"] == 6 and result["model"] == "ensemble"
    assert result["score"] == pytest.approx(batch.json["results"][0]["score"], abs=1e-6)


def test_client_mistakes_get_4xx_with_reasons(trained, client):
    rows = card_rows(trained["data"], min_rows=3, skip=2)
    good = row_to_event(rows[1])
    assert client.post("/v1/stream", data="{not json", content_type="application/json").status_code == 400
    bad = dict(good, month=13, amount="twelve", use_chip="Teleport")
    response = client.post("/v1/stream", json=bad)
    assert response.status_code == 422
    assert {tuple(d["loc"]) for d in response.json["details"]} == {("month",), ("amount",), ("use_chip",)}
    assert client.post("/v1/stream", json=dict(good, day=31, month=2)).status_code == 422
    assert client.post("/v1/stream", json=dict(good, errors="Bad Mood")).status_code == 422
    assert client.post("/v1/stream", json=dict(good, surprise=1)).status_code == 422
    # JSON Schema's types: a boolean or a string is not an integer (12.0 is), header names are not field names.
    assert client.post("/v1/stream", json=dict(good, mcc=float(good["mcc"]))).status_code in (200, 409)
    for wrong in ({"mcc": False}, {"card": True}, {"card": "1"}, {"amount": True}, {"merchant_name": "12abc"},
                  {"merchant_name": str(2**63)}, {"time": "6:7"}, {"errors": "Bad CVV,"}, {"zip": False}):
        answer = client.post("/v1/stream", json=dict(good, **wrong))
        assert answer.status_code == 422, wrong
        assert answer.json["details"][0]["loc"][0] == next(iter(wrong)), answer.json
    score = client.post("/v1/score", json={"transactions": [dict(good, mcc=False)]})
    assert score.status_code == 422 and score.json["details"][0]["loc"][:3] == ["transactions", "0", "mcc"]
    header_names = {"MCC" if k == "mcc" else k: v for k, v in good.items()}
    assert client.post("/v1/stream", json=header_names).status_code == 422
    assert client.post("/v1/stream", data=json.dumps(good), content_type="text/plain").status_code == 400
    assert client.post("/v1/score", json={"transactions": []}).status_code == 422
    assert client.post("/v1/stream", json=good).status_code == 200
    older = client.post("/v1/stream", json=row_to_event(rows[0]))
    if (rows[0]["Year"], rows[0]["Month"], rows[0]["Day"], rows[0]["Time"]) != (
            rows[1]["Year"], rows[1]["Month"], rows[1]["Day"], rows[1]["Time"]):
        assert older.status_code == 409 and "older" in older.json["error"]
    not_allowed = client.get("/v1/stream")
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "OPTIONS, POST"
    assert client.put("/metrics").headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.get("/nope").status_code == 404


def test_model_version_metrics_and_openapi(trained, client):
    version = ModelBundle.load(trained["model"]).version
    ready = client.get("/readyz").json
    assert ready["model_version"] == version and version.startswith("0.1.0+")
    rows = card_rows(trained["data"])
    streamed = client.post("/v1/stream", json=row_to_event(rows[0]))
    assert streamed.json["model_version"] == version
    batch = client.post("/v1/score", json={"transactions": [row_to_event(r) for r in rows[1:3]]})
    assert batch.json["model_version"] == version
    client.post("/v1/stream", json=dict(row_to_event(rows[1]), mcc=False))
    text = client.get("/metrics").data.decode()
    assert 'fraud_transactions_scored_total{endpoint="stream",model="xgboost"}' in text
    for series in ('fraud_http_requests_total{method="POST",route="/v1/stream",status="200"}',
                   'fraud_http_requests_total{method="POST",route="/v1/stream",status="422"}',
                   'fraud_http_requests_total{method="POST",route="/v1/score",status="200"}',
                   'fraud_http_request_duration_seconds_count{method="POST",route="/v1/stream"}',
                   f'fraud_model_info{{threshold="best_f1",version="{version}"}} 1.0'):
        assert series in text, series
    spec = client.get("/openapi.json").json
    assert {"/v1/stream", "/v1/score", "/readyz"} <= set(spec["paths"])
    assert "Transaction" in spec["components"]["schemas"]
    assert set(spec["paths"]["/v1/stream"]["post"]["responses"]) == {"200", "400", "409", "413", "422", "503"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(model: Path, state: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(state.parent / "prom"))
    proc = subprocess.Popen([sys.executable, "-m", "rocketce_fraud.cli", "serve", "--model", str(model),
                             "--bind", f"127.0.0.1:{port}", "--state-dir", str(state), "--workers", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not become ready")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_gunicorn_workers_share_history_across_restarts(trained, tmp_path):
    """Two workers, one SQLite store: a card's count is exact whichever worker answers, and survives a restart."""
    rows = card_rows(trained["data"], min_rows=25, skip=3)
    sample = tmp_path / "replay.csv"
    with open(sample, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:20])
    port = _free_port()
    proc = _start(trained["model"], tmp_path / "state", port)
    try:
        report = replay(f"http://127.0.0.1:{port}", sample)
        assert report["events"] == 20 and report["rejected"] == 0
        # Three more cards streamed concurrently (each in order): no lost update, no "database is locked".
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=3) as pool:
            reports = list(pool.map(lambda user: replay(f"http://127.0.0.1:{port}", sample, as_user=user),
                                    [700001, 700002, 700003]))
        for concurrent in reports:
            assert concurrent["rejected"] == 0
            assert concurrent["last_answer"] == {"card_history": 19, "model": "ensemble"}
            assert concurrent["alerts"] == report["alerts"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            assert "fraud_transactions_scored_total" in resp.read().decode()
    finally:
        _stop(proc)
    proc = _start(trained["model"], tmp_path / "state", port)
    try:
        from rocketce_fraud.client import post

        code, body = post(f"http://127.0.0.1:{port}/v1/stream", row_to_event(rows[20]))
        assert code == 200 and body["card_history"] == 20 and body["model"] == "ensemble"
    finally:
        _stop(proc)


def test_cli_synth_verify_and_errors(trained, tmp_path, capsys):
    from rocketce_fraud.cli import main

    out = tmp_path / "tiny.csv"
    assert main(["synth", "--users", "2", "--seed", "4", "--start-year", "2019", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == sum(1 for _ in open(out)) - 1
    assert main(["verify", "--model", str(trained["model"])]) == 0
    capsys.readouterr()
    broken = tmp_path / "model"
    shutil.copytree(trained["model"], broken)
    (broken / "lstm.npz").write_bytes(b"not the trained weights")
    assert main(["verify", "--model", str(broken)]) == 1  # runtime error
    assert "sha256" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "m")]) == 1
    for usage_error in (["serve", "--model", str(broken), "--bind", "no-port"], ["serve", "--workers", "0"],
                        ["no-such-command"]):
        with pytest.raises(SystemExit) as stopped:
            main(usage_error)
        assert stopped.value.code == 2, usage_error
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0 and capsys.readouterr().out.strip() == "rocketce-fraud 0.1.0"
