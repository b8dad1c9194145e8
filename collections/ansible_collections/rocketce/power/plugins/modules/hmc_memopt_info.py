#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hmc_memopt_info
short_description: Affinity scores and Dynamic Platform Optimization (DPO) status of a managed system
version_added: 0.1.0
description:
  - Reads the current processor-memory affinity scores (0-100, 100 is perfect) of a managed system and of its
    partitions, the scores a Dynamic Platform Optimization is predicted to reach (C(lsmemopt -o calcscore)),
    and the status of the running or most recent DPO (C(lsmemopt -m SYS)). A status listing without
    C(in_progress), C(status) or C(opt_id) fails the task with the HMC's text rather than being read as "no DPO".
  - The prediction assumes a DPO that prioritises O(lpars) and leaves O(protect) alone, the same DPO
    M(rocketce.power.hmc_memopt) starts with the same options. Predictions are estimates; the HMC notes the
    reached scores may differ slightly, and other partitions may lose score.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - rocketce.power.hmc
  - rocketce.power.hmc.info_module
  - rocketce.power.hmc.system
  - rocketce.power.hmc.dpo_targets
options:
  predict:
    description:
      - Also calculate predicted scores. The HMC computes them on request, which takes a moment on large systems.
    type: bool
    default: true
seealso:
  - module: rocketce.power.hmc_memopt
"""

EXAMPLES = r"""
- name: Scores of the AI LPAR, now and after a DPO that prioritises it
  rocketce.power.hmc_memopt_info:
    system: p10-s1024-lab
    lpars: [ai-lpar01]
  register: affinity

- name: Report
  ansible.builtin.debug:
    msg: >-
      {{ item.name }}: {{ item.current }} -> {{ item.predicted }}
  loop: "{{ affinity.lpars | selectattr('requested') }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
system:
  description: The managed system's scores.
  returned: always
  type: dict
  contains:
    name:
      description: Managed system name.
      type: str
    current:
      description: Current system affinity score.
      type: int
      sample: 70
    predicted:
      description: Predicted score after the DPO (null without O(predict)).
      type: int
      sample: 92
    gain:
      description: predicted - current, null when either is unknown.
      type: int
      sample: 22
lpars:
  description: Every partition of the system with its scores (null for partitions without resources).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Partition name.
      type: str
      sample: ai-lpar01
    id:
      description: Partition id.
      type: int
      sample: 3
    current:
      description: Current affinity score.
      type: int
      sample: 32
    predicted:
      description: Predicted affinity score.
      type: int
      sample: 95
    gain:
      description: predicted - current.
      type: int
      sample: 63
    requested:
      description: Whether the partition is in O(lpars).
      type: bool
    protected:
      description: Whether the partition is in O(protect).
      type: bool
dpo:
  description: The running or most recent DPO of the system.
  returned: always
  type: dict
  contains:
    in_progress:
      description: Whether a DPO is running now.
      type: bool
    status:
      description: Status words as the HMC prints them (for example C(In Progress), C(Finished)).
      type: str
    opt_id:
      description: Id of the optimization, null when none was ever run.
      type: int
    progress:
      description: Percent done.
      type: int
    requested_lpar_ids:
      description: Partition ids the DPO prioritises.
      type: list
      elements: int
    protected_lpar_ids:
      description: Partition ids the DPO leaves alone.
      type: list
      elements: int
    impacted_lpar_ids:
      description: Partition ids the DPO moved.
      type: list
      elements: int
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_dpo import (
    DPO_TARGET_NAMES,
    dpo_target_options,
    read_dpo_status,
    require_dpo_capable,
    resolve_targets,
    score_report,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import find_system


def run(module, client):
    params = module.params
    system = params["system"]
    require_dpo_capable(find_system(client, system))
    requested, protected = resolve_targets(client, system, params["lpars"], params["protect"])
    status = read_dpo_status(client, system)
    system_scores, lpars = score_report(client, system, requested, protected, params["predict"])
    system_scores["name"] = system
    return dict(changed=False, system=system_scores, lpars=lpars, dpo=status)


def main():
    run_hmc_module(dict(dpo_target_options(), predict=dict(type="bool", default=True)), run,
                   names=DPO_TARGET_NAMES)


if __name__ == "__main__":
    main()
