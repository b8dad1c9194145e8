"""End to end through ansible-runner: playbooks/hmc_affinity.yml against the HMC simulator.

What an HMC admin relies on: the first run starts one DPO and raises the target's score, a second run changes
nothing, --check starts nothing, and every module run uses one SSH connection. Checked from ansible-runner's
event stream (what AWX/AAP shows) and from the simulator's audit log (what the HMC saw).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import ansible_runner
import pytest
import yaml

hmcsim_testing = pytest.importorskip("hmcsim.testing")

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "hmc_affinity.yml"
MUTATING = {"optmem", "chsysstate", "chsyscfg", "chpwrmgmt", "chhwres"}


def write_inventory(directory: Path, sim) -> Path:
    inventory = {
        "all": {
            "children": {
                "hmc": {
                    "hosts": {
                        "hmc-test": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": str(Path(os.sys.executable)),
                            "hmc_host": sim.host,
                            "hmc_port": sim.port,
                            "hmc_user": "hscroot",
                            "hmc_key_file": str(sim.client_key),
                            "hmc_known_hosts": str(sim.known_hosts),
                            "hmc_affinity_poll_interval": 1,
                        }
                    }
                }
            }
        }
    }
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


def run_playbook(private_dir: Path, inventory: Path, check: bool = False):
    cmdline = "--check" if check else None
    private_dir.mkdir(parents=True, exist_ok=True)
    return ansible_runner.run(
        private_data_dir=str(private_dir),
        playbook=str(PLAYBOOK),
        inventory=str(inventory),
        extravars={"target_lpars": "ai-lpar01"},
        cmdline=cmdline,
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"),
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
        },
        quiet=True,
        timeout=240,
    )


def module_results(runner, module: str) -> list[dict]:
    """res payloads of successful module runs (loop items included) for one module."""
    results = []
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") not in ("runner_on_ok", "runner_item_on_ok"):
            continue
        if data.get("task_action", "").endswith(module):
            results.append(data.get("res", {}))
    return results


def audit_commands(sim) -> list[dict]:
    return [entry for entry in sim.audit() if entry.get("argv")]


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hmcsim")
    with hmcsim_testing.running_simulator(tmp, dpo_seconds=2) as sim:
        yield sim, tmp


def test_affinity_playbook_optimizes_once_and_is_idempotent(simulator, tmp_path):
    sim, _ = simulator
    inventory = write_inventory(tmp_path, sim)

    # --check first: predicts, starts nothing.
    before = len(audit_commands(sim))
    check = run_playbook(tmp_path / "check", inventory, check=True)
    assert check.rc == 0, check.stdout.read()
    check_commands = audit_commands(sim)[before:]
    assert check_commands, "check mode read nothing from the HMC"
    assert not [c for c in check_commands if c["argv"][0] in MUTATING], "check mode sent a mutating command"

    # First real run: one DPO, the target's score goes up.
    before = len(audit_commands(sim))
    first = run_playbook(tmp_path / "first", inventory)
    assert first.rc == 0, first.stdout.read()
    assert first.stats["changed"].get("hmc-test", 0) >= 1
    first_commands = audit_commands(sim)[before:]
    starts = [c for c in first_commands if c["argv"][0] == "optmem" and "start" in c["argv"]]
    assert len(starts) == 1, json.dumps(starts)
    # hmc_memopt runs as an async job (one per managed system); its result arrives through async_status.
    optimized = [r for r in module_results(first, "async_status") if r.get("finished") and r.get("lpars")]
    target = next(lp for r in optimized for lp in r["lpars"] if lp["name"] == "ai-lpar01")
    assert target["after"] > target["before"], target

    # One SSH connection per module run, the DPO wait included.
    memopt_connections = {c["connection"] for c in first_commands if c["argv"][0] in ("optmem", "lsmemopt")}
    assert len(memopt_connections) <= 2, memopt_connections  # hmc_memopt_info run + hmc_memopt run

    # Second run: nothing to do.
    before = len(audit_commands(sim))
    second = run_playbook(tmp_path / "second", inventory)
    assert second.rc == 0, second.stdout.read()
    assert second.stats["changed"].get("hmc-test", 0) == 0
    assert not [c for c in audit_commands(sim)[before:] if c["argv"][0] in MUTATING]
