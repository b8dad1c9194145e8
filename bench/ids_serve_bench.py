#!/usr/bin/env python3
"""IDS serving: `rocketce-ids serve` against the guide's own Flask server, same model, same run, loaded by wrk.

    python bench/ids_serve_bench.py [--model artifacts/models/ids] [--seconds 5] [--rounds 2] [--json OUT]
                                    [--profile DIR]

Baseline = the guide's server rebuilt faithfully (bench/baselines/guide_ids.py: Flask development server; per
request a one-row DataFrame, the saved LabelEncoders, the saved StandardScaler, the torch autoencoder). Project =
`rocketce-ids serve` as deployed (its defaults: the same worker model and count the role runs). Both listen on
127.0.0.1; before timing, both must give the same reconstruction error for the same records.

Load: wrk (C) with a Lua script POSTing single-record bodies from KDDTest+ (records whose categories the model
knows: the guide answers 400 to any other), on 1 and 8 keep-alive connections. The servers are alternated
(baseline, project, baseline, project, ... for `--rounds` rounds) so a change in machine load hits both; each
figure is the median over the rounds. The batch figure is the server time (Server-Timing) of one request with all
of KDDTest+, best of 3; its baseline is the guide's only way to score a file: one request per record, at the
guide's 8-connection rate. `--profile DIR` also records a py-spy flame graph (SVG) of the project's workers under
the 8-connection load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _wrk  # noqa: E402
from _common import figure, free_port, post_json, start, stop, wait_http  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "artifacts" / "models" / "ids"
DEFAULT_DATA = ROOT / "apps" / "ids" / "data" / "nsl-kdd" / "KDDTest+.txt.gz"
GUIDE = Path(__file__).resolve().parent / "baselines" / "guide_ids.py"


# ----------------------------------------------------------------------------- measurements
def same_model_check(project: str, baseline: str, records: list) -> None:
    """Both servers must give the same reconstruction errors, or the comparison is meaningless."""
    for record in records:
        _, mine, _ = post_json(f"{project}/v1/predict", {"record": record})
        _, guide, _ = post_json(f"{baseline}/predict", {"features": record})
        if not np.isclose(mine["results"][0]["reconstruction_error"], guide["reconstruction_error"], rtol=1e-4,
                          atol=1e-7):
            raise SystemExit(f"baseline and project disagree on {record}: {mine} vs {guide}")


def batch_server_ms(project: str, records: list, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        status, answer, headers = post_json(f"{project}/v1/predict", {"records": records})
        if status != 200 or answer["count"] != len(records):
            raise SystemExit(f"batch of {len(records)} records: HTTP {status} {str(answer)[:300]}")
        times.append(float(headers["Server-Timing"].split("dur=")[1]))
    return min(times)


def profile(project_proc: subprocess.Popen, url: str, bodies: list[bytes], seconds: float, out: Path) -> None:
    """py-spy flame graph of the project's gunicorn master and workers while wrk loads it on 8 connections."""
    out.mkdir(parents=True, exist_ok=True)
    svg = out / "ids_serve_flame.svg"
    spy = subprocess.Popen(["py-spy", "record", "--subprocesses", "--nonblocking", "-r", "200", "-f", "flamegraph",
                            "-d", str(int(seconds)), "-o", str(svg), "--pid", str(project_proc.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    _wrk.run(url, "/v1/predict", bodies, connections=8, seconds=seconds)
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0:
        print(f"py-spy failed ({spy.returncode}): {err.strip()[-300:]}", file=sys.stderr)


# ----------------------------------------------------------------------------- main
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="a trained model directory")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled NSL-KDD file for request bodies")
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk time per scenario and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternated rounds (baseline, project) per scenario")
    parser.add_argument("--workers", type=int, help="override rocketce-ids serve --workers (default: its own)")
    parser.add_argument("--threads", type=int, help="override rocketce-ids serve --threads (default: its own)")
    parser.add_argument("--json", type=Path, help="write the figures here (make bench's contract)")
    parser.add_argument("--profile", type=Path, help="write a py-spy flame graph of the project here")
    args = parser.parse_args(argv)

    from rocketce_ids.client import record_values
    from rocketce_ids.data import load_nslkdd
    from rocketce_ids.model import IdsModel
    from rocketce_ids.schema import CATEGORICAL_FEATURES, CATEGORICAL_INDEX

    data = load_nslkdd(args.data)
    records = [record_values(n, c) for n, c in zip(data.records.numeric, data.records.categorical)]
    vocab = IdsModel.load(args.model).preprocessor.vocabularies
    known = [r for r in records
             if all(r[i] in vocab[name] for i, name in zip(CATEGORICAL_INDEX, CATEGORICAL_FEATURES))]
    sample = known[:2000]
    project_bodies = [json.dumps({"record": r}).encode() for r in sample]
    guide_bodies = [json.dumps({"features": r}).encode() for r in sample]

    project_port, baseline_port = free_port(), free_port()
    project_url, baseline_url = f"http://127.0.0.1:{project_port}", f"http://127.0.0.1:{baseline_port}"
    serve = [sys.executable, "-m", "rocketce_ids.cli", "serve", "--model", str(args.model),
             "--bind", f"127.0.0.1:{project_port}"]
    serve += ["--workers", str(args.workers)] if args.workers else []
    serve += ["--threads", str(args.threads)] if args.threads else []
    project = start(serve)
    baseline = start([sys.executable, str(GUIDE), "--model", str(args.model), "--port", str(baseline_port)])
    runs: dict[str, list[dict]] = {}
    try:
        wait_http(f"{project_url}/readyz", project)
        wait_http(f"{baseline_url}/predict", baseline)
        same_model_check(project_url, baseline_url, sample[:20])
        for connections in (1, 8):  # warm-up of both, not counted
            _wrk.run(baseline_url, "/predict", guide_bodies, connections=connections, seconds=1)
            _wrk.run(project_url, "/v1/predict", project_bodies, connections=connections, seconds=1)
        for _ in range(args.rounds):
            for connections in (1, 8):
                runs.setdefault(f"guide_{connections}", []).append(
                    _wrk.run(baseline_url, "/predict", guide_bodies, connections=connections, seconds=args.seconds))
                runs.setdefault(f"project_{connections}", []).append(
                    _wrk.run(project_url, "/v1/predict", project_bodies, connections=connections,
                             seconds=args.seconds))
        batch_ms = batch_server_ms(project_url, records)
        if args.profile:
            profile(project, project_url, project_bodies, args.seconds, args.profile)
    finally:
        stop(project)
        stop(baseline)

    failed = {k: [r["errors"] for r in v] for k, v in runs.items() if any(r["errors"] for r in v)}
    if failed:
        raise SystemExit(f"requests failed during the benchmark: {failed}")
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("req_per_s", "p50_ms", "p99_ms")}
           for k, v in runs.items()}
    g1, p1, g8, p8 = med["guide_1"], med["project_1"], med["guide_8"], med["project_8"]
    r1, r8 = p1["req_per_s"] / g1["req_per_s"], p8["req_per_s"] / g8["req_per_s"]
    guide_batch_ms = len(records) / g8["req_per_s"] * 1000
    rounds = f"median of {args.rounds} alternated rounds of {args.seconds:g} s (wrk)"
    figures = [
        figure(name="IDS 1 connection", value=p1["req_per_s"], unit="req/s",
               baseline_name="guide's Flask server, 1 connection", baseline_value=g1["req_per_s"], ratio=r1,
               target=">= 10x", met=r1 >= 10,
               notes=f"{rounds}; p50 {p1['p50_ms']} vs {g1['p50_ms']} ms, p99 {p1['p99_ms']} vs {g1['p99_ms']} ms"),
        figure(name="IDS 8 connections", value=p8["req_per_s"], unit="req/s",
               baseline_name="guide's Flask server, 8 connections", baseline_value=g8["req_per_s"], ratio=r8,
               target=">= 3000 req/s and >= 15x", met=p8["req_per_s"] >= 3000 and r8 >= 15,
               notes=f"{rounds}; p50 {p8['p50_ms']} vs {g8['p50_ms']} ms"),
        figure(name="IDS 8 connections p99", value=p8["p99_ms"], unit="ms",
               baseline_name="guide's Flask server, 8 connections p99", baseline_value=g8["p99_ms"],
               ratio=g8["p99_ms"] / p8["p99_ms"], target="<= 5 ms", met=p8["p99_ms"] <= 5.0,
               notes="ratio = baseline / project (lower is better)"),
        figure(name="IDS KDDTest+ batch server time", value=round(batch_ms, 1), unit="ms",
               baseline_name="guide: one request per record at its 8-connection rate",
               baseline_value=round(guide_batch_ms, 1), ratio=guide_batch_ms / batch_ms, target="<= 150 ms",
               met=batch_ms <= 150.0, notes=f"{len(records)} records in one request, Server-Timing, best of 3"),
    ]
    result = {"bench": "ids_serve", "figures": figures, "runs": runs,
              "records": {"file": str(args.data), "rows": len(records), "load_sample": len(sample)}}
    for f in figures:
        print(f"{f['name']:<34} {f['value']:>10} {f['unit']:<5} baseline {f['baseline_value']:>10}  "
              f"ratio {f['ratio']:>6}  target {f['target']}: {'met' if f['met'] else 'NOT met'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
