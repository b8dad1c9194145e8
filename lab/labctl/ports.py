"""The lab's one port table: `ports:` in lab/lab.yml (controller loopback ports of the shared services and of every
molecule scenario; the demo lab's own ports are its hosts' and HMC's entries in the same file).

ROCKETCE_LAB_PROXY_PORT / ROCKETCE_LAB_ARTIFACTS_PORT override the service ports, so parallel labs (each in its
own state dir) do not collide. PyYAML only: lab/hosts/labhost runs this with the system python3 (python3-yaml).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .procs import LabError

LAB_YML = Path(__file__).resolve().parents[1] / "lab.yml"
SERVICE_ENV = {"proxy": "ROCKETCE_LAB_PROXY_PORT", "artifacts": "ROCKETCE_LAB_ARTIFACTS_PORT"}


@functools.cache
def table(path: Path = LAB_YML) -> dict:
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    ports = data.get("ports")
    if not isinstance(ports, dict):
        raise LabError(f"{path}: no `ports:` table")
    return ports


def service_port(name: str) -> int:
    """The controller port of a shared lab service (proxy, artifacts): the env override, else the table."""
    value = os.environ.get(SERVICE_ENV[name]) or table().get(name)
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise LabError(f"lab {name} port {value!r} ({SERVICE_ENV[name]} or ports.{name} in lab/lab.yml) "
                       "is not a number") from None
    if not 1024 <= port <= 65535:
        raise LabError(f"lab {name} port {port}: use 1024-65535")
    return port


def section(ref: str) -> dict[str, int]:
    """A named part of the table, e.g. "molecule.default" -> {name: port}."""
    node = table()
    for part in ref.split("."):
        if not isinstance(node, dict) or part not in node:
            raise LabError(f"lab/lab.yml has no port table ports.{ref}")
        node = node[part]
    if not isinstance(node, dict):
        raise LabError(f"ports.{ref} in lab/lab.yml is not a table of name: port")
    return node


def all_ports(path: Path = LAB_YML) -> list[tuple[str, int]]:
    """Every (what, port) of lab.yml: the table and the demo lab's hosts, forwards and HMC (for the clash test)."""
    import yaml

    data = yaml.safe_load(path.read_text())
    found = [(name, port) for name, port in data["ports"].items() if isinstance(port, int)]
    for scenario, ports in data["ports"].get("molecule", {}).items():
        found += [(f"molecule.{scenario}.{name}", port) for name, port in ports.items()]
    for host in data.get("hosts", []):
        found.append((f"demo {host['name']}", host["ssh_port"]))
        found += [(f"demo {host['name']} {f['name']}", f["host_port"]) for f in host.get("forwards", [])]
    if data.get("hmc"):
        found.append((f"demo {data['hmc']['name']}", int(data["hmc"]["listen"].rpartition(":")[2])))
    if data.get("fleet"):  # the simulated fleet's HMC simulators (lab/fleet.yml)
        fleet = yaml.safe_load((path.parents[1] / data["fleet"]).read_text())
        found += [(f"fleet-hmc{n + 1}", fleet["first_port"] + n) for n in range(fleet["hmcs"])]
    return found
