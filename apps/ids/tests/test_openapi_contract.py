"""The live service (`rocketce-ids serve`, gunicorn, 2 workers, JSON logs) against its own OpenAPI document.

Schemathesis with all checks, >= 500 cases per operation with input; see apps/contract_testing.py.
"""

from __future__ import annotations

import os
import sys


def test_schemathesis_all_checks_find_nothing(contract, trained, tmp_path):
    port = contract.free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "rocketce_ids.cli", "serve", "--model", str(trained[0]),
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-format", "json"]
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    with contract.live_service(argv, env, tmp_path / "service.log", base, timeout_s=30):
        summary = contract.assert_contract_holds(base, tmp_path, operations=4, counter="ids_http_requests_total",
                                                 routes=("/v1/predict",))
    print(summary)
    contract.assert_json_log_lines(tmp_path / "service.log")
