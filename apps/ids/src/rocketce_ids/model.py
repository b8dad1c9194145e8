"""Loading a trained model directory and scoring records with numpy only (the serving path has no torch).

A model directory holds:
  manifest.json       sha256 of every artifact, versions, training data checksum, seed
  model.json          thresholds, verdict rule, layer layout, model version
  preprocessing.json  the fitted Preprocessor
  mlp.npz             MLP classifier weights (w0, b0, w1, b1, ...)
  autoencoder.npz     autoencoder weights (trained on normal traffic only)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import Records, sha256_file
from .errors import ModelIntegrityError
from .preprocessing import Preprocessor

MANIFEST = "manifest.json"
ARTIFACTS = ("model.json", "preprocessing.json", "mlp.npz", "autoencoder.npz")
VERDICT_RULES = ("autoencoder", "mlp", "either")


def verify_manifest(model_dir: str | Path) -> dict:
    """Check every artifact against manifest.json; return the manifest or raise with the reason."""
    model_dir = Path(model_dir)
    manifest_path = model_dir / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected = manifest["artifacts"]
    except FileNotFoundError:
        raise ModelIntegrityError(f"{manifest_path} is missing") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(f"{manifest_path} is not a valid manifest: {exc}") from None
    missing = [name for name in ARTIFACTS if name not in expected]
    if missing:
        raise ModelIntegrityError(f"manifest lists no checksum for {', '.join(missing)}")
    for name, want in sorted(expected.items()):
        path = model_dir / name
        if not path.is_file():
            raise ModelIntegrityError(f"artifact {name} is missing")
        got = sha256_file(path)
        if got != want:
            raise ModelIntegrityError(f"artifact {name} has sha256 {got}, manifest says {want}")
    return manifest


def artifacts_digest(checksums: dict[str, str]) -> str:
    """A short, stable model version derived from the artifact checksums."""
    joined = "\n".join(f"{k}={checksums[k]}" for k in sorted(checksums))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DenseNet:
    """Linear layers with ReLU between them and a linear output, as trained in PyTorch."""

    weights: tuple[np.ndarray, ...]  # (in, out) each
    biases: tuple[np.ndarray, ...]

    @classmethod
    def load(cls, path: str | Path) -> DenseNet:
        with np.load(path) as arrays:
            count = len([k for k in arrays.files if k.startswith("w")])
            weights = tuple(arrays[f"w{i}"].astype(np.float32) for i in range(count))
            biases = tuple(arrays[f"b{i}"].astype(np.float32) for i in range(count))
        return cls(weights, biases)

    def save(self, path: str | Path) -> None:
        arrays = {f"w{i}": w for i, w in enumerate(self.weights)} | {f"b{i}": b for i, b in enumerate(self.biases)}
        with open(path, "wb") as handle:  # np.savez would append ".npz" to a str path
            np.savez(handle, **arrays)

    @property
    def n_inputs(self) -> int:
        return int(self.weights[0].shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w + b
            if i < last:
                np.maximum(x, 0.0, out=x)
        return x


def reconstruction_error(autoencoder: DenseNet, features: np.ndarray) -> np.ndarray:
    """Mean squared error per row between the features and their reconstruction."""
    diff = autoencoder(features) - features
    return np.einsum("ij,ij->i", diff, diff) / features.shape[1]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


@dataclass(frozen=True)
class Scores:
    reconstruction_error: np.ndarray
    mlp_probability: np.ndarray
    autoencoder_attack: np.ndarray
    mlp_attack: np.ndarray
    attack: np.ndarray  # the verdict chosen by model.json's rule


@dataclass(frozen=True)
class IdsModel:
    preprocessor: Preprocessor
    mlp: DenseNet
    autoencoder: DenseNet
    ae_threshold: float
    mlp_threshold: float
    verdict_rule: str
    version: str
    info: dict

    @classmethod
    def load(cls, model_dir: str | Path, *, verify: bool = True) -> IdsModel:
        """Load a model directory; with verify (the default) every checksum must match the manifest first."""
        model_dir = Path(model_dir)
        if verify:
            verify_manifest(model_dir)
        try:
            info = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
            model = cls(
                preprocessor=Preprocessor.load(model_dir / "preprocessing.json"),
                mlp=DenseNet.load(model_dir / "mlp.npz"),
                autoencoder=DenseNet.load(model_dir / "autoencoder.npz"),
                ae_threshold=float(info["autoencoder"]["threshold"]),
                mlp_threshold=float(info["mlp"]["threshold"]),
                verdict_rule=str(info["verdict_rule"]),
                version=str(info["version"]),
                info=info,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelIntegrityError(f"cannot load model from {model_dir}: {exc}") from None
        if model.verdict_rule not in VERDICT_RULES:
            raise ModelIntegrityError(f"unknown verdict rule {model.verdict_rule!r}")
        width = model.preprocessor.n_outputs
        if model.mlp.n_inputs != width or model.autoencoder.n_inputs != width:
            raise ModelIntegrityError(f"network inputs do not match the {width} preprocessed features")
        return model

    def reconstruction_error(self, features: np.ndarray) -> np.ndarray:
        return reconstruction_error(self.autoencoder, features)

    def score(self, records: Records) -> Scores:
        features = self.preprocessor.transform(records)
        error = self.reconstruction_error(features)
        probability = sigmoid(self.mlp(features)[:, 0])
        ae_attack = error >= self.ae_threshold
        mlp_attack = probability >= self.mlp_threshold
        verdict = {"autoencoder": ae_attack, "mlp": mlp_attack, "either": ae_attack | mlp_attack}[self.verdict_rule]
        return Scores(error, probability, ae_attack, mlp_attack, verdict)
