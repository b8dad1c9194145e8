"""The live service (`rocketce-fraud serve`, gunicorn, 2 workers, an empty history store, JSON logs) against its
own OpenAPI document: schemathesis with all checks, >= 500 cases per operation with input (apps/contract_testing.py).
"""

from __future__ import annotations

import os
import sys


def test_schemathesis_all_checks_find_nothing(contract, trained, tmp_path):
    port = contract.free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "rocketce_fraud.cli", "serve", "--model", str(trained["model"]),
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-format", "json",
            "--state-dir", str(tmp_path / "state")]
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    with contract.live_service(argv, env, tmp_path / "service.log", base, timeout_s=60):
        summary = contract.assert_contract_holds(base, tmp_path, operations=5, counter="fraud_http_requests_total",
                                                 routes=("/v1/stream", "/v1/score"))
    print(summary)
    contract.assert_json_log_lines(tmp_path / "service.log")
