"""The seed's fraud pipeline, rebuilt for an honest comparison on the same data and the same test period.

What the seed did: raw columns only (label-encoded merchant/city/MCC/errors, amount, date and time), windows of 7
cut from the file in row order without respecting card boundaries, models fitted on a random split, and the LSTM
and XGBoost probabilities averaged 50/50. Here it is trained on the same training period and scored on the same
chronological test period as the project pipeline.
"""

from __future__ import annotations

import numpy as np

from .features import WINDOW, Columns, Scaler


def raw_features(cols: Columns, vocab: dict[str, dict]) -> np.ndarray:
    day = cols.minute // 1440
    dates = (np.datetime64("1970-01-01", "D") + day.astype("timedelta64[D]"))
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    minute_of_day = cols.minute - day * 1440

    def encode(name, values):
        table = vocab[name]
        return [table.get(v, -1) for v in values]

    return np.column_stack([
        years, months, dom, minute_of_day // 60, minute_of_day % 60, cols.amount, cols.channel,
        encode("merchant", cols.merchant.tolist()), encode("city", cols.city), cols.mcc, cols.errors,
    ]).astype(np.float32)


def seed_pipeline(cols: Columns, y: np.ndarray, split: np.ndarray, cfg) -> dict:
    from .metrics import best_thresholds, score_report
    from .runtime import LSTMRuntime
    from .train import lstm_weights, predict_windows, train_lstm, train_xgb, xgb_predict

    rng = np.random.default_rng(cfg.seed + 1)
    train_rows = np.flatnonzero(split == 0)
    vocab = {
        "merchant": {m: i for i, m in enumerate(dict.fromkeys(cols.merchant[train_rows].tolist()))},
        "city": {c: i for i, c in enumerate(dict.fromkeys(cols.city[i] for i in train_rows))},
    }
    x = raw_features(cols, vocab)
    x = Scaler.fit(x[train_rows]).transform(x)
    # The seed's random split of the training rows (its early-stopping set shares bursts with its training set).
    shuffled = rng.permutation(train_rows)
    cut = int(len(shuffled) * 0.8)
    fit_rows, early_rows = np.sort(shuffled[:cut]), np.sort(shuffled[cut:])
    booster = train_xgb(x[fit_rows], y[fit_rows], x[early_rows], y[early_rows], cfg)
    xgb_scores = xgb_predict(booster[: booster.best_iteration + 1], x)
    # Windows in file order: row i-6..i whatever card they belong to.
    ends = np.arange(WINDOW - 1, len(y))
    train_ends = ends[split[ends] == 0]
    pos, neg = train_ends[y[train_ends]], train_ends[~y[train_ends]]
    n_neg = min(len(neg), max(cfg.negatives_per_positive * max(len(pos), 1), 1000), cfg.max_train_windows)
    chosen = rng.permutation(np.concatenate([pos, rng.choice(neg, size=n_neg, replace=False)]))
    cut = int(len(chosen) * 0.8)
    windows = x[chosen[:, None] + np.arange(-WINDOW + 1, 1)[None, :]]
    model = train_lstm(windows[:cut], y[chosen[:cut]], windows[cut:], y[chosen[cut:]], cfg)
    runtime = LSTMRuntime(lstm_weights(model))
    scores = xgb_scores.copy()
    scored = ends[split[ends] >= 1]
    scores[scored] = 0.5 * predict_windows(runtime, x, scored) + 0.5 * xgb_scores[scored]
    val, test = split == 1, split == 2
    thresholds = best_thresholds(y[val], scores[val], cfg.cost_fn, cfg.cost_fp, cfg.target_recall)
    return {"description": "raw columns, cross-card windows in file order, random early-stopping split, 50/50 mean",
            "thresholds": thresholds, "test": score_report(y[test], scores[test], thresholds),
            "xgboost_test": score_report(y[test], xgb_scores[test], thresholds)}
