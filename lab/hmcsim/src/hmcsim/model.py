"""The lab model (YAML) and the simulator's persistent state: one set of pydantic classes for both.

The YAML file describes the starting point (systems, partitions, profiles, placement, timings, DPO behaviour,
faults). The state file (DIR/state.json) is the same structure plus runtime fields (pending state transitions,
DPO runs), so a restart continues exactly where the simulator stopped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import affinity
from .dialect import Dialect
from .profiles import Resources, build_profile, validate_profile

LparState = Literal[
    "Running", "Not Activated", "Starting", "Shutting Down", "Open Firmware", "Error", "Not Available"
]
SystemStateName = Literal["Operating", "Power Off", "Standby", "Initializing", "Power Off In Progress"]


class ModelError(ValueError):
    """The model file is unusable; the message says where."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Chunk(Strict):
    """Resources a partition holds on one chip."""

    chip: int = Field(ge=0)
    cores: int = Field(default=0, ge=0)
    memory_mb: int = Field(default=0, ge=0)


class Topology(Strict):
    sockets: int = Field(ge=1)
    chips_per_socket: int = Field(ge=1)
    cores_per_chip: int = Field(ge=1)
    smt: int = Field(default=8, ge=1)

    @property
    def chips(self) -> int:
        return self.sockets * self.chips_per_socket


class Transition(Strict):
    """A state change that happens at a wall-clock time (Starting -> Running etc.)."""

    at: float
    state: str
    refcode: str | None = None  # the reference code the partition shows from then on (None: keep)


class DpoSettings(Strict):
    duration_s: float = Field(default=15.0, gt=0)
    progress_step: int = Field(default=5, ge=1, le=100)
    outcome: Literal["Finished", "Failed"] = "Finished"
    fail_at_progress: int = Field(default=50, ge=0, le=100)


class DpoRun(Strict):
    """The most recent memory optimization of one managed system."""

    opt_id: int
    started_at: float
    duration_s: float
    progress_step: int
    requested: list[int] = []
    protected: list[int] = []
    plan: dict[str, list[Chunk]] = {}  # lpar id -> placement after the run
    order: list[int] = []  # lpar ids in the order the hypervisor moves them
    status: Literal["running", "finished", "stopped", "failed"] = "running"
    progress: int = 0
    fail_at: int | None = None
    impacted: list[int] = []


class Lpar(Strict):
    name: str
    id: int = Field(ge=1)
    env: Literal["aixlinux", "vioserver", "os400"] = "aixlinux"
    state: LparState = "Not Activated"
    os_version: str = "Unknown"
    rmc_ipaddr: str = ""
    default_profile: str = "default_profile"
    curr_profile: str | None = None
    auto_start: int = 0
    boot_mode: str = "norm"
    lpar_avail_priority: int = 127
    work_group_id: str = "none"
    description: str = ""
    sync_curr_profile: Literal[0, 1] = 0
    refcode: str | None = None  # what lsrefcode prints; None: the default for the state (messages.REFCODES)
    start_outcome: Literal["Running", "Error"] = "Running"  # where `chsysstate -o on` ends
    start_error_refcode: str | None = None  # refcode of a start that ends in Error (None: messages.REFCODES)
    profiles: list[dict[str, Any]] = Field(min_length=1)
    placement: list[Chunk] | None = None
    # ---- runtime (not normally in the YAML)
    resources: dict[str, Any] | None = None
    transitions: list[Transition] = []
    booted_placement: list[Chunk] | None = None

    def profile(self, name: str) -> dict[str, str] | None:
        return next((p for p in self.profiles if p["name"] == name), None)

    def held(self) -> Resources | None:
        return Resources(**self.resources) if self.resources else None


class System(Strict):
    name: str
    type_model: str
    serial: str
    ipaddr: str = "127.0.0.1"
    state: SystemStateName = "Operating"
    processor: str = "POWER10"
    topology: Topology
    memory_mb: int = Field(gt=0)
    firmware_memory_mb: int = Field(default=8192, ge=0)
    mem_region_size: int = 256
    capabilities: dict[str, int | str] = {}
    power_mode: str = "max_perf"
    supported_power_modes: list[str] | None = None
    dpo: DpoSettings | None = None
    lpars: list[Lpar] = []
    # ---- runtime
    transitions: list[Transition] = []
    dpo_run: DpoRun | None = None
    next_opt_id: int = 1
    previous_dpo_run: DpoRun | None = None  # the run before dpo_run (None: none ran), for stale status listings
    stale_status_polls: int = 0  # status listings left that still describe previous_dpo_run (dialect)

    @property
    def mtms(self) -> str:
        return f"{self.type_model}*{self.serial}"

    @property
    def memory_per_chip(self) -> int:
        return (self.memory_mb - self.firmware_memory_mb) // self.topology.chips

    def lpar_by_name(self, name: str) -> Lpar | None:
        return next((lpar for lpar in self.lpars if lpar.name == name), None)

    def lpar_by_id(self, lpar_id: int) -> Lpar | None:
        return next((lpar for lpar in self.lpars if lpar.id == lpar_id), None)


