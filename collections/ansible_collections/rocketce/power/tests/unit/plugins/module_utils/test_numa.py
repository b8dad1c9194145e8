# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser cases for module_utils/numa.py (test_numa.yaml), including the real samples from the facts document."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.rocketce.power.plugins.module_utils import numa

with open(os.path.join(os.path.dirname(__file__), 'test_numa.yaml')) as _handle:
    CASES = [pytest.param(case, id=case['id']) for case in yaml.safe_load(_handle)]

PARSERS = {
    'numactl': numa.parse_numactl_hardware,
    'lscpu': numa.parse_lscpu,
    'lparcfg': numa.parse_lparcfg,
    'cpu_list': numa.parse_cpu_list,
    'meminfo': lambda text: list(numa.parse_node_meminfo(text)),
    'hv_24x7': numa.parse_hv_24x7,
    'topology': lambda given: numa.machine_topology(numa.parse_lscpu(given['lscpu']),
                                                    numa.parse_hv_24x7(given.get('hv_24x7') or {})),
}


@pytest.mark.parametrize('case', CASES)
def test_parser(case):
    parse = PARSERS[case['parser']]
    if 'error' in case:
        with pytest.raises(numa.NumaParseError, match=case['error']):
            parse(case['input'])
        return
    parsed = parse(case['input'])
    if case['parser'] == 'numactl':
        check_numactl(case, parsed)
        return
    if isinstance(case.get('result'), dict):
        for key, value in case['result'].items():
            assert parsed[key] == value, key
    elif 'result' in case:
        assert parsed == case['result']
    for node_id, count in (case.get('node_cpu_counts') or {}).items():
        assert len(parsed['numa_node_cpus'][node_id]) == count


def check_numactl(case, parsed):
    if 'result' in case:
        assert parsed == case['result']
        return
    summary = numa.summarize(parsed['nodes'], parsed['distances'])
    for key, value in case['summary'].items():
        assert summary[key] == value, key
    by_id = dict((node['id'], node) for node in summary['nodes'])
    for node_id, expected in (case.get('node') or {}).items():
        node = by_id[node_id]
        for key, value in expected.items():
            if key == 'first_cpu':
                assert node['cpus'][0] == value
            elif key == 'last_cpu':
                assert node['cpus'][-1] == value
            else:
                assert node[key] == value, key
    if 'header_node_ids' in case:
        assert parsed['header_node_ids'] == case['header_node_ids']
