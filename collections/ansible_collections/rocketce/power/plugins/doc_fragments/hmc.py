# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of every HMC module (module_utils/hmc_client.py hmc_argument_spec()), and what every HMC
    # module shares: its authors, its action group, full check mode, running on the controller.
    DOCUMENTATION = r"""
author:
  - rocketce-power engineers (@rocketce-power)
attributes:
  action_group:
    description: Use C(group/rocketce.power.hmc) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - rocketce.power.hmc
  check_mode:
    support: full
  platform:
    platforms: posix
options:
  hmc_host:
    description:
      - Host name or address of the HMC.
      - Set it once for all HMC modules with C(module_defaults) and the action group
        C(group/rocketce.power.hmc).
    type: str
    required: true
  hmc_user:
    description:
      - HMC user the module logs in as over SSH.
    type: str
    default: hscroot
  hmc_password:
    description:
      - Password of O(hmc_user). Never put on a command line or in a log.
      - If not set, the environment variable E(HMC_PASSWORD) is used; without either, key authentication
        (O(hmc_key_file), or the controller's SSH agent and default keys) is used.
    type: str
  hmc_key_file:
    description:
      - Private key file for key authentication.
    type: path
  hmc_port:
    description:
      - SSH port of the HMC.
    type: int
    default: 22
  hmc_known_hosts:
    description:
      - known_hosts file holding the HMC's host key. Defaults to the controller user's C(~/.ssh/known_hosts).
      - For a port other than 22 the entry is written C([host]:port), as C(ssh-keyscan -p PORT HOST) prints it.
    type: path
  hmc_host_key_checking:
    description:
      - Check the HMC's SSH host key against O(hmc_known_hosts); an unknown or changed key fails the task.
      - Set to V(false) only for throw-away test HMCs.
    type: bool
    default: true
  hmc_connect_timeout:
    description:
      - Seconds to wait for the SSH connection and login.
    type: int
    default: 30
  hmc_command_timeout:
    description:
      - Seconds one HMC command may run before the module gives up on it.
    type: int
    default: 300
notes:
  - The module runs on the controller (C(connection=local)) and opens one SSH connection to the HMC with
    paramiko, reused for every HMC command of the task. Commands are built from validated names, each
    argument shell-quoted, and run with an English locale.
  - Names of managed systems, partitions and profiles must be printable ASCII (spaces, commas and quotes are
    allowed and passed as data). Names are looked up on the HMC before they are used in a command, so a name
    that does not exist fails with the list of names that do.
requirements:
  - paramiko (on the controller)
"""

    # Read-only HMC modules: nothing to diff, RV(changed) is always false.
    INFO_MODULE = r"""
attributes:
  diff_mode:
    support: none
    details: The module only reads from the HMC; it never reports a change.
"""

    # The managed system every HMC module except the *_info listings works on.
    SYSTEM = r"""
options:
  system:
    description:
      - Managed system name, as listed by C(lssyscfg -r sys -F name).
      - The name is looked up on the HMC first; an unknown name fails with the names the HMC manages.
    type: str
    required: true
"""

    # The partition a module changes.
    PARTITION = r"""
options:
  name:
    description:
      - Partition name, as listed by C(lssyscfg -r lpar -m SYSTEM -F name).
      - The name is looked up first; commands name the partition by its id.
    type: str
    required: true
"""

    # Requested and protected partitions of a Dynamic Platform Optimization (hmc_memopt, hmc_memopt_info).
    DPO_TARGETS = r"""
options:
  lpars:
    description:
      - Partitions whose affinity the DPO should improve (requested partitions, C(--id)).
      - When empty, the system score decides and the DPO has no requested partitions.
    type: list
    elements: str
    default: []
  protect:
    description:
      - Partitions the DPO must not touch (C(--xid)), for example the other production partitions.
    type: list
    elements: str
    default: []
"""
