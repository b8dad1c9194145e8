#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hmc_power_mode
short_description: Power and performance mode of a managed system (for example maximum performance)
version_added: 0.1.0
description:
  - Reads the power saver mode of a managed system (C(lspwrmgmt -m SYS -r sys)) and, when it differs from O(mode),
    sets O(mode) with the C(chpwrmgmt) form of the system's processor generation. Changing the mode is dynamic;
    no restart is needed.
  - The generation is the newest processor compatibility mode in C(lssyscfg -r sys) (C(lpar_proc_compat_modes)),
    else the machine type. Which mode exists where, and how it is set and shown
    ([V] verified in IBM documentation or real captures, [U] unverified, [I] inferred)
  - "V(maximum_performance): all generations; C(-o enable -t max_perf), shown C(max_perf) or
    C(Maximum Performance) [V]."
  - "V(nominal): POWER9 C(-o disable) [V], shown C(none) or C(Nominal) [U]; Power10 and Power11
    C(-o enable -t static) [V Power10, U Power11], shown C(static) or C(Static)."
  - "V(power_saving): POWER9 C(-o enable -t static), the Static Power Saver mode [I], shown C(static) or
    C(Static Power Saver); Power10 and Power11 C(-o enable -t power_saving) [V Power10], shown C(power_saving) or
    C(Power Saving)."
  - "V(dynamic_performance): POWER9 only, C(-o enable -t dynamic_favor_perf), shown C(dynamic_favor_perf) or
    C(Dynamic Performance) [I]. Power10 has no dynamic performance mode [V]; asking for it fails."
  - "V(energy_efficient): Power11 only, C(-o enable -t efficiency_favor_perf), shown C(Energy Efficient) [U]."
  - A mode token the system does not list in C(supported_power_saver_mode_types) fails with the listed ones before
    anything is changed. A current mode the module cannot recognise for the generation (another attribute name, an
    unknown token or text) fails with the HMC's listing; it is never taken as "different" (which would change the
    mode on every run) or "the same".
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - rocketce.power.hmc
  - rocketce.power.hmc.system
attributes:
  diff_mode:
    support: full
options:
  mode:
    description:
      - The power and performance mode; see the table in the description for which generation has which.
      - V(maximum_performance) is the mode recommended for AI workloads; V(max_perf) is accepted as another name
        for it.
    type: str
    choices: [maximum_performance, max_perf, nominal, power_saving, dynamic_performance, energy_efficient]
    default: maximum_performance
"""

EXAMPLES = r"""
- name: Maximum performance mode
  rocketce.power.hmc_power_mode:
    system: p10-s1024-lab
    mode: maximum_performance

- name: Nominal frequency (chpwrmgmt -o disable on POWER9, -o enable -t static on Power10/11)
  rocketce.power.hmc_power_mode:
    system: p9-s924
    mode: nominal
"""

RETURN = r"""
mode:
  description: The mode after the task (or, in check mode, as it would be).
  returned: always
  type: str
  sample: maximum_performance
previous_mode:
  description: The mode before the task.
  returned: always
  type: str
  sample: nominal
shown_mode:
  description: The current mode as C(lspwrmgmt) printed it before the task (token or display text).
  returned: always
  type: str
  sample: static
generation:
  description: Processor generation of the system (POWER9, Power10 or Power11).
  returned: always
  type: str
  sample: Power10
command:
  description: The C(chpwrmgmt) command that sets O(mode) on this generation (sent only when the mode differs).
  returned: always
  type: list
  elements: str
  sample: [chpwrmgmt, -m, p10-s1024-lab, -r, sys, -o, enable, -t, max_perf]
supported:
  description: Mode tokens the system lists in C(supported_power_saver_mode_types) (null when it lists none).
  returned: always
  type: list
  elements: str
  sample: [static, power_saving, max_perf]
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_power import (
    PowerModeError,
    mode_name,
    processor_generation,
    read_power_mode,
    set_command,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import find_system


def run(module, client):
    system, mode = module.params["system"], mode_name(module.params["mode"])
    generation = processor_generation(find_system(client, system))
    command = set_command(mode, generation, system)
    current = read_power_mode(client, system, generation)
    token = command[-1] if "-t" in command else None
    if token is not None and current["supported"] is not None and token not in current["supported"]:
        raise PowerModeError("managed system %s does not list the %s mode token %r in "
                             "supported_power_saver_mode_types; it supports: %s"
                             % (system, mode, token, ", ".join(current["supported"]) or "none"))
    changed = current["current"] != mode
    result = dict(changed=changed, mode=mode, previous_mode=current["current"], shown_mode=current["shown"],
                  generation=generation, command=command, supported=current["supported"])
    if changed and module._diff:
        result["diff"] = {"before": "power_mode: %s\n" % current["current"], "after": "power_mode: %s\n" % mode,
                          "before_header": system, "after_header": system}
    if changed and not module.check_mode:
        client.run(command, mutating=True)
    return result


def main():
    run_hmc_module(
        dict(system=dict(type="str", required=True),
             mode=dict(type="str", default="maximum_performance",
                       choices=["maximum_performance", "max_perf", "nominal", "power_saving", "dynamic_performance",
                                "energy_efficient"])),
        run, names={"system": "managed system"})


if __name__ == "__main__":
    main()
