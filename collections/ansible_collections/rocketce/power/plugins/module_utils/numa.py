# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for NUMA and LPAR facts: `numactl -H`, `lscpu`, sysfs node files and /proc/ppc64/lparcfg.

Formats: numactl.c hardware(), util-linux lscpu, Documentation/ABI sysfs-devices-system-node, the kernel's
arch/powerpc/platforms/pseries/lparcfg.c and man lparcfg(5). Node ids can be sparse (`available: 1 nodes (7)`),
and PowerVM often has memory-only nodes, so nodes are always keyed by their real id and the header count is
never trusted on its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NUMACTL_AVAILABLE_RE = re.compile(r'^available:\s*(\d+)\s+nodes?\s*\(([^)]*)\)')
NUMACTL_CPUS_RE = re.compile(r'^node\s+(\d+)\s+cpus:(.*)$')
NUMACTL_SIZE_RE = re.compile(r'^node\s+(\d+)\s+(size|free):\s*(\d+)\s*MB')
NUMACTL_NO_NUMA = 'No NUMA available on this system'
LSCPU_NODE_CPUS_RE = re.compile(r'^NUMA node(\d+) CPU\(s\):$')
MEMINFO_TOTAL_RE = re.compile(r'MemTotal:\s*(\d+)\s*kB')
MEMINFO_FREE_RE = re.compile(r'MemFree:\s*(\d+)\s*kB')

LSCPU_FIELDS = {
    'Architecture': ('architecture', str),
    'CPU(s)': ('cpus', int),
    'On-line CPU(s) list': ('online_cpus', str),
    'Off-line CPU(s) list': ('offline_cpus', str),
    'Model name': ('model_name', str),
    'Model': ('model', str),
    'Thread(s) per core': ('threads_per_core', int),
    'Core(s) per socket': ('cores_per_socket', int),
    'Socket(s)': ('sockets', int),
    'Physical sockets': ('physical_sockets', int),
    'Physical chips': ('physical_chips', int),
    'Physical cores/chip': ('physical_cores_per_chip', int),
    'Hypervisor vendor': ('hypervisor_vendor', str),
    'Virtualization type': ('virtualization_type', str),
    'NUMA node(s)': ('numa_node_count', int),
}
LPARCFG_INT_KEYS = ('partition_id', 'shared_processor_mode', 'capped', 'partition_active_processors',
                    'partition_potential_processors', 'partition_affinity_score', 'system_active_processors')


class NumaParseError(ValueError):
    """Input that does not have the documented format."""


def parse_cpu_list(text):
    """Parse a CPU or node list: ``0-3,8``, ``0 1 2 3`` (numactl) or ``0-31 (32)`` (numactl --cpu-compress)."""
    text = re.sub(r'\(\d+\)', ' ', (text or '').strip())
    cpus = []
    for token in re.split(r'[\s,]+', text):
        if not token:
            continue
        match = re.match(r'^(\d+)(?:-(\d+))?$', token)
        if not match:
            raise NumaParseError('not a CPU list: %r' % text)
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise NumaParseError('descending range in CPU list: %r' % token)
        cpus.extend(range(first, last + 1))
    return sorted(set(cpus))


def _node(nodes, node_id):
    return nodes.setdefault(node_id, {'id': node_id, 'cpus': [], 'memory_mb': None, 'free_mb': None})


def parse_numactl_hardware(text):
    """Parse `numactl -H`. Returns None when the system has no NUMA ("No NUMA available on this system").

    Result: ``{'nodes': {id: {'id', 'cpus', 'memory_mb', 'free_mb'}}, 'distances': {id: {id: int}},
    'header_node_ids': [ids from the "available:" line]}``.
    """
    lines = [line.rstrip() for line in (text or '').splitlines()]
    if any(line.strip() == NUMACTL_NO_NUMA for line in lines):
        return None
    nodes = {}
    header_ids = None
    distance_columns = None
    distances = {}
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        match = NUMACTL_AVAILABLE_RE.match(line)
        if match:
            header_ids = parse_cpu_list(match.group(2))
            continue
        match = NUMACTL_CPUS_RE.match(line)
        if match:
            _node(nodes, int(match.group(1)))['cpus'] = parse_cpu_list(match.group(2))
            continue
        match = NUMACTL_SIZE_RE.match(line)
        if match:
            key = 'memory_mb' if match.group(2) == 'size' else 'free_mb'
            _node(nodes, int(match.group(1)))[key] = int(match.group(3))
            continue
        if line == 'node distances:' or line.startswith('No distance information'):
            continue
        if re.match(r'^node(\s+\d+)+$', line):
            distance_columns = [int(value) for value in line.split()[1:]]
            continue
        match = re.match(r'^(\d+):((?:\s+\d+)+)$', line)
        if match and distance_columns is not None:
            row = [int(value) for value in match.group(2).split()]
            if len(row) != len(distance_columns):
                raise NumaParseError('distance row %r has %d values for %d nodes'
                                     % (line, len(row), len(distance_columns)))
            distances[int(match.group(1))] = dict(zip(distance_columns, row))
            continue
        raise NumaParseError('unexpected numactl -H line: %r' % line)
    if not nodes:
        raise NumaParseError('numactl -H listed no nodes')
    return {'nodes': nodes, 'distances': distances, 'header_node_ids': header_ids}


