"""rocketce.power.hmc inventory plugin against the HMC simulator (lab/hmcsim), through the real `ansible-inventory`.

Starts its own simulator on a free loopback port with a fresh state dir (the lab's own simulator and state are
not touched), then checks: both simulated systems' LPARs in the expected groups, a constant number of HMC
commands per managed system whatever its LPAR count (the simulator's audit log), and that a password given in
the inventory source never appears in any output, including failures at -vvvv.

Run: .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/integration/test_inventory_plugin.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = REPO / "lab" / "hmc" / "model.yml"
WRONG_PASSWORD = "Wr0ng-Guess-0xDEADBEEF"
VAULT_PASSWORD = "vault-pass-for-integration"

testing = pytest.importorskip("hmcsim.testing", reason="needs the lab/hmcsim package in the venv")


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    with testing.running_simulator(tmp_path_factory.mktemp("hmcsim")) as sim:
        yield sim


def _env(**extra):
    env = dict(os.environ)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"),
        # A source that fails to parse makes ansible-inventory fail instead of printing an empty inventory.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_NOCOLOR": "1",
    })
    env.update(extra)
    return env


def ansible_inventory(source: Path, *args, env=None):
    return subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), *args],
        capture_output=True, text=True, timeout=180, env=_env(**(env or {})), cwd=REPO, check=False,
    )


def write_source(directory: Path, sim, name="lab.hmc.yml", hmc=None, **options):
    entry = {"host": sim.host, "port": sim.port, "user": "hscroot", "known_hosts": str(sim.known_hosts)}
    entry.update(hmc or {})
    config = {"plugin": "rocketce.power.hmc", "hmcs": [entry], **options}
    path = directory / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _expected_from_model(model):
    """The LPARs each system must show (VIOS left out by default), with their states, from the model file."""
    systems = {}
    for system in model["systems"]:
        systems[system["name"]] = {
            lpar["name"]: lpar.get("state", "Not Activated")
            for lpar in system["lpars"]
            if lpar.get("env", "aixlinux") != "vioserver"
        }
    return systems


def _hostvars(listing):
    """Host variables of `ansible-inventory --list`. Strings that came from the HMC are not trusted as templates,
    so ansible-core 2.19 prints them as {"__ansible_unsafe": value}; unwrap those."""

    def plain(value):
        if isinstance(value, dict):
            if set(value) == {"__ansible_unsafe"}:
                return value["__ansible_unsafe"]
            return {key: plain(item) for key, item in value.items()}
        return value

    return {host: plain(variables) for host, variables in listing["_meta"]["hostvars"].items()}


def _group_hosts(listing, group):
    return sorted(listing.get(group, {}).get("hosts", []))


def _connections(records):
    return {record["connection"] for record in records}


def _commands_per_system(records):
    """How many commands named each managed system (`-m SYSTEM`); commands without -m are not counted."""
    per_system = Counter()
    for record in records:
        argv = record["argv"]
        if "-m" in argv:
            per_system[argv[argv.index("-m") + 1]] += 1
    return per_system


def test_graph_shows_both_systems_lpars_in_expected_groups(simulator, tmp_path):
    source = write_source(tmp_path, simulator, hmc={"key_file": str(simulator.client_key)}, include_affinity=True)

    graph = ansible_inventory(source, "--graph")
    assert graph.returncode == 0, graph.stderr
    print(graph.stdout)  # the README shows this graph

    listed = ansible_inventory(source, "--list")
    assert listed.returncode == 0, listed.stderr
    listing = json.loads(listed.stdout)
    hostvars = _hostvars(listing)

    expected = _expected_from_model(yaml.safe_load(MODEL.read_text()))
    assert len(expected) == 2
    for system, lpars in expected.items():
        group = "hmc_system_" + system.replace("-", "_").lower()
        assert _group_hosts(listing, group) == sorted(lpars), group
        assert f"@{group}:" in graph.stdout
        for name, state in lpars.items():
            assert hostvars[name]["hmc_managed_system"] == system
            assert hostvars[name]["hmc_lpar_state"] == state
            state_group = "hmc_state_" + state.replace(" ", "_").lower()
            assert name in _group_hosts(listing, state_group)
            assert name in _group_hosts(listing, f"hmc_proc_mode_{hostvars[name]['hmc_proc_mode']}")
    all_lpars = sorted(name for lpars in expected.values() for name in lpars)
    assert _group_hosts(listing, "hmc_lpars") == all_lpars
    assert sorted(hostvars) == all_lpars  # VIOS are left out by default

    ai = hostvars["ai-lpar01"]
    assert ai["ansible_host"] == "10.10.10.41"  # the RMC IP the HMC reports
    assert ai["hmc_lpar_id"] == 3
    assert ai["hmc_proc_mode"] == "shared"
    assert isinstance(ai["hmc_affinity_score"], int) and 0 <= ai["hmc_affinity_score"] <= 100
    assert isinstance(hostvars["ai-lpar02"]["hmc_memory_mb"], int)
    assert not any(simulator.password in text for text in (graph.stdout, graph.stderr, listed.stdout, listed.stderr))


def test_commands_per_managed_system_are_constant(simulator, tmp_path):
    """One connection per refresh, one system listing, and the same fixed set of commands for each managed
    system, although the two systems hold different numbers of LPARs."""
    source = write_source(tmp_path, simulator, hmc={"key_file": str(simulator.client_key)}, include_affinity=True)
    before = len(simulator.audit())
    result = ansible_inventory(source, "--list")
    assert result.returncode == 0, result.stderr
    records = simulator.audit()[before:]
    assert len(_connections(records)) == 1

    model = yaml.safe_load(MODEL.read_text())
    lpar_counts = {system["name"]: len(system["lpars"]) for system in model["systems"]}
    assert len(set(lpar_counts.values())) > 1, "the model's systems should differ in LPAR count"
    assert dict(_commands_per_system(records)) == {name: 4 for name in lpar_counts}
    for name in lpar_counts:
        assert sorted(record["argv"][0] for record in records if name in record["argv"]) == [
            "lshwres", "lshwres", "lsmemopt", "lssyscfg"]
    # The one command without -m: the managed-system listing.
    assert [record["argv"][:3] for record in records if "-m" not in record["argv"]] == [["lssyscfg", "-r", "sys"]]


def test_commands_stay_constant_with_many_more_lpars(tmp_path):
    model = yaml.safe_load(MODEL.read_text())
    big = next(system for system in model["systems"] if system["name"] == "e1080-lab")
    template = next(lpar for lpar in big["lpars"] if lpar["state"] == "Not Activated")
    first_id = max(lpar["id"] for lpar in big["lpars"]) + 1
    for lpar_id in range(first_id, first_id + 60):
        big["lpars"].append({**template, "name": f"extra{lpar_id:03d}", "id": lpar_id})
    model_path = tmp_path / "model.yml"
    model_path.write_text(yaml.safe_dump(model, sort_keys=False))
    with testing.running_simulator(tmp_path / "sim", model=model_path) as sim:
        source = write_source(tmp_path, sim, hmc={"key_file": str(sim.client_key)}, include_affinity=True)
        result = ansible_inventory(source, "--list")
        records = sim.audit()
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert len(_group_hosts(listing, "hmc_system_e1080_lab")) == 2 + 60
    assert dict(_commands_per_system(records)) == {"p10-s1024-lab": 4, "e1080-lab": 4}
    assert len(_connections(records)) == 1


def test_powered_off_system_keeps_its_lpars_without_hardware_listings(tmp_path):
    """lab/hmc/variants/powered-off.yml: one Operating system and one in Power Off. The default
    fail_on_hmc_error=true source still succeeds; the powered-off system's LPARs are hosts with the state the
    HMC lists and null processors, and no lshwres/lsmemopt is sent for it (the HMC would answer HSCLZ010)."""
    variant = REPO / "lab" / "hmc" / "variants" / "powered-off.yml"
    model = yaml.safe_load(variant.read_text())
    off = next(system for system in model["systems"] if system.get("state") == "Power Off")
    with testing.running_simulator(tmp_path / "sim", model=variant) as sim:
        source = write_source(tmp_path, sim, hmc={"key_file": str(sim.client_key)}, include_affinity=True)
        result = ansible_inventory(source, "--list")
        records = sim.audit()
    assert result.returncode == 0, result.stderr
    hostvars = _hostvars(json.loads(result.stdout))
    expected = _expected_from_model(model)[off["name"]]
    assert expected, "the variant's powered-off system should have LPARs"
    for name in expected:
        assert hostvars[name]["hmc_managed_system_state"] == "Power Off"
        assert hostvars[name]["hmc_lpar_state"] == "Not Activated"
        assert hostvars[name]["hmc_procs"] is None and hostvars[name]["hmc_affinity_score"] is None
    sent_to_off = sorted(record["argv"][0] for record in records if off["name"] in record["argv"])
    assert sent_to_off == ["lssyscfg"]
    running = [name for name, variables in hostvars.items() if variables["hmc_managed_system_state"] == "Operating"]
    assert running and all(isinstance(hostvars[name]["hmc_memory_mb"], int) for name in running)


def _vaulted(value, vault_file):
    """The block after `!vault |` that ansible-vault encrypt_string prints (indented lines)."""
    result = subprocess.run(
        # The value goes in on stdin, not on the command line.
        [str(BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", str(vault_file), "--stdin-name", "pw"],
        input=value, capture_output=True, text=True, check=True, env=_env(), timeout=60,
    )
    return result.stdout.split("!vault |", 1)[1].rstrip("\n")


def _password_source(tmp_path, sim, name, password_yaml, **hmc):
    """An inventory source whose only HMC has the password spelled as `password_yaml` (plain, template, !vault)."""
    entry = {"host": sim.host, "port": sim.port, "user": "hscroot", "known_hosts": str(sim.known_hosts), **hmc}
    lines = ["plugin: rocketce.power.hmc", "include_affinity: true", "hmcs:", f"  - password: {password_yaml}"]
    lines += [f"    {key}: {json.dumps(value)}" for key, value in entry.items()]
    path = tmp_path / f"{name}.hmc.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def vault_file(tmp_path):
    path = tmp_path / "vault-pass"
    path.write_text(VAULT_PASSWORD + "\n")
    return path


def test_right_password_from_vault_works_and_is_never_printed(simulator, tmp_path, vault_file):
    source = _password_source(tmp_path, simulator, "vaulted", "!vault |" + _vaulted(simulator.password, vault_file))
    result = ansible_inventory(source, "--list", "-vvvv", "--vault-password-file", str(vault_file))
    assert result.returncode == 0, result.stderr
    assert "ai-lpar01" in _hostvars(json.loads(result.stdout[result.stdout.index("{"):]))
    assert simulator.password not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("case", "expected_error"),
    [
        ("wrong_password_plain", "authentication"),
        ("wrong_password_env", "authentication"),
        ("wrong_password_vault", "authentication"),
        ("nothing_listening", "cannot connect"),
        ("unknown_host", "cannot connect"),
        ("host_key_mismatch", "host key"),
        ("right_password_env", None),
    ],
)
def test_password_never_printed_even_on_failures_at_vvvv(simulator, tmp_path, vault_file, case, expected_error):
    env = {}
    extra_args = []
    hmc = {}
    secret = WRONG_PASSWORD if case.startswith("wrong") else simulator.password
    if case in ("wrong_password_plain", "nothing_listening", "unknown_host", "host_key_mismatch"):
        password_yaml = json.dumps(secret)
    elif case in ("wrong_password_env", "right_password_env"):
        env["ROCKETCE_TEST_HMC_PASSWORD"] = secret
        password_yaml = "\"{{ lookup('ansible.builtin.env', 'ROCKETCE_TEST_HMC_PASSWORD') }}\""
    else:
        password_yaml = "!vault |" + _vaulted(secret, vault_file)
        extra_args = ["--vault-password-file", str(vault_file)]
    if case == "nothing_listening":
        hmc = {"port": testing.free_port(), "connect_timeout": 5}
    if case == "unknown_host":
        hmc = {"host": "no-such-hmc.invalid", "connect_timeout": 5}
    if case == "host_key_mismatch":
        # Another ed25519 key where the simulator's should be: the client must refuse before authenticating.
        other = ed25519.Ed25519PrivateKey.generate().public_key()
        other_line = other.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        known = tmp_path / "mismatch_known_hosts"
        known.write_text(f"[{simulator.host}]:{simulator.port} {other_line}\n")
        hmc = {"known_hosts": str(known)}

    source = _password_source(tmp_path, simulator, case, password_yaml, **hmc)
    result = ansible_inventory(source, "--list", "-vvvv", *extra_args, env=env)
    output = result.stdout + result.stderr
    assert secret not in output
    if expected_error is None:
        assert result.returncode == 0, output[-3000:]
        assert "ai-lpar01" in result.stdout
    else:
        assert result.returncode != 0, output[-3000:]
        assert "cannot read HMC hscroot@" in output, output[-3000:]
        assert expected_error in output.lower(), output[-3000:]


def test_example_inventory_works_against_the_simulator(simulator, tmp_path):
    """inventories/example/hmc.hmc.yml as shipped, with only its HMC list pointed at the simulator."""
    config = yaml.safe_load((REPO / "inventories" / "example" / "hmc.hmc.yml").read_text())
    config["hmcs"] = [{"host": simulator.host, "port": simulator.port, "key_file": str(simulator.client_key),
                       "known_hosts": str(simulator.known_hosts)}]
    config["cache_connection"] = str(tmp_path / "cache")
    source = tmp_path / "example.hmc.yml"
    source.write_text(yaml.safe_dump(config, sort_keys=False))
    result = ansible_inventory(source, "--list")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    hostvars = _hostvars(listing)

    model = yaml.safe_load(MODEL.read_text())
    expected = sorted(f"{lpar['name']}.example.com" for system in model["systems"] if system["name"].startswith("p10-")
                      for lpar in system["lpars"] if lpar.get("env", "aixlinux") == "aixlinux")
    assert sorted(hostvars) == expected
    poor = sorted(host for host, variables in hostvars.items()
                  if variables["hmc_affinity_score"] is not None and variables["hmc_affinity_score"] < 80)
    assert poor and _group_hosts(listing, "hmc_affinity_poor") == poor
    ai = hostvars["ai-lpar01.example.com"]
    assert ai["ansible_host"] == "ai-lpar01.example.com"
    assert "ai-lpar01.example.com" in _group_hosts(listing, f"affinity_{ai['hmc_affinity_score'] // 10 * 10}")
    assert _group_hosts(listing, "hmc_env_aixlinux") == expected
    assert list((tmp_path / "cache").iterdir()), "the example caches the HMC answers"
