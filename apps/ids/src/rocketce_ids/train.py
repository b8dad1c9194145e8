"""Training: preprocessing + MLP classifier + autoencoder (normal traffic only) in PyTorch, exported to numpy.

Everything that is chosen (scaling, vocabularies, thresholds, the verdict rule) is chosen on the training file:
a stratified validation split of it picks the thresholds; test files are only ever scored.
"""

from __future__ import annotations

import json
import platform
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import __version__
from .data import LabelledData, load_nslkdd, sha256_file
from .evaluation import binary_metrics, evaluate_file, evaluate_scores, plot_evaluation
from .model import ARTIFACTS, MANIFEST, DenseNet, IdsModel, artifacts_digest, reconstruction_error
from .preprocessing import Preprocessor
from .settings import TrainConfig

MLP_THRESHOLD = 0.5  # a calibrated probability: no reason to move it


def _seed_everything(seed: int, threads: int):
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    return torch


def split_validation(data: LabelledData, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (normal/attack) split of row indices into (fit, validation)."""
    fit, validation = [], []
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(data.is_attack == label))
        cut = int(round(len(rows) * fraction))
        validation.append(rows[:cut])
        fit.append(rows[cut:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(validation))


def _dense(torch, sizes: list[int]) -> object:
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _export(net) -> DenseNet:
    linear = [m for m in net if m.__class__.__name__ == "Linear"]
    return DenseNet(
        tuple(m.weight.detach().numpy().T.copy() for m in linear),
        tuple(m.bias.detach().numpy().copy() for m in linear),
    )


def _fit(torch, net, inputs, targets, *, loss_fn, epochs, config: TrainConfig, desc: str, generator) -> list[float]:
    from tqdm.auto import tqdm

    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    x = torch.from_numpy(inputs)
    y = torch.from_numpy(targets)
    losses = []
    bar = tqdm(range(epochs), desc=desc, unit="epoch", disable=not config.progress, leave=True)
    for _ in bar:
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), config.batch_size):
            batch = order[start : start + config.batch_size]
            optimiser.zero_grad()
            loss = loss_fn(net(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x))
        bar.set_postfix(loss=f"{losses[-1]:.5f}")
    return losses


def choose_threshold(errors: np.ndarray, truth: np.ndarray) -> float:
    """The reconstruction-error threshold (attack when error >= it) with the best F1 on validation rows."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(truth, errors)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])  # the last point (recall 0) has no threshold


def train(train_path: str | Path, test_paths: list[str | Path], out_dir: str | Path, config: TrainConfig) -> dict:
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch = _seed_everything(config.seed, config.threads)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)

    data = load_nslkdd(train_path)
    if config.max_train_rows and len(data) > config.max_train_rows:
        data = data.take(np.sort(rng.choice(len(data), config.max_train_rows, replace=False)))
    fit_rows, val_rows = split_validation(data, config.validation_fraction, rng)
    fit, val = data.take(fit_rows), data.take(val_rows)

    preprocessor = Preprocessor.fit(fit.records, config.min_category_count)
    x_fit = preprocessor.transform(fit.records)
    y_fit = fit.is_attack.astype(np.float32)[:, None]
    width = preprocessor.n_outputs

    mlp = _dense(torch, [width, *config.mlp_hidden, 1])
    mlp_loss = _fit(torch, mlp, x_fit, y_fit, loss_fn=torch.nn.BCEWithLogitsLoss(), epochs=config.mlp_epochs,
                    config=config, desc="mlp", generator=generator)

    x_normal = x_fit[fit.is_attack == 0]
    autoencoder = _dense(torch, [width, *config.ae_hidden, *reversed(config.ae_hidden[:-1]), width])
    ae_loss = _fit(torch, autoencoder, x_normal, x_normal, loss_fn=torch.nn.MSELoss(), epochs=config.ae_epochs,
                   config=config, desc="autoencoder", generator=generator)

    # Thresholds and the verdict rule from the validation split of the training file (never a test file).
    mlp_np, ae_np = _export(mlp), _export(autoencoder)
    ae_threshold = choose_threshold(reconstruction_error(ae_np, preprocessor.transform(val.records)), val.is_attack)
    draft = IdsModel(preprocessor, mlp_np, ae_np, ae_threshold, MLP_THRESHOLD, "either", "draft", {})
    val_scores = draft.score(val.records)
    rule_f1 = {
        "autoencoder": binary_metrics(val.is_attack, val_scores.autoencoder_attack, None)["f1"],
        "mlp": binary_metrics(val.is_attack, val_scores.mlp_attack, None)["f1"],
        "either": binary_metrics(val.is_attack, val_scores.attack, None)["f1"],
    }
    # The MLP only knows attack families present in training; a rule without the anomaly detector would be blind
    # to new ones, which the validation split (same families) cannot show. So the verdict keeps the autoencoder
    # and adds the MLP only when that helps on validation.
    verdict_rule = "either" if rule_f1["either"] >= rule_f1["autoencoder"] else "autoencoder"

    mlp_np.save(out / "mlp.npz")
    ae_np.save(out / "autoencoder.npz")
    preprocessor.save(out / "preprocessing.json")
    weights_digest = artifacts_digest({n: sha256_file(out / n) for n in ("mlp.npz", "autoencoder.npz",
                                                                         "preprocessing.json")})
    model_info = {
        "version": f"{__version__}+{weights_digest}",
        "features": preprocessor.n_outputs,
        "verdict_rule": verdict_rule,
        "verdict_rule_validation_f1": rule_f1,
        "mlp": {"layers": [width, *config.mlp_hidden, 1], "threshold": MLP_THRESHOLD, "loss_per_epoch": mlp_loss},
        "autoencoder": {
            "layers": [width, *config.ae_hidden, *reversed(config.ae_hidden[:-1]), width],
            "threshold": ae_threshold,
            "threshold_rule": "attack when error >= threshold; best F1 on the validation split of the training file",
            "loss_per_epoch": ae_loss,
        },
    }
    (out / "model.json").write_text(json.dumps(model_info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    _write_manifest(out, train_path, data, fit=fit, val=val, config=config)
    model = IdsModel.load(out)

    metrics: dict = {"model_version": model.version, "validation": evaluate_scores(model, model.score(val.records),
                                                                                     val.is_attack)}
    plots: list[str] = []
    for path in test_paths:
        test = load_nslkdd(path)
        name = Path(path).name.removesuffix(".gz").removesuffix(".txt")
        metrics[name], scores = evaluate_file(model, test)
        if config.plots:
            plots += plot_evaluation(model, name, scores, test.is_attack, out)
    metrics["train_seconds"] = round(time.perf_counter() - started, 2)
    metrics["plots"] = plots
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return metrics


def _write_manifest(out: Path, train_path, data: LabelledData, *, fit, val, config: TrainConfig) -> None:
    import torch

    manifest = {
        "artifacts": {name: sha256_file(out / name) for name in ARTIFACTS},
        "training_data": {
            "file": Path(train_path).name,
            "sha256": sha256_file(train_path),
            "rows_used": len(data),
            "fit_rows": len(fit),
            "validation_rows": len(val),
        },
        "seed": config.seed,
        "config": {k: v for k, v in asdict(config).items() if k not in ("progress", "plots")},
        "versions": {
            "rocketce_ids": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
