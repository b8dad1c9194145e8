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
      - Managed system name. When omitted, the partitions of every managed system in state C(Operating) or
        C(Standby) are listed.
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
missing:
  description: Requested names found on no managed system (only without O(system)).
  returned: always
  type: list
  elements: str
  sample: []
"""

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

LISTABLE_SYSTEM_STATES = ("Operating", "Standby")


def read_lpars(client, system, names, resources, strict=True):
    """Summaries of the partitions of ``system``; with ``strict`` an unknown name in ``names`` fails."""
    rows = list_lpars(client, system)
    if names and strict:
        rows = select_lpars(rows, names, system)
    elif names:
        rows = [row for row in rows if row.get("name") in names]
    procs = lpar_processors(client, system) if resources and rows else {}
    mem = lpar_memory(client, system) if resources and rows else {}
    lpars = []
    for row in rows:
        lpar = lpar_summary(row, procs.get(row.get("name")), mem.get(row.get("name")))
        lpar["system"] = system
        lpars.append(lpar)
    return lpars


def read_all_systems(client, names, resources):
    lpars = []
    for system in list_systems(client):
        if system.get("state") in LISTABLE_SYSTEM_STATES:
            lpars.extend(read_lpars(client, system["name"], names, resources, strict=False))
    if names:
        order = dict((name, index) for index, name in enumerate(names))
        lpars.sort(key=lambda lpar: order[lpar["name"]])
    found = set(lpar["name"] for lpar in lpars)
    return lpars, [name for name in names if name not in found]


def run(module, client):
    params = module.params
    if params["system"] is None:
        lpars, missing = read_all_systems(client, params["names"], params["resources"])
    else:
        find_system(client, params["system"])
        lpars, missing = read_lpars(client, params["system"], params["names"], params["resources"]), []
    return dict(changed=False, lpars=lpars, missing=missing)


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
