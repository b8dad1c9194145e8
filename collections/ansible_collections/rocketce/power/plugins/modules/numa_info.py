#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: numa_info
short_description: Report the NUMA layout and processor mode of a Linux (on Power) LPAR
version_added: 0.1.0
description:
  - Reads C(numactl -H), C(lscpu), the sysfs node files and, on PowerVM, C(/proc/ppc64/lparcfg), and returns
    the node count, the nodes that have CPUs, the CPUs and memory of each node, and whether the LPAR has
    dedicated or shared processors.
  - "Node ids are kept as the kernel reports them; they are often sparse on PowerVM (for example
    a single node with id 7 after Dynamic Platform Optimization)."
  - Falls back to sysfs when C(numactl) is not installed, and to a single node when the kernel has no NUMA.
  - This module changes nothing.
author:
  - rocketce-power engineers (@rocketce-power)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  numactl_path:
    description:
      - Path or name of C(numactl). When it cannot be found, sysfs is used.
    type: str
    default: numactl
  lscpu_path:
    description:
      - Path or name of C(lscpu). When it cannot be found, RV(lscpu) is empty.
    type: str
    default: lscpu
  sysfs_node_path:
    description:
      - The sysfs NUMA node directory (C(online) and C(nodeN/cpulist), C(nodeN/meminfo)).
    type: path
    default: /sys/devices/system/node
  lparcfg_path:
    description:
      - The PowerVM partition configuration file. When it does not exist, RV(lpar.present) is false.
    type: path
    default: /proc/ppc64/lparcfg
  hv_24x7_path:
    description:
      - The kernel's hv_24x7 interface directory (C(sockets), C(chipspersocket), C(coresperchip)). It holds the
        same firmware values as the C(lscpu) lines C(Physical sockets), C(Physical chips) and
        C(Physical cores/chip) and is read for RV(topology) when C(lscpu) does not print them.
    type: path
    default: /sys/devices/hv_24x7/interface
notes:
  - All commands run with C(LC_ALL=C).
seealso:
  - module: rocketce.power.smt
'''

EXAMPLES = r'''
- name: Read the NUMA layout
  rocketce.power.numa_info:
  register: numa

- name: Expect one NUMA node with CPUs and dedicated processors
  ansible.builtin.assert:
    that:
      - numa.cpu_node_count == 1
      - numa.lpar.dedicated
    fail_msg: >-
      {{ numa.cpu_node_count }} NUMA nodes have CPUs ({{ numa.cpu_nodes | join(', ') }}); run
      optmem on the HMC and restart the LPAR
'''

RETURN = r'''
node_count:
  description: Number of NUMA nodes, including memory-only nodes.
  returned: always
  type: int
  sample: 1
node_ids:
  description: The node ids, sorted; not necessarily starting at 0.
  returned: always
  type: list
  elements: int
  sample: [7]
cpu_nodes:
  description: Ids of the nodes that have CPUs.
  returned: always
  type: list
  elements: int
  sample: [7]
cpu_node_count:
  description: Number of nodes that have CPUs (the sizing goal for AI LPARs is 1).
  returned: always
  type: int
  sample: 1
memory_only_nodes:
  description: Ids of nodes without CPUs.
  returned: always
  type: list
  elements: int
  sample: []
cpu_count:
  description: Number of CPUs (hardware threads) across all nodes.
  returned: always
  type: int
  sample: 32
nodes:
  description: One entry per node.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Node id.
      type: int
    cpus:
      description: CPU ids of the node.
      type: list
      elements: int
    cpu_count:
      description: Number of CPUs of the node.
      type: int
    memory_mb:
      description: Memory of the node in MiB (null when unknown).
      type: int
    free_mb:
      description: Free memory of the node in MiB (null when unknown).
      type: int
  sample: [{"id": 7, "cpus": [0, 1, 2, 3], "cpu_count": 4, "memory_mb": 95948, "free_mb": 94391}]
distances:
  description: Node distance matrix from C(numactl -H), keyed by node id strings.
  returned: always
  type: dict
  sample: {"7": {"7": 10}}
source:
  description: Where the node list came from (V(numactl), V(sysfs) or V(lscpu) for a kernel without NUMA).
  returned: always
  type: str
  sample: numactl
lscpu:
  description: Selected C(lscpu) fields (architecture, cpus, model_name, threads_per_core, cores_per_socket,
    sockets, physical_sockets, physical_chips, physical_cores_per_chip, hypervisor_vendor, numa_node_count,
    numa_node_cpus, ...). The physical_* fields describe the machine, not the LPAR.
  returned: always
  type: dict
  sample: {"architecture": "ppc64le", "threads_per_core": 8, "physical_cores_per_chip": 10}
