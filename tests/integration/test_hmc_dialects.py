"""The HMC modules against every simulator alternative where the real HMC format is unknown (lab/hmcsim dialects
and model variants, see lab/hmcsim/README.md "Dialects"): each is either handled correctly or fails loudly with
the HMC's raw text - never passes silently.

Each test starts its own simulator (port 0, fresh state) with the dialect or variant it is about. The
profile_sync=writeback alternative belongs to hmc_lpar_procs and is covered by test_layout_sizing.py.

Run: .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/integration/test_hmc_dialects.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _hmc_helpers.py beside this file
import _hmc_helpers as hmc  # noqa: E402

hmcsim_testing = pytest.importorskip("hmcsim.testing")
hmc_lpar_info, hmc_lpar_state, hmc_memopt, hmc_memopt_info, hmc_power_mode = (
    hmc.collection_module("modules", name) for name in ("hmc_lpar_info", "hmc_lpar_state", "hmc_memopt",
                                                        "hmc_memopt_info", "hmc_power_mode"))
run, mutations = hmc.run, hmc.mutations
VARIANTS = hmc.REPO / "lab" / "hmc" / "variants"
SYSTEM = "p10-s1024-lab"
DPO = dict(system=SYSTEM, lpars=["ai-lpar01"], protect=["db-lpar01"], poll_interval=1)


def simulator(tmp_path, **options):
    options.setdefault("time_scale", 0.1)
    return hmcsim_testing.running_simulator(tmp_path, **options)


def status_reads(entries):
    return [entry for entry in entries if entry["argv"] == ["lsmemopt", "-m", SYSTEM]]


def after_start(entries):
    starts = [index for index, entry in enumerate(entries) if (entry["argv"] or [""])[0] == "optmem"]
    assert len(starts) == 1, "exactly one optmem -o start"
    return entries[starts[0] + 1:]


# -- DPO status listing ----------------------------------------------------------------------------------------
def test_alternate_dpo_status_names_fail_loudly_and_start_nothing(tmp_path):
    with simulator(tmp_path, dialect={"dpo_status_names": "alternate"}) as sim:
        info, _entries = run(hmc_memopt_info, sim, system=SYSTEM, predict=False)
        assert info["failed"] and "did not report in_progress, status, opt_id" in info["msg"]
        assert "operation_id=" in info["hmc_output"], "the raw listing is in the failure"

        started, entries = run(hmc_memopt, sim, **DPO)
        assert started["failed"] and not started["changed"]
        assert "nothing is assumed" in started["msg"] and "operation_id=" in started["hmc_output"]
        assert mutations(entries) == [], "no DPO is started on a status the module cannot read"


def test_stale_status_after_the_start_is_not_taken_for_the_new_run(tmp_path):
    with simulator(tmp_path, dpo_seconds=1.5, dialect={"dpo_stale_polls": 2}) as sim:
        before, _entries = run(hmc_memopt_info, sim, system=SYSTEM, predict=False)
        done, entries = run(hmc_memopt, sim, timeout=60, **DPO)
    assert not done["failed"] and done["changed"] and done["dpo_started"]
    assert done["dpo"]["opt_id"] != before["dpo"]["opt_id"], "the result describes the new run, not the previous one"
    assert done["dpo"]["status"] == "Finished" and "assumed_finished" not in done["dpo"]
    # two stale listings, then the new run (in progress at least once, then finished)
    assert len(status_reads(after_start(entries))) >= 3
    ai = [lpar for lpar in done["lpars"] if lpar["name"] == "ai-lpar01"][0]
    assert ai["after"] > ai["before"], "after-scores are read once the new run has finished"


def test_status_that_never_shows_the_new_run_fails_at_the_timeout(tmp_path):
    with simulator(tmp_path, dpo_seconds=30, dialect={"dpo_stale_polls": 1000}) as sim:
        timed_out, entries = run(hmc_memopt, sim, timeout=3, **DPO)
    assert timed_out["failed"] and timed_out["changed"] and timed_out["dpo_started"]
    assert "was never seen in the status listing within 3s" in timed_out["msg"]
    assert "The DPO may still be running on the HMC" in timed_out["msg"]
    assert timed_out["system"]["after"] is None and not timed_out["restart_recommended"]
    assert len(mutations(entries)) == 1


# -- power mode ------------------------------------------------------------------------------------------------
def test_power_mode_as_display_text_is_read_and_a_second_run_changes_nothing(tmp_path):
    with simulator(tmp_path, dialect={"power_mode_format": "display_text"}) as sim:
        same, entries = run(hmc_power_mode, sim, system=SYSTEM, mode="maximum_performance")
        assert not same["failed"] and not same["changed"] and mutations(entries) == []
        assert same["shown_mode"] == "Maximum Performance"
        changed, entries = run(hmc_power_mode, sim, system=SYSTEM, mode="nominal")
        assert changed["changed"] and mutations(entries) == [
            ["chpwrmgmt", "-m", SYSTEM, "-r", "sys", "-o", "enable", "-t", "static"]]
        again, entries = run(hmc_power_mode, sim, system=SYSTEM, mode="nominal")
        assert not again["changed"] and again["shown_mode"] == "Static" and mutations(entries) == []


def test_other_current_mode_attribute_fails_with_the_listing(tmp_path):
    with simulator(tmp_path, dialect={"power_mode_attribute": "curr_power_mode"}) as sim:
        result, entries = run(hmc_power_mode, sim, system=SYSTEM, mode="nominal")
    assert result["failed"] and "did not report curr_power_saver_mode" in result["msg"]
    assert "curr_power_mode=max_perf" in result["hmc_output"]
    assert mutations(entries) == []


def test_power10_refuses_dynamic_performance_before_any_change(tmp_path):
    with simulator(tmp_path) as sim:
        result, entries = run(hmc_power_mode, sim, system=SYSTEM, mode="dynamic_performance")
    assert result["failed"] and "Power10 system, which has no dynamic_performance mode" in result["msg"]
    assert mutations(entries) == []


@pytest.mark.parametrize("power_mode_format, nominal_shown", [("token", "none"), ("display_text", "Nominal")])
def test_power9_nominal_is_chpwrmgmt_disable_and_idempotent(tmp_path, power_mode_format, nominal_shown):
    with simulator(tmp_path, model=VARIANTS / "power9.yml", dialect={"power_mode_format": power_mode_format}) as sim:
        changed, entries = run(hmc_power_mode, sim, system="p9-s924", mode="nominal")
        assert changed["changed"] and changed["generation"] == "POWER9"
        assert changed["previous_mode"] == "dynamic_performance"
        assert mutations(entries) == [["chpwrmgmt", "-m", "p9-s924", "-r", "sys", "-o", "disable"]]
        again, entries = run(hmc_power_mode, sim, system="p9-s924", mode="nominal")
        assert not again["changed"] and again["shown_mode"] == nominal_shown and mutations(entries) == []


def test_power11_energy_efficient_mode(tmp_path):
    with simulator(tmp_path, model=VARIANTS / "power11.yml", dialect={"power_mode_format": "display_text"}) as sim:
        changed, entries = run(hmc_power_mode, sim, system="p11-s1124", mode="energy_efficient")
        assert changed["changed"] and changed["generation"] == "Power11"
        assert mutations(entries) == [
            ["chpwrmgmt", "-m", "p11-s1124", "-r", "sys", "-o", "enable", "-t", "efficiency_favor_perf"]]
        again, entries = run(hmc_power_mode, sim, system="p11-s1124", mode="energy_efficient")
        assert not again["changed"] and again["shown_mode"] == "Energy Efficient"


# -- errors and partition states ------------------------------------------------------------------------------
def test_wrapped_hscl_error_keeps_every_code_and_exposes_the_meaningful_one(tmp_path):
    with simulator(tmp_path, dialect={"error_wrapping": "hscl127d"}) as sim:
        result, _entries = run(hmc_lpar_state, sim, system=SYSTEM, name="sandbox01", profile="no-such-profile")
    assert result["failed"] and not result["changed"]
    assert result["hmc_error_codes"] == ["HSCL127D", "HSCLZ013"]
    assert result["hmc_error_code"] == "HSCLZ013"
    assert result["hmc_output"].startswith("HSCL127D: HSCLZ013 ")


def test_start_that_ends_in_error_stops_waiting_at_once_with_the_refcode(tmp_path):
    with simulator(tmp_path, model=VARIANTS / "error-states.yml") as sim:
        started = time.monotonic()
        result, entries = run(hmc_lpar_state, sim, system="s1024-errors", name="bootfail01", poll_interval=1,
                              timeout=300)
        elapsed = time.monotonic() - started
    assert result["failed"] and result["changed"] and result["state"] == "Error"
    assert result["refcode"] == "BA218001" and "reference code BA218001" in result["msg"]
    assert elapsed < 60, "the wait ends at the terminal state, not at the 300 s timeout"
    assert entries[-1]["argv"][0] == "lsrefcode"


@pytest.mark.parametrize("name, state, refcode", [("err-lpar01", "Error", "B2001230"),
                                                  ("na-lpar01", "Not Available", "B200F00A")])
def test_partition_in_a_terminal_state_is_not_touched_and_says_why(tmp_path, name, state, refcode):
    with simulator(tmp_path, model=VARIANTS / "error-states.yml") as sim:
        result, entries = run(hmc_lpar_state, sim, system="s1024-errors", name=name)
    assert result["failed"] and not result["changed"] and mutations(entries) == []
    assert result["refcode"] == refcode and f"is '{state}' (reference code {refcode})" in result["msg"]


def test_error_partition_is_shut_down_immediately(tmp_path):
    with simulator(tmp_path, model=VARIANTS / "error-states.yml") as sim:
        params = dict(system="s1024-errors", name="err-lpar01", state="shutdown", poll_interval=1, timeout=60)
        refused, entries = run(hmc_lpar_state, sim, **params)
        assert refused["failed"] and "only shutdown_option=immediate can" in refused["msg"] and not mutations(entries)
        stopped, entries = run(hmc_lpar_state, sim, shutdown_option="immediate", **params)
    assert stopped["changed"] and stopped["state"] == "Not Activated"
    assert [argv[5:] for argv in mutations(entries)] == [["-o", "shutdown", "--immed", "--id", "4"]]


def test_powered_off_system_keeps_its_partitions_in_the_listing(tmp_path):
    with simulator(tmp_path, model=VARIANTS / "powered-off.yml") as sim:
        listed, _entries = run(hmc_lpar_info, sim)
        dpo, entries = run(hmc_memopt_info, sim, system="s1022-off")
    assert not listed["failed"] and listed["unlisted_systems"] == []
    off = [lpar for lpar in listed["lpars"] if lpar["system"] == "s1022-off"]
    on = [lpar for lpar in listed["lpars"] if lpar["system"] == "s1024-on"]
    assert off and all(lpar["system_state"] == "Power Off" and lpar["procs"] is None for lpar in off)
    assert on and all(lpar["procs"] is not None for lpar in on)
    assert dpo["failed"] and "does not support Dynamic Platform Optimization" in dpo["msg"]
    assert "unavailable" in dpo["msg"] and mutations(entries) == []
