"""Fixtures: an in-process engine on a copy of a model with a controllable clock, and model builders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hmcsim.engine import Engine
from hmcsim.state import Store

REPO = Path(__file__).resolve().parents[3]
LAB_MODEL = REPO / "lab" / "hmc" / "model.yml"
SYS = "p10-s1024-lab"


class Clock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sim:
    engine: Engine
    clock: Clock
    state_dir: Path

    @property
    def store(self) -> Store:
        return self.engine.store

    def run(self, line: str) -> tuple[int, str, str]:
        result = self.engine.execute(line, "test-conn", 0, "hscroot", "127.0.0.1:1")
        return result.status, result.stdout, result.stderr

    def ok(self, line: str) -> str:
        status, out, err = self.run(line)
        assert status == 0, f"{line!r} -> {status}: {out}{err}"
        return out

    def lines(self, line: str) -> list[str]:
        return self.ok(line).splitlines()

    def fail(self, line: str, status: int = 1) -> str:
        code, out, err = self.run(line)
        assert code == status, f"{line!r} -> {code}: {out}{err}"
        return out + err


def make_sim(state_dir: Path, model: Path = LAB_MODEL) -> Sim:
    state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(model, state_dir)
    clock = Clock()
    store.clock = clock
    return Sim(Engine(store), clock, state_dir)


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sim:
    monkeypatch.delenv("HMCSIM_TIME_SCALE", raising=False)
    monkeypatch.delenv("HMCSIM_DPO_SECONDS", raising=False)
    return make_sim(tmp_path / "state")


@pytest.fixture
def write_model(tmp_path: Path):
    """Write a model dict (or the lab model changed by a function) to a file and return its path."""

    def _write(data: dict | None = None, change=None) -> Path:
        model = data if data is not None else yaml.safe_load(LAB_MODEL.read_text(encoding="utf-8"))
        if change is not None:
            change(model)
        path = tmp_path / "model.yml"
        path.write_text(yaml.safe_dump(model), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def sim_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Build an in-process simulator for another model: sim_for(model_path, name)."""
    monkeypatch.delenv("HMCSIM_TIME_SCALE", raising=False)
    monkeypatch.delenv("HMCSIM_DPO_SECONDS", raising=False)
    return lambda model, name="other": make_sim(tmp_path / name, model)
