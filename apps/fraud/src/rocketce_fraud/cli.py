"""Command line: rocketce-fraud synth | train | serve | verify | client."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .bundle import BundleError


def _bind(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rocketce-fraud", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate TabFormer-format transactions")
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.csv.gz")
    p.add_argument("--start-year", type=int, help="drop rows before this year (smaller, faster demo data)")
    p.add_argument("--end-year", type=int, help="drop rows after this year")
    p.add_argument("--first-user", type=int, default=0)

    p = sub.add_parser("train", help="train LSTM + XGBoost and write the model directory")
    p.add_argument("--data", type=Path, required=True, help="TabFormer-format FILE.csv[.gz]")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--cost-fn", type=float, default=50.0, help="cost of a missed fraud (in false-alarm units)")
    p.add_argument("--cost-fp", type=float, default=1.0)
    p.add_argument("--target-recall", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-baseline", action="store_true", help="skip the seed-style pipeline comparison")

    p = sub.add_parser("serve", help="serve the model over HTTP (gunicorn)")
    p.add_argument("--model", required=True, help="model directory written by train")
    p.add_argument("--bind", type=_bind, default="127.0.0.1:8080")
    p.add_argument("--state-dir", default=os.environ.get("STATE_DIRECTORY", "./fraud-state"),
                   help="where the per-card history store lives (default: $STATE_DIRECTORY from systemd)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threshold", choices=["best_f1", "min_cost", "target_recall"], default=None)

    p = sub.add_parser("verify", help="check a model directory against its manifest (sha256 of every file)")
    p.add_argument("--model", type=Path, required=True)

    p = sub.add_parser("client", help="replay a CSV against /v1/stream and report alerts")
    p.add_argument("--url", required=True)
    p.add_argument("--file", type=Path, required=True)
    p.add_argument("--limit", type=int)
    p.add_argument("--as-user", type=int, help="replay under this user id (a card history of its own)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "synth":
            from .synth import synthesize

            result = synthesize(args.out, args.users, args.seed, start_year=args.start_year, end_year=args.end_year,
                                first_user=args.first_user, progress=sys.stderr.isatty())
        elif args.command == "train":
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            from .train import TrainConfig, run

            cfg = TrainConfig(epochs=args.epochs, cost_fn=args.cost_fn, cost_fp=args.cost_fp,
                              target_recall=args.target_recall, seed=args.seed, baseline=not args.no_baseline)
            metrics = run(args.data, args.out, cfg)
            result = {"out": str(args.out), "test_pr_auc": metrics["ensemble"]["test"]["pr_auc"],
                      "xgboost_pr_auc": metrics["xgboost"]["test"]["pr_auc"],
                      "seed_pipeline_pr_auc": metrics.get("seed_baseline", {}).get("test", {}).get("pr_auc"),
                      "window_f1": metrics["window_level"]["f1"], "train_seconds": metrics["train_seconds"]}
        elif args.command == "serve":
            from .serve import run as serve

            serve(args.model, args.bind, args.state_dir, args.workers, args.threshold)
            return 0
        elif args.command == "verify":
            from .bundle import ModelBundle

            bundle = ModelBundle.load(args.model)
            result = {"model": str(args.model), "verified_files": len(bundle.manifest["files"]),
                      "threshold": bundle.threshold_name}
        else:
            from .client import replay

            result = replay(args.url, args.file, args.limit, as_user=args.as_user)
    except (ValueError, OSError, BundleError) as exc:
        print(f"rocketce-fraud {args.command}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
