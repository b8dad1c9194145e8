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
    maximum and sharing mode (C(chsyscfg -r prof)), only when the profile differs, then re-reads the profile
    and fails with what was sent and what was read back when the change did not stick.
  - With O(size_to_chip=true) the count is the number of cores of one processor chip of the managed system, so
    the LPAR's cores can sit on one chip (the RocketCE sizing rule). The cores per chip come, in this order,
    from O(cores_per_chip), from O(lpar_topology) (the C(topology) that M(rocketce.power.numa_info) reads on an
    LPAR of that system, lscpu C(Physical cores/chip), the machine's firmware value [V]), or from the HMC -
    the installed cores (C(installed_sys_proc_units) of C(lshwres -r proc --level sys)) matched against the
    module options of the system's model. When several (sockets x module) combinations fit the installed
    cores and disagree on the cores per chip, or the model has no known module options, the module refuses and
    says what it needs; it never guesses from the machine type alone.
  - "Module options per type-model, [V] verified in IBM sources, [I] inferred and not verified on a real system:
    S1014 9105-41B eSCM 4/8 cores [I] (and a 24-core DCM option [I], not verified), 1 socket [I];
    S1012 9028-21B one eSCM of 1/4/8 cores [I]; S1022 9105-22A DCM 12/16/20 [V], 1-2 sockets [I];
    S1022s 9105-22B eSCM 4/8 [I] with all cores on one chip [V], 1-2 sockets [I]; S1024 9105-42A DCM 12/16/24
    [V], 1-2 sockets [I]; L1022 9786-22H and L1024 9786-42H as S1022/S1024 [I]; E1050 9043-MRX DCM 12/18/24 [V],
    2-4 sockets [I]; E1080 9080-HEX SCM 10/12/15 [V], 4 per node, 1-4 nodes [I]. Power11 9824-22A, 9824-42A and
    9080-HEU: type-models [V], module options unknown, so they need O(lpar_topology) or O(cores_per_chip).
    A DCM has 2 chips (cores per chip = module cores / 2); an SCM or eSCM carries its cores on one chip."
  - "C(sync_curr_profile): when it is on for an active partition and the profile to change is its current
    profile, the HMC saves the running configuration into that profile, which can overwrite the change (a
    shared configuration written back over the dedicated one). With O(sync_curr_profile=disable) (default) the
    module turns it off first (C(chsyscfg -r lpar -i name=LPAR,sync_curr_profile=0)) and reports
    RV(sync_disabled); it stays off. With O(sync_curr_profile=keep) it stays on: the re-read right after the
    change detects a write-back that has already happened, not one the HMC does later."
  - C(--force) is sent with the profile change when it switches the processor mode (shared to dedicated), as
    public scripts do [V-3p]; whether the HMC requires it there, or anywhere else, is not verified.
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
      - Required unless O(size_to_chip=true).
    type: int
  size_to_chip:
    description:
      - Take the desired processors from the cores of one chip of the managed system (see the description for
        where that number comes from). Fails, saying what is needed, when it cannot be decided.
    type: bool
    default: false
    aliases: [size_from_model]
  lpar_topology:
    description:
      - The machine topology read on an LPAR of this managed system, the RV(rocketce.power.numa_info#module:topology)
        result of M(rocketce.power.numa_info) (or its C(lscpu) facts) with C(physical_sockets), C(physical_chips),
        C(physical_cores_per_chip). C(physical_cores_per_chip) is used; it must be a positive integer.
      - Only with O(size_to_chip=true).
    type: dict
  cores_per_chip:
    description:
      - Cores of one processor chip of the managed system, when no LPAR of it can be asked and the HMC's figures
        are ambiguous. Wins over O(lpar_topology).
      - Only with O(size_to_chip=true).
    type: int
  sync_curr_profile:
    description:
      - What to do when the partition is active, its C(sync_curr_profile) is on and the profile to change is its
        current profile (the HMC would write the running configuration back over the change).
      - V(disable) turns C(sync_curr_profile) off for the partition before changing the profile.
      - V(keep) leaves it on; the profile is re-read after the change and the module fails if the HMC wrote it
        back.
    type: str
    choices: [disable, keep]
    default: disable
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
- name: Read the machine topology on the AI LPAR (lscpu Physical cores/chip)
  rocketce.power.numa_info:
  delegate_to: ai-lpar01
  register: ai_numa

- name: Dedicated cores of one chip for the AI LPAR
  rocketce.power.hmc_lpar_procs:
    system: p10-s1024-lab
    name: ai-lpar01
    size_to_chip: true
    lpar_topology: "{{ ai_numa.topology }}"
  register: procs

- name: The same from the HMC's figures only (refused when the installed cores fit several module options)
  rocketce.power.hmc_lpar_procs:
    system: p10-s1024-lab
    name: ai-lpar01
    size_to_chip: true

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
  description:
    - How the count was sized with O(size_to_chip=true), else null. C(cores_per_chip) and
      C(recommended_dedicated_cores) are the number used; C(source) is V(parameter), V(lpar) or V(hmc);
      C(candidates) are the (sockets x module) combinations of the model that fit the installed cores; C(basis)
      says how the number was derived.
  returned: always
  type: dict
  sample:
    type_model: 9105-42A
    model: S1024
    installed_cores: 32.0
    cores_per_chip: 8
    recommended_dedicated_cores: 8
    source: hmc
    candidates: [{sockets: 2, module: DCM, module_cores: 16, cores_per_chip: 8, mark: "[V]"}]
    basis: "32 installed cores on a S1024: 2 x 16-core DCM = 8 cores per chip"
sync_disabled:
  description: C(sync_curr_profile) was (or, in check mode, would be) turned off for the partition first.
  returned: always
  type: bool
forced:
  description: The profile change was sent with C(--force) (it switched the processor mode).
  returned: always
  type: bool
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcError, HmcParameterError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import as_int
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
    PROCESSOR_SETTINGS,
    change_profile,
    disable_profile_sync,
    find_lpar,
    find_profile,
    find_system,
    lpar_processors,
    lpar_summary,
    profile_processor_settings,
    system_processors,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_sizing import (
    SizingError,
    lpar_cores_per_chip,
    require_chip_sizing,
)


class ProcsError(HmcError):
    pass


def desired_settings(params, sizing):
    procs = params["procs"]
    if params["size_to_chip"]:
        procs = sizing["recommended_dedicated_cores"]
    min_procs = params["min_procs"] if params["min_procs"] is not None else 1
    max_procs = params["max_procs"] if params["max_procs"] is not None else procs
    if not 1 <= min_procs <= procs <= max_procs:
        raise ProcsError("processors must satisfy 1 <= min_procs (%s) <= procs (%s) <= max_procs (%s)"
                         % (min_procs, procs, max_procs))
    return {"proc_mode": "ded", "min_procs": min_procs, "desired_procs": procs, "max_procs": max_procs,
            "sharing_mode": params["sharing_mode"]}


def running_settings(procs_row):
    return {"proc_mode": procs_row.get("curr_proc_mode"), "min_procs": as_int(procs_row.get("curr_min_procs")),
            "desired_procs": as_int(procs_row.get("curr_procs")), "max_procs": as_int(procs_row.get("curr_max_procs")),
            "sharing_mode": procs_row.get("curr_sharing_mode")}


def chip_size(params, client, system_row):
    """The sizing used with size_to_chip; a SizingError says what is needed when it cannot be decided."""
    installed = system_processors(client, system_row["name"])["installed"]
    try:
        return require_chip_sizing(system_row.get("type_model"), installed, params["lpar_topology"],
                                   params["cores_per_chip"])
    except SizingError as exc:
        raise SizingError("%s/%s: %s" % (system_row["name"], params["name"], exc)) from None


def run(module, client):
    params = module.params
    system = params["system"]
    system_row = find_system(client, system)
    sizing = chip_size(params, client, system_row) if params["size_to_chip"] else None
    wanted = desired_settings(params, sizing)

    lpar = lpar_summary(find_lpar(client, system, params["name"]))
    profile = params["profile"] or lpar["default_profile"]
    before = profile_processor_settings(find_profile(client, system, lpar["name"], lpar["id"], profile))
    changed = any(before[key] != wanted[key] for key in PROCESSOR_SETTINGS)
    inactive = lpar["state"] == "Not Activated"
    # The HMC saves an active partition's running configuration into its current profile while sync is on.
    synced = bool(lpar["sync_curr_profile"]) and profile == lpar["current_profile"] and not inactive
    sync_disabled = changed and synced and params["sync_curr_profile"] == "disable"
    forced = changed and before["proc_mode"] != wanted["proc_mode"]
    result = dict(changed=changed, profile=profile, before=before, after=wanted if changed else before,
                  state=lpar["state"], sizing=sizing, sync_disabled=sync_disabled, forced=forced)
    if changed and module._diff:
        header = "%s/%s profile %s" % (system, params["name"], profile)
        result["diff"] = {"before": before, "after": wanted, "before_header": header, "after_header": header}
    if changed and not module.check_mode:
        if sync_disabled:
            disable_profile_sync(client, system, lpar["name"])
        change_profile(client, system, lpar, profile, wanted, force=forced)
    result.update(pending_activation=False, applied=False)
    if inactive and not params["apply_now"]:
        return result
    current = lpar_processors(client, system).get(params["name"], {})
    differs = any(running_settings(current)[key] != wanted[key] for key in ("proc_mode", "desired_procs"))
    if not inactive:
        result["pending_activation"] = differs
    elif differs:
        result.update(changed=True, applied=True)
        if not module.check_mode:
            client.run(["chsyscfg", "-r", "lpar", "-m", system, "-o", "apply", "--id", str(lpar["id"]),
                        "-n", profile], mutating=True)
    return result


def check_procs_options(params):
    if params["size_to_chip"] and params["procs"] is not None:
        raise HmcParameterError("procs and size_to_chip=true are mutually exclusive: give one of them")
    if not params["size_to_chip"] and (params["lpar_topology"] is not None or params["cores_per_chip"] is not None):
        raise HmcParameterError("lpar_topology and cores_per_chip are only used with size_to_chip=true")
    if params["procs"] is not None:
        desired_settings(params, None)
    if params["lpar_topology"] is not None and params["cores_per_chip"] is None:
        # Unusable LPAR facts are refused before connecting (numa_info outside PowerVM reports nulls).
        lpar_cores_per_chip(params["lpar_topology"])


def main():
    run_hmc_module(
        dict(
            system=dict(type="str", required=True),
            name=dict(type="str", required=True),
            profile=dict(type="str"),
            procs=dict(type="int"),
            size_to_chip=dict(type="bool", default=False, aliases=["size_from_model"]),
            lpar_topology=dict(type="dict"),
            cores_per_chip=dict(type="int"),
            sync_curr_profile=dict(type="str", default="disable", choices=["disable", "keep"]),
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
        required_if=[("size_to_chip", False, ("procs",))],
    )


if __name__ == "__main__":
    main()
