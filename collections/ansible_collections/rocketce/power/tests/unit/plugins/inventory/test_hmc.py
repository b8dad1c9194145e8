"""rocketce.power.hmc inventory plugin: the YAML cases in test_hmc.yaml, plus the behaviours that need code
(command count versus LPAR count, the cache, vaulted passwords, file names)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

CASES = yaml.safe_load((Path(__file__).with_suffix(".yaml")).read_text())["cases"]
SYS_LISTING = "lssyscfg -r sys"


def _all_text(run, error=None):
    """Everything the plugin let out: the error, warnings and every host variable."""
    parts = [str(error or "")] + run_warnings(run)
    if run is not None:
        for host in run.inventory.hosts.values():
            parts.append(json.dumps(host.get_vars(), default=str))
    return "\n".join(parts)


def run_warnings(run):
    return run.warnings if run is not None else []


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case(case, hmc_plugin, tmp_path, monkeypatch):
    for name, value in (case.get("env") or {}).items():
        monkeypatch.setenv(name, value)
    expected = case["expected"]

    if "error" in expected:
        from ansible.errors import AnsibleError

        with pytest.raises(AnsibleError) as excinfo:
            hmc_plugin(case["config"], case["hmcs"], tmp_path)
        message = str(excinfo.value)
        assert re.search(expected["error"], message), message
        # The failure must not drag the original exception (which may quote secrets) along.
        assert excinfo.value.__cause__ is None
        for secret in expected.get("absent_text", []):
            assert secret not in message
        return

    run = hmc_plugin(case["config"], case["hmcs"], tmp_path)

    if "host_names" in expected:
        assert sorted(run.inventory.hosts) == sorted(expected["host_names"])
    for host, variables in expected.get("hosts", {}).items():
        actual = run.hostvars(host)
        assert {key: actual.get(key, "<unset>") for key in variables} == variables, host
    for host, names in expected.get("no_vars", {}).items():
        actual = run.hostvars(host)
        assert [name for name in names if name in actual] == [], host
    for group, hosts in expected.get("groups", {}).items():
        assert group in run.inventory.groups, f"group {group} missing; have {sorted(run.inventory.groups)}"
        assert run.group_hosts(group) == sorted(hosts), group
    for group, children in expected.get("children", {}).items():
        actual = {child.name for child in run.inventory.groups[group].child_groups}
        assert set(children) <= actual, group
    for hmc, commands in expected.get("commands", {}).items():
        assert run.hmcs[hmc].commands == commands, hmc
    for hmc, connections in expected.get("connections", {}).items():
        actual = run.hmcs[hmc].connections
        assert len(actual) == len(connections)
        for got, want in zip(actual, connections):
            assert {key: got[key] for key in want} == want
    for pattern in expected.get("warnings", []):
        assert any(re.search(pattern, warning) for warning in run.warnings), (pattern, run.warnings)
    if "warnings" not in expected:
        assert run.warnings == []
    text = _all_text(run)
    for secret in expected.get("absent_text", []):
        assert secret not in text


def _system_with_lpars(count):
    """One managed system with `count` running LPARs, in the HMC's default listing formats."""
    lpars, procs, mems, scores = [], [], [], []
    for lpar_id in range(1, count + 1):
        name = f"lpar{lpar_id:04d}"
        lpars.append(f"name={name},lpar_id={lpar_id},lpar_env=aixlinux,state=Running,curr_profile=default,"
                     f"rmc_state=active,rmc_ipaddr=10.1.{lpar_id // 250}.{lpar_id % 250}")
        procs.append(f"lpar_name={name},lpar_id={lpar_id},curr_proc_mode=ded,curr_procs=2,curr_sharing_mode=keep_idle_procs")
        mems.append(f"lpar_name={name},lpar_id={lpar_id},curr_mem=8192")
        scores.append(f"lpar_name={name},lpar_id={lpar_id},curr_lpar_score={lpar_id % 101}")
    return {
        SYS_LISTING: "name=big-sys,type_model=9080-HEX,serial_num=1300AAA,state=Operating\n",
        "lssyscfg -r lpar -m big-sys": "\n".join(lpars) + "\n",
        "lshwres -r proc -m big-sys --level lpar": "\n".join(procs) + "\n",
        "lshwres -r mem -m big-sys --level lpar": "\n".join(mems) + "\n",
        "lsmemopt -m big-sys -r lpar -o currscore": "\n".join(scores) + "\n",
    }


