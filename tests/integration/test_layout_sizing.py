"""playbooks/hmc_lpar_layout.yml sizes the AI LPAR to the cores of one chip of the real machine (issue 14, point 3).

Each test starts the HMC simulator with a model variant of lab/hmc/variants/ and runs the playbook through
ansible-runner with only the `hmc` group (no lab hosts: no LPAR to run numa_info on, so the HMC path decides):

- S1024 with 16-core DCMs (32 installed cores): 8 dedicated cores;
- S1024 with 24-core DCMs (48 installed cores): 12;
- S1024 with 24 installed cores (one 24-core or two 12-core DCMs): refused, with a message saying what is
  needed, and no profile changed; with hmc_layout_cores_per_chip given, sized to that.

What the HMC then holds is read back from the simulator, not taken from the module's word.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ansible_runner
import pytest
import yaml

hmcsim_testing = pytest.importorskip("hmcsim.testing")

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "hmc_lpar_layout.yml"
VARIANTS = REPO / "lab" / "hmc" / "variants"
AI_LPAR = "ai-lpar01"


def write_inventory(directory: Path, sim) -> Path:
    hmc = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "hmc_host": sim.host,
        "hmc_port": sim.port,
        "hmc_user": "hscroot",
        "hmc_key_file": str(sim.client_key),
        "hmc_known_hosts": str(sim.known_hosts),
    }
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"hmc": {"hosts": {"hmc-test": hmc}}}}}), encoding="utf-8")
    return path


def run_layout(private_dir: Path, inventory: Path, path_prefix: Path | None = None, **extravars):
    private_dir.mkdir(parents=True, exist_ok=True)
    search_path = os.environ.get("PATH", "")
    if path_prefix is not None:
        search_path = f"{path_prefix}{os.pathsep}{search_path}"
    return ansible_runner.run(
        private_data_dir=str(private_dir),
        playbook=str(PLAYBOOK),
        inventory=str(inventory),
        # Only the sizing matters here: no start order, the AI LPAR named, no other LPARs.
        extravars={"hmc_layout_ai_lpars": AI_LPAR, "hmc_layout_other_lpars": "", "hmc_layout_start": False,
                   **extravars},
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"),
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{search_path}",
        },
        quiet=True,
        timeout=240,
    )


def procs_results(runner, outcome=("runner_item_on_ok",)):
    return [event["event_data"]["res"] for event in runner.events
            if event.get("event") in outcome
            and event.get("event_data", {}).get("task_action", "").endswith("hmc_lpar_procs")]


def ai_profile(sim, system: str) -> dict:
    """The AI LPAR's default profile as the simulated HMC now holds it."""
    rc, out, _err = sim.run(f"lssyscfg -r prof -m {system} --filter lpar_names={AI_LPAR},profile_names=default_profile"
                            " -F proc_mode,sharing_mode,min_procs,desired_procs,max_procs")
    assert rc == 0, out
    values = out.strip().split(",")
    return dict(zip(("proc_mode", "sharing_mode", "min_procs", "desired_procs", "max_procs"), values))


def mutating_profile_commands(sim) -> list[list[str]]:
    return [entry["argv"] for entry in sim.audit() if entry.get("argv", [""])[0] == "chsyscfg"]


def system_name(variant: str) -> str:
    model = yaml.safe_load((VARIANTS / f"{variant}.yml").read_text(encoding="utf-8"))
    (system,) = [s["name"] for s in model["systems"] if any(lp["name"] == AI_LPAR for lp in s["lpars"])]
    return system


