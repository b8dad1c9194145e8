"""A small client: stream an NSL-KDD file to the service in batches and summarise the verdicts."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .data import iter_nslkdd_batches
from .schema import CATEGORICAL_INDEX, N_FEATURES


class ClientError(RuntimeError):
    pass


def record_values(row_numeric, row_categorical) -> list:
    """One record as the API's 41-value list (numbers as numbers, categories as strings)."""
    values: list = [None] * N_FEATURES
    numeric = iter(row_numeric.tolist())
    categorical = iter(row_categorical.tolist())
    for i in range(N_FEATURES):
        values[i] = next(categorical) if i in CATEGORICAL_INDEX else next(numeric)
    return values


def post_json(url: str, payload: dict, timeout: float = 60.0) -> dict:
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"{url}: only http:// and https:// URLs are supported")
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",  # noqa: S310 - checked
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise ClientError(f"{url}: HTTP {exc.code}: {exc.read().decode(errors='replace')[:500]}") from None
    except urllib.error.URLError as exc:
        raise ClientError(f"{url}: {exc.reason}") from None


@dataclass
class Summary:
    records: int = 0
    flagged: int = 0
    labelled_attacks: int = 0
    correct: int = 0
    seconds: float = 0.0
    model_version: str = ""
    by_label: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "flagged_as_attack": self.flagged,
            "labelled_attack": self.labelled_attacks,
            "accuracy_vs_labels": round(self.correct / self.records, 4) if self.records else None,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds) if self.seconds else None,
            "model_version": self.model_version,
        }


def score_file(url: str, path: str | Path, batch_size: int = 1000) -> Summary:
    """POST the file's records to URL (…/v1/predict) batch by batch and compare verdicts with the labels."""
    summary = Summary()
    started = time.perf_counter()
    for batch in iter_nslkdd_batches(path, batch_size):
        records = [record_values(n, c) for n, c in zip(batch.records.numeric, batch.records.categorical)]
        answer = post_json(url, {"records": records})
        summary.model_version = answer["model_version"]
        for result, is_attack in zip(answer["results"], batch.is_attack.tolist()):
            summary.records += 1
            summary.flagged += int(result["attack"])
            summary.labelled_attacks += is_attack
            summary.correct += int(result["attack"] == bool(is_attack))
    summary.seconds = time.perf_counter() - started
    return summary
