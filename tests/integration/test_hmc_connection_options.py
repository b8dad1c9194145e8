"""The HMC connection options of the inventory reach every HMC module through the playbooks.

The playbooks on the `hmc` group (hmc_lpar_layout.yml, hmc_affinity.yml, verify.yml) take the module options
of the HMC action group from one definition (playbooks/vars/hmc_connection.yml). What an admin relies on:
each connection option the modules accept (read from the modules' own argument specs, so a new option fails
this test until the playbooks forward it) arrives with the value the inventory gives it, in every HMC task of
every one of these playbooks; and `hmc_host_key_checking: false` really lets a run talk to an HMC whose key is
not in known_hosts, while the default refuses it. Checked against the HMC simulator (lab/hmcsim), from
ansible-runner's events (the module's own report of its arguments) and the simulator's audit log.

Run: .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/integration/test_hmc_connection_options.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ansible_runner
import pytest
import yaml

hmcsim_testing = pytest.importorskip("hmcsim.testing", reason="needs the lab/hmcsim package in the venv")

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "collections"
RUNTIME = COLLECTIONS / "ansible_collections" / "rocketce" / "power" / "meta" / "runtime.yml"
NO_LOG_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# An HMC user the simulator does not know: hscroot is also the modules' default, so only a run with another user
# shows that hmc_user comes from the inventory (its first HMC task fails to log in, reporting that user).
FOREIGN_USER = "ctl-operator"

# Each module's main() builds its AnsibleModule from its argument spec; stopping there yields the spec exactly as
# the module uses it, wherever in module_utils the shared connection part is defined.
_READ_ARGUMENT_SPECS = r"""
import importlib, json, sys
from ansible.module_utils import basic

class _Captured(Exception):
    pass

def _capture(self, argument_spec, *args, **kwargs):
    raise _Captured(argument_spec)

basic.AnsibleModule.__init__ = _capture
specs = {}
for name in sys.argv[1:]:
    module = importlib.import_module("ansible_collections.rocketce.power.plugins.modules." + name)
    try:
        module.main()
    except _Captured as captured:
        spec = captured.args[0]
        specs[name] = {opt: {"type": o.get("type", "str"), "default": o.get("default")} for opt, o in spec.items()}
    else:
        raise SystemExit(name + ": main() did not build an AnsibleModule")
print(json.dumps(specs))
"""


def hmc_action_group() -> list[str]:
    """The modules of group/rocketce.power.hmc (meta/runtime.yml), the group the playbooks' module_defaults set."""
    groups = yaml.safe_load(RUNTIME.read_text(encoding="utf-8"))["action_groups"]
    return [name for name in groups["hmc"] if isinstance(name, str)]


def connection_spec() -> dict[str, dict]:
    """The options every module of the HMC action group accepts: the shared connection argument spec."""
    modules = hmc_action_group()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(COLLECTIONS), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", _READ_ARGUMENT_SPECS, *modules], env=env, capture_output=True,
                          text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    specs = json.loads(proc.stdout)
    shared = set.intersection(*(set(spec) for spec in specs.values()))
    first = specs[modules[0]]
    return {opt: first[opt] for opt in sorted(shared)}


def connection_values(sim, **changes) -> dict:
    """Inventory values for every connection option, each (but hmc_user) different from the module default."""
    values = {
        "hmc_host": sim.host,
        "hmc_port": sim.port,
        "hmc_user": "hscroot",
        "hmc_password": sim.password,
        "hmc_key_file": str(sim.client_key),
        "hmc_known_hosts": str(sim.known_hosts),
        "hmc_host_key_checking": False,
        "hmc_connect_timeout": 17,
        "hmc_command_timeout": 287,
    }
    values.update(changes)
    return values


def write_inventory(directory: Path, hmc_hosts: dict[str, dict]) -> Path:
    """HMC hosts with the given connection variables, each with an AI LPAR (for verify.yml's HMC play) whose
    LPAR-side findings are given, so verify.yml runs on the HMC hosts alone (--limit)."""
    hmc = {name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **values}
           for name, values in hmc_hosts.items()}
    ai_lpars = {
        f"{name}-ai": {
            "hmc_inventory_host": name,
            "hmc_managed_system": "p10-s1024-lab",
            "hmc_lpar_name": "ai-lpar01",
            "verify_lpar": {"lpar": "ai-lpar01", "system": "p10-s1024-lab", "numa_cpu_nodes": 1},
        }
        for name in hmc_hosts
    }
    inventory = {"all": {"children": {"hmc": {"hosts": hmc}, "ai_lpars": {"hosts": ai_lpars}}}}
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


# Playbook, extra vars: each run touches only ai-lpar01 and needs nothing but the HMC (check mode everywhere).
PLAYBOOKS = {
    "hmc_lpar_layout.yml": {"hmc_layout_ai_lpars": "ai-lpar01", "hmc_layout_other_lpars": "", "hmc_layout_procs": 12},
    "hmc_affinity.yml": {"target_lpars": "ai-lpar01"},
    "verify.yml": {},
}


