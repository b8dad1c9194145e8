"""Order-free lab setup (lab/labctl/artifacts.py): the lab artifacts are rebuilt whenever their stamp is missing or
from other inputs, and the cross-state image cache is used only under its recipe's hash and with a matching sha256."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl import artifacts  # noqa: E402
from labctl.procs import LabError  # noqa: E402

FAKE_BUILD = """import pathlib, sys
out = pathlib.Path(sys.argv[sys.argv.index("--artifacts") + 1])
(out / "wheels").mkdir(parents=True)
(out / "wheels" / "py_rattler-0.28.0-x.whl").write_text("wheel")
runs = pathlib.Path({runs!r}); runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
sys.exit({rc})
"""


@pytest.fixture(name="fake_builder")
def fixture_fake_builder(tmp_path, monkeypatch):
    def make(rc=0):
        script = tmp_path / f"build_{rc}.py"
        script.write_text(FAKE_BUILD.format(runs=str(tmp_path / "runs"), rc=rc))
        monkeypatch.setattr(artifacts, "BUILD_CHANNEL", script)
        monkeypatch.setattr(artifacts, "builder_python", lambda: sys.executable)
        return tmp_path / "runs"
    return make


def test_built_when_missing_then_kept_while_the_inputs_are_the_same(tmp_path, fake_builder):
    runs = fake_builder()
    state = tmp_path / "state"
    assert artifacts.ensure_artifacts(state, say=lambda _: None) is True
    assert (state / "artifacts" / "wheels" / "py_rattler-0.28.0-x.whl").exists()
    assert artifacts.ensure_artifacts(state, say=lambda _: None) is False
    assert runs.read_text() == "x"


def test_a_directory_without_a_matching_stamp_is_rebuilt_from_scratch(tmp_path, fake_builder, monkeypatch):
    runs = fake_builder()
    state = tmp_path / "state"
    (state / "artifacts" / "wheels").mkdir(parents=True)
    (state / "artifacts" / "stale.whl").write_text("left by an older lab")
    assert artifacts.ensure_artifacts(state, say=lambda _: None) is True
    assert not (state / "artifacts" / "stale.whl").exists()
    monkeypatch.setattr(artifacts, "artifacts_key", lambda: "other-inputs")  # a changed source or pin
    assert artifacts.ensure_artifacts(state, say=lambda _: None) is True
    assert runs.read_text() == "xx"


def test_a_failed_build_leaves_no_usable_artifacts(tmp_path, fake_builder):
    fake_builder(rc=3)
    state = tmp_path / "state"
    with pytest.raises(LabError, match="building the lab artifacts failed"):
        artifacts.ensure_artifacts(state, say=lambda _: None)
    assert not artifacts.artifacts_current(state)
    assert not (state / "artifacts").exists()


def test_the_key_follows_the_sources_and_the_pins():
    key = artifacts.artifacts_key()
    assert key == artifacts.digest(list(artifacts.ARTIFACT_INPUTS))
    assert "py-rattler==0.28.0" in artifacts.BUILD_CHANNEL.read_text()  # the pins live in a hashed input


def test_image_cache_is_used_only_when_intact(tmp_path, monkeypatch):
    monkeypatch.setenv("ROCKETCE_LAB_CACHE", str(tmp_path / "cache"))
    image = tmp_path / "built.tar.zst"
    image.write_bytes(b"image bytes")
    assert artifacts.cached_image("k1") is None
    artifacts.store_image(image, "k1")
    cached = artifacts.cached_image("k1")
    assert cached is not None and cached.read_bytes() == b"image bytes"
    assert artifacts.cached_image("k2") is None  # another recipe never gets it
    cached.write_bytes(b"truncated")  # damaged after it was stored
    assert artifacts.cached_image("k1") is None


def test_image_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("ROCKETCE_LAB_CACHE", "")
    image = tmp_path / "built.tar.zst"
    image.write_bytes(b"x")
    artifacts.store_image(image, "k1")
    assert artifacts.cached_image("k1") is None
