"""`lssyscfg -r sys|lpar|prof` and `lshwres -r proc|mem --level sys|lpar`."""

from __future__ import annotations

import time
import uuid

from ..model import Lpar, System
from ..options import Option, choice, fail, parse_options, require
from ..profiles import PROFILE_ATTRIBUTES, applicable_attributes
from .common import (
    LISTING_OPTIONS,
    Context,
    find_system,
    help_requested,
    listing,
    parse_filter,
    require_operating,
    select_lpars,
)

CAPABILITY_DEFAULTS = {
    "active_lpar_mobility_capable": 1,
    "inactive_lpar_mobility_capable": 1,
    "active_lpar_share_idle_procs_capable": 1,
    "active_mem_expansion_capable": 0,
    "hardware_active_mem_expansion_capable": 0,
    "active_mem_sharing_capable": 0,
    "cod_mem_capable": 1,
    "cod_proc_capable": 1,
    "dynamic_platform_optimization_capable": 1,
    "firmware_power_saver_capable": 1,
    "hardware_power_saver_capable": 1,
    "huge_page_mem_capable": 1,
    "lpar_avail_priority_capable": 1,
    "lpar_proc_compat_mode_capable": 1,
    "lpar_remote_restart_capable": 0,
    "powervm_lpar_remote_restart_capable": 1,
    "lpar_suspend_capable": 0,
    "micro_lpar_capable": 1,
    "os400_capable": 1,
    "virtual_fc_capable": 1,
    "virtual_io_server_capable": 1,
    "virtual_switch_capable": 1,
    "vtpm_capable": 1,
}
COMPAT_MODES = {
    "POWER8": "default,POWER7,POWER8",
    "POWER9": "default,POWER8,POWER9_base,POWER9",
    "POWER10": "default,POWER9_base,POWER9,Power10",
    "Power11": "default,POWER9_base,POWER9,Power10,Power11",
}
SYS_ATTRIBUTES = [
    "name", "type_model", "serial_num", "ipaddr", "state", "detailed_state", "sys_time", "power_off_policy",
    *CAPABILITY_DEFAULTS, "max_lpars", "max_power_ctrl_lpars", "service_lpar_id", "service_lpar_name",
    "curr_sys_keylock", "pend_sys_keylock", "power_on_type", "power_on_option", "power_on_lpar_start_policy",
    "lpar_proc_compat_modes", "uuid",
]
LPAR_ATTRIBUTES = [
    "name", "lpar_id", "lpar_env", "state", "resource_config", "os_version", "logical_serial_num",
    "default_profile", "curr_profile", "work_group_id", "shared_proc_pool_util_auth", "allow_perf_collection",
    "power_ctrl_lpar_ids", "boot_mode", "lpar_keylock", "auto_start", "redundant_err_path_reporting", "rmc_state",
    "rmc_ipaddr", "time_ref", "lpar_avail_priority", "desired_lpar_proc_compat_mode",
    "curr_lpar_proc_compat_mode", "sync_curr_profile", "affinity_group_id", "vtpm_enabled", "description", "uuid",
]
POWERED_OFF = {"Power Off", "Power Off In Progress", "No Connection"}


def stable_uuid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "hmcsim:" + ":".join(map(str, parts)))).upper()


def sys_row(system: System, now: float) -> dict[str, str]:
    off = system.state in POWERED_OFF
    row = {
        "name": system.name,
        "type_model": system.type_model,
        "serial_num": system.serial,
        "ipaddr": system.ipaddr,
        "state": system.state,
        "detailed_state": "None",
        "sys_time": time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now)),
        "power_off_policy": "unavailable" if off else "1",
    }
    for name, default in CAPABILITY_DEFAULTS.items():
        row[name] = "unavailable" if off else str(system.capabilities.get(name, default))
    row.update(
        {
            "max_lpars": "unavailable" if off else str(20 * system.topology.chips * system.topology.cores_per_chip),
            "max_power_ctrl_lpars": "0" if off else "1",
            "service_lpar_id": "unavailable" if off else "none",
            "service_lpar_name": "unavailable" if off else "none",
            "curr_sys_keylock": "norm",
            "pend_sys_keylock": "norm",
            "power_on_type": "power on",
            "power_on_option": "autostart",
            "power_on_lpar_start_policy": "userinit",
            "lpar_proc_compat_modes": COMPAT_MODES.get(system.processor, "default"),
            "uuid": stable_uuid(system.type_model, system.serial),
        }
    )
    return row


