"""PNG reports: precision-recall curves and score histograms on the test period."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_plots(out: Path, y: np.ndarray, scored: dict[str, tuple[np.ndarray, np.ndarray]], metrics: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 5))
    for name, (rows, scores) in scored.items():
        precision, recall, _ = precision_recall_curve(y[rows], scores[rows])
        ax.plot(recall, precision, label=f"{name}")
    seed = metrics.get("seed_baseline", {}).get("test", {}).get("pr_auc")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Test period PR curves" + (f" (seed pipeline PR-AUC {seed})" if seed is not None else ""))
    ax.legend()
    fig.tight_layout()
    fig.savefig(plots / "pr_curves.png", dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(scored), figsize=(5 * len(scored), 4))
    for ax, (name, (rows, scores)) in zip(np.atleast_1d(axes), scored.items()):
        labels, values = y[rows], scores[rows]
        bins = np.linspace(0, 1, 41)
        ax.hist(values[~labels], bins=bins, alpha=0.6, label="normal", log=True)
        ax.hist(values[labels], bins=bins, alpha=0.6, label="fraud", log=True)
        ax.set_title(f"{name} scores (test)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(plots / "score_histograms.png", dpi=100)
    plt.close(fig)