@pytest.mark.parametrize("include_affinity", [False, True])
def test_command_count_does_not_grow_with_lpars(hmc_plugin, tmp_path, include_affinity):
    config = {"plugin": "rocketce.power.hmc", "hmcs": [{"host": "hmc"}], "include_affinity": include_affinity}
    counts = {}
    for lpar_count in (2, 400):
        run = hmc_plugin(config, {"hmc": {"outputs": _system_with_lpars(lpar_count)}}, tmp_path)
        assert len(run.inventory.hosts) == lpar_count
        assert run.hostvars(f"lpar{lpar_count:04d}")["hmc_lpar_id"] == lpar_count
        counts[lpar_count] = len(run.hmcs["hmc"].commands)
    assert counts[2] == counts[400] == (5 if include_affinity else 4)


def test_cache_serves_second_parse_and_refresh_queries_again(hmc_plugin, tmp_path):
    cache_dir = tmp_path / "cache"
    config = {
        "plugin": "rocketce.power.hmc",
        "hmcs": [{"host": "hmc", "password": "Cache-Secret-7"}],
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(cache_dir),
        "cache_timeout": 600,
    }
    outputs = {"hmc": {"outputs": _system_with_lpars(3)}}
    first = hmc_plugin(config, outputs, tmp_path, cache=True)
    assert len(first.hmcs["hmc"].commands) == 4
    cached_files = list(cache_dir.iterdir())
    assert cached_files, "nothing was written to the cache"
    assert "Cache-Secret-7" not in "".join(path.read_text() for path in cached_files)

    second = hmc_plugin(config, outputs, tmp_path, cache=True)
    assert second.hmcs["hmc"].commands == []
    assert sorted(second.inventory.hosts) == ["lpar0001", "lpar0002", "lpar0003"]
    assert second.hostvars("lpar0002")["hmc_memory_mb"] == 8192

    # cache=False is what `meta: refresh_inventory` and --flush-cache give: query again and rewrite the cache.
    refreshed = hmc_plugin(config, {"hmc": {"outputs": _system_with_lpars(4)}}, tmp_path, cache=False)
    assert len(refreshed.hmcs["hmc"].commands) == 4
    after_refresh = hmc_plugin(config, outputs, tmp_path, cache=True)
    assert after_refresh.hmcs["hmc"].commands == []
    assert len(after_refresh.inventory.hosts) == 4