def parse_lscpu(text):
    """Parse `lscpu` (flat or TTY-indented format). Returns the known fields plus ``numa_node_cpus``."""
    facts = {'numa_node_cpus': {}}
    for raw in (text or '').splitlines():
        if ':' not in raw:
            continue
        key, value = raw.strip().split(':', 1)
        key, value = key.strip(), value.strip()
        match = LSCPU_NODE_CPUS_RE.match(key + ':')
        if match:
            facts['numa_node_cpus'][int(match.group(1))] = parse_cpu_list(value)
            continue
        if key in LSCPU_FIELDS and value:
            name, kind = LSCPU_FIELDS[key]
            try:
                facts[name] = kind(value)
            except ValueError as exc:
                raise NumaParseError('lscpu %s is not a number: %r' % (key, value)) from exc
    return facts


def parse_lparcfg(text):
    """Parse /proc/ppc64/lparcfg (``lparcfg 1.9`` then key=value lines); adds ``dedicated`` (bool or None)."""
    values = {}
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line or '=' not in line:
            if line.startswith('lparcfg'):
                values['version'] = line.split(None, 1)[1] if ' ' in line else ''
            continue
        key, value = line.split('=', 1)
        values[key.strip()] = value.strip()
    for key in LPARCFG_INT_KEYS:
        if key in values:
            try:
                values[key] = int(values[key])
            except ValueError as exc:
                raise NumaParseError('lparcfg %s is not a number: %r' % (key, values[key])) from exc
    mode = values.get('shared_processor_mode')
    values['dedicated'] = None if mode is None else mode == 0
    return values


def parse_node_meminfo(text):
    """Parse /sys/devices/system/node/nodeN/meminfo; returns (total_mb, free_mb), None for a missing field."""
    total = MEMINFO_TOTAL_RE.search(text or '')
    free = MEMINFO_FREE_RE.search(text or '')
    return (int(total.group(1)) // 1024 if total else None, int(free.group(1)) // 1024 if free else None)


def summarize(nodes, distances=None):
    """Derive the report the roles assert on from a {id: node} mapping."""
    ordered = [dict(nodes[node_id], cpu_count=len(nodes[node_id]['cpus'])) for node_id in sorted(nodes)]
    cpu_nodes = [node['id'] for node in ordered if node['cpus']]
    return {
        'node_count': len(ordered),
        'node_ids': [node['id'] for node in ordered],
        'cpu_nodes': cpu_nodes,
        'cpu_node_count': len(cpu_nodes),
        'memory_only_nodes': [node['id'] for node in ordered if not node['cpus']],
        'cpu_count': sum(node['cpu_count'] for node in ordered),
        'nodes': ordered,
        'distances': dict((str(k), dict((str(c), d) for c, d in row.items())) for k, row in (distances or {}).items()),
    }


# /sys/devices/hv_24x7/interface/<file> -> the lscpu fact with the same firmware value (RTAS parameter 43).
HV_24X7_FILES = (('sockets', 'physical_sockets'), ('chipspersocket', 'physical_chips'),
                 ('coresperchip', 'physical_cores_per_chip'))
TOPOLOGY_KEYS = tuple(key for _name, key in HV_24X7_FILES)


def parse_hv_24x7(files):
    """Parse the hv_24x7 interface files (``{file name: text}``, missing files left out) into lscpu's keys."""
    facts = {}
    for name, key in HV_24X7_FILES:
        if name not in files:
            continue
        text = (files[name] or '').strip()
        if not text.isdigit():
            raise NumaParseError('hv_24x7 %s is not a number: %r' % (name, files[name]))
        facts[key] = int(text)
    return facts


def machine_topology(lscpu, hv_24x7=None):
    """Physical sockets, chips per socket and cores per chip of the machine, from lscpu or else hv_24x7.

    Returns the three keys (None when unknown) plus ``source`` (``lscpu``, ``hv_24x7`` or None) and
    ``mismatch`` (the hv_24x7 values when both sources are read and differ).
    """
    hv_24x7 = hv_24x7 or {}
    from_lscpu = dict((key, lscpu.get(key)) for key in TOPOLOGY_KEYS if lscpu.get(key) is not None)
    if 'physical_cores_per_chip' in from_lscpu:
        chosen, source = from_lscpu, 'lscpu'
    elif 'physical_cores_per_chip' in hv_24x7:
        chosen, source = hv_24x7, 'hv_24x7'
    else:
        chosen, source = {}, None
    topology = dict((key, chosen.get(key)) for key in TOPOLOGY_KEYS)
    topology['source'] = source
    differs = source == 'lscpu' and any(key in hv_24x7 and hv_24x7[key] != from_lscpu.get(key)
                                        for key in TOPOLOGY_KEYS)
    topology['mismatch'] = dict(hv_24x7) if differs else None
    return topology
