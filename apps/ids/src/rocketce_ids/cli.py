"""`rocketce-ids` command line: train, evaluate, serve, client."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .settings import TrainConfig


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give layer sizes like 128,64,32") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be positive")
    return sizes


def _bind(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT")
    return text


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="rocketce-ids", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train on an NSL-KDD training file, evaluate on test files")
    train.add_argument("--train", required=True, type=Path, help="KDDTrain+.txt[.gz]")
    train.add_argument("--test", action="append", default=[], type=Path, help="a test file (repeatable)")
    train.add_argument("--out", required=True, type=Path, help="output model directory")
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument("--mlp-epochs", type=_positive_int, default=defaults.mlp_epochs)
    train.add_argument("--ae-epochs", type=_positive_int, default=defaults.ae_epochs)
    train.add_argument("--mlp-hidden", type=_hidden, default=defaults.mlp_hidden)
    train.add_argument("--ae-hidden", type=_hidden, default=defaults.ae_hidden)
    train.add_argument("--max-train-rows", type=_positive_int, default=None,
                       help="train on a random subsample (quick runs)")
    train.add_argument("--threads", type=_positive_int, default=defaults.threads)
    train.add_argument("--no-plots", action="store_true")
    train.add_argument("--no-progress", action="store_true")

    evaluate = sub.add_parser("evaluate", help="score a labelled NSL-KDD file with a saved model")
    evaluate.add_argument("--model", required=True, type=Path)
    evaluate.add_argument("--data", required=True, type=Path)
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")

    serve = sub.add_parser("serve", help="run the scoring service under gunicorn")
    serve.add_argument("--model", required=True, type=Path)
    serve.add_argument("--bind", type=_bind, default="127.0.0.1:8080")
    serve.add_argument("--workers", type=_positive_int, default=3,
                       help="worker processes (3 measured best on 2 cores: one can read while two compute)")
    serve.add_argument("--threads", type=_positive_int, default=1,
                       help="threads per worker; 1 = sync workers (fastest measured on 2 cores), more = gthread")
    serve.add_argument("--max-body-bytes", type=_positive_int, default=None)

    client = sub.add_parser("client", help="stream a labelled file to the service and summarise")
    client.add_argument("--url", required=True, help="service base URL, e.g. http://127.0.0.1:8080")
    client.add_argument("--file", required=True, type=Path)
    client.add_argument("--batch-size", type=_positive_int, default=1000)
    return parser


def _print_metrics(name: str, metrics: dict) -> None:
    for detector, m in metrics.items():
        auc = f"{m['roc_auc']:.4f}" if m.get("roc_auc") is not None else "  -   "
        print(f"{name:<14} {detector:<12} acc {m['accuracy']:.4f}  prec {m['precision']:.4f}  "
              f"rec {m['recall']:.4f}  f1 {m['f1']:.4f}  auc {auc}  {m['confusion_matrix']}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ModuleNotFoundError as exc:
        if exc.name in TRAIN_EXTRA_MODULES:
            print(f"rocketce-ids {args.command}: needs {exc.name}; install rocketce-ids[train]", file=sys.stderr)
            return 1
        raise


# What the `train` extra brings; a serving-only install (the hosts) has none of them.
TRAIN_EXTRA_MODULES = {"torch", "sklearn", "matplotlib", "tqdm"}


def _run(args: argparse.Namespace) -> int:
    if args.command == "train":
        from .train import train

        config = TrainConfig(seed=args.seed, mlp_epochs=args.mlp_epochs, ae_epochs=args.ae_epochs,
                             mlp_hidden=args.mlp_hidden, ae_hidden=args.ae_hidden,
                             max_train_rows=args.max_train_rows, threads=args.threads,
                             plots=not args.no_plots, progress=not args.no_progress)
        metrics = train(args.train, args.test, args.out, config)
        for name, value in metrics.items():
            if isinstance(value, dict) and "ensemble" in value:
                _print_metrics(name, value)
        print(f"model {metrics['model_version']} written to {args.out} in {metrics['train_seconds']} s")
        return 0
    if args.command == "evaluate":
        from .data import load_nslkdd
        from .evaluation import evaluate_file
        from .model import IdsModel

        model = IdsModel.load(args.model)
        metrics, _ = evaluate_file(model, load_nslkdd(args.data))
        if args.json:
            print(json.dumps({"model_version": model.version, "file": str(args.data), "metrics": metrics}, indent=1))
        else:
            _print_metrics(args.data.name, metrics)
        return 0
    if args.command == "serve":
        # One BLAS thread per worker: the workers are the parallelism. Must be set before numpy loads; on 2 busy
        # cores a 2nd OpenBLAS thread made a 22,544-row batch 2-3x slower (measured).
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from .serving import serve

        serve(str(args.model), bind=args.bind, workers=args.workers, threads=args.threads,
              max_body_bytes=args.max_body_bytes)
        return 0
    if args.command == "client":
        from .client import ClientError, score_file
        from .data import DataFormatError

        try:
            summary = score_file(args.url.rstrip("/") + "/v1/predict", args.file, args.batch_size)
        except (ClientError, DataFormatError, OSError) as exc:
            print(f"rocketce-ids client: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(summary.as_dict(), indent=1))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
