"""Command line: rocketce-fraud synth | train | serve | verify | client.

Exit codes: 0 success, 1 runtime error (bad data or model files, service unreachable), 2 usage error (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .bundle import BundleError
from .logs import LOG_FORMAT_ENV, LOG_FORMATS, configure_cli_logging, log_format_from_env

EXIT_OK, EXIT_RUNTIME_ERROR = 0, 1  # argparse exits 2 on a usage error


def _bind(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return value


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rocketce-fraud", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rocketce-fraud {__version__}")
    logs = argparse.ArgumentParser(add_help=False)
    logs.add_argument("--log-format", choices=LOG_FORMATS, default=log_format_from_env(),
                      help=f"text (default) or json, one object per line (also ${LOG_FORMAT_ENV}=json)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate TabFormer-format transactions", parents=[logs])
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.csv.gz")
    p.add_argument("--start-year", type=int, help="drop rows before this year (smaller, faster demo data)")
    p.add_argument("--end-year", type=int, help="drop rows after this year")
    p.add_argument("--first-user", type=int, default=0)

    p = sub.add_parser("train", help="train LSTM + XGBoost and write the model directory", parents=[logs])
    p.add_argument("--data", type=Path, required=True, help="TabFormer-format FILE.csv[.gz]")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--cost-fn", type=float, default=50.0, help="cost of a missed fraud (in false-alarm units)")
    p.add_argument("--cost-fp", type=float, default=1.0)
    p.add_argument("--target-recall", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-baseline", action="store_true", help="skip the seed-style pipeline comparison")

    p = sub.add_parser("serve", help="serve the model over HTTP (gunicorn)", parents=[logs])
    p.add_argument("--model", required=True, help="model directory written by train")
    p.add_argument("--bind", type=_bind, default="127.0.0.1:8080")
    p.add_argument("--state-dir", default=os.environ.get("STATE_DIRECTORY", "./fraud-state"),
                   help="where the per-card history store lives (default: $STATE_DIRECTORY from systemd)")
    p.add_argument("--workers", type=_positive_int, default=2)
    p.add_argument("--threshold", choices=["best_f1", "min_cost", "target_recall"], default=None)

    p = sub.add_parser("verify", help="check a model directory against its manifest (sha256 of every file)",
                       parents=[logs])
    p.add_argument("--model", type=Path, required=True)

    p = sub.add_parser("client", help="replay a CSV against /v1/stream and report alerts", parents=[logs])
    p.add_argument("--url", required=True, action="append",
                   help="service URL; repeated: the events alternate between the instances")
    p.add_argument("--event-ids", action="store_true", help="send r<row number> as each event's event_id")
    p.add_argument("--concurrent", action="store_true",
                   help="with several --url: each instance replays the whole file at the same moment (event ids)")
    p.add_argument("--file", type=Path, required=True)
    p.add_argument("--limit", type=int)
    p.add_argument("--as-user", type=int, help="replay under this user id (a card history of its own)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_cli_logging(args.log_format)
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

            serve(args.model, args.bind, args.state_dir, args.workers, args.threshold, log_format=args.log_format)
            return EXIT_OK
        elif args.command == "verify":
            from .bundle import ModelBundle

            bundle = ModelBundle.load(args.model)
            result = {"model": str(args.model), "verified_files": len(bundle.manifest["files"]),
                      "threshold": bundle.threshold_name}
        else:
            from .client import replay, replay_concurrently

            if args.concurrent:
                result = replay_concurrently(args.url, args.file, args.limit, as_user=args.as_user)
            else:
                result = replay(args.url, args.file, args.limit, as_user=args.as_user, event_ids=args.event_ids)
    except (ValueError, OSError, BundleError) as exc:
        print(f"rocketce-fraud {args.command}: {exc}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    print(json.dumps(result, indent=1))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
