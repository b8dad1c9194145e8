# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DPO decision rule (sizing: test_hmc_sizing.yaml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.rocketce.power.plugins.module_utils.hmc_dpo import decide


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
