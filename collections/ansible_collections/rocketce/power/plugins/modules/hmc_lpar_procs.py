#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hmc_lpar_procs
short_description: Dedicated processors in a partition profile, optionally sized to one processor chip
version_added: 0.1.0
description:
  - Sets a partition profile to dedicated processors (C(proc_mode=ded)) with the given count, minimum,
    maximum and sharing mode (C(chsyscfg -r prof)), only when the profile differs.
  - With O(size_from_model=true) the count is the recommended dedicated cores of the managed system's model
    (cores of one chip, see M(rocketce.power.hmc_system_info)), so the LPAR's cores can sit on one chip.
  - A profile change takes effect when the partition is activated with that profile. Switching a running
    partition between shared and dedicated processors needs a restart with the profile
    (M(rocketce.power.hmc_lpar_state) with O(rocketce.power.hmc_lpar_state#module:state=restarted));
    RV(pending_activation) says when the running configuration differs from the profile.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - rocketce.power.hmc
  - rocketce.power.hmc.system
  - rocketce.power.hmc.partition
attributes:
  diff_mode:
    support: full
options:
  profile:
    description:
      - Profile to change. Defaults to the partition's default profile.
    type: str
  procs:
    description:
      - Desired number of dedicated processors (cores).
      - Required unless O(size_from_model=true).
    type: int
  size_from_model:
    description:
      - Take the desired processors from the sizing advice for the system's type-model (12 on an S1024, 10 on
        an S1022, ...). Fails for a model without a sizing rule.
    type: bool
    default: false
  min_procs:
    description:
      - Minimum processors. Defaults to 1.
    type: int
  max_procs:
    description:
      - Maximum processors. Defaults to the desired processors.
    type: int
  apply_now:
    description:
      - For a partition that is C(Not Activated), also apply the profile to it now (C(chsyscfg -r lpar -o apply)),
        so it holds its dedicated processors before it starts (and counts in affinity scores and DPO), when the
        processors it holds differ from the profile.
      - A running partition uses the profile only after a restart with it, see RV(pending_activation).
    type: bool
    default: false
  sharing_mode:
    description:
      - What happens to idle dedicated processors. V(keep_idle_procs) never lends them to the shared pool, which
        keeps the LPAR's caches and chip to itself.
    type: str
    choices: [keep_idle_procs, share_idle_procs, share_idle_procs_active, share_idle_procs_always]
    default: keep_idle_procs
seealso:
  - module: rocketce.power.hmc_system_info
  - module: rocketce.power.hmc_lpar_state
"""

EXAMPLES = r"""
- name: Dedicated cores of one chip for the AI LPAR
  rocketce.power.hmc_lpar_procs:
    system: p10-s1024-lab
    name: ai-lpar01
    size_from_model: true
  register: procs

- name: Restart it with the profile when the change is pending
  rocketce.power.hmc_lpar_state:
    system: p10-s1024-lab
    name: ai-lpar01
    state: restarted
    profile: "{{ procs.profile }}"
  when: procs.pending_activation

- name: An explicit size
  rocketce.power.hmc_lpar_procs:
    system: p10-e1080-prod
    name: ai-lpar02
    procs: 15
    min_procs: 4
    max_procs: 15
"""

RETURN = r"""
profile:
  description: The profile that was checked (and changed).
  returned: always
  type: str
  sample: default_profile
before:
  description: Processor settings of the profile before.
  returned: always
  type: dict
  sample: {proc_mode: shared, min_procs: 1, desired_procs: 4, max_procs: 8, sharing_mode: uncap}
after:
  description: Processor settings of the profile after (or, in check mode, as they would be).
  returned: always
  type: dict
  sample: {proc_mode: ded, min_procs: 1, desired_procs: 12, max_procs: 12, sharing_mode: keep_idle_procs}
applied:
  description: The profile was applied to the C(Not Activated) partition (O(apply_now=true)).
  returned: always
  type: bool
pending_activation:
  description: The partition runs with a processor configuration different from the profile; it takes effect at
    the next activation with the profile.
  returned: always
  type: bool
state:
  description: Partition state.
  returned: always
  type: str
  sample: Running
sizing:
  description: The sizing advice used with O(size_from_model=true), else null.
  returned: always
  type: dict
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import (
    HmcError,
    HmcNotFoundError,
    HmcParameterError,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import as_int, format_record
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
    find_lpar,
    find_system,
    lpar_processors,
    lpar_profiles,
    sizing_advice,
    system_processors,
)

SETTINGS = ("proc_mode", "min_procs", "desired_procs", "max_procs", "sharing_mode")


class ProcsError(HmcError):
    pass


def desired_settings(params, sizing):
    procs = params["procs"]
    if params["size_from_model"]:
        procs = sizing["recommended_dedicated_cores"]
        if procs is None:
            raise ProcsError("size_from_model: %s" % sizing["basis"])
    min_procs = params["min_procs"] if params["min_procs"] is not None else 1
    max_procs = params["max_procs"] if params["max_procs"] is not None else procs
    if not 1 <= min_procs <= procs <= max_procs:
        raise ProcsError("processors must satisfy 1 <= min_procs (%s) <= procs (%s) <= max_procs (%s)"
                         % (min_procs, procs, max_procs))
    return {"proc_mode": "ded", "min_procs": min_procs, "desired_procs": procs, "max_procs": max_procs,
            "sharing_mode": params["sharing_mode"]}


def profile_settings(row):
    settings = {"proc_mode": row.get("proc_mode"), "sharing_mode": row.get("sharing_mode")}
    for key in ("min_procs", "desired_procs", "max_procs"):
        settings[key] = as_int(row.get(key))
    return settings


def running_settings(procs_row):
    return {"proc_mode": procs_row.get("curr_proc_mode"), "min_procs": as_int(procs_row.get("curr_min_procs")),
            "desired_procs": as_int(procs_row.get("curr_procs")), "max_procs": as_int(procs_row.get("curr_max_procs")),
            "sharing_mode": procs_row.get("curr_sharing_mode")}


def run(module, client):
    params = module.params
    system = params["system"]
    system_row = find_system(client, system)
    sizing = None
    if params["size_from_model"]:
        sizing = sizing_advice(system_row.get("type_model"), system_processors(client, system)["installed"])
    wanted = desired_settings(params, sizing)

    lpar = find_lpar(client, system, params["name"])
    profile = params["profile"] or lpar.get("default_profile")
    lpar_id = as_int(lpar.get("lpar_id"))
    rows = [row for row in lpar_profiles(client, system, lpar_id) if row.get("name") == profile]
    if not rows:
        raise HmcNotFoundError("partition %s on %s has no profile named %r" % (params["name"], system, profile))
    before = profile_settings(rows[0])
    changed = any(before[key] != wanted[key] for key in SETTINGS)
    result = dict(changed=changed, profile=profile, before=before, after=wanted if changed else before,
                  state=lpar.get("state"), sizing=sizing)
    if changed and module._diff:
        result["diff"] = {"before": before, "after": wanted,
                          "before_header": "%s/%s profile %s" % (system, params["name"], profile),
                          "after_header": "%s/%s profile %s" % (system, params["name"], profile)}
    if changed and not module.check_mode:
        record = [("name", profile), ("lpar_name", params["name"])] + [(key, wanted[key]) for key in SETTINGS]
        client.run(["chsyscfg", "-r", "prof", "-m", system, "-i", format_record(record)], mutating=True)
    result.update(pending_activation=False, applied=False)
    inactive = lpar.get("state") == "Not Activated"
    if inactive and not params["apply_now"]:
        return result
    current = lpar_processors(client, system).get(params["name"], {})
    differs = any(running_settings(current)[key] != wanted[key] for key in ("proc_mode", "desired_procs"))
    if not inactive:
        result["pending_activation"] = differs
    elif differs:
        result.update(changed=True, applied=True)
        if not module.check_mode:
            client.run(["chsyscfg", "-r", "lpar", "-m", system, "-o", "apply", "--id", str(lpar_id), "-n", profile],
                       mutating=True)
    return result


def check_procs_options(params):
    if params["size_from_model"] and params["procs"] is not None:
        raise HmcParameterError("procs and size_from_model=true are mutually exclusive: give one of them")
    if params["procs"] is not None:
        desired_settings(params, None)


def main():
    run_hmc_module(
        dict(
            system=dict(type="str", required=True),
            name=dict(type="str", required=True),
            profile=dict(type="str"),
            procs=dict(type="int"),
            size_from_model=dict(type="bool", default=False),
            min_procs=dict(type="int"),
            max_procs=dict(type="int"),
            apply_now=dict(type="bool", default=False),
            sharing_mode=dict(type="str", default="keep_idle_procs",
                              choices=["keep_idle_procs", "share_idle_procs", "share_idle_procs_active",
                                       "share_idle_procs_always"]),
        ),
        run,
        names={"system": "managed system", "name": "partition", "profile": "profile"},
        check_params=check_procs_options,
        required_if=[("size_from_model", False, ("procs",))],
    )


if __name__ == "__main__":
    main()
