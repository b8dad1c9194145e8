"""Fixtures for the rocketce.power.hmc inventory plugin: the real plugin loaded through Ansible's plugin loader,
with the HMC replaced by a scripted fake that answers canned outputs and records every command."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

PLUGIN_MODULE = "ansible_collections.rocketce.power.plugins.inventory.hmc"
CLIENT_MODULE = "ansible_collections.rocketce.power.plugins.module_utils.hmc_client"
# The collection loader the plugin loader needs is installed by tests/unit/conftest.py.


class FakeHmc:
    """One scripted HMC: `outputs` maps a command line (argv joined by spaces) to its output text, or to
    {error: TEXT} for a command that exits 1; `connect_error` makes the connection fail."""

    def __init__(self, spec):
        self.outputs = spec.get("outputs", {})
        self.connect_error = spec.get("connect_error")
        self.commands = []
        self.connections = []


class FakeHmcClient:
    """Stand-in for HmcClient with the same constructor and run() signature."""

    registry: dict[str, FakeHmc] = {}

    def __init__(self, host, user, port=22, password=None, key_file=None, known_hosts=None,
                 host_key_checking=True, connect_timeout=30, command_timeout=300):
        self.hmc = self.registry[host]
        self.hmc.connections.append({
            "host": host, "user": user, "port": port, "password": password, "key_file": key_file,
            "known_hosts": known_hosts, "host_key_checking": host_key_checking,
            "connect_timeout": connect_timeout, "command_timeout": command_timeout,
        })

    def __enter__(self):
        client_module = importlib.import_module(CLIENT_MODULE)
        error = self.hmc.connect_error
        if error:
            raise getattr(client_module, error["type"])(error["message"])
        return self

    def __exit__(self, *exc_info):
        return False

    def run(self, argv, mutating=False):
        client_module = importlib.import_module(CLIENT_MODULE)
        line = " ".join(argv)
        self.hmc.commands.append(line)
        if line not in self.hmc.outputs:
            raise AssertionError(f"unexpected HMC command: {line}")
        answer = self.hmc.outputs[line]
        if isinstance(answer, dict):
            raise client_module.HmcCommandError(answer["error"], argv, 1)
        return answer


@dataclass
class InventoryRun:
    inventory: object
    hmcs: dict
    plugin: object
    warnings: list = field(default_factory=list)

    def hostvars(self, host):
        return self.inventory.get_host(host).get_vars()

    def group_hosts(self, group):
        return sorted(host.name for host in self.inventory.groups[group].hosts)


@pytest.fixture
def hmc_plugin(monkeypatch):
    """Returns run(config, hmcs, directory, cache=False) -> InventoryRun (inventory, fake HMCs, plugin, warnings)."""
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    from ansible.utils.vars import load_extra_vars

    plugin_module = importlib.import_module(PLUGIN_MODULE)
    monkeypatch.setattr(plugin_module, "HmcClient", FakeHmcClient)
    # ansible-core caches the extra vars (-e) for the process; each test sets its own.
    monkeypatch.setattr(load_extra_vars, "extra_vars", None, raising=False)

    def run(config, hmcs, directory, cache=False, loader=None, file_name="test.hmc.yml"):
        FakeHmcClient.registry = {host: FakeHmc(spec or {}) for host, spec in hmcs.items()}
        path = Path(directory) / file_name
        if isinstance(config, str):
            path.write_text(config)
        else:
            path.write_text(yaml.safe_dump(config, sort_keys=False))
        plugin = inventory_loader.get("rocketce.power.hmc")
        assert plugin is not None, "rocketce.power.hmc not found by the plugin loader"
        assert plugin.verify_file(str(path))
        warnings = []
        monkeypatch.setattr(plugin.display, "warning", lambda msg, *args, **kwargs: warnings.append(str(msg)))
        result = InventoryRun(InventoryData(), FakeHmcClient.registry, plugin, warnings)
        plugin.parse(result.inventory, loader or DataLoader(), str(path), cache=cache)
        if plugin.get_option("cache"):
            plugin.update_cache_if_changed()
        return result

    return run
