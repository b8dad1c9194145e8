"""Threshold selection on validation scores and test reports (training side; needs scikit-learn)."""

from __future__ import annotations

import numpy as np

from .features import WINDOW, gather_windows


def _confusion(y: np.ndarray, flagged: np.ndarray) -> dict:
    y = y.astype(bool)
    tp = int(np.sum(flagged & y))
    fp = int(np.sum(flagged & ~y))
    fn = int(np.sum(~flagged & y))
    tn = int(np.sum(~flagged & ~y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp}}


def best_thresholds(y: np.ndarray, scores: np.ndarray, cost_fn: float, cost_fp: float,
                    target_recall: float) -> dict:
    """Thresholds picked on validation: best F1, lowest cost (FN/FP costs), highest one reaching target recall."""
    from sklearn.metrics import precision_recall_curve

    y = y.astype(bool)
    if y.sum() == 0:
        return {"best_f1": 0.5, "min_cost": 0.5, "target_recall": 0.5}
    precision, recall, thr = precision_recall_curve(y, scores)
    precision, recall = precision[:-1], recall[:-1]
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    positives = y.sum()
    tp = recall * positives
    fp = np.where(precision > 0, tp / np.maximum(precision, 1e-12) - tp, len(y) - positives)
    cost = cost_fn * (positives - tp) + cost_fp * fp
    reaching = np.flatnonzero(recall >= target_recall)
    return {
        "best_f1": float(thr[int(np.argmax(f1))]),
        "min_cost": float(thr[int(np.argmin(cost))]),
        "target_recall": float(thr[reaching[-1]]) if len(reaching) else float(thr[0]),
    }


def score_report(y: np.ndarray, scores: np.ndarray, thresholds: dict) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = y.astype(bool)
    report = {"rows": int(len(y)), "fraud": int(y.sum())}
    if 0 < y.sum() < len(y):
        report["pr_auc"] = round(float(average_precision_score(y, scores)), 4)
        report["roc_auc"] = round(float(roc_auc_score(y, scores)), 4)
    else:
        report["pr_auc"] = report["roc_auc"] = None
    report["at_threshold"] = {name: {"threshold": thr, **_confusion(y, scores >= thr)}
                              for name, thr in thresholds.items()}
    return report


def window_f1(y: np.ndarray, scores: np.ndarray, val_ends: np.ndarray, test_ends: np.ndarray) -> dict:
    """Window-level view (as in the TabFormer paper): a window of 7 is fraud if any row is; score = max row score."""
    from sklearn.metrics import average_precision_score

    def windows(ends):
        labels = gather_windows(y[:, None], ends)[:, :, 0].any(axis=1)
        return labels, gather_windows(scores[:, None], ends)[:, :, 0].max(axis=1)

    val_y, val_s = windows(val_ends)
    test_y, test_s = windows(test_ends)
    thr = best_thresholds(val_y, val_s, 1.0, 1.0, 0.8)["best_f1"]
    out = {"window": WINDOW, "threshold": thr, "test_windows": int(len(test_y)),
           "test_fraud_windows": int(test_y.sum()), **_confusion(test_y, test_s >= thr)}
    if 0 < test_y.sum() < len(test_y):
        out["pr_auc"] = round(float(average_precision_score(test_y, test_s)), 4)
    return out
