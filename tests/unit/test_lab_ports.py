"""The lab's one port table (lab/lab.yml `ports:`): no two users of a controller port collide, molecule scenarios
take their ports from it, and the service-port overrides for parallel labs keep working."""

import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl import config, ports  # noqa: E402
from labctl.procs import LabError  # noqa: E402


def test_every_controller_port_of_the_lab_is_unique():
    found = ports.all_ports()
    values = [port for _, port in found]
    clashes = {port: [what for what, p in found if p == port] for port in values if values.count(port) > 1}
    assert not clashes
    assert len(found) > 20  # the demo lab, the services and every scenario are in it


def test_each_molecule_scenario_that_boots_lab_hosts_has_its_ports_in_the_table():
    table = ports.table()["molecule"]
    for molecule_yml in sorted((REPO / "molecule").glob("*/molecule.yml")):
        scenario = molecule_yml.parent.name
        data = yaml.safe_load(molecule_yml.read_text())
        if "_shared/create.yml" not in str(data["provisioner"].get("playbooks", {}).get("create", "")):
            continue
        for platform in data["platforms"]:
            assert platform["name"] in table[scenario], f"{scenario}: {platform['name']} not in ports.molecule"
            # A port still written in molecule.yml must be the table's (create.yml asserts the same at run time).
            assert platform.get("ssh_port", table[scenario][platform["name"]]) == table[scenario][platform["name"]]


def test_molecule_default_takes_its_ports_from_the_table():
    spec = config.load(REPO / "molecule" / "default" / "lab.yml")
    table = ports.section("molecule.default")
    assert [h.ssh_port for h in spec.hosts] == [table[h.name] for h in spec.hosts]
    assert spec.hmc.port == table[spec.hmc.name]
    assert not re.search(r"\b22\d\d\b", (REPO / "molecule" / "default" / "lab.yml").read_text())


def test_the_demo_lab_yml_still_loads_with_the_table_in_it():
    spec = config.load(REPO / "lab" / "lab.yml")
    assert spec.hmc.port == 2222 and [h.ssh_port for h in spec.hosts] == [2201, 2202]


def test_a_missing_port_names_the_table(tmp_path):
    text = ("inventory: x.yml\nport_table: molecule.default\n"
            "hosts:\n  - {name: nowhere-1, hmc_managed_system: s, hmc_lpar_name: a}\n")
    with pytest.raises(LabError, match=r"'nowhere-1' has no ssh_port and no entry in ports.molecule.default"):
        config.parse(text)
    with pytest.raises(LabError, match="no port table ports.molecule.nope"):
        config.parse(text.replace("molecule.default", "molecule.nope"))


def test_service_ports_come_from_the_table_unless_overridden(monkeypatch):
    monkeypatch.delenv("ROCKETCE_LAB_PROXY_PORT", raising=False)
    monkeypatch.delenv("ROCKETCE_LAB_ARTIFACTS_PORT", raising=False)
    assert (ports.service_port("proxy"), ports.service_port("artifacts")) == (38128, 38081)
    monkeypatch.setenv("ROCKETCE_LAB_PROXY_PORT", "38211")
    monkeypatch.setenv("ROCKETCE_LAB_ARTIFACTS_PORT", "38212")
    assert (ports.service_port("proxy"), ports.service_port("artifacts")) == (38211, 38212)
    monkeypatch.setenv("ROCKETCE_LAB_PROXY_PORT", "80")
    with pytest.raises(LabError, match="use 1024-65535"):
        ports.service_port("proxy")
    monkeypatch.setenv("ROCKETCE_LAB_PROXY_PORT", "x")
    with pytest.raises(LabError, match="ROCKETCE_LAB_PROXY_PORT or ports.proxy"):
        ports.service_port("proxy")