def lpar_row(system: System, lpar: Lpar) -> dict[str, str]:
    running = lpar.state == "Running"
    row = {
        "name": lpar.name,
        "lpar_id": str(lpar.id),
        "lpar_env": lpar.env,
        "state": lpar.state,
        "resource_config": "1" if lpar.resources else "0",
        "os_version": lpar.os_version,
        "logical_serial_num": f"{system.serial}{lpar.id}",
        "default_profile": lpar.default_profile,
        "curr_profile": lpar.curr_profile or lpar.default_profile,
        "work_group_id": lpar.work_group_id,
        "shared_proc_pool_util_auth": "0",
        "allow_perf_collection": "0",
        "power_ctrl_lpar_ids": "none",
        "boot_mode": lpar.boot_mode,
        "lpar_keylock": "norm",
        "auto_start": str(lpar.auto_start),
        "redundant_err_path_reporting": "0",
        "rmc_state": "active" if running else "inactive",
        "rmc_ipaddr": lpar.rmc_ipaddr if running else "",
        "time_ref": "0",
        "lpar_avail_priority": str(lpar.lpar_avail_priority),
        "desired_lpar_proc_compat_mode": "default",
        "curr_lpar_proc_compat_mode": system.processor if running else "default",
        "sync_curr_profile": str(lpar.sync_curr_profile),
        "affinity_group_id": "none",
        "vtpm_enabled": "0",
        "description": lpar.description,
        "uuid": stable_uuid(system.serial, lpar.id),
    }
    if lpar.env == "vioserver":
        del row["boot_mode"]
    return row


