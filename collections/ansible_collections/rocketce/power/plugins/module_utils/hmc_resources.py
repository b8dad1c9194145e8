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

from ansible_collections.rocketce.power.plugins.module_utils.hmc_client import HmcNotFoundError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_names import validate_name, validate_names
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import (
    HmcOutputError,
    as_float,
    as_int,
    as_list,
    parse_listing,
)

# Dedicated cores per NUMA-local LPAR = cores of one processor chip (RocketCE sizing guidance, seed guide).
# type_model -> (model, module type, possible cores per chip, rule).
SIZING_BY_TYPE_MODEL = {
    "9080-HEX": ("E1080", "SCM", (10, 12, 15), "one SCM is one chip: all cores of one SCM"),
    "9043-MRX": ("E1050", "DCM", (12,), "24-core DCM = 2 chips of 12 cores"),
    "9105-42A": ("S1024", "DCM", (12,), "24-core DCM = 2 chips of 12 cores"),
    "9786-42H": ("L1024", "DCM", (12,), "24-core DCM = 2 chips of 12 cores"),
    "9105-22A": ("S1022", "DCM", (10,), "20-core DCM = 2 chips of 10 cores"),
    "9786-22H": ("L1022", "DCM", (10,), "20-core DCM = 2 chips of 10 cores"),
    "9105-22B": ("S1022s", "eSCM", (8,), "8-core eSCM: all cores on one chip"),
}
# E1080 chip count per system node (4 SCMs per node, at most 4 nodes).
_E1080_SCMS_PER_NODE = 4
_E1080_MAX_SCMS = 16
_E1080_DEFAULT_CORES = 12

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


def system_processors(client, system):
    """``lshwres -r proc --level sys`` as numbers (processing units; cores for dedicated processors)."""
    rows = parse_listing(client.run(["lshwres", "-r", "proc", "-m", system, "--level", "sys"]))
    row = rows[0] if rows else {}
    return {
        "installed": as_float(row.get("installed_sys_proc_units")),
        "configurable": as_float(row.get("configurable_sys_proc_units")),
        "available": as_float(row.get("curr_avail_sys_proc_units")),
        "pending_available": as_float(row.get("pend_avail_sys_proc_units")),
        "deconfigured": as_float(row.get("deconfig_sys_proc_units")),
        "max_procs_per_lpar": as_int(row.get("max_procs_per_lpar")),
    }


def system_memory(client, system):
    """``lshwres -r mem --level sys`` in MB."""
    rows = parse_listing(client.run(["lshwres", "-r", "mem", "-m", system, "--level", "sys"]))
    row = rows[0] if rows else {}
    return {
        "installed_mb": as_int(row.get("installed_sys_mem")),
        "configurable_mb": as_int(row.get("configurable_sys_mem")),
        "available_mb": as_int(row.get("curr_avail_sys_mem")),
        "firmware_mb": as_int(row.get("sys_firmware_mem")),
        "region_size_mb": as_int(row.get("mem_region_size")),
    }


def power_mode(client, system):
    """``lspwrmgmt -m SYS -r sys``: current mode and the modes the system supports."""
    rows = parse_listing(client.run(["lspwrmgmt", "-m", system, "-r", "sys"]))
    row = rows[0] if rows else {}
    if "curr_power_saver_mode" not in row:
        # Without the current mode no change could be judged (the attribute name is unverified on real HMCs).
        raise HmcOutputError("lspwrmgmt -m %s -r sys did not report curr_power_saver_mode (attributes: %s)"
                             % (system, ", ".join(row) or "none"))
    return {
        "current": row.get("curr_power_saver_mode"),
        "supported": as_list(row.get("supported_power_saver_mode_types")),
    }


def sizing_advice(type_model, installed_cores=None):
    """Recommended dedicated cores for an LPAR whose cores should all sit on one chip (NUMA-local)."""
    rule = SIZING_BY_TYPE_MODEL.get(type_model)
    if rule is None:
        return {
            "type_model": type_model, "model": None, "module": None, "cores_per_chip_options": [],
            "recommended_dedicated_cores": None,
            "basis": "no sizing rule for type_model %s; size the LPAR to the cores of one chip "
                     "(lscpu 'Physical cores/chip' inside an LPAR)" % type_model,
        }
    model, module, options, rule_text = rule
    cores = options[-1]
    basis = rule_text
    if len(options) > 1:
        cores, basis = _e1080_cores_per_scm(options, installed_cores, rule_text)
    return {
        "type_model": type_model, "model": model, "module": module, "cores_per_chip_options": list(options),
        "recommended_dedicated_cores": cores, "basis": basis,
    }


