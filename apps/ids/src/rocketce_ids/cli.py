"""`rocketce-ids` command line: train, evaluate, serve, client.

Exit codes: 0 success, 1 runtime error (bad data or model files, service unreachable), 2 usage error (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .errors import ModelIntegrityError
from .logs import LOG_FORMAT_ENV, LOG_FORMATS, configure_cli_logging, default_log_format
from .settings import TrainConfig

EXIT_OK, EXIT_RUNTIME_ERROR = 0, 1  # argparse itself exits 2 on usage errors


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
    parser = argparse.ArgumentParser(prog="rocketce-ids", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rocketce-ids {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-format", choices=LOG_FORMATS, default=default_log_format(),
                        help=f"text (default) or json: one JSON object per line (also ${LOG_FORMAT_ENV})")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, parents=[common])

    train = add_command("train", "train on an NSL-KDD training file, evaluate on test files")
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

    evaluate = add_command("evaluate", "score a labelled NSL-KDD file with a saved model")
    evaluate.add_argument("--model", required=True, type=Path)
    evaluate.add_argument("--data", required=True, type=Path)
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")

    serve = add_command("serve", "run the scoring service under gunicorn")
    serve.add_argument("--model", required=True, type=Path)
    serve.add_argument("--bind", type=_bind, default="127.0.0.1:8080")
    serve.add_argument("--workers", type=_positive_int, default=3,
                       help="worker processes (3 measured best on 2 cores: one can read while two compute)")
    serve.add_argument("--threads", type=_positive_int, default=1,
                       help="threads per worker; 1 = sync workers (fastest measured on 2 cores), more = gthread")
    serve.add_argument("--max-body-bytes", type=_positive_int, default=None)

    client = add_command("client", "stream a labelled file to the service and summarise")
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
    configure_cli_logging(args.log_format)
    try:
        return _run(args)
    except ModuleNotFoundError as exc:
        if exc.name not in TRAIN_EXTRA_MODULES:
            raise
        message = f"needs {exc.name}; install rocketce-ids[train]"
    except (ModelIntegrityError, OSError, ValueError) as exc:  # data.DataFormatError is a ValueError
        message = str(exc)
    print(f"rocketce-ids {args.command}: {message}", file=sys.stderr)
    return EXIT_RUNTIME_ERROR


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
        return EXIT_OK
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
        return EXIT_OK
    if args.command == "serve":
        # One BLAS thread per worker: the workers are the parallelism. Must be set before numpy loads; on 2 busy
        # cores a 2nd OpenBLAS thread made a 22,544-row batch 2-3x slower (measured).
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from .serving import serve

        serve(str(args.model), bind=args.bind, workers=args.workers, threads=args.threads,
              max_body_bytes=args.max_body_bytes, log_format=args.log_format)
        return EXIT_OK
    if args.command == "client":
        from .client import ClientError, score_file

        try:
            summary = score_file(args.url.rstrip("/") + "/v1/predict", args.file, args.batch_size)
        except ClientError as exc:
            print(f"rocketce-ids client: {exc}", file=sys.stderr)
            return EXIT_RUNTIME_ERROR
        print(json.dumps(summary.as_dict(), indent=1))
        return EXIT_OK
    raise AssertionError(f"unhandled command {args.command}")  # argparse allows only the commands above


if __name__ == "__main__":
    sys.exit(main())
