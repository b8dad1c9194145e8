"""Model directory: manifest with sha256 of every artifact, verified before the server reports ready."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import FEATURE_NAMES, WINDOW, Scaler, StaticEncoder
from .runtime import ForestRuntime, LSTMRuntime

MANIFEST = "manifest.json"
SERVING_FILES = ("preprocess.json", "lstm.npz", "xgb.json", "ensemble.json")


class BundleError(Exception):
    """The model directory is incomplete, altered or incompatible."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(model_dir: Path, meta: dict) -> dict:
    files = {
        str(p.relative_to(model_dir)): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(model_dir.rglob("*")) if p.is_file() and p.name != MANIFEST
    }
    manifest = {"format": 1, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **meta, "files": files}
    (model_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def verify_manifest(model_dir: Path) -> dict:
    path = model_dir / MANIFEST
    if not path.is_file():
        raise BundleError(f"{path} is missing")
    manifest = json.loads(path.read_text())
    files = manifest.get("files", {})
    for name in SERVING_FILES:
        if name not in files:
            raise BundleError(f"manifest lists no {name}")
    for name, entry in files.items():
        target = model_dir / name
        if not target.is_file():
            raise BundleError(f"{name} is listed in the manifest but missing")
        if sha256_file(target) != entry["sha256"]:
            raise BundleError(f"{name}: sha256 does not match the manifest")
    return manifest


@dataclass
class ModelBundle:
    encoder: StaticEncoder
    scaler: Scaler
    lstm: LSTMRuntime
    forest: ForestRuntime
    lstm_weight: float
    thresholds: dict[str, float]
    threshold_name: str
    manifest: dict

    @classmethod
    def load(cls, model_dir: Path, threshold_name: str | None = None) -> ModelBundle:
        model_dir = Path(model_dir)
        manifest = verify_manifest(model_dir)
        pre = json.loads((model_dir / "preprocess.json").read_text())
        if pre["features"] != FEATURE_NAMES or pre["window"] != WINDOW:
            raise BundleError("the model was trained with a different feature set")
        ens = json.loads((model_dir / "ensemble.json").read_text())
        name = threshold_name or ens.get("default_threshold", "best_f1")
        if name not in ens["thresholds"]:
            raise BundleError(f"unknown threshold {name!r}; the model has {sorted(ens['thresholds'])}")
        return cls(
            encoder=StaticEncoder.from_dict(pre["encoder"]), scaler=Scaler.from_dict(pre["scaler"]),
            lstm=LSTMRuntime.load(model_dir / "lstm.npz"), forest=ForestRuntime.load(model_dir / "xgb.json"),
            lstm_weight=float(ens["lstm_weight"]), thresholds=ens["thresholds"], threshold_name=name,
            manifest=manifest,
        )

    @property
    def version(self) -> str:
        """`<package version that trained it>+<digest of the serving files' sha256>`: changes with any weight."""
        trained_by = str(self.manifest.get("created_by", "")).rpartition(" ")[2] or "unknown"
        files = self.manifest["files"]
        joined = "\n".join(f"{name}={files[name]['sha256']}" for name in SERVING_FILES)
        return f"{trained_by}+{hashlib.sha256(joined.encode()).hexdigest()[:12]}"

    @property
    def threshold(self) -> float:
        return float(self.thresholds[self.threshold_name])

    def score(self, features: np.ndarray, windows: list[np.ndarray | None]) -> tuple[np.ndarray, list[str]]:
        """features: (n, F) raw rows; windows[i]: (WINDOW, F) raw window ending at row i, or None (< 7 rows)."""
        scaled = self.scaler.transform(features)
        scores = self.forest.predict(scaled).astype(np.float64)
        models = ["xgboost"] * len(scores)
        full = [i for i, w in enumerate(windows) if w is not None]
        if full:
            stacked = self.scaler.transform(np.stack([windows[i] for i in full]))
            lstm = self.lstm.predict(stacked)
            w = self.lstm_weight
            scores[full] = w * lstm + (1 - w) * scores[full]
            for i in full:
                models[i] = "ensemble"
        return scores, models
