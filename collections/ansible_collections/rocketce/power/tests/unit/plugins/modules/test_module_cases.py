# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's YAML cases (test_<module>.yaml beside this file), run by the one case runner."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.rocketce.power.tests.unit.plugins.modules.case_runner import (
    import_module,
    load_cases,
    module_case_files,
    run_case,
)

CASES = [pytest.param(module_name, *param.values, id="%s:%s" % (module_name, param.id))
         for module_name, path in module_case_files(os.path.dirname(os.path.abspath(__file__)))
         for param in load_cases(path)]


@pytest.mark.parametrize("module_name, case", CASES)
def test_module_case(module_name, case, tmp_path, monkeypatch):
    run_case(import_module(module_name), case, tmp_path, monkeypatch)
