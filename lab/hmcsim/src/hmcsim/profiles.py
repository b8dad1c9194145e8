"""Partition profiles: attribute order, defaults, which attributes apply, and the resources a profile asks for.

A profile is kept as an ordered dict of HMC strings (exactly what `lssyscfg -r prof` prints and `chsyscfg -r
prof -i` edits). Both the shared and dedicated attributes are stored, so switching `proc_mode` back and forth
keeps the values; only the applicable ones are listed (facts doc 3.1: dedicated rows have no proc units).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Attribute order of `lssyscfg -r prof` (follows the real V7/V8 capture, plus newer attributes).
PROFILE_ATTRIBUTES = [
    "name",
    "lpar_name",
    "lpar_id",
    "lpar_env",
    "all_resources",
    "min_mem",
    "desired_mem",
    "max_mem",
    "min_num_huge_pages",
    "desired_num_huge_pages",
    "max_num_huge_pages",
    "mem_mode",
    "mem_expansion",
    "hpt_ratio",
    "proc_mode",
    "min_proc_units",
    "desired_proc_units",
    "max_proc_units",
    "min_procs",
    "desired_procs",
    "max_procs",
    "sharing_mode",
    "uncap_weight",
    "shared_proc_pool_id",
    "shared_proc_pool_name",
    "affinity_group_id",
    "io_slots",
    "lpar_io_pool_ids",
    "max_virtual_slots",
    "virtual_serial_adapters",
    "virtual_scsi_adapters",
    "virtual_eth_adapters",
    "virtual_fc_adapters",
    "hca_adapters",
    "boot_mode",
    "conn_monitoring",
    "auto_start",
    "power_ctrl_lpar_ids",
    "work_group_id",
    "redundant_err_path_reporting",
    "lpar_proc_compat_mode",
]

PROFILE_DEFAULTS = {
    "all_resources": "0",
    "min_mem": "2048",
    "desired_mem": "8192",
    "max_mem": "16384",
    "min_num_huge_pages": "0",
    "desired_num_huge_pages": "0",
    "max_num_huge_pages": "0",
    "mem_mode": "ded",
    "mem_expansion": "0.0",
    "hpt_ratio": "1:64",
    "proc_mode": "shared",
    "min_proc_units": "0.1",
    "desired_proc_units": "1.0",
    "max_proc_units": "4.0",
    "min_procs": "1",
    "desired_procs": "1",
    "max_procs": "4",
    "sharing_mode": "uncap",
    "uncap_weight": "128",
    "shared_proc_pool_id": "0",
    "shared_proc_pool_name": "DefaultPool",
    "affinity_group_id": "none",
    "io_slots": "none",
    "lpar_io_pool_ids": "none",
    "max_virtual_slots": "20",
    "virtual_serial_adapters": "0/server/1/any//any/1,1/server/1/any//any/1",
    "virtual_scsi_adapters": "none",
    "virtual_eth_adapters": "none",
    "virtual_fc_adapters": "none",
    "hca_adapters": "none",
    "boot_mode": "norm",
    "conn_monitoring": "0",
    "auto_start": "0",
    "power_ctrl_lpar_ids": "none",
    "work_group_id": "none",
    "redundant_err_path_reporting": "0",
    "lpar_proc_compat_mode": "default",
}

SHARED_ONLY = {"min_proc_units", "desired_proc_units", "max_proc_units", "uncap_weight", "shared_proc_pool_id",
               "shared_proc_pool_name"}
VIOS_OMITS = {"boot_mode"}
# Attributes that identify the profile and cannot be set with chsyscfg -r prof.
IDENTITY_ATTRIBUTES = {"name", "lpar_name", "lpar_id", "lpar_env"}
LIST_ATTRIBUTES = {
    "io_slots",
    "lpar_io_pool_ids",
    "virtual_serial_adapters",
    "virtual_scsi_adapters",
    "virtual_eth_adapters",
    "virtual_fc_adapters",
    "hca_adapters",
    "power_ctrl_lpar_ids",
}
INTEGER_ATTRIBUTES = {
    "min_mem", "desired_mem", "max_mem", "min_procs", "desired_procs", "max_procs", "uncap_weight",
    "min_num_huge_pages", "desired_num_huge_pages", "max_num_huge_pages", "max_virtual_slots",
    "shared_proc_pool_id", "all_resources", "conn_monitoring", "auto_start", "redundant_err_path_reporting",
}
DECIMAL_ATTRIBUTES = {"min_proc_units", "desired_proc_units", "max_proc_units", "mem_expansion"}
CHOICES = {
    "proc_mode": {"ded", "shared"},
    "mem_mode": {"ded", "shared"},
    "boot_mode": {"norm", "sms", "of", "dd", "ds"},
    "all_resources": {"0", "1"},
    "auto_start": {"0", "1"},
    "conn_monitoring": {"0", "1"},
    "redundant_err_path_reporting": {"0", "1"},
}
SHARING_MODES = {
    "ded": {"keep_idle_procs", "share_idle_procs", "share_idle_procs_active", "share_idle_procs_always"},
    "shared": {"cap", "uncap"},
}
RANGES = [
    ("mem", ("min_mem", "desired_mem", "max_mem")),
    ("procs", ("min_procs", "desired_procs", "max_procs")),
    ("proc_units", ("min_proc_units", "desired_proc_units", "max_proc_units")),
]


def build_profile(lpar_name: str, lpar_id: int, lpar_env: str, given: dict) -> dict[str, str]:
    """A complete profile from the attributes the model gives (values may be YAML numbers)."""
    profile = {"name": str(given["name"]), "lpar_name": lpar_name, "lpar_id": str(lpar_id), "lpar_env": lpar_env}
    for attribute in PROFILE_ATTRIBUTES[4:]:
        profile[attribute] = PROFILE_DEFAULTS[attribute]
    if given.get("proc_mode") == "ded" and "sharing_mode" not in given:
        profile["sharing_mode"] = "keep_idle_procs"
    for key, value in given.items():
        if key not in PROFILE_ATTRIBUTES:
            raise ValueError(f"profile {given['name']!r} of {lpar_name!r}: unknown attribute {key!r}")
        profile[key] = str(float(value)) if key in DECIMAL_ATTRIBUTES else str(value)
    return profile


def applicable_attributes(profile: dict[str, str]) -> list[str]:
    """Attributes printed for this profile, in order."""
    names = []
    for attribute in PROFILE_ATTRIBUTES:
        if attribute in SHARED_ONLY and profile.get("proc_mode") == "ded":
            continue
        if attribute in VIOS_OMITS and profile.get("lpar_env") == "vioserver":
            continue
        names.append(attribute)
    return names


@dataclass(frozen=True)
class Resources:
    """What a partition holds while activated (or after `-o apply`): the `curr_*` values of lshwres."""

    proc_mode: str
    sharing_mode: str
    min_procs: int
    procs: int
    max_procs: int
    min_proc_units: float
    proc_units: float
    max_proc_units: float
    uncap_weight: int
    shared_proc_pool_id: int
    min_mem: int
    mem: int
    max_mem: int

    @property
    def cores(self) -> int:
        """Physical cores the hypervisor places for this partition (home cores for shared partitions)."""
        if self.proc_mode == "ded":
            return self.procs
        return max(1, math.ceil(self.proc_units - 1e-9))

    @classmethod
    def from_profile(cls, profile: dict[str, str]) -> Resources:
        shared = profile["proc_mode"] == "shared"
        return cls(
            proc_mode=profile["proc_mode"],
            sharing_mode=profile["sharing_mode"],
            min_procs=int(profile["min_procs"]),
            procs=int(profile["desired_procs"]),
            max_procs=int(profile["max_procs"]),
            min_proc_units=float(profile["min_proc_units"]) if shared else 0.0,
            proc_units=float(profile["desired_proc_units"]) if shared else 0.0,
            max_proc_units=float(profile["max_proc_units"]) if shared else 0.0,
            uncap_weight=int(profile["uncap_weight"]) if shared else 0,
            shared_proc_pool_id=int(profile["shared_proc_pool_id"]) if shared else 0,
            min_mem=int(profile["min_mem"]),
            mem=int(profile["desired_mem"]),
            max_mem=int(profile["max_mem"]),
        )


def running_configuration(held: Resources) -> dict[str, str]:
    """The profile attributes that describe what a partition runs with (what sync_curr_profile writes back)."""
    values = {
        "proc_mode": held.proc_mode,
        "sharing_mode": held.sharing_mode,
        "min_procs": str(held.min_procs),
        "desired_procs": str(held.procs),
        "max_procs": str(held.max_procs),
        "min_mem": str(held.min_mem),
        "desired_mem": str(held.mem),
        "max_mem": str(held.max_mem),
    }
    if held.proc_mode == "shared":
        values.update(
            {
                "min_proc_units": str(float(held.min_proc_units)),
                "desired_proc_units": str(float(held.proc_units)),
                "max_proc_units": str(float(held.max_proc_units)),
                "uncap_weight": str(held.uncap_weight),
                "shared_proc_pool_id": str(held.shared_proc_pool_id),
            }
        )
    return values


def validate_profile(profile: dict[str, str]) -> tuple[str, dict[str, str]] | None:
    """Check values and min/desired/max ordering; returns (message key, fields) of the first problem."""
    for name, choices in CHOICES.items():
        if profile.get(name) not in choices:
            return "bad_value", {"name": name, "value": profile.get(name)}
    if profile["sharing_mode"] not in SHARING_MODES[profile["proc_mode"]]:
        return "bad_value", {"name": "sharing_mode", "value": profile["sharing_mode"]}
    for name in INTEGER_ATTRIBUTES:
        if not profile[name].isdigit():
            return "bad_value", {"name": name, "value": profile[name]}
    for name in DECIMAL_ATTRIBUTES:
        try:
            if float(profile[name]) < 0:
                raise ValueError
        except ValueError:
            return "bad_value", {"name": name, "value": profile[name]}
    for label, (low, mid, high) in RANGES:
        if label == "proc_units" and profile["proc_mode"] == "ded":
            continue
        values = [float(profile[low]), float(profile[mid]), float(profile[high])]
        if not values[0] <= values[1] <= values[2]:
            return "bad_range", {"name": label}
    if profile["proc_mode"] == "shared" and float(profile["desired_proc_units"]) > int(profile["desired_procs"]):
        return "bad_value", {"name": "desired_proc_units", "value": profile["desired_proc_units"]}
    return None
