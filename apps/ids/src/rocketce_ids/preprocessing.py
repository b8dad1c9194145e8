"""Feature preprocessing fitted on training data only and saved as plain JSON.

Fixes the seed's defects: the categorical vocabulary comes from the training file and is applied as-is to any
later data (the seed re-fitted a LabelEncoder on the test file, so "tcp" could change its code), values never seen
in training (or too rare to learn from) go to an explicit "unknown" bucket instead of raising, and the scaler is
fitted on training rows only (the seed fitted one on the test set).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import Records
from .schema import CATEGORICAL_FEATURES, NUMERIC_FEATURES

UNKNOWN = "<unknown>"


@dataclass(frozen=True)
class Preprocessor:
    vocabularies: dict[str, list[str]]  # sorted known values per categorical feature; index len(v) = unknown
    kept_numeric: list[str]  # numeric features that vary in training (constant ones are dropped)
    log_scaled: list[bool]  # per kept feature: heavy-tailed counts/bytes get log1p before min-max scaling
    minimum: list[float]
    span: list[float]

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, records: Records, min_category_count: int = 5) -> Preprocessor:
        """Learn vocabularies and scaling from training records only.

        Categories seen fewer than `min_category_count` times are left out of the vocabulary on purpose: they
        then land in the unknown bucket during training too, so that input column is trained, not random.
        """
        vocabularies = {}
        for j, name in enumerate(CATEGORICAL_FEATURES):
            values, counts = np.unique(records.categorical[:, j], return_counts=True)
            vocabularies[name] = sorted(str(v) for v, c in zip(values, counts) if c >= min_category_count)
        numeric = records.numeric
        varying = numeric.max(axis=0) > numeric.min(axis=0)
        kept_index = np.flatnonzero(varying)
        kept = numeric[:, kept_index]
        log_scaled = kept.max(axis=0) > 1.0
        transformed = np.where(log_scaled, np.log1p(np.maximum(kept, 0.0)), kept)
        minimum = transformed.min(axis=0)
        span = transformed.max(axis=0) - minimum
        return cls(
            vocabularies=vocabularies,
            kept_numeric=[NUMERIC_FEATURES[i] for i in kept_index],
            log_scaled=[bool(x) for x in log_scaled],
            minimum=[float(x) for x in minimum],
            span=[float(x) for x in span],
        )

    # ------------------------------------------------------------------ applying
    def __post_init__(self) -> None:
        # Arrays for the hot path, computed once (the dataclass is frozen, hence object.__setattr__).
        index = np.array([NUMERIC_FEATURES.index(n) for n in self.kept_numeric], dtype=np.intp)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_log", np.array(self.log_scaled, dtype=bool))
        object.__setattr__(self, "_min", np.array(self.minimum, dtype=np.float64))
        object.__setattr__(self, "_span", np.array(self.span, dtype=np.float64))
        vocab_arrays = [np.array(self.vocabularies[n], dtype=str) for n in CATEGORICAL_FEATURES]
        object.__setattr__(self, "_vocab", vocab_arrays)
        widths = [len(v) + 1 for v in vocab_arrays]
        object.__setattr__(self, "_offsets", np.cumsum([0, *widths[:-1]]))
        object.__setattr__(self, "_onehot_width", int(sum(widths)))

    @property
    def n_outputs(self) -> int:
        return len(self.kept_numeric) + self._onehot_width

    @property
    def output_names(self) -> list[str]:
        names = list(self.kept_numeric)
        for feature in CATEGORICAL_FEATURES:
            names += [f"{feature}={v}" for v in self.vocabularies[feature]] + [f"{feature}={UNKNOWN}"]
        return names

    def category_codes(self, categorical: np.ndarray) -> np.ndarray:
        """(n, 3) codes; a value outside the training vocabulary gets code len(vocabulary) (the unknown bucket)."""
        codes = np.empty(categorical.shape, dtype=np.intp)
        for j, vocab in enumerate(self._vocab):
            column = categorical[:, j].astype(str)
            position = np.searchsorted(vocab, column)
            clipped = np.minimum(position, max(len(vocab) - 1, 0))
            known = (vocab[clipped] == column) if len(vocab) else np.zeros(len(column), dtype=bool)
            codes[:, j] = np.where(known, clipped, len(vocab))
        return codes

    def transform(self, records: Records) -> np.ndarray:
        n = len(records)
        kept = records.numeric[:, self._index]
        scaled = (np.where(self._log, np.log1p(np.maximum(kept, 0.0)), kept) - self._min) / self._span
        # Absurd inputs (1e308 bytes) must stay finite in float32; 1e3 is far beyond any real (scaled) value.
        np.clip(scaled, -1e3, 1e3, out=scaled)
        out = np.zeros((n, self.n_outputs), dtype=np.float32)
        width = scaled.shape[1]
        out[:, :width] = scaled
        codes = self.category_codes(records.categorical)
        rows = np.arange(n)
        for j in range(codes.shape[1]):
            out[rows, width + self._offsets[j] + codes[:, j]] = 1.0
        return out

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {
            "vocabularies": self.vocabularies,
            "kept_numeric": self.kept_numeric,
            "log_scaled": self.log_scaled,
            "minimum": self.minimum,
            "span": self.span,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Preprocessor:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
