"""Binary detection metrics and plots (scikit-learn and matplotlib: part of the `train` extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .data import LabelledData
from .model import IdsModel, Scores

# Verdict name -> (Scores attribute holding the yes/no verdict, attribute holding the continuous score)
DETECTORS = {
    "mlp": ("mlp_attack", "mlp_probability"),
    "autoencoder": ("autoencoder_attack", "reconstruction_error"),
    "ensemble": ("attack", None),
}


def binary_metrics(truth: np.ndarray, predicted: np.ndarray, score: np.ndarray | None) -> dict:
    from sklearn import metrics

    truth = np.asarray(truth).astype(int)
    predicted = np.asarray(predicted).astype(int)
    (tn, fp), (fn, tp) = metrics.confusion_matrix(truth, predicted, labels=[0, 1]).tolist()
    result = {
        "rows": int(truth.size),
        "accuracy": float(metrics.accuracy_score(truth, predicted)),
        "precision": float(metrics.precision_score(truth, predicted, zero_division=0)),
        "recall": float(metrics.recall_score(truth, predicted, zero_division=0)),
        "f1": float(metrics.f1_score(truth, predicted, zero_division=0)),
        "roc_auc": None,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }
    if score is not None and 0 < truth.sum() < truth.size:
        result["roc_auc"] = float(metrics.roc_auc_score(truth, score))
    return result


def ensemble_score(model: IdsModel, scores: Scores) -> np.ndarray:
    """A continuous score for the 'either' rule: each detector's score relative to its own threshold."""
    ae = scores.reconstruction_error / model.ae_threshold
    mlp = scores.mlp_probability / model.mlp_threshold
    return {"autoencoder": ae, "mlp": mlp, "either": np.maximum(ae, mlp)}[model.verdict_rule]


def evaluate_scores(model: IdsModel, scores: Scores, truth: np.ndarray) -> dict:
    out = {}
    for name, (verdict, score) in DETECTORS.items():
        continuous = ensemble_score(model, scores) if score is None else getattr(scores, score)
        out[name] = binary_metrics(truth, getattr(scores, verdict), continuous)
    out["ensemble"]["rule"] = model.verdict_rule
    return out


def evaluate_file(model: IdsModel, data: LabelledData) -> tuple[dict, Scores]:
    scores = model.score(data.records)
    return evaluate_scores(model, scores, data.is_attack), scores


def plot_evaluation(model: IdsModel, name: str, scores: Scores, truth: np.ndarray, out_dir: Path) -> list[str]:
    """Confusion matrices, ROC curves and the reconstruction-error histogram with the threshold; returns files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn import metrics

    written = []
    stem = name.replace("+", "plus").replace(".", "_")

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, (detector, (verdict, _)) in zip(axes, DETECTORS.items()):
        matrix = metrics.confusion_matrix(truth, getattr(scores, verdict), labels=[0, 1])
        metrics.ConfusionMatrixDisplay(matrix, display_labels=["normal", "attack"]).plot(
            ax=ax, colorbar=False, values_format="d"
        )
        ax.set_title(detector)
    fig.suptitle(f"Confusion matrices: {name}")
    fig.tight_layout()
    written.append(_save(fig, out_dir / f"confusion_{stem}.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    for detector, score in (("mlp", scores.mlp_probability), ("autoencoder", scores.reconstruction_error)):
        fpr, tpr, _ = metrics.roc_curve(truth, score)
        ax.plot(fpr, tpr, label=f"{detector} (AUC {metrics.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], "k:", linewidth=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC: {name}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    written.append(_save(fig, out_dir / f"roc_{stem}.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    errors = np.log10(np.maximum(scores.reconstruction_error, 1e-9))
    bins = np.linspace(errors.min(), errors.max(), 80)
    ax.hist(errors[truth == 0], bins=bins, alpha=0.6, label="normal")
    ax.hist(errors[truth == 1], bins=bins, alpha=0.6, label="attack")
    ax.axvline(np.log10(model.ae_threshold), color="k", linestyle="--", label="threshold")
    ax.set(xlabel="log10 reconstruction error", ylabel="rows", title=f"Autoencoder reconstruction error: {name}")
    ax.legend()
    fig.tight_layout()
    written.append(_save(fig, out_dir / f"reconstruction_error_{stem}.png"))
    return written


def _save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=90, metadata={"Software": None})  # no timestamp/version: same input, same file
    plt.close(fig)
    return path.name