def test_cache_ignored_when_the_query_changes(hmc_plugin, tmp_path):
    config = {
        "plugin": "rocketce.power.hmc",
        "hmcs": [{"host": "hmc"}],
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    outputs = {"hmc": {"outputs": _system_with_lpars(2)}}
    hmc_plugin(config, outputs, tmp_path, cache=True)
    config["include_affinity"] = True
    run = hmc_plugin(config, outputs, tmp_path, cache=True)
    assert len(run.hmcs["hmc"].commands) == 5
    assert run.hostvars("lpar0001")["hmc_affinity_score"] == 1


def test_cache_written_by_an_older_plugin_is_ignored(hmc_plugin, tmp_path):
    """A cache entry with the old record shape (lpar_name/lpar_id keys, no record_format) is not served."""
    config = {
        "plugin": "rocketce.power.hmc",
        "hmcs": [{"host": "hmc"}],
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    outputs = {"hmc": {"outputs": _system_with_lpars(2)}}
    hmc_plugin(config, outputs, tmp_path, cache=True)
    (entry,) = list((tmp_path / "cache").iterdir())
    stored = json.loads(entry.read_text())
    cached = json.loads(stored["__payload__"])  # ansible-core 2.19 jsonfile: the data as a JSON string
    cached["query"].pop("record_format", None)
    for result in cached["results"]:
        for system in result["systems"]:
            system["lpars"] = [{"lpar_name": "old", "lpar_id": 1} for _lpar in system["lpars"]]
    stored["__payload__"] = json.dumps(cached)
    entry.write_text(json.dumps(stored))
    run = hmc_plugin(config, outputs, tmp_path, cache=True)
    assert len(run.hmcs["hmc"].commands) == 4
    assert run.hostvars("lpar0001")["hmc_lpar_name"] == "lpar0001"


def test_vaulted_password_is_decrypted_for_the_client_only(hmc_plugin, tmp_path, monkeypatch):
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib, VaultSecret, VaultSecretsContext

    secret = VaultSecret(b"vault-pass-for-tests")
    # What the CLI sets up from --vault-password-file.
    monkeypatch.setattr(VaultSecretsContext, "_current", VaultSecretsContext([("default", secret)]))
    vaulted = VaultLib([("default", secret)]).encrypt("Vaulted-Secret-42").decode()
    config = "plugin: rocketce.power.hmc\nhmcs:\n  - host: hmc\n    password: !vault |\n" + "".join(
        f"      {line}\n" for line in vaulted.splitlines()
    )

    def loader():
        data_loader = DataLoader()
        data_loader.set_vault_secrets([("default", secret)])
        return data_loader

    run = hmc_plugin(config, {"hmc": {"outputs": _system_with_lpars(1)}}, tmp_path, loader=loader())
    assert run.hmcs["hmc"].connections[0]["password"] == "Vaulted-Secret-42"
    assert "Vaulted-Secret-42" not in _all_text(run)

    failing = {"hmc": {"connect_error": {"type": "HmcAuthenticationError", "message": "denied Vaulted-Secret-42"}}}
    with pytest.raises(AnsibleError) as excinfo:
        hmc_plugin(config, failing, tmp_path, loader=loader())
    assert "Vaulted-Secret-42" not in str(excinfo.value)
    assert "denied ********" in str(excinfo.value)


def test_password_from_extra_vars(hmc_plugin, tmp_path, monkeypatch):
    from ansible import context
    from ansible.utils.context_objects import CLIArgs

    # What `-e hmc_secret=...` (or `-e @vault.yml`) gives the plugin.
    monkeypatch.setattr(context, "CLIARGS", CLIArgs({"extra_vars": ("hmc_secret=From-Extra-Vars",)}))
    config = {"plugin": "rocketce.power.hmc", "hmcs": [{"host": "hmc", "password": "{{ hmc_secret }}"}]}
    run = hmc_plugin(config, {"hmc": {"outputs": _system_with_lpars(1)}}, tmp_path)
    assert run.hmcs["hmc"].connections[0]["password"] == "From-Extra-Vars"
    assert "From-Extra-Vars" not in _all_text(run)


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("site.hmc.yml", True),
        ("site.hmc.yaml", True),
        ("site.yml", False),
        ("hmc.yml", False),
        ("site.hmc.yml.j2", False),
    ],
)
def test_verify_file_accepts_only_hmc_yaml_names(tmp_path, hmc_plugin, name, accepted):
    from ansible.plugins.loader import inventory_loader

    path = tmp_path / name
    path.write_text("plugin: rocketce.power.hmc\n")
    assert inventory_loader.get("rocketce.power.hmc").verify_file(str(path)) is accepted


