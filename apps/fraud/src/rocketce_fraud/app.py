"""Flask application: /v1/stream, /v1/score, /livez, /readyz, /metrics, /openapi.json.

Client mistakes get 4xx with a reason (400 not JSON, 422 validation, 409 out-of-order event); a model directory
that fails its checksums leaves the service alive but not ready (503 on /readyz and on scoring).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import ValidationError

from .api import ScoreRequest, Transaction, openapi, to_columns
from .bundle import BundleError, ModelBundle
from .scoring import OutOfOrderError, Scorer
from .store import HistoryStore

log = logging.getLogger(__name__)

REQUESTS = Counter("fraud_requests_total", "HTTP requests", ["endpoint", "status"])
LATENCY = Histogram("fraud_request_seconds", "Scoring request latency", ["endpoint"],
                    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0))
SCORED = Counter("fraud_transactions_scored_total", "Transactions scored", ["endpoint", "model"])
ALERTS = Counter("fraud_alerts_total", "Transactions flagged as fraud", ["endpoint"])


def _validation_details(exc: ValidationError) -> list[dict]:
    return [{"loc": [str(p) for p in err["loc"]], "msg": err["msg"]} for err in exc.errors()]


def create_app(model_dir: str | Path, state_dir: str | Path, threshold: str | None = None) -> Flask:
    app = Flask("rocketce_fraud")
    app.json.sort_keys = False
    status = {"ready": False, "reason": "starting"}
    scorer: Scorer | None = None
    try:
        bundle = ModelBundle.load(Path(model_dir), threshold)
        store = HistoryStore(Path(state_dir) / "history.sqlite3")
        scorer = Scorer(bundle, store)
        status.update(ready=True, reason="model verified, history store open",
                      threshold=bundle.threshold_name, threshold_value=bundle.threshold)
    except (BundleError, OSError, ValueError, KeyError) as exc:
        status.update(ready=False, reason=f"{type(exc).__name__}: {exc}")
        log.error("not ready: %s", status["reason"])

    def error(code: int, message: str, **extra) -> tuple[Response, int]:
        return jsonify({"error": message, **extra}), code

    def parse(model):
        payload = request.get_json(silent=True)
        if payload is None:
            return None, error(400, "request body must be JSON (Content-Type: application/json)")
        try:
            return model.model_validate(payload), None
        except ValidationError as exc:
            return None, error(422, "validation failed", details=_validation_details(exc))

    @app.after_request
    def count(response: Response) -> Response:
        if request.endpoint in ("stream", "score"):
            REQUESTS.labels(request.endpoint, str(response.status_code)).inc()
        return response

    @app.post("/v1/stream")
    def stream():
        started = time.perf_counter()
        if scorer is None:
            return error(503, "not ready", reason=status["reason"])
        txn, problem = parse(Transaction)
        if problem:
            return problem
        try:
            result = scorer.stream(to_columns([txn]))
        except OutOfOrderError as exc:
            return error(409, str(exc))
        SCORED.labels("stream", result.model).inc()
        if result.fraud:
            ALERTS.labels("stream").inc()
        LATENCY.labels("stream").observe(time.perf_counter() - started)
        return jsonify({"score": round(result.score, 6), "fraud": result.fraud, "model": result.model,
                        "card_history": result.card_history, "threshold": scorer.bundle.threshold})

    @app.post("/v1/score")
    def score():
        started = time.perf_counter()
        if scorer is None:
            return error(503, "not ready", reason=status["reason"])
        req, problem = parse(ScoreRequest)
        if problem:
            return problem
        results = scorer.batch(to_columns(req.transactions))
        for r in results:
            SCORED.labels("batch", r.model).inc()
        ALERTS.labels("batch").inc(sum(r.fraud for r in results))
        LATENCY.labels("batch").observe(time.perf_counter() - started)
        return jsonify({"threshold": scorer.bundle.threshold, "results": [
            {"score": round(r.score, 6), "fraud": r.fraud, "model": r.model, "card_history": r.card_history}
            for r in results]})

    @app.get("/livez")
    def livez():
        return jsonify({"status": "alive"})

    @app.get("/readyz")
    def readyz():
        if scorer is None:
            return jsonify({"ready": False, "reason": status["reason"]}), 503
        try:
            scorer.store.ping()
        except Exception as exc:  # noqa: BLE001 - any store failure means "not ready", reported with its reason
            return jsonify({"ready": False, "reason": f"history store: {exc}"}), 503
        return jsonify(status)

    @app.get("/metrics")
    def metrics():
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            data = generate_latest(registry)
        else:
            data = generate_latest()
        return Response(data, mimetype=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json")
    def spec():
        return jsonify(openapi())

    @app.errorhandler(404)
    def not_found(_exc):
        return error(404, f"no such endpoint: {request.method} {request.path}")

    @app.errorhandler(405)
    def not_allowed(_exc):
        return error(405, f"method {request.method} not allowed on {request.path}")

    @app.errorhandler(500)
    def internal(_exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(500, "internal error (logged by the service)")

    @app.errorhandler(413)
    def too_large(_exc):
        return error(413, "request body too large")

    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    return app
