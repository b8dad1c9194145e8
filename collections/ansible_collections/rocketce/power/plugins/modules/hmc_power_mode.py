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
  - Reads the power saver mode of a managed system (C(lspwrmgmt -r sys)) and, when it differs from O(mode),
    enables O(mode) (C(chpwrmgmt -r sys -o enable -t MODE)). Changing the mode is dynamic; no restart is needed.
  - The mode tokens differ by processor generation (POWER10 offers C(static), C(power_saving) and C(max_perf));
    a mode the system does not list in C(supported_power_saver_mode_types) fails with the supported ones.
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
      - Power saver mode token, as listed by C(lspwrmgmt -m SYS -r sys -F supported_power_saver_mode_types).
      - V(max_perf) is the maximum performance mode recommended for AI workloads.
    type: str
    default: max_perf
"""

EXAMPLES = r"""
- name: Maximum performance mode
  rocketce.power.hmc_power_mode:
    system: p10-s1024-lab
    mode: max_perf
"""

RETURN = r"""
mode:
  description: The mode after the task (or, in check mode, as it would be).
  returned: always
  type: str
  sample: max_perf
previous_mode:
  description: The mode before the task.
  returned: always
  type: str
  sample: static
supported:
  description: Modes the system supports.
  returned: always
  type: list
  elements: str
  sample: [static, power_saving, max_perf]
"""

import re

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcError, HmcParameterError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import find_system, power_mode

MODE_TOKEN_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class PowerModeError(HmcError):
    pass


def check_mode_token(params):
    if not MODE_TOKEN_RE.match(params["mode"]):
        raise HmcParameterError("mode %r is not a power saver mode token (lower-case letters, digits and _, for "
                                "example max_perf)" % params["mode"])


def run(module, client):
    system, mode = module.params["system"], module.params["mode"]
    find_system(client, system)
    current = power_mode(client, system)
    if current["supported"] and mode not in current["supported"]:
        raise PowerModeError("managed system %s does not support power mode %r; it supports: %s"
                             % (system, mode, ", ".join(current["supported"])))
    changed = current["current"] != mode
    result = dict(changed=changed, mode=mode, previous_mode=current["current"], supported=current["supported"])
    if changed and module._diff:
        result["diff"] = {"before": "power_mode: %s\n" % current["current"], "after": "power_mode: %s\n" % mode,
                          "before_header": system, "after_header": system}
    if changed and not module.check_mode:
        client.run(["chpwrmgmt", "-m", system, "-r", "sys", "-o", "enable", "-t", mode], mutating=True)
    return result


def main():
    run_hmc_module(dict(system=dict(type="str", required=True), mode=dict(type="str", default="max_perf")), run,
                   names={"system": "managed system"}, check_params=check_mode_token)


if __name__ == "__main__":
    main()