@pytest.mark.parametrize("variant, cores", [("s1024-16core", 8), ("s1024-24core", 12)])
def test_layout_sizes_the_ai_lpar_to_one_chip_of_the_real_module(variant, cores, tmp_path):
    system = system_name(variant)
    with hmcsim_testing.running_simulator(tmp_path / "sim", model=VARIANTS / f"{variant}.yml") as sim:
        inventory = write_inventory(tmp_path, sim)
        first = run_layout(tmp_path / "first", inventory)
        assert first.rc == 0, first.stdout.read()
        (result,) = procs_results(first)
        assert result["sizing"]["source"] == "hmc"
        assert result["sizing"]["cores_per_chip"] == cores
        assert result["changed"] and result["after"]["desired_procs"] == cores
        assert ai_profile(sim, system) == {"proc_mode": "ded", "sharing_mode": "keep_idle_procs", "min_procs": "1",
                                           "desired_procs": str(cores), "max_procs": str(cores)}

        # A second run finds the profile as wanted and changes nothing.
        sent = len(mutating_profile_commands(sim))
        second = run_layout(tmp_path / "second", inventory)
        assert second.rc == 0, second.stdout.read()
        (again,) = procs_results(second)
        assert not again["changed"] and again["after"]["desired_procs"] == cores
        assert len(mutating_profile_commands(sim)) == sent