topology:
  description:
    - The physical machine's processor topology, the input of M(rocketce.power.hmc_lpar_procs)
      O(rocketce.power.hmc_lpar_procs#module:lpar_topology) (pass it as is).
    - From C(lscpu) when it prints the firmware lines (PowerVM), else from O(hv_24x7_path); the values are
      null outside PowerVM.
    - C(physical_chips) is chips per socket (a DCM has 2), C(physical_cores_per_chip) the cores of one chip.
    - C(mismatch) holds the hv_24x7 values when both sources were read and differ (C(lscpu) is used).
  returned: always
  type: dict
  sample: {"physical_sockets": 2, "physical_chips": 2, "physical_cores_per_chip": 8, "source": "lscpu",
           "mismatch": null}
lpar:
  description: Values from O(lparcfg_path) plus RV(lpar.present) and RV(lpar.dedicated).
  returned: always
  type: dict
  contains:
    present:
      description: Whether the lparcfg file exists (a PowerVM LPAR).
      type: bool
    dedicated:
      description: True for dedicated processors (C(shared_processor_mode=0)), false for shared, null when unknown.
      type: bool
  sample: {"present": true, "dedicated": true, "shared_processor_mode": 0, "partition_name": "ai-lpar01"}
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.rocketce.power.plugins.module_utils.numa import (
    HV_24X7_FILES,
    NumaParseError,
    machine_topology,
    parse_cpu_list,
    parse_hv_24x7,
    parse_lparcfg,
    parse_lscpu,
    parse_node_meminfo,
    parse_numactl_hardware,
    summarize,
)

C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}


def read_file(path):
    with open(path) as handle:
        return handle.read()


def numactl_nodes(module):
    numactl = module.get_bin_path(module.params['numactl_path'], opt_dirs=['/usr/sbin', '/sbin'])
    if not numactl:
        return None
    rc, out, err = module.run_command([numactl, '-H'], environ_update=C_LOCALE)
    if rc != 0 and 'No NUMA available' not in out + err:
        module.warn('numactl -H failed (rc=%d): %s; using sysfs' % (rc, (err or out).strip()))
        return None
    return parse_numactl_hardware(out + err)


def sysfs_nodes(module):
    base = module.params['sysfs_node_path']
    online = os.path.join(base, 'online')
    if not os.path.exists(online):
        return None
    nodes = {}
    for node_id in parse_cpu_list(read_file(online)):
        node_dir = os.path.join(base, 'node%d' % node_id)
        cpulist = os.path.join(node_dir, 'cpulist')
        meminfo = os.path.join(node_dir, 'meminfo')
        total, free = parse_node_meminfo(read_file(meminfo)) if os.path.exists(meminfo) else (None, None)
        nodes[node_id] = {'id': node_id, 'cpus': parse_cpu_list(read_file(cpulist)) if os.path.exists(cpulist) else [],
                          'memory_mb': total, 'free_mb': free}
    return {'nodes': nodes, 'distances': {}}


def lscpu_facts(module):
    lscpu = module.get_bin_path(module.params['lscpu_path'])
    if not lscpu:
        module.warn('lscpu not found (%s); lscpu facts are empty' % module.params['lscpu_path'])
        return {'numa_node_cpus': {}}
    out = module.run_command([lscpu], environ_update=C_LOCALE, check_rc=True)[1]
    return parse_lscpu(out)


def hv_24x7_facts(module):
    base = module.params['hv_24x7_path']
    files = {}
    for name, _key in HV_24X7_FILES:
        path = os.path.join(base, name)
        if os.path.exists(path):
            files[name] = read_file(path)
    return parse_hv_24x7(files)


def lpar_facts(module):
    path = module.params['lparcfg_path']
    if not os.path.exists(path):
        return {'present': False, 'dedicated': None}
    facts = parse_lparcfg(read_file(path))
    facts['present'] = True
    return facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            numactl_path=dict(type='str', default='numactl'),
            lscpu_path=dict(type='str', default='lscpu'),
            sysfs_node_path=dict(type='path', default='/sys/devices/system/node'),
            lparcfg_path=dict(type='path', default='/proc/ppc64/lparcfg'),
            hv_24x7_path=dict(type='path', default='/sys/devices/hv_24x7/interface'),
        ),
        supports_check_mode=True,
    )
    try:
        lscpu = lscpu_facts(module)
        layout, source = numactl_nodes(module), 'numactl'
        if layout is None:
            layout, source = sysfs_nodes(module), 'sysfs'
        if layout is None:
            if 'online_cpus' not in lscpu:
                module.fail_json(msg='no NUMA information: numactl -H, %s and lscpu all unavailable'
                                     % module.params['sysfs_node_path'])
            # A kernel without NUMA support: every CPU is in one implicit node 0.
            layout, source = {'nodes': {0: {'id': 0, 'cpus': parse_cpu_list(lscpu['online_cpus']),
                                            'memory_mb': None, 'free_mb': None}}, 'distances': {}}, 'lscpu'
        lpar = lpar_facts(module)
        topology = machine_topology(lscpu, hv_24x7_facts(module))
    except (NumaParseError, IOError, OSError) as exc:
        module.fail_json(msg=to_native(exc))

    result = summarize(layout['nodes'], layout.get('distances'))
    lscpu['numa_node_cpus'] = dict((str(k), v) for k, v in lscpu['numa_node_cpus'].items())
    if topology['mismatch']:
        module.warn('lscpu and %s report different topologies (%s vs %s); lscpu is used'
                    % (module.params['hv_24x7_path'], dict((k, topology[k]) for k in topology['mismatch']),
                       topology['mismatch']))
    module.exit_json(changed=False, source=source, lscpu=lscpu, lpar=lpar, topology=topology, **result)


if __name__ == '__main__':
    main()