def run_playbook(private_dir: Path, playbook: str, inventory: Path, extravars: dict):
    private_dir.mkdir(parents=True, exist_ok=True)
    return ansible_runner.run(
        private_data_dir=str(private_dir),
        playbook=str(REPO / "playbooks" / playbook),
        inventory=str(inventory),
        extravars=extravars,
        cmdline="--check --limit hmc",
        envvars={
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
        },
        quiet=True,
        timeout=240,
    )


def hmc_module_runs(runner, host: str) -> list[tuple[str, str, dict]]:
    """(event, task, module_args) of every HMC module run on `host`: the results that report an hmc_host
    argument (async HMC jobs report theirs through async_status)."""
    runs = []
    for event in runner.events:
        data = event.get("event_data", {})
        if data.get("host") != host or event.get("event") not in (
                "runner_on_ok", "runner_item_on_ok", "runner_on_failed", "runner_item_on_failed"):
            continue
        args = (data.get("res") or {}).get("invocation", {}).get("module_args", {})
        if "hmc_host" in args:
            runs.append((event["event"], data.get("task", ""), args))
    return runs


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    with hmcsim_testing.running_simulator(tmp_path_factory.mktemp("hmcsim"), dpo_seconds=2) as sim:
        yield sim


def test_the_test_sets_every_connection_option():
    spec = connection_spec()
    assert "hmc_host" in spec, spec  # the intersection is the connection spec, not something empty or odd
    sim = type("Sim", (), {"host": "h", "port": 2, "password": "p", "client_key": "k", "known_hosts": "n"})
    values = connection_values(sim)
    assert set(values) == set(spec), (
        "connection options of the HMC modules changed: forward the new ones in playbooks/vars/hmc_connection.yml "
        f"and give them a value here; spec {sorted(spec)}, tested {sorted(values)}")
    same_as_default = sorted(opt for opt, value in values.items() if value == spec[opt]["default"])
    assert same_as_default == ["hmc_user"], same_as_default  # hmc_user is shown by the foreign-user HMC host


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
def test_every_connection_option_reaches_every_hmc_task(simulator, tmp_path, playbook):
    spec = connection_spec()
    given = connection_values(simulator)
    inventory = write_inventory(tmp_path, {
        "hmc-given": given,
        "hmc-foreign-user": connection_values(simulator, hmc_user=FOREIGN_USER),
    })
    runner = run_playbook(tmp_path / "run", playbook, inventory, PLAYBOOKS[playbook])
    stdout = runner.stdout.read()

    runs = hmc_module_runs(runner, "hmc-given")
    assert runs, f"{playbook}: no HMC module ran\n{stdout}"
    assert runner.stats["failures"].get("hmc-given", 0) == 0, stdout
    expected = {opt: (NO_LOG_MASK if opt == "hmc_password" else given[opt]) for opt in spec}
    for event, task, args in runs:
        arrived = {opt: args.get(opt) for opt in spec}
        assert arrived == expected, f"{playbook}: task {task!r} ({event}) got other connection options"

    # The other HMC host's first HMC task logs in as the inventory's user, which the HMC refuses.
    foreign = hmc_module_runs(runner, "hmc-foreign-user")
    assert len(foreign) == 1 and foreign[0][0].endswith("on_failed"), f"{playbook}: {foreign}\n{stdout}"
    assert foreign[0][2]["hmc_user"] == FOREIGN_USER
    logins = {entry.get("user") for entry in simulator.audit() if entry.get("argv")}
    assert FOREIGN_USER not in logins, logins


def test_host_key_checking_false_connects_to_an_unknown_hmc_and_the_default_refuses(simulator, tmp_path):
    unknown = tmp_path / "known_hosts_without_the_hmc"
    unknown.write_text("", encoding="utf-8")
    base = connection_values(simulator, hmc_known_hosts=str(unknown))
    del base["hmc_host_key_checking"]

    def run(name: str, values: dict):
        (tmp_path / name).mkdir()
        inventory = write_inventory(tmp_path / name, {"hmc-" + name: values})
        before = len(simulator.audit())
        runner = run_playbook(tmp_path / name / "run", "hmc_affinity.yml", inventory, {"target_lpars": "ai-lpar01"})
        return runner, simulator.audit()[before:]

    relaxed, relaxed_audit = run("unchecked", {**base, "hmc_host_key_checking": False})
    assert relaxed.rc == 0, relaxed.stdout.read()
    assert [e for e in relaxed_audit if e.get("argv", [""])[0] == "lsmemopt"], "no affinity read from the HMC"

    strict, strict_audit = run("checked", base)
    assert strict.rc != 0, "connected to an HMC whose host key is not known"
    failures = [e["event_data"].get("res", {}).get("msg", "") for e in strict.events
                if e.get("event") in ("runner_on_failed", "runner_item_on_failed")]
    assert failures and "host key" in failures[0].lower(), failures
    assert not [e for e in strict_audit if e.get("argv")], "a command reached the HMC through an unknown host key"
