"""Reading NSL-KDD files (plain or gzip) into numeric/categorical arrays without pandas."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .schema import CATEGORICAL_INDEX, N_FEATURES, NORMAL_LABEL, NUMERIC_FEATURES, NUMERIC_INDEX


class DataFormatError(ValueError):
    """A data file or record does not follow the NSL-KDD layout."""


@dataclass(frozen=True)
class Records:
    """Raw records split by kind: numeric (n, 38) float64 and categorical (n, 3) str."""

    numeric: np.ndarray
    categorical: np.ndarray

    def __len__(self) -> int:
        return int(self.numeric.shape[0])

    def take(self, index: np.ndarray | slice) -> Records:
        return Records(self.numeric[index], self.categorical[index])


@dataclass(frozen=True)
class LabelledData:
    records: Records
    labels: np.ndarray  # original label names (normal or an attack name)
    difficulty: np.ndarray

    @property
    def is_attack(self) -> np.ndarray:
        return (self.labels != NORMAL_LABEL).astype(np.int8)

    def __len__(self) -> int:
        return len(self.records)

    def take(self, index: np.ndarray | slice) -> LabelledData:
        return LabelledData(self.records.take(index), self.labels[index], self.difficulty[index])


def open_text(path: str | Path) -> io.TextIOBase:
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")  # noqa: SIM115 - caller closes


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _columns(rows: list[list[str]], min_fields: int, source: str) -> list[tuple[str, ...]]:
    short = next((i for i, row in enumerate(rows) if len(row) < min_fields), None)
    if short is not None:
        count = len(rows[short])
        raise DataFormatError(f"{source}: row {short + 1} has {count} fields, expected at least {min_fields}")
    # Column-wise: numpy converts a column of strings far faster than a 2-D table of them.
    return list(zip(*rows))


def _records_from_columns(columns: list[tuple[str, ...]], source: str) -> Records:
    numeric = np.empty((len(columns[0]), len(NUMERIC_INDEX)), dtype=np.float64)
    for j, (i, name) in enumerate(zip(NUMERIC_INDEX, NUMERIC_FEATURES)):
        try:
            numeric[:, j] = np.array(columns[i], dtype=np.float64)
        except ValueError:
            row = next(r for r, v in enumerate(columns[i]) if not _is_number(v))
            raise DataFormatError(f"{source}: row {row + 1}, {name}={columns[i][row]!r} is not a number") from None
    categorical = np.array([columns[i] for i in CATEGORICAL_INDEX], dtype=str).T
    return Records(numeric, categorical)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def records_from_rows(rows: list[list[str]], *, source: str = "input") -> Records:
    """Turn rows of at least 41 string fields into Records; extra fields (label, difficulty) are ignored."""
    if not rows:
        return Records(np.empty((0, len(NUMERIC_INDEX))), np.empty((0, len(CATEGORICAL_INDEX)), dtype=str))
    return _records_from_columns(_columns(rows, N_FEATURES, source), source)


def _labelled_from_rows(rows: list[list[str]], source: str) -> LabelledData:
    columns = _columns(rows, N_FEATURES + 1, source)
    records = _records_from_columns(columns, source)
    labels = np.char.strip(np.array(columns[N_FEATURES], dtype=str))
    has_difficulty = all(len(row) > N_FEATURES + 1 for row in rows)
    difficulty = np.array(columns[N_FEATURES + 1], dtype=int) if has_difficulty else np.full(len(rows), -1)
    return LabelledData(records, labels, difficulty)


def load_nslkdd(path: str | Path) -> LabelledData:
    """Load a labelled NSL-KDD file (KDDTrain+.txt, KDDTest+.txt.gz, ...)."""
    with open_text(path) as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise DataFormatError(f"{path}: no records")
    return _labelled_from_rows(rows, str(path))


def iter_nslkdd_batches(path: str | Path, batch_size: int) -> Iterator[LabelledData]:
    """Stream a labelled file in batches (the client sends big files without holding them in memory)."""
    batch: list[list[str]] = []
    with open_text(path) as handle:
        for row in csv.reader(handle):
            if not row:
                continue
            batch.append(row)
            if len(batch) == batch_size:
                yield _labelled_from_rows(batch, str(path))
                batch = []
    if batch:
        yield _labelled_from_rows(batch, str(path))
