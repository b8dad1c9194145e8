#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hmc_lpar_info
short_description: Logical partitions of a managed system, with state, profile, processors and memory
version_added: 0.1.0
description:
  - Lists the partitions of one managed system, or of every managed system of the HMC, from
    C(lssyscfg -r lpar) joined with the current processor and memory configuration
    (C(lshwres -r proc|mem --level lpar)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - rocketce.power.hmc
  - rocketce.power.hmc.info_module
options:
  system:
    description:
      - Managed system name. When omitted, the partitions of every managed system are listed.
      - Processors and memory are joined for systems in state C(Operating) only; the partitions of a system in
        another state (C(Standby), C(Power Off)...) are listed with their state and null resources, and such a
        system whose partitions the HMC cannot list is reported in RV(unlisted_systems).
    type: str
  names:
    description:
      - Only these partitions, in this order. A name that does not exist fails the task (with O(system)) or is
        reported in RV(missing) (without O(system)).
      - All partitions when empty.
    type: list
    elements: str
    default: []
  resources:
    description:
      - Join processors and memory (two more HMC commands per system).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The AI LPAR
  rocketce.power.hmc_lpar_info:
    system: p10-s1024-lab
    names: [ai-lpar01]
  register: ai_lpar

- name: Find on which managed system each LPAR lives
  rocketce.power.hmc_lpar_info:
    names: [ai-lpar01, db-lpar01]
    resources: false
  register: where
"""

RETURN = r"""
lpars:
  description: One entry per partition; in the order of O(names) when given.
  returned: always
  type: list
  elements: dict
  contains:
    system:
      description: Managed system of the partition.
      type: str
      sample: p10-s1024-lab
    system_state:
      description: State of that managed system; resources are null unless it is C(Operating).
      type: str
      sample: Operating
    name:
      description: Partition name.
      type: str
      sample: ai-lpar01
    id:
      description: Partition id.
      type: int
      sample: 3
    env:
      description: C(aixlinux), C(vioserver) or C(os400).
      type: str
    state:
      description: C(Running), C(Not Activated), C(Starting), C(Open Firmware), C(Shutting Down)...
      type: str
      sample: Running
    default_profile:
      description: Profile activated by default.
      type: str
      sample: default_profile
    current_profile:
      description: Profile the partition was last activated with.
      type: str
    proc_mode:
      description: Current processor mode, C(ded) or C(shared). Null without O(resources).
      type: str
      sample: ded
    procs:
      description: Current (virtual) processors; dedicated cores for C(ded).
      type: int
      sample: 12
    min_procs:
      description: Current minimum processors.
      type: int
    max_procs:
      description: Current maximum processors.
      type: int
    proc_units:
      description: Processing units of a shared partition, null for dedicated ones.
      type: float
    sharing_mode:
      description: C(cap)/C(uncap) for shared, C(keep_idle_procs)/C(share_idle_procs)... for dedicated.
      type: str
    memory_mb:
      description: Current memory in MB.
      type: int
      sample: 262144
    min_memory_mb:
      description: Current minimum memory in MB.
      type: int
    max_memory_mb:
      description: Current maximum memory in MB.
      type: int
    os_version:
      description: Operating system reported through RMC.
      type: str
    rmc_state:
      description: RMC connection state (C(active), C(inactive)...).
      type: str
unlisted_systems:
  description: Managed systems, not C(Operating), whose partitions the HMC could not list (only without O(system)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The system that could not be listed.
      type: str
    state:
      description: Its state (C(Power Off), C(No Connection)...).
      type: str
    error:
      description: The HMC's answer to C(lssyscfg -r lpar).
      type: str
missing:
  description: Requested names found on no managed system (only without O(system)).
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcCommandError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
    find_system,
    list_lpars,
    list_systems,
    lpar_memory,
    lpar_processors,
    lpar_summary,
    select_lpars,
)

# Only an Operating system reports the processors and memory of its partitions; a system in another state
# (Standby, Power Off...) still lists its partitions with their state [U], without resources.
RESOURCE_SYSTEM_STATES = ("Operating",)


def read_lpars(client, system_row, names, resources, strict=True):
    """Summaries of the partitions of a system; with ``strict`` an unknown name in ``names`` fails."""
    system, system_state = system_row["name"], system_row.get("state")
    rows = list_lpars(client, system)
    if names and strict:
        rows = select_lpars(rows, names, system)
    elif names:
        rows = [row for row in rows if row.get("name") in names]
    resources = resources and bool(rows) and system_state in RESOURCE_SYSTEM_STATES
    procs = lpar_processors(client, system) if resources else {}
    mem = lpar_memory(client, system) if resources else {}
    lpars = []
    for row in rows:
        lpar = lpar_summary(row, procs.get(row.get("name")), mem.get(row.get("name")))
        lpar.update(system=system, system_state=system_state)
        lpars.append(lpar)
    return lpars


def read_all_systems(client, names, resources):
    """Partitions of every managed system; a system that is not Operating and cannot list them is reported in
    ``unlisted`` with the HMC's answer instead of failing the whole listing."""
    lpars, unlisted = [], []
    for system_row in list_systems(client):
        try:
            lpars.extend(read_lpars(client, system_row, names, resources, strict=False))
        except HmcCommandError as exc:
            if system_row.get("state") in RESOURCE_SYSTEM_STATES:
                raise
            unlisted.append({"name": system_row["name"], "state": system_row.get("state"), "error": exc.text})
    if names:
        order = dict((name, index) for index, name in enumerate(names))
        lpars.sort(key=lambda lpar: order[lpar["name"]])
    found = set(lpar["name"] for lpar in lpars)
    return lpars, [name for name in names if name not in found], unlisted


def run(module, client):
    params = module.params
    if params["system"] is None:
        lpars, missing, unlisted = read_all_systems(client, params["names"], params["resources"])
    else:
        system_row = find_system(client, params["system"])
        lpars, missing, unlisted = read_lpars(client, system_row, params["names"], params["resources"]), [], []
    return dict(changed=False, lpars=lpars, missing=missing, unlisted_systems=unlisted)


def main():
    run_hmc_module(
        dict(
            system=dict(type="str"),
            names=dict(type="list", elements="str", default=[]),
            resources=dict(type="bool", default=True),
        ),
        run,
        names={"system": "managed system", "names": "partition"},
    )


if __name__ == "__main__":
    main()
