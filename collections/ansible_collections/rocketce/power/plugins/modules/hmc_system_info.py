#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hmc_system_info
short_description: Managed systems of an HMC, with resources, power mode and LPAR sizing advice
version_added: 0.1.0
description:
  - Lists the managed systems of an HMC (C(lssyscfg -r sys)) with type-model, serial number, state and
    capabilities, and for each operating system its processors and memory (C(lshwres --level sys)) and power
    mode (C(lspwrmgmt)).
  - Adds the sizing advice of the RocketCE guide for a NUMA-local AI LPAR - as many dedicated cores as one
    processor chip has - from what the HMC reports, the installed cores matched against the module options of
    the system's model (the same rule as M(rocketce.power.hmc_lpar_procs)
    O(rocketce.power.hmc_lpar_procs#module:size_to_chip), where the model table is documented).
  - When several module options fit the installed cores (an S1024 with 24 cores has one 24-core or two 12-core
    DCMs), or the model's options are unknown (Power11), the advice has no number and C(basis) says what is
    needed; it is never a guess from the machine type alone.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - rocketce.power.hmc
  - rocketce.power.hmc.info_module
options:
  systems:
    description:
      - Names of the managed systems to report. All managed systems when empty.
      - A name the HMC does not manage fails the task with the names it does manage.
    type: list
    elements: str
    default: []
  resources:
    description:
      - Also read processors, memory and power mode of each system in state C(Operating) (three HMC commands
        per system). With V(false) only the C(lssyscfg) listing is read.
    type: bool
    default: true
seealso:
  - module: rocketce.power.hmc_lpar_procs
  - module: rocketce.power.hmc_power_mode
"""

EXAMPLES = r"""
- name: Read all managed systems with sizing advice
  rocketce.power.hmc_system_info:
    hmc_host: hmc1.example.com
    hmc_user: hscroot
    hmc_key_file: ~/.ssh/hmc_ed25519
    hmc_known_hosts: inventories/prod/hmc_known_hosts
  register: hmc_systems

- name: Show the recommended dedicated cores per system
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.sizing.model }}): {{ item.sizing.recommended_dedicated_cores }} cores"
  loop: "{{ hmc_systems.systems }}"
  loop_control:
    label: "{{ item.name }}"

- name: One system, identity only (connection options from module_defaults)
  rocketce.power.hmc_system_info:
    systems: [p10-s1024-lab]
    resources: false
"""

RETURN = r"""
systems:
  description: One entry per managed system, in HMC order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Managed system name.
      type: str
      sample: p10-s1024-lab
    type_model:
      description: Machine type and model.
      type: str
      sample: 9105-42A
    serial_num:
      description: Serial number.
      type: str
      sample: 7812345
    mtms:
      description: The C(tttt-mmm*sssssss) form HMC commands accept instead of the name.
      type: str
      sample: 9105-42A*7812345
    state:
      description: Managed system state (C(Operating), C(Standby), C(Power Off), C(No Connection)...).
      type: str
      sample: Operating
    dpo_capable:
      description: Whether the system supports Dynamic Platform Optimization.
      type: bool
    capabilities:
      description: Names of the C(*_capable) attributes that are C(1), without the suffix.
      type: list
      elements: str
      sample: [dynamic_platform_optimization, active_lpar_mobility]
    processors:
      description: Processing units (installed, configurable, available...). Null unless read.
      type: dict
      sample: {installed: 48.0, configurable: 48.0, available: 12.0}
    memory:
      description: Memory in MB (installed_mb, configurable_mb, available_mb...). Null unless read.
      type: dict
      sample: {installed_mb: 1048576, available_mb: 262144}
    power_mode:
      description:
        - Current power and performance mode, named as O(rocketce.power.hmc_power_mode#module:mode) names it
          (for example V(maximum_performance), V(nominal)), C(shown) as the HMC printed it, and the
          C(supported_power_saver_mode_types) tokens (null when the HMC does not list them). Null unless read.
        - When the system's power management cannot be read, or its current mode is not one the module knows
          for the system's processor generation, C(current) is null and C(error) says why with the listing.
      type: dict
      sample: {current: maximum_performance, shown: max_perf, supported: [static, power_saving, max_perf]}
    sizing:
      description:
        - Sizing advice for a NUMA-local dedicated LPAR from the HMC's figures. C(recommended_dedicated_cores)
          (= C(cores_per_chip)) is null when it cannot be decided (unknown or ambiguous topology, resources not
          read); C(candidates) are the (sockets x module) combinations of the model that fit the installed
          cores; C(basis) says how the number was derived or what is needed.
      type: dict
      sample:
        type_model: 9105-42A
        model: S1024
        generation: Power10
        installed_cores: 48.0
        candidates: [{sockets: 2, module: DCM, module_cores: 24, cores_per_chip: 12, mark: "[V]"}]
        cores_per_chip: 12
        recommended_dedicated_cores: 12
        source: hmc
        basis: "48 installed cores on a S1024: 2 x 24-core DCM = 12 cores per chip"
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import (
    HmcCommandError,
    HmcNotFoundError,
    HmcOutputError,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_power import (
    PowerModeError,
    processor_generation,
    read_power_mode,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
    list_systems,
    sizing_advice,
    system_memory,
    system_processors,
    system_summary,
)


def read_systems(client, names, resources):
    rows = list_systems(client)
    if names:
        known = [row.get("name") for row in rows]
        missing = [name for name in names if name not in known]
        if missing:
            raise HmcNotFoundError("managed system(s) %s not managed by this HMC (it manages: %s)"
                                   % (", ".join(repr(n) for n in missing), ", ".join(sorted(known)) or "none"))
        rows = [row for row in rows if row.get("name") in names]
    systems = []
    for row in rows:
        system = system_summary(row)
        system.update(processors=None, memory=None, power_mode=None)
        if resources and system["state"] == "Operating":
            system["processors"] = system_processors(client, system["name"])
            system["memory"] = system_memory(client, system["name"])
            try:
                # The same reader as hmc_power_mode, so both modules name a mode alike whichever spelling
                # (token or display text) the HMC prints.
                system["power_mode"] = read_power_mode(client, system["name"], processor_generation(row))
            except (HmcCommandError, HmcOutputError, PowerModeError) as exc:
                # Power management is optional hardware/firmware support: report it, keep the rest.
                system["power_mode"] = {"current": None, "shown": None, "supported": [], "error": str(exc)}
        installed = (system["processors"] or {}).get("installed")
        system["sizing"] = sizing_advice(system["type_model"], installed)
        systems.append(system)
    return systems


def run(module, client):
    return dict(changed=False, systems=read_systems(client, module.params["systems"], module.params["resources"]))


def main():
    run_hmc_module(dict(systems=dict(type="list", elements="str", default=[]),
                        resources=dict(type="bool", default=True)),
                   run, names={"systems": "managed system"})


if __name__ == "__main__":
    main()
