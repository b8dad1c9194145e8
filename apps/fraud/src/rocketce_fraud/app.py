"""Flask application: /v1/stream, /v1/score, /livez, /readyz, /metrics, /openapi.json.

Client mistakes get 4xx with a reason (400 not JSON, 422 validation, 409 out-of-order event, 404/405, 413); a
model directory that fails its checksums leaves the service alive but not ready (503 on /readyz and on scoring).
Every scoring answer and /readyz carry the model version.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from . import __version__
from .api import ScoreRequest, Transaction, openapi, to_columns
from .bundle import BundleError, ModelBundle
from .scoring import OutOfOrderError, Scorer
from .store import HistoryStore, StoreUnavailable, open_store

log = logging.getLogger(__name__)

# route is the URL rule ("unmatched" for unknown paths), so its values are bounded whatever clients send.
REQUESTS = Counter("fraud_http_requests_total", "HTTP requests by method, route and status (errors included)",
                   ["method", "route", "status"])
LATENCY = Histogram("fraud_http_request_duration_seconds", "Request handling time, errors included (probes excluded)",
                    ["method", "route"], buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0))
MODEL_INFO = Gauge("fraud_model_info", "1 for the model version the service serves", ["version", "threshold"],
                   multiprocess_mode="livemax")
PROBES = ("/livez", "/readyz", "/metrics")
SCORED = Counter("fraud_transactions_scored_total", "Transactions scored", ["endpoint", "model"])
ALERTS = Counter("fraud_alerts_total", "Transactions flagged as fraud", ["endpoint"])


_FIELD_NAMES = frozenset({"transactions", *Transaction.model_fields})


def _validation_details(exc: ValidationError) -> list[dict]:
    """Failing fields and why; union branch tags (pydantic internals such as "constrained-str") are cut off."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = []
        for part in err["loc"]:
            if not (isinstance(part, int) or part in _FIELD_NAMES):
                break
            loc.append(str(part))
        entry = {"loc": loc, "msg": err["msg"]}
        if entry not in details:
            details.append(entry)
    return details


def create_app(model_dir: str | Path, state_dir: str | Path, threshold: str | None = None,
               store: HistoryStore | None = None) -> Flask:
    """The service; the history store is `store` or the one the environment selects (store.open_store)."""
    app = Flask("rocketce_fraud")
    app.json.sort_keys = False
    status = {"ready": False, "reason": "starting"}
    scorer: Scorer | None = None
    try:
        bundle = ModelBundle.load(Path(model_dir), threshold)
        store = store if store is not None else open_store(state_dir)
        scorer = Scorer(bundle, store)
        status.update(ready=True, reason="model verified, history store open", store=store.describe(),
                      model_version=bundle.version, threshold=bundle.threshold_name, threshold_value=bundle.threshold)
        MODEL_INFO.labels(bundle.version, bundle.threshold_name).set(1)
    except (BundleError, OSError, ValueError, KeyError, ImportError) as exc:
        status.update(ready=False, reason=f"{type(exc).__name__}: {exc}")
        log.error("not ready: %s", status["reason"])

    def error(code: int, message: str, **extra) -> tuple[Response, int]:
        return jsonify({"error": message, **extra}), code

    def unavailable(exc: StoreUnavailable) -> tuple[Response, int]:
        log.warning("history store unavailable: %s", exc)
        return error(503, "history store unavailable", reason=str(exc))

    def parse(model):
        # JSON-mode validation (pydantic reads the bytes): the same types as JSON Schema, so the spec is exact.
        if not request.is_json:
            return None, error(400, "request body must be JSON (Content-Type: application/json)")
        try:
            return model.model_validate_json(request.get_data(cache=False)), None
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                return None, error(400, "request body is not valid JSON")
            return None, error(422, "validation failed", details=_validation_details(exc))

    @app.before_request
    def start_timer() -> None:
        request.environ["rocketce_fraud.start"] = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        # a 405 has no url_rule but a known path (no path variables here); anything else stays "unmatched"
        route = request.url_rule.rule if request.url_rule else (
            request.path if isinstance(request.routing_exception, MethodNotAllowed) else "unmatched")
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        if request.path not in PROBES:
            started = request.environ.get("rocketce_fraud.start", time.perf_counter())
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    @app.post("/v1/stream")
    def stream():
        if scorer is None:
            return error(503, "not ready", reason=status["reason"])
        txn, problem = parse(Transaction)
        if problem:
            return problem
        try:
            result = scorer.stream(to_columns([txn]), txn.event_id)
        except OutOfOrderError as exc:
            return error(409, str(exc))
        except StoreUnavailable as exc:
            return unavailable(exc)
        SCORED.labels("stream", result.model).inc()
        if result.fraud:
            ALERTS.labels("stream").inc()
        return jsonify({"score": round(result.score, 6), "fraud": result.fraud, "model": result.model,
                        "card_history": result.card_history, "threshold": scorer.bundle.threshold,
                        "model_version": scorer.bundle.version})

    @app.post("/v1/score")
    def score():
        if scorer is None:
            return error(503, "not ready", reason=status["reason"])
        req, problem = parse(ScoreRequest)
        if problem:
            return problem
        try:
            results = scorer.batch(to_columns(req.transactions))
        except StoreUnavailable as exc:
            return unavailable(exc)
        for r in results:
            SCORED.labels("batch", r.model).inc()
        ALERTS.labels("batch").inc(sum(r.fraud for r in results))
        return jsonify({"threshold": scorer.bundle.threshold, "model_version": scorer.bundle.version, "results": [
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
            return jsonify({"ready": False, "reason": f"history store unavailable: {exc}"}), 503
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

    document = openapi(__version__)

    @app.get("/openapi.json")
    def spec():
        return jsonify(document)

    @app.errorhandler(404)
    def not_found(_exc):
        return error(404, f"no such endpoint: {request.method} {request.path}")

    @app.errorhandler(405)
    def not_allowed(exc: MethodNotAllowed):
        response, code = error(405, f"method {request.method} not allowed on {request.path}")
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))  # RFC 9110: a 405 lists them
        return response, code

    @app.errorhandler(413)
    def too_large(_exc):
        return error(413, "request body too large")

    @app.errorhandler(HTTPException)
    def other_http_error(exc: HTTPException):
        # Flask's default answers are HTML; clients of a JSON API get JSON with the reason.
        return error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def internal(_exc):
        # A bug on our side: the traceback goes to the log, the client gets JSON without internals.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(500, "internal error (logged by the service)")

    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    return app
