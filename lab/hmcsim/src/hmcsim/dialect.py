"""Dialects: the output alternatives the simulator can speak where the real HMC format is not verified.

Each key stands for one [U] line of /work/shared/docs/field-facts.md (README "Dialects" has the table). The
defaults are the simulator's standard behaviour. A dialect can come from three places, merged key by key,
highest first: DIR/faults.yml (`dialect:`, re-read before every command), the environment variable
HMCSIM_DIALECT (a JSON object; `running_simulator(dialect=...)` sets it) and the model's top-level `dialect:`.
Unknown keys and values are errors in all three.
"""

from __future__ import annotations

import json
import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DIALECT_ENV = "HMCSIM_DIALECT"


class Dialect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # bare `lsmemopt -m SYS`: standard names (in_progress, status, opt_id, progress) or alternate ones
    dpo_status_names: Literal["standard", "alternate"] = "standard"
    # after `optmem -o start`, this many status listings still describe the previous run
    dpo_stale_polls: int = Field(default=0, ge=0)
    # current power mode in `lspwrmgmt -r sys`: a chpwrmgmt token (max_perf) or display text
    power_mode_format: Literal["token", "display_text"] = "token"
    # name of the `lspwrmgmt -r sys` attribute that holds the current mode
    power_mode_attribute: str = Field(default="curr_power_saver_mode", pattern=r"^[a-z][a-z0-9_]{0,63}$")
    # HSCL errors bare (`HSCL8012 ...`) or inside a wrapper code (`HSCL127D: HSCL8012 ...`)
    error_wrapping: Literal["none", "hscl127d"] = "none"
    # `off`: profile changes stick; `writeback`: sync_curr_profile=1 on a Running LPAR overwrites its current
    # profile's processor/memory settings with the running configuration right after a chsyscfg -r prof
    profile_sync: Literal["off", "writeback"] = "off"

    @field_validator("power_mode_attribute")
    @classmethod
    def _not_another_attribute(cls, value: str) -> str:
        if value in {"sys_name", "supported_power_saver_mode_types"}:
            raise ValueError(f"{value} is already another lspwrmgmt attribute")
        return value

    @field_validator("profile_sync", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        """YAML 1.1 (PyYAML) reads a bare `off` as false; that can only mean "off"."""
        return "off" if value is False else value


class DialectError(ValueError):
    """HMCSIM_DIALECT is not a valid dialect; the message says why."""


def dialect_from_env() -> dict:
    """The keys HMCSIM_DIALECT sets (validated), or {}."""
    raw = os.environ.get(DIALECT_ENV, "").strip()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
        return Dialect.model_validate(data).model_dump(exclude_unset=True)
    except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError are ValueErrors
        raise DialectError(f"{DIALECT_ENV}: {exc}") from exc


def merge(base: Dialect, *overrides: dict) -> Dialect:
    """`base` with the keys of each override applied in order (later ones win)."""
    values = base.model_dump()
    for override in overrides:
        values.update(override)
    return Dialect.model_validate(values)