def test_relative_key_and_known_hosts_paths_are_relative_to_the_inventory_file(hmc_plugin, tmp_path):
    config = {
        "plugin": "rocketce.power.hmc",
        "hmcs": [{"host": "hmc", "key_file": "keys/id_ed25519", "known_hosts": "hmc_known_hosts"}],
    }
    run = hmc_plugin(config, {"hmc": {"outputs": _system_with_lpars(1)}}, tmp_path)
    connection = run.hmcs["hmc"].connections[0]
    assert connection["key_file"] == str(tmp_path / "keys" / "id_ed25519")
    assert connection["known_hosts"] == str(tmp_path / "hmc_known_hosts")


def test_partial_results_are_not_cached(hmc_plugin, tmp_path):
    config = {
        "plugin": "rocketce.power.hmc",
        "hmcs": [{"host": "hmc"}],
        "fail_on_hmc_error": False,
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    outputs = _system_with_lpars(2)
    outputs["lshwres -r mem -m big-sys --level lpar"] = {"error": "HSCL0001 Simulated failure."}
    first = hmc_plugin(config, {"hmc": {"outputs": outputs}}, tmp_path, cache=True)
    assert first.inventory.hosts == {}
    assert any("HSCL0001" in warning for warning in first.warnings)
    second = hmc_plugin(config, {"hmc": {"outputs": _system_with_lpars(2)}}, tmp_path, cache=True)
    assert len(second.hmcs["hmc"].commands) == 4
    assert sorted(second.inventory.hosts) == ["lpar0001", "lpar0002"]


def test_documented_examples_work(hmc_plugin, tmp_path, monkeypatch):
    """Every EXAMPLES document of the plugin is a working inventory source."""
    import importlib

    from ansible import context
    from ansible.utils.context_objects import CLIArgs

    module = importlib.import_module("ansible_collections.rocketce.power.plugins.inventory.hmc")
    examples = [doc for doc in yaml.safe_load_all(module.EXAMPLES) if doc]
    assert len(examples) >= 4
    outputs = yaml.safe_load((Path(__file__).with_suffix(".yaml")).read_text())["_outputs"]
    monkeypatch.setenv("HMC_PASSWORD", "Example-Env-Secret")
    monkeypatch.setattr(context, "CLIARGS", CLIArgs({"extra_vars": ("vault_hmc3_password=Example-Vault-Secret",)}))
    for index, example in enumerate(examples):
        if example.get("cache"):
            example["cache_connection"] = str(tmp_path / "cache")  # not the user's ~/.cache
        hmcs = {entry["host"]: {"outputs": outputs} for entry in example["hmcs"]}
        run = hmc_plugin(example, hmcs, tmp_path, file_name=f"example{index}.hmc.yml")
        assert run.inventory.hosts, f"example {index} gives no host"
        assert "Example-Env-Secret" not in _all_text(run) and "Example-Vault-Secret" not in _all_text(run)
    first = hmc_plugin(examples[0], {"hmc1.example.com": {"outputs": outputs}}, tmp_path)
    assert first.group_hosts("needs_dpo") == ["ai-lpar01"]
    assert first.group_hosts("affinity_30") == ["ai-lpar01"]
    assert first.group_hosts("ai_lpars") == ["ai-lpar01", "ai-lpar02"]


def test_documented_connection_defaults_are_the_modules_defaults():
    """The hmcs[] options are the modules' connection options: same defaults in the code and in the docs."""
    import importlib

    plugin = importlib.import_module("ansible_collections.rocketce.power.plugins.inventory.hmc")
    client = importlib.import_module("ansible_collections.rocketce.power.plugins.module_utils.hmc_client")
    documented = yaml.safe_load(plugin.DOCUMENTATION)["options"]["hmcs"]["suboptions"]
    modules = client.hmc_argument_spec()
    for name, spec in plugin.hmc_entry_spec().items():
        assert spec.get("default") == modules["hmc_" + name].get("default"), name
        assert documented[name].get("default") == spec.get("default"), name
    assert plugin.hmc_entry_spec()["command_timeout"]["default"] == 300
