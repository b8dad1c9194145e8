"""Shared fixtures: a small model trained once per session on a slice of the vendored NSL-KDD files."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "nsl-kdd"
SMALL = {"max_train_rows": 6000, "mlp_epochs": 3, "ae_epochs": 6, "ae_hidden": (64, 32), "progress": False}


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def small_settings() -> dict:
    """TrainConfig settings for quick test runs."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def test_slice(tmp_path_factory) -> Path:
    """The first 3,000 rows of KDDTest+ as a plain (not gzip) file."""
    path = tmp_path_factory.mktemp("data") / "KDDTest+slice.txt"
    with gzip.open(DATA / "KDDTest+.txt.gz", "rt") as source, open(path, "w") as target:
        for i, line in enumerate(source):
            if i == 3000:
                break
            target.write(line)
    return path


@pytest.fixture(scope="session")
def trained(tmp_path_factory, test_slice) -> tuple[Path, dict]:
    from rocketce_ids.train import TrainConfig, train

    out = tmp_path_factory.mktemp("model")
    metrics = train(DATA / "KDDTrain+_20Percent.txt.gz", [test_slice], out, TrainConfig(**SMALL))
    return out, metrics


@pytest.fixture
def model_copy(trained, tmp_path) -> Path:
    """A private copy of the trained model that a test may damage."""
    target = tmp_path / "model"
    shutil.copytree(trained[0], target)
    return target


@pytest.fixture(scope="session")
def contract():
    """apps/contract_testing.py: the contract test both apps' suites share (loaded by path; it is no package)."""
    spec = importlib.util.spec_from_file_location("contract_testing", Path(__file__).parents[2] / "contract_testing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
