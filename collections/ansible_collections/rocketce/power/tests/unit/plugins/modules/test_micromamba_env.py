# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML cases for rocketce.power.smt (test_micromamba_env.yaml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

# The collection is imported as ansible_collections.rocketce.power: put .../collections on sys.path when pytest
# runs outside ansible-test (ansible-test units already does this).
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 7))))

import pytest  # noqa: E402

from ansible_collections.rocketce.power.plugins.modules import micromamba_env  # noqa: E402
from ansible_collections.rocketce.power.tests.unit.plugins.modules.lpar_case_runner import (  # noqa: E402
    assert_case,
    load_cases,
)

CASES = load_cases(os.path.join(os.path.dirname(__file__), 'test_micromamba_env.yaml'))


@pytest.mark.parametrize('case', CASES)
def test_micromamba_env(case, tmp_path, monkeypatch):
    assert_case(micromamba_env.main, case, tmp_path, monkeypatch)
