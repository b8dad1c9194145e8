# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HMC error family: one base class, every HSCL code kept, the meaningful one exposed, raw text in failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.rocketce.power.plugins.module_utils import hmc_client, hmc_names, hmc_output
from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import (
    HmcCommandError,
    HmcError,
    HmcOutputError,
    HmcPartialResultError,
    hmc_failure,
)

# Real HMC texts (hmc-mcp live captures, HMC V10R3) and one without a code (F5: a bare sentence).
WRAPPED = "HSCL127D: HSCL1288 logical port 27004002 is already assigned to the partition."


@pytest.mark.parametrize("text, codes, code", [
    (WRAPPED, ["HSCL127D", "HSCL1288"], "HSCL1288"),
    ("HSCL127D: HSCL1295 capacity 0.5 is outside the valid range 1.0 to 100.0.", ["HSCL127D", "HSCL1295"],
     "HSCL1295"),
    ("HSCL8012 The partition named x was not found.", ["HSCL8012"], "HSCL8012"),
    ("HSCLA9F1: HSCL8018 The managed system was not found. HSCL8018 again", ["HSCLA9F1", "HSCL8018"], "HSCL8018"),
    ("An invalid attribute was entered.  The invalid attribute is bogus.", [], None),
])
def test_every_code_is_kept_and_the_wrapped_one_is_meaningful(text, codes, code):
    error = HmcCommandError(text + "\n", ["chhwres", "-r", "sriov"], 1)
    assert error.codes == codes
    assert error.code == code
    assert error.text == text
    failure = hmc_failure(error)
    assert failure["hmc_error_codes"] == codes and failure["hmc_error_code"] == code
    assert failure["hmc_output"] == text and failure["hmc_command"] == "chhwres -r sriov"


def test_name_output_and_client_errors_are_one_family():
    with pytest.raises(HmcError):
        hmc_names.validate_name("bad\nname", "partition")
    with pytest.raises(HmcError):
        hmc_output.parse_listing("not a listing")
    assert issubclass(hmc_client.HmcConnectionError, HmcError)
    assert hmc_client.HmcCommandError is HmcCommandError


def test_output_error_keeps_the_raw_text():
    with pytest.raises(HmcOutputError) as error:
        hmc_output.parse_listing("in_progress=1,garbage")
    assert hmc_failure(error.value)["hmc_output"] == "in_progress=1,garbage"


def test_failure_caused_by_a_command_keeps_its_codes_and_partial_result():
    def start_dpo():
        try:
            raise HmcCommandError(WRAPPED, ["optmem", "-m", "sys"], 1)
        except HmcCommandError as exc:
            raise HmcPartialResultError("the DPO may still be running", {"changed": True, "dpo_started": True}) from exc

    with pytest.raises(HmcPartialResultError) as error:
        start_dpo()
    failure = hmc_failure(error.value)
    assert failure["msg"] == "the DPO may still be running"
    assert failure["changed"] is True and failure["hmc_error_code"] == "HSCL1288"
    assert failure["hmc_error_codes"] == ["HSCL127D", "HSCL1288"]
