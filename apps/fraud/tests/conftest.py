"""Shared fixtures: small generated data sets and one small trained model for the whole session."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")



@pytest.fixture(scope="session")
def synth_full(tmp_path_factory) -> Path:
    """60 users over the whole 1991-2020 period (about 0.7M rows): for the realism tests."""
    from rocketce_fraud.synth import synthesize

    out = tmp_path_factory.mktemp("synth") / "full.csv"
    synthesize(out, users=60, seed=3)
    return out


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> dict:
    """A small model: 50 users from 2015 on, 2 epochs, no seed-pipeline comparison."""
    from rocketce_fraud.synth import synthesize
    from rocketce_fraud.train import TrainConfig, run

    base = tmp_path_factory.mktemp("trained")
    data = base / "data.csv.gz"
    synthesize(data, users=50, seed=5, start_year=2015)
    model_dir = base / "model"
    metrics = run(data, model_dir, TrainConfig(epochs=2, xgb_rounds=120, baseline=False, max_train_windows=30_000))
    return {"data": data, "model": model_dir, "metrics": metrics}


@pytest.fixture(scope="session")
def contract():
    """apps/contract_testing.py: the contract test both apps' suites share (loaded by path; it is no package)."""
    spec = importlib.util.spec_from_file_location("contract_testing", Path(__file__).parents[2] / "contract_testing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
