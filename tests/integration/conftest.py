"""Shared fixtures of the integration tests: the HMC simulator, started the one way the project starts it
(lab/labctl/hmc.py, as labctl and molecule do), on a free loopback port, with a fresh state from lab/hmc/model.yml.

    def test_something(hmc_simulator):
        hmc_simulator.port, hmc_simulator.client_key, hmc_simulator.known_hosts   # connect (host keys checked)
        hmc_simulator.inventory_vars()                                             # hmc_* variables for a host
        hmc_simulator.audit()                                                      # what the HMC received

`hmc_simulator` is per test; `hmc_simulator_module` is shared by the tests of one module (cheaper; the tests
must then not depend on each other's changes). DPOs take HMC_SIMULATOR_DPO_SECONDS (2 s).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl.hmc import HmcSim, hmcsim_command, simulator  # noqa: E402

HMC_SIMULATOR_DPO_SECONDS = 2.0


def _require_hmcsim() -> None:
    if hmcsim_command() is None:
        pytest.fail("the hmcsim package is not installed in this Python: run `make setup`")


@pytest.fixture
def hmc_simulator(tmp_path: Path) -> Iterator[HmcSim]:
    _require_hmcsim()
    with simulator(tmp_path / "hmcsim", dpo_seconds=HMC_SIMULATOR_DPO_SECONDS) as sim:
        yield sim


@pytest.fixture(scope="module")
def hmc_simulator_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HmcSim]:
    _require_hmcsim()
    with simulator(tmp_path_factory.mktemp("hmcsim"), dpo_seconds=HMC_SIMULATOR_DPO_SECONDS) as sim:
        yield sim
