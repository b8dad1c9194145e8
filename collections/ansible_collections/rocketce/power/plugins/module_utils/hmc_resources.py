# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HMC reads shared by the HMC modules: managed systems, partitions, processors, memory, power mode, DPO.

Every function takes a connected client (anything with ``run(argv, mutating=False)``) and returns parsed
data. Names given by users are looked up in listings first: an unknown name fails here with the list of
names the HMC does know, and never reaches an HMC command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rocketce.power.plugins.module_utils.hmc_client import HmcNotFoundError, HmcPartialResultError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_names import validate_name, validate_names
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import (
    as_float,
    as_int,
    format_record,
    is_unset,
    parse_listing,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_sizing import chip_sizing

# hmc_system_info reports the same advice the sizing modules act on.
sizing_advice = chip_sizing

RUNNING_STATES = ("Running",)
STOPPED_STATES = ("Not Activated",)


# -- managed systems ---------------------------------------------------------------------------------------
def list_systems(client):
    """``lssyscfg -r sys``: one dict per managed system."""
    return parse_listing(client.run(["lssyscfg", "-r", "sys"]))


def find_system(client, name):
    """The ``lssyscfg -r sys`` row of the managed system called ``name``; :class:`HmcNotFoundError` if none."""
    validate_name(name, "managed system")
    systems = list_systems(client)
    for row in systems:
        if row.get("name") == name:
            return row
    known = ", ".join(sorted(row.get("name", "?") for row in systems)) or "none"
    raise HmcNotFoundError("managed system %r is not managed by this HMC (it manages: %s)" % (name, known))


def system_summary(row):
    """The attributes of a ``lssyscfg -r sys`` row that modules return, with numbers as numbers."""
    capabilities = sorted(key[:-len("_capable")] for key, value in row.items()
                          if key.endswith("_capable") and value == "1")
    return {
        "name": row.get("name"),
        "type_model": row.get("type_model"),
        "serial_num": row.get("serial_num"),
        "mtms": "%s*%s" % (row.get("type_model"), row.get("serial_num")),
        "state": row.get("state"),
        "dpo_capable": row.get("dynamic_platform_optimization_capable") == "1",
        "capabilities": capabilities,
    }


# Key returned -> (lshwres attribute, converter), per resource of ``lshwres --level sys``.
SYSTEM_PROCESSOR_FIELDS = (("installed", "installed_sys_proc_units", as_float),
                           ("configurable", "configurable_sys_proc_units", as_float),
                           ("available", "curr_avail_sys_proc_units", as_float),
                           ("pending_available", "pend_avail_sys_proc_units", as_float),
                           ("deconfigured", "deconfig_sys_proc_units", as_float),
                           ("max_procs_per_lpar", "max_procs_per_lpar", as_int))
SYSTEM_MEMORY_FIELDS = (("installed_mb", "installed_sys_mem", as_int),
                        ("configurable_mb", "configurable_sys_mem", as_int),
                        ("available_mb", "curr_avail_sys_mem", as_int),
                        ("firmware_mb", "sys_firmware_mem", as_int),
                        ("region_size_mb", "mem_region_size", as_int))


def _system_level(client, resource, system, fields):
    rows = parse_listing(client.run(["lshwres", "-r", resource, "-m", system, "--level", "sys"]))
    row = rows[0] if rows else {}
    return dict((key, convert(row.get(attribute))) for key, attribute, convert in fields)


def system_processors(client, system):
    """``lshwres -r proc --level sys`` as numbers (processing units; cores for dedicated processors)."""
    return _system_level(client, "proc", system, SYSTEM_PROCESSOR_FIELDS)


def system_memory(client, system):
    """``lshwres -r mem --level sys`` in MB."""
    return _system_level(client, "mem", system, SYSTEM_MEMORY_FIELDS)


# -- partitions --------------------------------------------------------------------------------------------
def list_lpars(client, system):
    """``lssyscfg -r lpar -m SYS``: one dict per partition."""
    return parse_listing(client.run(["lssyscfg", "-r", "lpar", "-m", system]))


def select_lpars(rows, names, system):
    """The rows of ``names`` (validated) in the order given; :class:`HmcNotFoundError` lists unknown ones."""
    names = validate_names(names, "partition")
    by_name = dict((row.get("name"), row) for row in rows)
    missing = [name for name in names if name not in by_name]
    if missing:
        known = ", ".join(sorted(by_name)) or "none"
        raise HmcNotFoundError("partition(s) %s not found on managed system %s (it has: %s)"
                               % (", ".join(repr(name) for name in missing), system, known))
    return [by_name[name] for name in names]


def find_lpar(client, system, name):
    return select_lpars(list_lpars(client, system), [name], system)[0]


def lpar_processors(client, system):
    """``lshwres -r proc --level lpar`` keyed by partition name."""
    rows = parse_listing(client.run(["lshwres", "-r", "proc", "-m", system, "--level", "lpar"]))
    return dict((row.get("lpar_name"), row) for row in rows)


def lpar_memory(client, system):
    """``lshwres -r mem --level lpar`` keyed by partition name."""
    rows = parse_listing(client.run(["lshwres", "-r", "mem", "-m", system, "--level", "lpar"]))
    return dict((row.get("lpar_name"), row) for row in rows)


def lpar_profiles(client, system, lpar_id):
    """``lssyscfg -r prof`` rows of one partition (filtered by id: ids need no quoting)."""
    return parse_listing(client.run(["lssyscfg", "-r", "prof", "-m", system, "--filter", "lpar_ids=%d" % lpar_id]))


def _text(value):
    """An HMC text attribute, None for its "no value" spellings (``none``, empty, ``unavailable``)."""
    return None if is_unset(value) else value


def lpar_summary(row, procs=None, mem=None):
    """What modules and the inventory plugin report about a partition: identity, state, profile, processors,
    memory. ``procs``/``mem`` are its ``lshwres --level lpar`` rows (None when not read: values are null)."""
    procs = procs or {}
    mem = mem or {}
    mode = _text(procs.get("curr_proc_mode"))
    return {
        "name": row.get("name"),
        "id": as_int(row.get("lpar_id")),
        "env": row.get("lpar_env"),
        "state": row.get("state"),
        "os_version": _text(row.get("os_version")),
        "default_profile": _text(row.get("default_profile")),
        "current_profile": _text(row.get("curr_profile")),
        "sync_curr_profile": row.get("sync_curr_profile") == "1" if "sync_curr_profile" in row else None,
        "rmc_state": _text(row.get("rmc_state")),
        "rmc_ipaddr": _text(row.get("rmc_ipaddr")),
        "proc_mode": mode,
        "procs": as_int(procs.get("curr_procs")),
        "min_procs": as_int(procs.get("curr_min_procs")),
        "max_procs": as_int(procs.get("curr_max_procs")),
        "proc_units": as_float(procs.get("curr_proc_units")) if mode == "shared" else None,
        "sharing_mode": _text(procs.get("curr_sharing_mode")),
        "memory_mb": as_int(mem.get("curr_mem")),
        "min_memory_mb": as_int(mem.get("curr_min_mem")),
        "max_memory_mb": as_int(mem.get("curr_max_mem")),
    }


def lpar_records(client, system, rows=None, resources=True):
    """:func:`lpar_summary` of every partition in ``rows`` (default: all of ``system``).

    With ``resources`` the processor and memory listings are read too (two commands, whatever the number of
    partitions); without, the processor and memory values are null (a system that is not operating).
    """
    rows = list_lpars(client, system) if rows is None else rows
    procs = lpar_processors(client, system) if resources and rows else {}
    mem = lpar_memory(client, system) if resources and rows else {}
    return [lpar_summary(row, procs.get(row.get("name")), mem.get(row.get("name"))) for row in rows]


# -- profiles ----------------------------------------------------------------------------------------------
PROCESSOR_SETTINGS = ("proc_mode", "min_procs", "desired_procs", "max_procs", "sharing_mode")


def find_profile(client, system, lpar_name, lpar_id, profile):
    """The ``lssyscfg -r prof`` row of one profile of a partition; :class:`HmcNotFoundError` if it has none."""
    rows = lpar_profiles(client, system, lpar_id)
    for row in rows:
        if row.get("name") == profile:
            return row
    known = ", ".join(sorted(row.get("name", "?") for row in rows)) or "none"
    raise HmcNotFoundError("partition %s on %s has no profile named %r (it has: %s)"
                           % (lpar_name, system, profile, known))


def profile_processor_settings(row):
    """The processor settings of a profile row, counts as numbers."""
    settings = {"proc_mode": row.get("proc_mode"), "sharing_mode": row.get("sharing_mode")}
    for key in ("min_procs", "desired_procs", "max_procs"):
        settings[key] = as_int(row.get(key))
    return settings


def disable_profile_sync(client, system, lpar_name):
    """``sync_curr_profile=0`` on a partition, so the HMC stops saving its running configuration into the
    current profile (which would overwrite a profile change until the next activation)."""
    client.run(["chsyscfg", "-r", "lpar", "-m", system, "-i",
                format_record([("name", lpar_name), ("sync_curr_profile", "0")])], mutating=True)


def change_profile(client, system, lpar, profile, settings, *, force=False):
    """``chsyscfg -r prof`` with ``settings`` (dict, sent in PROCESSOR_SETTINGS order), then re-read the profile.

    ``lpar`` is the partition's :func:`lpar_summary`. Returns the profile row read back. When the profile
    read back differs from what was sent (the HMC wrote the running configuration back over it, or ignored an
    attribute), raises :class:`HmcPartialResultError` with both listings.
    """
    keys = [key for key in PROCESSOR_SETTINGS if key in settings]
    record = [("name", profile), ("lpar_name", lpar["name"])] + [(key, settings[key]) for key in keys]
    argv = ["chsyscfg", "-r", "prof", "-m", system, "-i", format_record(record)]
    client.run(argv + (["--force"] if force else []), mutating=True)
    row = find_profile(client, system, lpar["name"], lpar["id"], profile)
    read = profile_processor_settings(row)
    differs = [key for key in keys if read[key] != settings[key]]
    if differs:
        sent = ", ".join("%s=%s" % (key, settings[key]) for key in keys)
        found = ", ".join("%s=%s" % (key, read[key]) for key in keys)
        listing = format_record(list(row.items()))
        why = ""
        if lpar.get("sync_curr_profile") and profile == lpar.get("current_profile"):
            why = (" (sync_curr_profile is on for %s: the HMC saves its running configuration into its current "
                   "profile; turn sync_curr_profile off for it and change the profile again)" % lpar["name"])
        raise HmcPartialResultError(
            "the change of profile %s of %s on %s did not stick%s: sent %s, read back %s (differs in %s); profile "
            "listing: %s" % (profile, lpar["name"], system, why, sent, found, ", ".join(differs), listing),
            {"changed": True, "profile": profile, "sent": dict((key, settings[key]) for key in keys), "read": read,
             "profile_listing": listing})
    return row


# -- affinity and DPO --------------------------------------------------------------------------------------
def _id_options(requested_ids, protected_ids):
    argv = []
    if requested_ids:
        argv += ["--id", ",".join(str(i) for i in requested_ids)]
    if protected_ids:
        argv += ["--xid", ",".join(str(i) for i in protected_ids)]
    return argv


def affinity_scores(client, system, predict=True, requested_ids=(), protected_ids=()):
    """System and partition affinity scores; with ``predict`` also the scores a DPO is predicted to reach.

    Returns ``(system_scores, lpar_scores)``: ``{"current", "predicted"}`` and a list of
    ``{"name", "id", "current", "predicted"}``; a score is an int or None (partition without resources).
    """
    option = "calcscore" if predict else "currscore"
    ids = _id_options(requested_ids, protected_ids) if predict else []
    sys_rows = parse_listing(client.run(["lsmemopt", "-m", system, "-r", "sys", "-o", option] + ids))
    sys_row = sys_rows[0] if sys_rows else {}
    system_scores = {"current": as_int(sys_row.get("curr_sys_score")),
                     "predicted": as_int(sys_row.get("predicted_sys_score")) if predict else None}
    lpars = lpar_scores(client, system, option, ids)
    return system_scores, lpars


def lpar_scores(client, system, option="currscore", ids=()):
    """``lsmemopt -r lpar -o currscore|calcscore``: ``{"name", "id", "current", "predicted"}`` per partition."""
    rows = parse_listing(client.run(["lsmemopt", "-m", system, "-r", "lpar", "-o", option] + list(ids)))
    predict = option == "calcscore"
    return [{"name": row.get("lpar_name"), "id": as_int(row.get("lpar_id")),
             "current": as_int(row.get("curr_lpar_score")),
             "predicted": as_int(row.get("predicted_lpar_score")) if predict else None} for row in rows]


def start_dpo(client, system, requested_ids=(), protected_ids=()):
    """``optmem -o start -t affinity``: returns when the HMC has started it."""
    client.run(["optmem", "-m", system, "-o", "start", "-t", "affinity"] + _id_options(requested_ids, protected_ids),
               mutating=True)


def stop_dpo(client, system):
    client.run(["optmem", "-m", system, "-o", "stop"], mutating=True)
