"""Training outputs: artifacts, manifest, metrics, plots; determinism; no test data in any choice."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from rocketce_ids.cli import main
from rocketce_ids.data import load_nslkdd, sha256_file
from rocketce_ids.model import ARTIFACTS, IdsModel

DETECTORS = ("mlp", "autoencoder", "ensemble")


def test_manifest_checksums_cover_every_artifact(trained, data_dir, small_settings):
    out, _ = trained
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["artifacts"]) == set(ARTIFACTS)
    for name, digest in manifest["artifacts"].items():
        assert sha256_file(out / name) == digest
    assert manifest["training_data"]["sha256"] == sha256_file(data_dir / "KDDTrain+_20Percent.txt.gz")
    assert manifest["training_data"]["rows_used"] == small_settings["max_train_rows"]
    assert manifest["seed"] == 42
    assert {"python", "numpy", "torch", "rocketce_ids"} <= set(manifest["versions"])


def test_metrics_are_consistent_with_the_confusion_matrix(trained, test_slice):
    out, metrics = trained
    assert json.loads((out / "metrics.json").read_text()) == metrics
    name = test_slice.name.removesuffix(".txt")
    truth = load_nslkdd(test_slice).is_attack
    for detector in DETECTORS:
        m = metrics[name][detector]
        cm = m["confusion_matrix"]
        assert cm["tn"] + cm["fp"] + cm["fn"] + cm["tp"] == m["rows"] == len(truth)
        assert cm["tp"] + cm["fn"] == int(truth.sum())
        assert m["accuracy"] == pytest.approx((cm["tp"] + cm["tn"]) / m["rows"])
        precision, recall = cm["tp"] / (cm["tp"] + cm["fp"]), cm["tp"] / (cm["tp"] + cm["fn"])
        assert m["precision"] == pytest.approx(precision) and m["recall"] == pytest.approx(recall)
        assert m["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
        assert 0.5 < m["roc_auc"] <= 1.0


def test_models_learn_something_even_when_small(trained):
    _, metrics = trained
    assert metrics["validation"]["mlp"]["accuracy"] > 0.9
    assert metrics["validation"]["autoencoder"]["roc_auc"] > 0.9


def test_plots_are_png_files(trained):
    out, metrics = trained
    assert len(metrics["plots"]) == 3
    for name in metrics["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_model_and_test_files_change_nothing(trained, tmp_path, data_dir, small_settings):
    """A rerun without any test file gives byte-identical artifacts: deterministic, and nothing came from test."""
    from rocketce_ids.train import TrainConfig, train

    out, _ = trained
    train(data_dir / "KDDTrain+_20Percent.txt.gz", [], tmp_path, TrainConfig(**small_settings, plots=False))
    for name in ARTIFACTS:
        assert sha256_file(tmp_path / name) == sha256_file(out / name), name


def test_evaluate_command_reproduces_training_metrics(trained, test_slice, capsys):
    out, metrics = trained
    assert main(["evaluate", "--model", str(out), "--data", str(test_slice), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["metrics"] == metrics[test_slice.name.removesuffix(".txt")]
    assert printed["model_version"] == IdsModel.load(out).version


def test_numpy_inference_matches_the_verdict_counts(trained, test_slice):
    out, metrics = trained
    model = IdsModel.load(out)
    scores = model.score(load_nslkdd(test_slice).records)
    cm = metrics[test_slice.name.removesuffix(".txt")]["autoencoder"]["confusion_matrix"]
    assert int(scores.autoencoder_attack.sum()) == cm["tp"] + cm["fp"]
    assert np.all(scores.reconstruction_error >= 0)


def test_evaluate_without_the_train_extra_says_what_to_install(trained, test_slice, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as on a serving-only host
    assert main(["evaluate", "--model", str(trained[0]), "--data", str(test_slice)]) == 1
    assert "install rocketce-ids[train]" in capsys.readouterr().err


def test_exit_codes_runtime_error_1_usage_error_2_and_version(model_copy, test_slice, tmp_path, capsys):
    (model_copy / "mlp.npz").unlink()
    assert main(["evaluate", "--model", str(model_copy), "--data", str(test_slice)]) == 1
    assert "mlp.npz is missing" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tmp_path / "none"), "--data", str(test_slice)]) == 1
    bad_rows = tmp_path / "bad.txt"
    bad_rows.write_text("0,tcp,http\n")
    assert main(["train", "--train", str(bad_rows), "--out", str(tmp_path / "out")]) == 1
    assert "bad.txt" in capsys.readouterr().err
    for usage_error in (["serve", "--model", "m", "--bind", "no-port"], ["train"], ["no-such-command"], []):
        with pytest.raises(SystemExit) as stopped:
            main(usage_error)
        assert stopped.value.code == 2, usage_error
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0 and capsys.readouterr().out.strip() == "rocketce-ids 1.0.0"
