"""Faults and run-time overrides: from the model and from DIR/faults.yml (or .json), re-read per command.

The control file lets tests switch behaviour on while the simulator runs:

    time_scale: 0.05        # multiplies every transition time
    dpo_seconds: 2          # DPO duration, overrides the model and HMCSIM_DPO_SECONDS
    faults:
      - {kind: drop_connection, match: '^lsmemopt', while_dpo_running: true, times: 1}
      - {kind: slow, match: '^lssyscfg', delay_s: 0.5}
      - {kind: hscl_error, match: '^chsysstate .*ai-lpar02', message: 'HSCL1234 Simulated failure.'}
      - {kind: dpo_fail, at_progress: 40}
    dialect: {error_wrapping: hscl127d}   # output alternatives (dialect.py), key by key over the model's

Counters (`after`, `times`) start again whenever the file changes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .dialect import Dialect, dialect_from_env, merge
from .model import FaultSpec

log = logging.getLogger("hmcsim")
CONTROL_FILES = ("faults.yml", "faults.yaml", "faults.json")


class ControlFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_scale: float | None = Field(default=None, gt=0)
    dpo_seconds: float | None = Field(default=None, gt=0)
    faults: list[FaultSpec] = []
    dialect: Dialect | None = None  # only the keys given override (README "Dialects")


@dataclass
class _Counter:
    matched: int = 0
    fired: int = 0


@dataclass
class FaultDecision:
    drop: bool = False
    delay_s: float = 0.0
    error: tuple[str, int] | None = None  # (stdout text, exit status)
    names: list[str] = field(default_factory=list)


class FaultControl:
    """Merges model faults with the control file; decides which faults fire for a command."""

    def __init__(self, state_dir: Path, model_faults: list[FaultSpec]):
        self.state_dir = state_dir
        self.model_faults = list(model_faults)
        self._lock = threading.Lock()
        self._signature: tuple | None = None
        self._control = ControlFile()
        self._counters: dict[tuple[int, str | None], _Counter] = {}
        self.last_error: str | None = None

    def _control_path(self) -> Path | None:
        for name in CONTROL_FILES:
            path = self.state_dir / name
            if path.exists():
                return path
        return None

    def refresh(self) -> ControlFile:
        """Re-read the control file when it changed (stat per command, parse only on change)."""
        path = self._control_path()
        signature = None
        if path is not None:
            stat = path.stat()
            signature = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if signature == self._signature:
                return self._control
            self._signature = signature
            self._counters = {}
            if path is None:
                self._control = ControlFile()
                return self._control
            try:
                text = path.read_text(encoding="utf-8")
                data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
                self._control = ControlFile.model_validate(data or {})
                self.last_error = None
            except (OSError, ValueError, yaml.YAMLError, ValidationError) as exc:
                # A broken control file must not take the simulator down; keep no faults and say why.
                self._control = ControlFile()
                self.last_error = f"{path}: {exc}"
                log.error("control file ignored: %s", self.last_error)
            return self._control

    def all_faults(self) -> list[FaultSpec]:
        return self.model_faults + list(self.refresh().faults)

    def time_scale(self) -> float:
        control = self.refresh()
        if control.time_scale is not None:
            return control.time_scale
        return float(os.environ.get("HMCSIM_TIME_SCALE", "1") or 1)

    def dpo_seconds(self) -> float | None:
        control = self.refresh()
        if control.dpo_seconds is not None:
            return control.dpo_seconds
        env = os.environ.get("HMCSIM_DPO_SECONDS")
        return float(env) if env else None

    def dialect(self, base: Dialect) -> Dialect:
        """The dialect in force: the model's, then HMCSIM_DIALECT, then the control file's keys."""
        control = self.refresh()
        from_file = control.dialect.model_dump(exclude_unset=True) if control.dialect else {}
        return merge(base, dialect_from_env(), from_file)

    def decide(self, command_line: str, dpo_running: bool, connection: str | None = None) -> FaultDecision:
        """Which connection/answer faults fire for this command (counts it against `after`/`times`)."""
        decision = FaultDecision()
        faults = self.all_faults()
        with self._lock:
            for index, fault in enumerate(faults):
                if fault.kind == "dpo_fail":
                    continue
                if fault.match is not None and not re.search(fault.match, command_line):
                    continue
                if fault.while_dpo_running and not dpo_running:
                    continue
                key = (index, connection if fault.per_connection else None)
                counter = self._counters.setdefault(key, _Counter())
                counter.matched += 1
                if counter.matched <= fault.after:
                    continue
                if fault.times is not None and counter.fired >= fault.times:
                    continue
                counter.fired += 1
                decision.names.append(fault.kind)
                if fault.kind == "drop_connection":
                    decision.drop = True
                elif fault.kind == "slow":
                    decision.delay_s += fault.delay_s
                elif fault.kind == "hscl_error" and decision.error is None:
                    decision.error = (fault.message, fault.exit_status)
        return decision

    def dpo_failure(self, system: str) -> int | None:
        """Progress at which a DPO run started now should end Failed, if a dpo_fail fault applies."""
        for fault in self.all_faults():
            if fault.kind == "dpo_fail" and fault.system in (None, system):
                return fault.at_progress
        return None