class Timing(Strict):
    """Seconds each transition takes (all multiplied by the time scale)."""

    lpar_start_s: float = 4.0
    lpar_shutdown_s: float = 3.0
    lpar_immed_shutdown_s: float = 0.5
    sys_power_on_s: float = 6.0
    sys_power_off_s: float = 3.0


class HmcInfo(Strict):
    name: str = "hmc-lab"
    version: str = "10"
    release: str = "3"
    service_pack: str = "1070"
    build_level: str = "2503010000"
    fixes: list[str] = ["MF71689 - HMC V10R3 M1060", "MF72001 - HMC V10R3 M1070"]


class FaultSpec(Strict):
    """One fault; see README "Faults"."""

    kind: Literal["drop_connection", "slow", "hscl_error", "dpo_fail"]
    match: str | None = None  # regex searched in the raw command line
    after: int = Field(default=0, ge=0)  # let this many matching commands through first
    times: int | None = Field(default=None, ge=1)  # fire at most this often (None = always)
    while_dpo_running: bool = False
    per_connection: bool = False  # count `after`/`times` for each SSH connection separately
    delay_s: float = Field(default=1.0, ge=0)
    message: str = "HSCLZ900 A simulated HMC error occurred."
    exit_status: int = 1
    system: str | None = None  # dpo_fail: only this system
    at_progress: int = Field(default=50, ge=0, le=100)

    @field_validator("match")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            import re

            re.compile(value)
        return value


class Model(Strict):
    hmc: HmcInfo = HmcInfo()
    timing: Timing = Timing()
    dpo: DpoSettings = DpoSettings()
    faults: list[FaultSpec] = []
    dialect: Dialect = Dialect()
    systems: list[System] = Field(min_length=1)
    # ---- runtime
    model_digest: str = ""

    @model_validator(mode="after")
    def _unique_names(self) -> Model:
        names = [s.name for s in self.systems]
        if len(names) != len(set(names)):
            raise ValueError("system names must be unique")
        for system in self.systems:
            for attribute in ("name", "id"):
                values = [getattr(lpar, attribute) for lpar in system.lpars]
                if len(values) != len(set(values)):
                    raise ValueError(f"system {system.name}: partition {attribute}s must be unique")
        return self

    def system(self, name_or_mtms: str) -> System | None:
        return next((s for s in self.systems if name_or_mtms in (s.name, s.mtms)), None)


def _prepare_system(system: System) -> None:
    """Fill profiles, held resources and placement; check placement against capacity."""
    for lpar in system.lpars:
        lpar.profiles = [build_profile(lpar.name, lpar.id, lpar.env, p) for p in lpar.profiles]
        for profile in lpar.profiles:
            problem = validate_profile(profile)
            if problem:
                key, fields = problem
                raise ModelError(f"{system.name}/{lpar.name} profile {profile['name']}: {key} {fields}")
        if lpar.profile(lpar.default_profile) is None:
            lpar.default_profile = lpar.profiles[0]["name"]
        if lpar.curr_profile is None:
            lpar.curr_profile = lpar.default_profile
        profile = lpar.profile(lpar.curr_profile)
        if profile is None:
            raise ModelError(f"{system.name}/{lpar.name}: curr_profile {lpar.curr_profile} does not exist")
        if system.state != "Operating":  # nothing runs on a system that is not Operating
            lpar.state = "Not Activated"
        holds = lpar.state != "Not Activated" or lpar.placement is not None
        if holds and lpar.resources is None:
            lpar.resources = Resources.from_profile(profile).__dict__
    free = affinity.Capacity(system)
    explicit = [lpar for lpar in system.lpars if lpar.placement is not None]
    automatic = [lpar for lpar in system.lpars if lpar.placement is None and lpar.held() is not None]
    for lpar in explicit:
        held = lpar.held()
        cores = sum(c.cores for c in lpar.placement)
        memory = sum(c.memory_mb for c in lpar.placement)
        if (cores, memory) != (held.cores, held.mem):
            raise ModelError(
                f"{system.name}/{lpar.name}: placement holds {cores} cores/{memory} MB but the profile asks "
                f"for {held.cores} cores/{held.mem} MB"
            )
        for chunk in lpar.placement:
            if chunk.chip >= system.topology.chips:
                raise ModelError(f"{system.name}/{lpar.name}: chip {chunk.chip} does not exist")
            free.take(chunk)
    for lpar in automatic:
        held = lpar.held()
        lpar.placement = affinity.place(system, held.cores, held.mem, free)
    for lpar in system.lpars:
        if lpar.state == "Running" and lpar.booted_placement is None:
            lpar.booted_placement = [c.model_copy() for c in lpar.placement or []]
    free.check(system.name)


def model_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_model(path: str | Path) -> Model:
    """Read and validate a model file; raises ModelError with a readable reason."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        model = Model.model_validate(data)
        for system in model.systems:
            _prepare_system(system)
    except (yaml.YAMLError, ValidationError, ValueError, KeyError) as exc:
        raise ModelError(f"{path}: {exc}") from exc
    model.model_digest = model_digest(text)
    return model


def load_state(path: Path) -> Model:
    return Model.model_validate(json.loads(path.read_text(encoding="utf-8")))
