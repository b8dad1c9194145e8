"""Shared by the HMC integration tests (test_hmc_*.py): the collection importable, modules run against a simulator.

The tests start their own simulators with hmcsim.testing.running_simulator (port 0, a fresh state dir), so
they never touch the lab's simulator. Importing this module installs Ansible's collection loader for the
repository's collections/ directory, as ansible-core does, so ``ansible_collections.rocketce.power`` imports.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_DIR = REPO / "collections"
MUTATING = frozenset(("optmem", "chsyscfg", "chsysstate", "chpwrmgmt", "chhwres"))

if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([str(COLLECTIONS_DIR)])

# The one ModuleExit/exit_json/fail_json stand-in, shared with the collection's unit test runner.
case_runner = importlib.import_module("ansible_collections.rocketce.power.tests.unit.plugins.modules.case_runner")


def collection_module(kind, name):
    """``collection_module("modules", "hmc_memopt")``: a module or module_utils of rocketce.power."""
    return importlib.import_module(f"ansible_collections.rocketce.power.plugins.{kind}.{name}")


def connection(sim):
    """Module options that connect to ``sim`` with its own client key and known_hosts."""
    return dict(hmc_host=sim.host, hmc_port=sim.port, hmc_key_file=str(sim.client_key),
                hmc_known_hosts=str(sim.known_hosts))


def run(module, sim, check=False, diff=True, **params):
    """Run a module's main() against the simulator; returns (result, audit entries of this run).

    Every run must use exactly one SSH connection, and an HMC module run starts with ``lssyscfg -r sys``.
    """
    args = dict(connection(sim), _ansible_check_mode=check, _ansible_diff=diff, **params)
    start = len(sim.audit())
    with pytest.MonkeyPatch.context() as patch:
        result = case_runner.call_module(module, args, patch)
    entries = sim.audit()[start:]
    if entries:
        assert len(set(entry["connection"] for entry in entries)) == 1, "one SSH connection per module run"
        assert entries[0]["argv"] == ["lssyscfg", "-r", "sys"]
    return result, entries


def mutations(entries):
    """The argv of every mutating HMC command among ``entries``."""
    return [entry["argv"] for entry in entries if entry["argv"] and entry["argv"][0] in MUTATING]
