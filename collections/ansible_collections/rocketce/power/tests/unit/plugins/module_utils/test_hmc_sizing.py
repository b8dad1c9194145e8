# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML cases for module_utils/hmc_sizing.py (test_hmc_sizing.yaml): topology facts -> cores per chip or refusal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml
from ansible_collections.rocketce.power.plugins.module_utils import hmc_sizing

with open(os.path.join(os.path.dirname(__file__), 'test_hmc_sizing.yaml')) as _handle:
    CASES = [pytest.param(case, id=case['id']) for case in yaml.safe_load(_handle)]


def subset(actual, expected):
    """dicts: every expected key matches; lists: same length, item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and subset(actual[key], value)
                                                for key, value in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            subset(a, e) for a, e in zip(actual, expected))
    return actual == expected


@pytest.mark.parametrize('case', CASES)
def test_chip_sizing(case):
    given = case['input']
    if 'error' in case:
        with pytest.raises(hmc_sizing.SizingError, match=case['error']):
            hmc_sizing.require_chip_sizing(**given)
        # The non-raising form (hmc_system_info) reports the same reason and no number.
        if given.get('lpar_topology') is None and given.get('cores_per_chip') is None:
            advice = hmc_sizing.chip_sizing(**given)
            assert advice['recommended_dedicated_cores'] is None and advice['basis']
        return
    advice = hmc_sizing.require_chip_sizing(**given)
    assert subset(advice, case['output']), advice


def test_every_model_states_where_its_facts_come_from():
    for type_model, model in hmc_sizing.POWER_MODELS.items():
        assert model.mark and '[V]' in model.mark, type_model
        for module in model.modules:
            assert module.mark.startswith(('[V]', '[I]')), (type_model, module)