def lssyscfg(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(
        argv, [Option(("-r",)), Option(("-m",)), Option(("-e",)), Option(("--osrefresh",), "flag"),
               Option(("--lastvalidcfg",), "flag"), *LISTING_OPTIONS]
    )
    usage = help_requested(parsed, "Usage: lssyscfg -r {lpar | prof | sys} [-m managed-system] "
                                   "[--filter \"filter-data\"] [-F [attribute-names] [--header]] [--help]")
    if usage:
        return usage
    resource = choice(parsed, "-r", {"sys", "lpar", "prof", "sysprof", "cage", "frame"})
    if resource in {"sysprof", "cage", "frame"} or "-e" in parsed:
        raise fail("not_simulated", what=f"lssyscfg -r {resource}")
    if resource == "sys":
        if "--filter" in parsed:
            parse_filter(str(parsed["--filter"]), set())
        systems = [find_system(ctx, str(parsed["-m"]))] if "-m" in parsed else ctx.store.state.systems
        return listing((sys_row(s, ctx.now) for s in systems), SYS_ATTRIBUTES, parsed)
    system = find_system(ctx, require(parsed, "-m"))
    allowed = {"lpar_names", "lpar_ids", "work_groups"} | ({"profile_names"} if resource == "prof" else set())
    filters = parse_filter(str(parsed["--filter"]), allowed) if "--filter" in parsed else {}
    lpars = select_lpars(system, filters)
    if "work_groups" in filters:
        lpars = [lpar for lpar in lpars if lpar.work_group_id in filters["work_groups"]]
    if resource == "lpar":
        return listing((lpar_row(system, lpar) for lpar in lpars), LPAR_ATTRIBUTES, parsed)
    rows = []
    for lpar in lpars:
        for profile in lpar.profiles:
            if "profile_names" in filters and profile["name"] not in filters["profile_names"]:
                continue
            rows.append({name: profile[name] for name in applicable_attributes(profile)})
    return listing(rows, PROFILE_ATTRIBUTES, parsed)


# ---------------------------------------------------------------------------------------------- lshwres
def _units(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"


def proc_sys_row(system: System) -> dict[str, str]:
    installed = system.topology.chips * system.topology.cores_per_chip
    used = 0.0
    for lpar in system.lpars:
        held = lpar.held()
        if held is not None:
            used += held.procs if held.proc_mode == "ded" else held.proc_units
    available = _units(max(0.0, installed - used))
    return {
        "configurable_sys_proc_units": _units(installed),
        "curr_avail_sys_proc_units": available,
        "pend_avail_sys_proc_units": available,
        "installed_sys_proc_units": _units(installed),
        "deconfig_sys_proc_units": "0",
        "min_proc_units_per_virtual_proc": "0.05",
        "max_virtual_procs_per_lpar": str(installed * 4),
        "max_procs_per_lpar": str(installed),
        "max_curr_virtual_procs_per_aixlinux_lpar": str(installed * 4),
        "max_curr_virtual_procs_per_vios_lpar": str(installed * 4),
        "max_curr_virtual_procs_per_os400_lpar": str(installed * 4),
        "max_curr_procs_per_aixlinux_lpar": str(installed),
        "max_curr_procs_per_vios_lpar": str(installed),
        "max_curr_procs_per_os400_lpar": str(installed),
        "max_shared_proc_pools": "64",
    }


def proc_lpar_row(lpar: Lpar) -> dict[str, str]:
    held = lpar.held()
    profile = lpar.profile(lpar.curr_profile or lpar.default_profile) or lpar.profiles[0]
    mode = held.proc_mode if held else profile["proc_mode"]
    sharing = held.sharing_mode if held else profile["sharing_mode"]
    running = lpar.state == "Running"
    row = {"lpar_name": lpar.name, "lpar_id": str(lpar.id)}
    if mode == "shared":
        row["curr_shared_proc_pool_id"] = str(held.shared_proc_pool_id if held else 0)
    values = {
        "proc_mode": mode,
        "min_proc_units": _units(held.min_proc_units) if held else "0.0",
        "proc_units": _units(held.proc_units) if held else "0.0",
        "max_proc_units": _units(held.max_proc_units) if held else "0.0",
        "min_procs": str(held.min_procs if held else 0),
        "procs": str(held.procs if held else 0),
        "max_procs": str(held.max_procs if held else 0),
        "sharing_mode": sharing,
        "uncap_weight": str(held.uncap_weight if held else 0),
    }
    shared_only = {"min_proc_units", "proc_units", "max_proc_units", "uncap_weight"}
    for prefix in ("curr", "pend"):
        if prefix == "pend" and mode == "shared":
            row["pend_shared_proc_pool_id"] = row["curr_shared_proc_pool_id"]
        for name, value in values.items():
            if mode == "ded" and name in shared_only:
                continue
            row[f"{prefix}_{name}"] = value
    if mode == "shared":
        row["run_proc_units"] = values["proc_units"] if running else "0.0"
    row["run_procs"] = values["procs"] if running else "0"
    if mode == "shared":
        row["run_uncap_weight"] = values["uncap_weight"] if running else "0"
    return row


def mem_sys_row(system: System) -> dict[str, str]:
    used = sum(lpar.held().mem for lpar in system.lpars if lpar.held() is not None)  # type: ignore[union-attr]
    available = str(max(0, system.memory_mb - system.firmware_memory_mb - used))
    return {
        "configurable_sys_mem": str(system.memory_mb),
        "curr_avail_sys_mem": available,
        "pend_avail_sys_mem": available,
        "installed_sys_mem": str(system.memory_mb),
        "deconfig_sys_mem": "0",
        "sys_firmware_mem": str(system.firmware_memory_mb),
        "mem_region_size": str(system.mem_region_size),
        "configurable_num_sys_huge_pages": "0",
        "curr_avail_num_sys_huge_pages": "0",
        "pend_avail_num_sys_huge_pages": "0",
        "max_num_sys_huge_pages": "0",
        "requested_num_sys_huge_pages": "0",
        "huge_page_size": "16384",
        "max_mem_pools": "0",
        "default_hpt_ratios": "1:64",
        "possible_hpt_ratios": "1:32,1:64,1:128,1:256,1:512",
    }


def mem_lpar_row(lpar: Lpar) -> dict[str, str]:
    held = lpar.held()
    running = lpar.state == "Running"
    low, mem, high = (held.min_mem, held.mem, held.max_mem) if held else (0, 0, 0)
    row = {
        "lpar_name": lpar.name,
        "lpar_id": str(lpar.id),
        "curr_min_mem": str(low),
        "curr_mem": str(mem),
        "curr_max_mem": str(high),
        "pend_min_mem": str(low),
        "pend_mem": str(mem),
        "pend_max_mem": str(high),
        "run_min_mem": str(low if running else 0),
        "run_mem": str(mem if running else 0),
    }
    if lpar.env != "vioserver":
        for name in ("curr_min", "curr", "curr_max", "pend_min", "pend", "pend_max", "run"):
            row[f"{name}_num_huge_pages"] = "0"
    row["mem_mode"] = "ded"
    row["curr_hpt_ratio"] = "1:64"
    return row


MEM_LPAR_ATTRIBUTES = [
    "lpar_name", "lpar_id", "curr_min_mem", "curr_mem", "curr_max_mem", "pend_min_mem", "pend_mem", "pend_max_mem",
    "run_min_mem", "run_mem", "curr_min_num_huge_pages", "curr_num_huge_pages", "curr_max_num_huge_pages",
    "pend_min_num_huge_pages", "pend_num_huge_pages", "pend_max_num_huge_pages", "run_num_huge_pages", "mem_mode",
    "curr_hpt_ratio",
]
PROC_LPAR_ATTRIBUTES = [
    "lpar_name", "lpar_id", "curr_shared_proc_pool_id", "curr_proc_mode", "curr_min_proc_units", "curr_proc_units",
    "curr_max_proc_units", "curr_min_procs", "curr_procs", "curr_max_procs", "curr_sharing_mode", "curr_uncap_weight",
    "pend_shared_proc_pool_id", "pend_proc_mode", "pend_min_proc_units", "pend_proc_units", "pend_max_proc_units",
    "pend_min_procs", "pend_procs", "pend_max_procs", "pend_sharing_mode", "pend_uncap_weight", "run_proc_units",
    "run_procs", "run_uncap_weight",
]


def lshwres(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(
        argv, [Option(("-r",)), Option(("-m",)), Option(("--level",)), Option(("--rsubtype",)), *LISTING_OPTIONS]
    )
    usage = help_requested(parsed, "Usage: lshwres -r {proc | mem} -m managed-system --level {sys | lpar} "
                                   "[--filter \"filter-data\"] [-F [attribute-names] [--header]] [--help]")
    if usage:
        return usage
    resource = choice(parsed, "-r", {"proc", "mem", "io", "virtualio", "sriov", "hca", "mempool"})
    if resource not in {"proc", "mem"}:
        raise fail("not_simulated", what=f"lshwres -r {resource}")
    system = find_system(ctx, require(parsed, "-m"))
    require_operating(system)  # README "Powered-off systems": no hardware listing while not Operating [U]
    level = choice(parsed, "--level", {"sys", "lpar", "pool"})
    if level == "pool":
        raise fail("not_simulated", what="lshwres --level pool")
    if level == "sys":
        if "--filter" in parsed:
            parse_filter(str(parsed["--filter"]), set())
        row = proc_sys_row(system) if resource == "proc" else mem_sys_row(system)
        return listing([row], list(row), parsed)
    filters = parse_filter(str(parsed["--filter"]), {"lpar_names", "lpar_ids"}) if "--filter" in parsed else {}
    lpars = select_lpars(system, filters)
    if resource == "proc":
        return listing((proc_lpar_row(lpar) for lpar in lpars), PROC_LPAR_ATTRIBUTES, parsed)
    return listing((mem_lpar_row(lpar) for lpar in lpars), MEM_LPAR_ATTRIBUTES, parsed)