def fake_lscpu(directory: Path, topology: dict) -> Path:
    """A bin directory whose `lscpu` prints what util-linux prints on a PowerVM LPAR of that machine."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "lscpu"
    lines = ["Architecture:        ppc64le", "Hypervisor vendor:   pHyp",
             f"Physical sockets:    {topology['sockets']}", f"Physical chips:      {topology['chips_per_socket']}",
             f"Physical cores/chip: {topology['cores_per_chip']}"]
    script.write_text("#!/bin/sh\ncat <<'EOF'\n" + "\n".join(lines) + "\nEOF\n", encoding="utf-8")
    script.chmod(0o755)
    return directory


def test_layout_uses_the_ai_lpars_own_topology_when_it_is_reachable(tmp_path):
    """With the AI LPAR in the inventory (reachable), numa_info on it gives the cores per chip: the ambiguous
    S1024 is sized from the LPAR side, without refusing and without cores_per_chip."""
    variant = "s1024-ambiguous"
    system = system_name(variant)
    model = yaml.safe_load((VARIANTS / f"{variant}.yml").read_text(encoding="utf-8"))
    (topology,) = [s["topology"] for s in model["systems"] if s["name"] == system]
    with hmcsim_testing.running_simulator(tmp_path / "sim", model=VARIANTS / f"{variant}.yml") as sim:
        inventory = write_inventory(tmp_path, sim)
        hosts = yaml.safe_load(inventory.read_text(encoding="utf-8"))
        lpar_host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "hmc_lpar_name": AI_LPAR}
        hosts["all"]["children"]["lpars"] = {"hosts": {"ai-host": lpar_host}}
        hosts["all"]["children"]["ai_lpars"] = {"hosts": {"ai-host": None}}
        inventory.write_text(yaml.safe_dump(hosts), encoding="utf-8")
        run = run_layout(tmp_path / "lpar-side", inventory, path_prefix=fake_lscpu(tmp_path / "bin", topology))
        assert run.rc == 0, run.stdout.read()
        (result,) = procs_results(run)
        assert result["sizing"]["source"] == "lpar"
        assert result["sizing"]["cores_per_chip"] == topology["cores_per_chip"]
        assert ai_profile(sim, system)["desired_procs"] == str(topology["cores_per_chip"])


def test_layout_refuses_an_ambiguous_topology_and_says_what_it_needs(tmp_path):
    variant = "s1024-ambiguous"
    system = system_name(variant)
    with hmcsim_testing.running_simulator(tmp_path / "sim", model=VARIANTS / f"{variant}.yml") as sim:
        inventory = write_inventory(tmp_path, sim)
        before = ai_profile(sim, system)
        refused = run_layout(tmp_path / "refused", inventory)
        assert refused.rc != 0
        (failure,) = procs_results(refused, outcome=("runner_item_on_failed",))
        message = failure["msg"]
        assert "ambiguous topology: 24 installed cores on a S1024" in message, message
        assert "12 cores per chip or 2 x 12-core DCM = 6 cores per chip" in message, message
        assert "numa_info on an LPAR of this managed system" in message and "cores_per_chip" in message, message
        assert mutating_profile_commands(sim) == []
        assert ai_profile(sim, system) == before

        # Given what it asked for (the machine has 12-core DCMs: 6 cores per chip), it sizes.
        given = run_layout(tmp_path / "given", inventory, hmc_layout_cores_per_chip=6)
        assert given.rc == 0, given.stdout.read()
        (result,) = procs_results(given)
        assert result["sizing"]["source"] == "parameter" and result["after"]["desired_procs"] == 6
        assert ai_profile(sim, system)["desired_procs"] == "6"


def run_procs_module(private_dir: Path, inventory: Path, **options):
    """One hmc_lpar_procs task on the hmc group (connection variables of the inventory host)."""
    private_dir.mkdir(parents=True, exist_ok=True)
    playbook = private_dir / "procs.yml"
    task = {"rocketce.power.hmc_lpar_procs": {
        "hmc_host": "{{ hmc_host }}", "hmc_port": "{{ hmc_port }}", "hmc_user": "{{ hmc_user }}",
        "hmc_key_file": "{{ hmc_key_file }}", "hmc_known_hosts": "{{ hmc_known_hosts }}", **options}}
    playbook.write_text(yaml.safe_dump([{"hosts": "hmc", "gather_facts": False, "tasks": [task]}]), encoding="utf-8")
    return ansible_runner.run(private_data_dir=str(private_dir), playbook=str(playbook), inventory=str(inventory),
                              envvars={"ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections")}, quiet=True,
                              timeout=120)


def module_result(runner, outcome="runner_on_ok"):
    (result,) = [event["event_data"]["res"] for event in runner.events if event.get("event") == outcome]
    return result


def test_profile_write_back_is_prevented_by_default_and_detected_when_sync_is_kept(tmp_path):
    """Simulator dialect profile_sync=writeback: with sync_curr_profile=1 on the running AI LPAR, a change of its
    current profile is overwritten with the running (shared) configuration."""
    variant = "s1024-24core"
    system = system_name(variant)
    with hmcsim_testing.running_simulator(tmp_path / "sim", model=VARIANTS / f"{variant}.yml",
                                          dialect={"profile_sync": "writeback"}) as sim:
        rc, out, _ = sim.run(f"chsyscfg -r lpar -m {system} -i name={AI_LPAR},sync_curr_profile=1")
        assert rc == 0, out
        inventory = write_inventory(tmp_path, sim)
        shared = ai_profile(sim, system)
        assert shared["proc_mode"] == "shared"

        kept = run_procs_module(tmp_path / "keep", inventory, system=system, name=AI_LPAR, size_to_chip=True,
                                sync_curr_profile="keep")
        assert kept.rc != 0
        failure = module_result(kept, "runner_on_failed")
        assert "did not stick (sync_curr_profile is on for ai-lpar01" in failure["msg"], failure["msg"]
        assert failure["sent"]["proc_mode"] == "ded" and failure["read"]["proc_mode"] == "shared"
        assert "proc_mode=shared" in failure["profile_listing"]
        assert ai_profile(sim, system) == shared

        disabled = run_procs_module(tmp_path / "disable", inventory, system=system, name=AI_LPAR, size_to_chip=True)
        result = module_result(disabled)
        assert disabled.rc == 0, result
        assert result["sync_disabled"] and result["forced"] and result["after"]["desired_procs"] == 12
        assert ai_profile(sim, system)["proc_mode"] == "ded"
        rc, out, _ = sim.run(f"lssyscfg -r lpar -m {system} --filter lpar_names={AI_LPAR} -F sync_curr_profile")
        assert out.strip() == "0"
        profile_changes = [argv for argv in mutating_profile_commands(sim) if "prof" in argv]
        assert profile_changes and all(argv[-1] == "--force" for argv in profile_changes)
