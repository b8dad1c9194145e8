# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every HMC module end to end over real SSH against the lab HMC simulator (lab/hmcsim), checked in its audit log.

The YAML cases pin the exact commands; these tests show the same modules work against an HMC that keeps state:
changes take effect, a second run changes nothing, check mode sends nothing mutating, and each module run uses
exactly one SSH connection (each run starts with one ``lssyscfg -r sys``, so a connection must hold exactly one).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _hmc_helpers.py beside this file
import _hmc_helpers as hmc  # noqa: E402

hmcsim_testing = pytest.importorskip("hmcsim.testing")
hmc_lpar_info, hmc_lpar_procs, hmc_lpar_state, hmc_memopt, hmc_memopt_info, hmc_power_mode, hmc_system_info = (
    hmc.collection_module("modules", name) for name in (
        "hmc_lpar_info", "hmc_lpar_procs", "hmc_lpar_state", "hmc_memopt", "hmc_memopt_info", "hmc_power_mode",
        "hmc_system_info"))
run, mutations = hmc.run, hmc.mutations
SYSTEM = "p10-s1024-lab"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with hmcsim_testing.running_simulator(tmp_path_factory.mktemp("hmcsim"), time_scale=0.1,
                                          dpo_seconds=1.5) as simulator:
        yield simulator


def test_system_info_sizes_both_lab_systems(sim):
    result, _entries = run(hmc_system_info, sim)
    sizing = dict((system["name"], system["sizing"]["recommended_dedicated_cores"]) for system in result["systems"])
    assert sizing == {"p10-s1024-lab": 12, "e1080-lab": 12}
    s1024 = result["systems"][0]
    assert s1024["processors"]["installed"] == 48.0 and s1024["power_mode"]["current"] == "maximum_performance"


def test_memopt_check_then_optimize_then_nothing_to_do(sim):
    before, _entries = run(hmc_memopt_info, sim, system=SYSTEM, lpars=["ai-lpar01"], protect=["db-lpar01"])
    ai_before = [lpar for lpar in before["lpars"] if lpar["name"] == "ai-lpar01"][0]
    assert ai_before["predicted"] > ai_before["current"]

    params = dict(system=SYSTEM, lpars=["ai-lpar01"], protect=["db-lpar01"], poll_interval=1, timeout=60)
    predicted, entries = run(hmc_memopt, sim, check=True, **params)
    assert predicted["changed"] and predicted["dpo_started"] and mutations(entries) == []

    done, entries = run(hmc_memopt, sim, **params)
    assert done["changed"] and done["dpo"]["status"] == "Finished"
    assert [argv[:6] for argv in mutations(entries)] == [["optmem", "-m", SYSTEM, "-o", "start", "-t"]]
    assert sum(1 for e in entries if e["argv"] == ["lsmemopt", "-m", SYSTEM]) >= 2, "polled on the same connection"
    ai = [lpar for lpar in done["lpars"] if lpar["name"] == "ai-lpar01"][0]
    assert ai["before"] == ai_before["current"] and ai["after"] > ai["before"]

    again, entries = run(hmc_memopt, sim, **params)
    assert not again["changed"] and mutations(entries) == []


def test_lpar_procs_profile_change_is_pending_until_restart(sim):
    params = dict(system=SYSTEM, name="ai-lpar01", size_from_model=True)
    result, entries = run(hmc_lpar_procs, sim, **params)
    assert result["changed"] and result["pending_activation"]
    assert result["after"] == {"proc_mode": "ded", "min_procs": 1, "desired_procs": 12, "max_procs": 12,
                               "sharing_mode": "keep_idle_procs"}
    assert len(mutations(entries)) == 1

    restarted, entries = run(hmc_lpar_state, sim, system=SYSTEM, name="ai-lpar01", state="restarted",
                             profile=result["profile"], poll_interval=1, timeout=60)
    assert restarted["state"] == "Running" and [argv[5:7] for argv in mutations(entries)] == [
        ["-o", "osshutdown"], ["-o", "on"]]

    info, _entries = run(hmc_lpar_info, sim, system=SYSTEM, names=["ai-lpar01"])
    assert info["lpars"][0]["proc_mode"] == "ded" and info["lpars"][0]["procs"] == 12
    again, entries = run(hmc_lpar_procs, sim, **params)
    assert not again["changed"] and not again["pending_activation"] and mutations(entries) == []


def test_lpar_state_start_and_shutdown_are_idempotent(sim):
    params = dict(system=SYSTEM, name="sandbox01", poll_interval=1, timeout=60)
    started, entries = run(hmc_lpar_state, sim, state="running", **params)
    assert started["changed"] and started["state"] == "Running" and len(mutations(entries)) == 1
    again, entries = run(hmc_lpar_state, sim, state="running", **params)
    assert not again["changed"] and mutations(entries) == []
    stopped, entries = run(hmc_lpar_state, sim, state="shutdown", shutdown_option="immediate", **params)
    assert stopped["changed"] and stopped["state"] == "Not Activated"
    again, entries = run(hmc_lpar_state, sim, state="shutdown", **params)
    assert not again["changed"] and mutations(entries) == []


def test_power_mode_round_trip(sim):
    checked, entries = run(hmc_power_mode, sim, check=True, system=SYSTEM, mode="nominal")
    assert checked["changed"] and mutations(entries) == []
    changed, entries = run(hmc_power_mode, sim, system=SYSTEM, mode="nominal")
    assert changed["changed"] and changed["previous_mode"] == "maximum_performance"
    assert mutations(entries) == [["chpwrmgmt", "-m", SYSTEM, "-r", "sys", "-o", "enable", "-t", "static"]]
    back, _entries = run(hmc_power_mode, sim, system=SYSTEM, mode="maximum_performance")
    assert back["changed"] and back["previous_mode"] == "nominal"
    same, entries = run(hmc_power_mode, sim, system=SYSTEM, mode="maximum_performance")
    assert not same["changed"] and mutations(entries) == []


def test_unknown_names_fail_before_any_command_names_them(sim):
    result, entries = run(hmc_lpar_state, sim, system=SYSTEM, name="ai-lpar01; chsysstate -o off")
    assert result["failed"] and "not found on managed system p10-s1024-lab" in result["msg"]
    assert mutations(entries) == []
    assert all("chsysstate -o off" not in entry["command"] for entry in entries)


def test_memopt_timeout_then_rerun_resumes_waiting(tmp_path):
    with hmcsim_testing.running_simulator(tmp_path, dpo_seconds=4) as fresh:
        params = dict(system=SYSTEM, lpars=["ai-lpar01"], poll_interval=1)
        timed_out, entries = run(hmc_memopt, fresh, timeout=1, **params)
        assert timed_out["failed"] and timed_out["changed"] and timed_out["dpo_started"]
        assert "The DPO may still be running on the HMC; rerun the task to resume waiting" in timed_out["msg"]
        assert len(mutations(entries)) == 1

        resumed, entries = run(hmc_memopt, fresh, timeout=60, **params)
        assert resumed["waited_for_running"] == timed_out["dpo"]["opt_id"]
        assert resumed["dpo"]["status"] == "Finished" and not resumed["changed"]
        assert mutations(entries) == [], "a rerun never starts a second DPO"
