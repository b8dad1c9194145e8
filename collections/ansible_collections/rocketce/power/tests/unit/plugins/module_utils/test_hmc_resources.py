# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizing advice by model (RocketCE guide) and the DPO decision rule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.rocketce.power.plugins.module_utils.hmc_dpo import decide
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import sizing_advice


@pytest.mark.parametrize("type_model, model, cores", [
    ("9043-MRX", "E1050", 12), ("9105-42A", "S1024", 12), ("9786-42H", "L1024", 12),
    ("9105-22A", "S1022", 10), ("9786-22H", "L1022", 10), ("9105-22B", "S1022s", 8),
])
def test_one_chip_per_model(type_model, model, cores):
    advice = sizing_advice(type_model, installed_cores=48.0)
    assert (advice["model"], advice["recommended_dedicated_cores"]) == (model, cores)


@pytest.mark.parametrize("installed, cores", [(48.0, 12), (60.0, 15), (40.0, 10), (240.0, 15), (192.0, 12),
                                              (None, 12), (7.0, 12)])
def test_e1080_scm_size_from_installed_cores(installed, cores):
    advice = sizing_advice("9080-HEX", installed)
    assert advice["model"] == "E1080" and advice["recommended_dedicated_cores"] == cores


def test_unknown_model_has_no_advice():
    advice = sizing_advice("9009-42A")
    assert advice["recommended_dedicated_cores"] is None and "no sizing rule" in advice["basis"]


def lpar(name, current, predicted, requested=True):
    gain = None if current is None or predicted is None else predicted - current
    return {"name": name, "current": current, "predicted": predicted, "gain": gain, "requested": requested}


@pytest.mark.parametrize("lpars, worth", [
    ([lpar("a", 40, 90)], True),                       # poor and a big gain
    ([lpar("a", 40, 44)], False),                      # gain below min_gain 5
    ([lpar("a", 95, 100)], False),                     # already at the target 90
    ([lpar("a", 95, 100), lpar("b", 30, 60)], True),   # one requested LPAR is enough
    ([lpar("a", None, None)], False),                  # no score: nothing to optimize
    ([lpar("a", 40, 90, requested=False)], False),     # not requested
])
def test_decide(lpars, worth):
    system = {"current": 70, "predicted": 90, "gain": 20}
    assert decide(system, lpars, requested=[{"name": "a"}], min_gain=5, target_score=90)[0] is worth


def test_requested_lpar_missing_from_the_score_listing_is_explained():
    worth, reason = decide({"current": 70, "predicted": 90, "gain": 20}, [lpar("other", 40, 90, requested=False)],
                           requested=[{"name": "a"}], min_gain=5, target_score=90)
    assert not worth and reason == "a has no affinity score (no processors or memory assigned)"
