"""Settings with no heavy imports (no numpy, no prometheus_client).

The CLI reads them before deciding what to import: the serving process must set BLAS thread limits before numpy
loads, and importing server.py creates the Prometheus metrics, which in multiprocess mode must only happen in
workers, after the metrics directory exists.
"""

from __future__ import annotations

from dataclasses import dataclass

MODEL_DIR_ENV = "ROCKETCE_IDS_MODEL_DIR"
MAX_BODY_ENV = "ROCKETCE_IDS_MAX_BODY_BYTES"
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class TrainConfig:
    """Everything `rocketce-ids train` can vary; recorded in the manifest."""

    seed: int = 42
    validation_fraction: float = 0.1
    mlp_hidden: tuple[int, ...] = (64, 32)
    mlp_epochs: int = 8
    ae_hidden: tuple[int, ...] = (128, 64, 32)
    ae_epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    min_category_count: int = 5
    max_train_rows: int | None = None  # a random subsample of the training file, for quick runs (tests)
    threads: int = 1  # small batches: a 2nd intra-op thread costs more than it gives (4x slower on a busy 2-core box)
    progress: bool = True
    plots: bool = True
