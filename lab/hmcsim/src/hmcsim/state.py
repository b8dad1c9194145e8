"""The simulator's state: loaded from the model or DIR/state.json, advanced with time, saved atomically.

Time-dependent things (Starting -> Running, DPO progress) are stored as wall-clock deadlines and applied
lazily by `advance()` before every command, so nothing needs a timer thread and a restart continues where the
previous process stopped.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path

from . import affinity, messages
from .dialect import Dialect, dialect_from_env
from .faults import FaultControl
from .model import Chunk, DpoRun, Lpar, Model, System, Transition, load_model, load_state
from .profiles import Resources

STATE_FILE = "state.json"


class Store:
    """Owns the state; every access happens under `lock`."""

    def __init__(self, model_path: Path, state_dir: Path, reset: bool = False):
        self.clock = time.time  # tests replace it to move time forward
        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.model = load_model(model_path)
        self.faults = FaultControl(state_dir, self.model.faults)
        dialect_from_env()  # a wrong HMCSIM_DIALECT stops the start with its reason (DialectError)
        self.state = self._initial_state(reset)
        self._dirty = False

    @classmethod
    def snapshot(cls, state_dir: Path, model_path: Path | None = None) -> Store:
        """The state another process sees (DIR/state.json, or the model when there is none); never saved."""
        store = cls.__new__(cls)
        store.clock = time.time
        store.state_dir = state_dir
        store.lock = threading.RLock()
        if (state_dir / STATE_FILE).exists():
            store.state = load_state(state_dir / STATE_FILE)
            store.model = store.state
        elif model_path is not None:
            store.model = load_model(model_path)
            store.state = store.model.model_copy(deep=True)
        else:
            raise FileNotFoundError(state_dir / STATE_FILE)
        store.faults = FaultControl(state_dir, store.model.faults)
        store._dirty = False
        return store

    # ------------------------------------------------------------------ persistence
    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    def _initial_state(self, reset: bool) -> Model:
        if not reset and self.state_path.exists():
            try:
                saved = load_state(self.state_path)
                if saved.model_digest == self.model.model_digest:
                    return saved
            except (OSError, ValueError):
                pass  # unreadable or from another model version: start from the model again
        return self.model.model_copy(deep=True)

    def save(self) -> None:
        data = self.state.model_dump_json(indent=1)
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".state.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, self.state_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._dirty = False

    def mark_dirty(self) -> None:
        self._dirty = True

    def save_if_dirty(self) -> None:
        if self._dirty:
            self.save()

    # ------------------------------------------------------------------ time
    def scaled(self, seconds: float) -> float:
        return seconds * self.faults.time_scale()

    def system(self, name_or_mtms: str) -> System | None:
        return self.state.system(name_or_mtms)

    def dialect(self) -> Dialect:
        """The output alternatives in force for this command (README "Dialects")."""
        return self.faults.dialect(self.state.dialect)

    def advance(self, now: float | None = None) -> None:
        """Apply every transition and DPO step that is due."""
        now = self.clock() if now is None else now
        for system in self.state.systems:
            while system.transitions and system.transitions[0].at <= now:
                step = system.transitions.pop(0)
                self._system_reached(system, step.state, step.at)
                self._dirty = True
            for lpar in system.lpars:
                while lpar.transitions and lpar.transitions[0].at <= now:
                    step = lpar.transitions.pop(0)
                    lpar.state = step.state  # type: ignore[assignment]
                    if step.refcode is not None:
                        lpar.refcode = step.refcode
                    if step.state == "Running":
                        lpar.booted_placement = [c.model_copy() for c in lpar.placement or []]
                    self._dirty = True
            run = system.dpo_run
            if run is not None and run.status == "running":
                self._advance_dpo(system, run, now)

    def _system_reached(self, system: System, state: str, at: float) -> None:
        system.state = state  # type: ignore[assignment]
        if state == "Operating":
            for lpar in system.lpars:
                if lpar.auto_start and lpar.state == "Not Activated":
                    self.activate(system, lpar, lpar.default_profile, at)

    # ------------------------------------------------------------------ partitions
    def activate(self, system: System, lpar: Lpar, profile_name: str, now: float) -> str | None:
        """Start a partition with a profile; returns a message key when resources do not fit."""
        profile = lpar.profile(profile_name)
        assert profile is not None
        wanted = Resources.from_profile(profile)
        problem = self.hold(system, lpar, wanted)
        if problem:
            return problem
        lpar.curr_profile = profile_name
        lpar.state = "Starting"
        lpar.refcode = None  # a new start shows the progress codes of its states again
        at = now + self.scaled(self.model.timing.lpar_start_s)
        if lpar.start_outcome == "Error":
            code = lpar.start_error_refcode or messages.REFCODES["Error"]
            lpar.transitions = [Transition(at=at, state="Error", refcode=code)]
        else:
            lpar.transitions = [Transition(at=at, state="Running")]
        self._dirty = True
        return None

    def hold(self, system: System, lpar: Lpar, wanted: Resources) -> str | None:
        """Give the partition resources of that size, keeping its chips when the size is unchanged."""
        held = lpar.held()
        if held is not None and (held.cores, held.mem) == (wanted.cores, wanted.mem) and lpar.placement:
            lpar.resources = wanted.__dict__
            return None
        free = affinity.free_capacity(system, exclude={lpar.id})
        if sum(max(c, 0) for c in free.cores) < wanted.cores or sum(max(m, 0) for m in free.memory) < wanted.mem:
            return "insufficient_resources"
        lpar.placement = affinity.place(system, wanted.cores, wanted.mem, free, prefer=lpar.placement)
        lpar.resources = wanted.__dict__
        return None

    def shutdown(self, lpar: Lpar, immediate: bool, restart: bool, now: float) -> None:
        timing = self.model.timing
        down = self.scaled(timing.lpar_immed_shutdown_s if immediate else timing.lpar_shutdown_s)
        lpar.state = "Shutting Down"
        lpar.refcode = None
        steps = [Transition(at=now + down, state="Not Activated")]
        if restart:
            started = now + down + self.scaled(timing.lpar_start_s)
            end = Transition(at=started, state="Running")
            if lpar.start_outcome == "Error":
                code = lpar.start_error_refcode or messages.REFCODES["Error"]
                end = Transition(at=started, state="Error", refcode=code)
            steps = [Transition(at=now + down, state="Starting"), end]
        lpar.transitions = steps
        self._dirty = True

    # ------------------------------------------------------------------ systems
    def power_system(self, system: System, operation: str, restart: bool, now: float) -> None:
        timing = self.model.timing
        if operation == "off":
            for lpar in system.lpars:  # a powered-off system holds nothing (README "Powered-off systems")
                lpar.state = "Not Activated"
                lpar.transitions = []
                lpar.refcode = None
                lpar.resources = None
                lpar.placement = None
                lpar.booted_placement = None
            if restart:
                system.state = "Initializing"
                system.transitions = [Transition(at=now + self.scaled(timing.sys_power_on_s), state="Operating")]
            else:
                system.state = "Power Off In Progress"
                system.transitions = [Transition(at=now + self.scaled(timing.sys_power_off_s), state="Power Off")]
        else:
            target = "Standby" if operation == "onstandby" else "Operating"
            system.state = "Initializing"
            system.transitions = [Transition(at=now + self.scaled(timing.sys_power_on_s), state=target)]
        self._dirty = True

    # ------------------------------------------------------------------ DPO
    def dpo_settings(self, system: System):
        return system.dpo or self.model.dpo

    def start_dpo(self, system: System, requested: list[int], protected: list[int], now: float) -> DpoRun:
        settings = self.dpo_settings(system)
        duration = self.faults.dpo_seconds() or self.scaled(settings.duration_s)
        planned, order = affinity.plan(system, requested, protected)
        fail_at = self.faults.dpo_failure(system.name)
        if fail_at is None and settings.outcome == "Failed":
            fail_at = settings.fail_at_progress
        run = DpoRun(
            opt_id=system.next_opt_id,
            started_at=now,
            duration_s=duration,
            progress_step=settings.progress_step,
            requested=requested,
            protected=protected,
            plan={str(k): v for k, v in planned.items()},
            order=order,
            fail_at=fail_at,
        )
        system.next_opt_id += 1
        system.previous_dpo_run = system.dpo_run
        system.stale_status_polls = self.dialect().dpo_stale_polls
        system.dpo_run = run
        self._dirty = True
        return run

    def _advance_dpo(self, system: System, run: DpoRun, now: float) -> None:
        raw = min(100.0, 100.0 * (now - run.started_at) / run.duration_s)
        progress = int(raw // run.progress_step * run.progress_step)
        if run.fail_at is not None and raw >= run.fail_at:
            run.progress = int(run.fail_at)
            self._finish_dpo(system, run, "failed")
        elif raw >= 100.0:
            run.progress = 100
            self._finish_dpo(system, run, "finished")
        elif progress != run.progress:
            run.progress = progress
            self._dirty = True

    def stop_dpo(self, system: System, now: float) -> None:
        run = system.dpo_run
        assert run is not None
        self._advance_dpo(system, run, now)
        if run.status == "running":
            self._finish_dpo(system, run, "stopped")

    def _finish_dpo(self, system: System, run: DpoRun, status: str) -> None:
        run.status = status  # type: ignore[assignment]
        if status == "finished":
            moved = list(run.order)
            self._apply_all(system, run)
        else:
            moved = self._apply_partially(system, run)
        run.impacted = sorted(moved)
        self._dirty = True

    def _apply_all(self, system: System, run: DpoRun) -> None:
        for lpar_id in run.order:
            lpar = system.lpar_by_id(lpar_id)
            if lpar is not None:
                lpar.placement = [Chunk(**c.model_dump()) for c in run.plan[str(lpar_id)]]
        free = affinity.free_capacity(system)
        overcommitted = any(c < 0 for c in free.cores) or any(m < 0 for m in free.memory)
        if overcommitted:  # a partition got resources during the run: give it new chips
            newcomers = [
                lpar for lpar in system.lpars if lpar.placement and str(lpar.id) not in run.plan
            ]
            for lpar in newcomers:
                held = lpar.held()
                if held is None:
                    continue
                room = affinity.free_capacity(system, exclude={lpar.id})
                lpar.placement = affinity.place(system, held.cores, held.mem, room)

    def _apply_partially(self, system: System, run: DpoRun) -> list[int]:
        """Moves done before a stop/failure: the first share of the planned moves that still fit."""
        count = math.floor(len(run.order) * run.progress / 100)
        moved = []
        for lpar_id in run.order[:count]:
            lpar = system.lpar_by_id(lpar_id)
            if lpar is None:
                continue
            target = run.plan[str(lpar_id)]
            free = affinity.free_capacity(system, exclude={lpar_id})
            if all(free.cores[c.chip] >= c.cores and free.memory[c.chip] >= c.memory_mb for c in target):
                lpar.placement = [Chunk(**c.model_dump()) for c in target]
                moved.append(lpar_id)
        return moved

    def dpo_running(self) -> bool:
        return any(s.dpo_run is not None and s.dpo_run.status == "running" for s in self.state.systems)
