"""`rocketce-fraud train`: features, chronological split, LSTM + XGBoost, ensemble, reports, manifest.

Needs the `[train]` extra (tensorflow-cpu, xgboost, scikit-learn, pandas, matplotlib, tqdm).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .bundle import MANIFEST, write_manifest
from .features import (
    FEATURE_NAMES,
    WINDOW,
    CardState,
    Columns,
    Scaler,
    SeenSets,
    StaticEncoder,
    gather_windows,
    history_features,
    window_positions,
)
from .metrics import best_thresholds, score_report, window_f1
from .reader import read_chunks

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    epochs: int = 6
    lstm_units: int = 32
    batch_size: int = 512
    negatives_per_positive: int = 30      # resampling of training windows only
    max_train_windows: int = 120_000
    xgb_rounds: int = 300
    xgb_depth: int = 6
    cost_fn: float = 50.0                 # cost of a missed fraud, in units of a false alarm
    cost_fp: float = 1.0
    target_recall: float = 0.8
    seed: int = 7
    baseline: bool = True                 # also train the seed-style pipeline for the comparison


def _progress(iterable, **kwargs):
    try:
        from tqdm import tqdm
    except ImportError:  # progress bars are cosmetic
        return iterable
    # disable=None: bars on a terminal, silence in logs and CI.
    return tqdm(iterable, disable=None, **kwargs)


def load_dataset(path: Path) -> tuple[Columns, np.ndarray, np.ndarray]:
    """Stream the CSV in chunks; history features carry card state across chunk boundaries."""
    states: dict[int, CardState] = {}
    seen = SeenSets()
    parts, labels, hist = [], [], []
    last_key, last_minute = None, None
    for cols, y in _progress(read_chunks(path), desc="reading", unit="chunk"):
        _check_order(cols, last_key, last_minute)
        last_key, last_minute = int(cols.card_key[-1]), int(cols.minute[-1])
        hist.append(history_features(cols, states, seen))
        parts.append(cols)
        labels.append(y)
    if not parts:
        raise ValueError(f"{path}: no rows")
    cols = Columns(
        card_key=np.concatenate([p.card_key for p in parts]), minute=np.concatenate([p.minute for p in parts]),
        amount=np.concatenate([p.amount for p in parts]), channel=np.concatenate([p.channel for p in parts]),
        merchant=np.concatenate([p.merchant for p in parts]), mcc=np.concatenate([p.mcc for p in parts]),
        city=[c for p in parts for c in p.city], foreign=np.concatenate([p.foreign for p in parts]),
        errors=np.concatenate([p.errors for p in parts]),
    )
    return cols, np.concatenate(labels), np.concatenate(hist)


def _check_order(cols: Columns, prev_key: int | None, prev_minute: int | None) -> None:
    key = cols.card_key if prev_key is None else np.r_[prev_key, cols.card_key]
    minute = cols.minute if prev_minute is None else np.r_[prev_minute, cols.minute]
    same = key[1:] == key[:-1]
    if np.any(key[1:] < key[:-1]) or np.any(same & (minute[1:] < minute[:-1])):
        raise ValueError("rows must be ordered by User, Card, then time (as in the TabFormer file)")


def subset(cols: Columns, mask: np.ndarray) -> Columns:
    idx = np.flatnonzero(mask)
    return Columns(cols.card_key[idx], cols.minute[idx], cols.amount[idx], cols.channel[idx], cols.merchant[idx],
                   cols.mcc[idx], [cols.city[i] for i in idx], cols.foreign[idx], cols.errors[idx])


def chronological_split(minute: np.ndarray) -> tuple[np.ndarray, int, int]:
    """0 = train (oldest 70% of rows), 1 = validation (next 15%), 2 = test (newest 15%)."""
    t_val, t_test = (int(v) for v in np.quantile(minute, [0.70, 0.85]))
    split = np.where(minute < t_val, 0, np.where(minute < t_test, 1, 2))
    return split, t_val, t_test


def sample_windows(ends: np.ndarray, y: np.ndarray, cfg: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    pos, neg = ends[y[ends]], ends[~y[ends]]
    n_neg = min(len(neg), max(cfg.negatives_per_positive * max(len(pos), 1), 1000), cfg.max_train_windows)
    chosen = np.concatenate([pos, rng.choice(neg, size=n_neg, replace=False)])
    return np.sort(chosen)


def train_lstm(windows: np.ndarray, y: np.ndarray, val_windows: np.ndarray, val_y: np.ndarray, cfg: TrainConfig):
    import keras

    keras.utils.set_random_seed(cfg.seed)
    model = keras.Sequential([
        keras.Input(shape=(windows.shape[1], windows.shape[2])),
        keras.layers.LSTM(cfg.lstm_units, name="lstm"),
        keras.layers.Dense(16, activation="relu", name="dense"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(curve="PR", name="pr_auc")])
    pos = max(float(y.sum()), 1.0)
    class_weight = {0: 1.0, 1: min(float(len(y) - pos) / pos, 20.0)}
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_pr_auc", mode="max", patience=2,
                                               restore_best_weights=True)]
    model.fit(windows, y.astype(np.float32), validation_data=(val_windows, val_y.astype(np.float32)),
              epochs=cfg.epochs, batch_size=cfg.batch_size, class_weight=class_weight, callbacks=callbacks,
              verbose=2)   # one line per epoch
    return model


def lstm_weights(model) -> dict[str, np.ndarray]:
    kernel, recurrent, bias = model.get_layer("lstm").get_weights()
    dense_w, dense_b = model.get_layer("dense").get_weights()
    out_w, out_b = model.get_layer("out").get_weights()
    return {"lstm_kernel": kernel, "lstm_recurrent": recurrent, "lstm_bias": bias, "dense_kernel": dense_w,
            "dense_bias": dense_b, "out_kernel": out_w, "out_bias": out_b}


def train_xgb(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, cfg: TrainConfig):
    import xgboost as xgb

    pos = max(float(y.sum()), 1.0)
    params = {"objective": "binary:logistic", "eval_metric": "aucpr", "tree_method": "hist",
              "max_depth": cfg.xgb_depth, "eta": 0.08, "subsample": 0.8, "colsample_bytree": 0.8,
              "min_child_weight": 2, "scale_pos_weight": float(np.sqrt((len(y) - pos) / pos)),
              "nthread": min(os.cpu_count() or 1, 4), "seed": cfg.seed}
    dtrain = xgb.DMatrix(x, label=y)
    dval = xgb.DMatrix(x_val, label=y_val)
    return xgb.train(params, dtrain, num_boost_round=cfg.xgb_rounds, evals=[(dval, "val")],
                     early_stopping_rounds=30, verbose_eval=False, callbacks=[_xgb_progress(cfg.xgb_rounds)])


def _xgb_progress(rounds: int):
    """A tqdm bar over boosting rounds (defined here: xgboost is a training-only dependency)."""
    import xgboost as xgb

    class Progress(xgb.callback.TrainingCallback):
        def before_training(self, model):
            self.bar = _progress(None, total=rounds, desc="xgboost", unit="round", leave=False)
            return model

        def after_iteration(self, model, epoch, evals_log):
            if hasattr(self.bar, "update"):
                self.bar.update(1)
            return False

        def after_training(self, model):
            if hasattr(self.bar, "close"):
                self.bar.close()
            return model

    return Progress()


def xgb_predict(booster, x: np.ndarray) -> np.ndarray:
    import xgboost as xgb

    return booster.predict(xgb.DMatrix(x))


def predict_windows(runtime, x: np.ndarray, ends: np.ndarray, batch: int = 8192) -> np.ndarray:
    out = np.empty(len(ends), dtype=np.float64)
    for start in range(0, len(ends), batch):
        chunk = ends[start:start + batch]
        out[start:start + batch] = runtime.predict(gather_windows(x, chunk))
    return out


def pick_weight(y: np.ndarray, xgb_s: np.ndarray, lstm_s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    if y.sum() == 0:
        return 0.5
    grid = np.round(np.linspace(0, 1, 11), 2)
    scores = [average_precision_score(y, w * lstm_s + (1 - w) * xgb_s) for w in grid]
    return float(grid[int(np.argmax(scores))])


def run(data: Path, out: Path, cfg: TrainConfig) -> dict:
    from .runtime import ForestRuntime, LSTMRuntime

    started = time.monotonic()
    rng = np.random.default_rng(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    cols, y, hist = load_dataset(data)
    split, t_val, t_test = chronological_split(cols.minute)
    train_mask = split == 0
    if y[train_mask].sum() == 0 or y[split == 1].sum() == 0:
        raise ValueError("the training and validation periods need fraud rows; generate more users")
    encoder = StaticEncoder.fit(subset(cols, train_mask), y[train_mask])
    x = np.hstack([encoder.transform(cols), hist])
    del hist
    scaler = Scaler.fit(x[train_mask])
    x = scaler.transform(x, inplace=True)   # one feature matrix in memory, not two
    log.info("features: %d rows x %d", *x.shape)

    log.info("xgboost: %d training rows (%d fraud)", train_mask.sum(), y[train_mask].sum())
    booster = train_xgb(x[train_mask], y[train_mask], x[split == 1], y[split == 1], cfg)
    booster = booster[: booster.best_iteration + 1]   # ship exactly the trees the early stopping kept
    booster.save_model(out / "xgb.json")
    forest = ForestRuntime.load(out / "xgb.json")
    xgb_scores = xgb_predict(booster, x)

    position = window_positions(cols.card_key)
    eligible = position >= WINDOW - 1
    ends = {s: np.flatnonzero(eligible & (split == s)) for s in range(3)}
    train_ends = sample_windows(ends[0], y, cfg, rng)
    val_fit_ends = sample_windows(ends[1], y, cfg, rng)
    log.info("lstm: %d training windows of %d (%d fraud), up to %d epochs", len(train_ends), WINDOW,
             y[train_ends].sum(), cfg.epochs)
    model = train_lstm(gather_windows(x, train_ends), y[train_ends], gather_windows(x, val_fit_ends),
                       y[val_fit_ends], cfg)
    weights = lstm_weights(model)
    np.savez(out / "lstm.npz", **weights)
    model.save(out / "lstm.keras")
    lstm_rt = LSTMRuntime(weights)
    lstm_scores = np.full(len(y), np.nan)
    for s in (1, 2):
        lstm_scores[ends[s]] = predict_windows(lstm_rt, x, ends[s])

    weight = pick_weight(y[ends[1]], xgb_scores[ends[1]], lstm_scores[ends[1]])
    ensemble = np.where(eligible, weight * np.nan_to_num(lstm_scores) + (1 - weight) * xgb_scores, xgb_scores)
    val, test = split == 1, split == 2
    thresholds = best_thresholds(y[val], ensemble[val], cfg.cost_fn, cfg.cost_fp, cfg.target_recall)
    xgb_thr = best_thresholds(y[val], xgb_scores[val], cfg.cost_fn, cfg.cost_fp, cfg.target_recall)
    lstm_thr = best_thresholds(y[ends[1]], lstm_scores[ends[1]], cfg.cost_fn, cfg.cost_fp, cfg.target_recall)
    metrics = {
        "version": __version__,
        "data": {"rows": int(len(y)), "fraud_rows": int(y.sum()), "features": FEATURE_NAMES,
                 "split": {name: {"rows": int((split == s).sum()), "fraud": int(y[split == s].sum())}
                           for s, name in enumerate(("train", "val", "test"))},
                 "split_minutes": [t_val, t_test], "lstm_train_windows": int(len(train_ends)),
                 "lstm_train_fraud_windows": int(y[train_ends].sum())},
        "ensemble": {"lstm_weight": weight, "thresholds": thresholds,
                     "test": score_report(y[test], ensemble[test], thresholds)},
        "xgboost": {"thresholds": xgb_thr, "test": score_report(y[test], xgb_scores[test], xgb_thr),
                    "trees": int(booster.num_boosted_rounds())},
        "lstm": {"thresholds": lstm_thr,
                 "test_windows": score_report(y[ends[2]], lstm_scores[ends[2]], lstm_thr)},
        "ensemble_on_windows": score_report(y[ends[2]], ensemble[ends[2]], thresholds),
        "window_level": window_f1(y, ensemble, ends[1], ends[2]),
        "config": cfg.__dict__,
    }
    # Parity of the numpy runtimes with the training libraries on real validation rows.
    probe = ends[1][:512]
    metrics["runtime_parity"] = {
        "xgb_max_abs_diff": float(np.max(np.abs(forest.predict(x[probe]) - xgb_scores[probe]), initial=0.0)),
        "lstm_max_abs_diff": float(np.max(np.abs(
            model.predict(gather_windows(x, probe), verbose=0)[:, 0] - lstm_scores[probe]), initial=0.0)),
    }
    if cfg.baseline:
        from .baseline import seed_pipeline

        log.info("seed-style pipeline for the comparison (raw columns, cross-card windows)")
        metrics["seed_baseline"] = seed_pipeline(cols, y, split, cfg)
        seed_ap = metrics["seed_baseline"]["test"]["pr_auc"]
        metrics["pr_auc_vs_seed"] = metrics["ensemble"]["test"]["pr_auc"] / seed_ap if seed_ap else None

    (out / "preprocess.json").write_text(json.dumps({
        "features": FEATURE_NAMES, "window": WINDOW, "encoder": encoder.to_dict(), "scaler": scaler.to_dict(),
    }))
    (out / "ensemble.json").write_text(json.dumps({
        "lstm_weight": weight, "thresholds": thresholds, "default_threshold": "best_f1",
    }, indent=1))
    metrics["train_seconds"] = round(time.monotonic() - started, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    from .plots import write_plots

    write_plots(out, y, {"ensemble": (test, ensemble), "xgboost": (test, xgb_scores),
                         "lstm": (ends[2], lstm_scores)}, metrics)
    write_manifest(out, {"data": str(data), "created_by": f"rocketce-fraud {__version__}"})
    log.info("wrote %s", out / MANIFEST)
    return metrics
