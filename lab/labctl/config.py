"""lab/lab.yml: the one file describing the demo lab, validated into typed objects with clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import ports
from .hosts import NAME_RE
from .procs import LabError

DEFAULT_STATE = "/var/tmp/rocketce-lab"  # noqa: S108 - the documented lab state dir (ROCKETCE_LAB_STATE)
# HMC object names: what the HMC accepts for managed systems and partitions (letters, digits, . _ - and blanks
# inside); the lab keeps them simple so they never need quoting on a command line.
HMC_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,46}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Forward(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    port: int = Field(ge=1, le=65535)
    host_port: int = Field(ge=1024, le=65535)


class LabHostSpec(Strict):
    name: str
    ssh_port: int = Field(ge=1024, le=65535)
    hmc_managed_system: str = Field(pattern=HMC_NAME_PATTERN)
    hmc_lpar_name: str = Field(pattern=HMC_NAME_PATTERN)
    forwards: list[Forward] = []

    @field_validator("name")
    @classmethod
    def _host_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError("use 2-32 of a-z, 0-9 and '-', starting with a letter")
        return value

    @model_validator(mode="after")
    def _unique_forwards(self) -> LabHostSpec:
        for attr in ("name", "port"):
            values = [getattr(f, attr) for f in self.forwards]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"forward {attr}s must be unique per host, repeated: {dupes}")
        return self


class HmcSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    listen: str
    model: str
    state_dir: str
    user: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    password_file: str
    known_hosts: str

    @field_validator("listen")
    @classmethod
    def _loopback(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or host != "127.0.0.1" or not port.isdigit() or not (1024 <= int(port) <= 65535 or port == "0"):
            raise ValueError("must be 127.0.0.1:PORT with PORT in 1024-65535, or 0 for any free port "
                             "(the lab listens on loopback only)")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class LabSpec(Strict):
    inventory: str
    hosts: list[LabHostSpec] = Field(min_length=1)
    hmc: HmcSpec | None = None
    provision: list[str] = []
    fleet: str | None = None  # the simulated fleet's spec (lab/fleet.yml), relative to the repo

    @model_validator(mode="after")
    def _unique(self) -> LabSpec:
        names = [h.name for h in self.hosts]
        lpars = [(h.hmc_managed_system, h.hmc_lpar_name) for h in self.hosts]
        used = [h.ssh_port for h in self.hosts] + [f.host_port for h in self.hosts for f in h.forwards]
        if self.hmc and self.hmc.port:
            used.append(self.hmc.port)
        for what, values in (("host names", names), ("HMC LPARs", lpars), ("controller ports", used)):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"{what} must be unique, repeated: {dupes}")
        return self


def with_state(path: str, state: Path) -> Path:
    """Paths written under the default state dir follow ROCKETCE_LAB_STATE."""
    if path == DEFAULT_STATE or path.startswith(DEFAULT_STATE + "/"):
        return state / path[len(DEFAULT_STATE) :].lstrip("/")
    return Path(path)


def _ports_from_table(data: dict, source: str) -> None:
    """`port_table: molecule.default` takes the ports its hosts and HMC do not give from lab/lab.yml's table."""
    ref = data.pop("port_table", None)
    if ref is None:
        return
    table = ports.section(str(ref))
    for host in data.get("hosts") or []:
        if isinstance(host, dict) and "ssh_port" not in host:
            if host.get("name") not in table:
                raise LabError(f"{source}: host {host.get('name')!r} has no ssh_port and no entry in ports.{ref}")
            host["ssh_port"] = table[host["name"]]
    hmc = data.get("hmc")
    if isinstance(hmc, dict) and "listen" not in hmc:
        if hmc.get("name") not in table:
            raise LabError(f"{source}: hmc {hmc.get('name')!r} has no listen and no entry in ports.{ref}")
        hmc["listen"] = f"127.0.0.1:{table[hmc['name']]}"


def parse(text: str, source: str = "lab.yml") -> LabSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LabError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise LabError(f"{source}: expected a mapping at the top level")
    data.pop("ports", None)  # the port table (lab/lab.yml); read by ports.py
    _ports_from_table(data, source)
    try:
        return LabSpec.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise LabError(f"{source} is invalid:\n{problems}") from None


def load(path: Path) -> LabSpec:
    try:
        text = path.read_text()
    except OSError as exc:
        raise LabError(f"cannot read {path}: {exc.strerror}") from None
    return parse(text, str(path))


def state_dir() -> Path:
    return Path(os.environ.get("ROCKETCE_LAB_STATE", DEFAULT_STATE))