def _e1080_cores_per_scm(options, installed_cores, rule_text):
    # E1080 nodes hold 4 SCMs of one core count, so the installed core count usually tells which SCM it is.
    if installed_cores:
        installed = int(round(installed_cores))
        fitting = [cores for cores in options
                   if installed % (cores * _E1080_SCMS_PER_NODE) == 0 and installed // cores <= _E1080_MAX_SCMS]
        if fitting:
            cores = max(fitting)
            return cores, ("%s; %d installed cores = %d SCMs of %d cores"
                           % (rule_text, installed, installed // cores, cores))
    return _E1080_DEFAULT_CORES, ("%s; SCM size not derivable from the installed cores, %d is the common size "
                                  "(use 15 on 15-core SCMs)" % (rule_text, _E1080_DEFAULT_CORES))


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


def lpar_summary(row, procs=None, mem=None):
    """What modules return about a partition: identity, state, profile, processors, memory."""
    procs = procs or {}
    mem = mem or {}
    mode = procs.get("curr_proc_mode")
    return {
        "name": row.get("name"),
        "id": as_int(row.get("lpar_id")),
        "env": row.get("lpar_env"),
        "state": row.get("state"),
        "os_version": row.get("os_version"),
        "default_profile": row.get("default_profile"),
        "current_profile": row.get("curr_profile"),
        "rmc_state": row.get("rmc_state"),
        "proc_mode": mode,
        "procs": as_int(procs.get("curr_procs")),
        "min_procs": as_int(procs.get("curr_min_procs")),
        "max_procs": as_int(procs.get("curr_max_procs")),
        "proc_units": as_float(procs.get("curr_proc_units")) if mode == "shared" else None,
        "sharing_mode": procs.get("curr_sharing_mode"),
        "memory_mb": as_int(mem.get("curr_mem")),
        "min_memory_mb": as_int(mem.get("curr_min_mem")),
        "max_memory_mb": as_int(mem.get("curr_max_mem")),
    }


# -- affinity and DPO --------------------------------------------------------------------------------------
def dpo_status(client, system):
    """Bare ``lsmemopt -m SYS``: the most recent (or running) optimization, normalized.

    Keys on ``in_progress``/``progress``; the ``status`` words are passed through as printed.
    """
    rows = parse_listing(client.run(["lsmemopt", "-m", system]))
    row = rows[0] if rows else {}
    return {
        "in_progress": row.get("in_progress") == "1",
        "status": row.get("status"),
        "type": row.get("type"),
        "opt_id": as_int(row.get("opt_id")),
        "progress": as_int(row.get("progress")),
        "requested_lpar_ids": [int(i) for i in as_list(row.get("requested_lpar_ids"))],
        "protected_lpar_ids": [int(i) for i in as_list(row.get("protected_lpar_ids"))],
        "impacted_lpar_ids": [int(i) for i in as_list(row.get("impacted_lpar_ids"))],
    }


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
    lpar_rows = parse_listing(client.run(["lsmemopt", "-m", system, "-r", "lpar", "-o", option] + ids))
    sys_row = sys_rows[0] if sys_rows else {}
    system_scores = {"current": as_int(sys_row.get("curr_sys_score")),
                     "predicted": as_int(sys_row.get("predicted_sys_score")) if predict else None}
    lpars = []
    for row in lpar_rows:
        lpars.append({
            "name": row.get("lpar_name"),
            "id": as_int(row.get("lpar_id")),
            "current": as_int(row.get("curr_lpar_score")),
            "predicted": as_int(row.get("predicted_lpar_score")) if predict else None,
        })
    return system_scores, lpars


def start_dpo(client, system, requested_ids=(), protected_ids=()):
    """``optmem -o start -t affinity``: returns when the HMC has started it."""
    client.run(["optmem", "-m", system, "-o", "start", "-t", "affinity"] + _id_options(requested_ids, protected_ids),
               mutating=True)


def stop_dpo(client, system):
    client.run(["optmem", "-m", system, "-o", "stop"], mutating=True)
