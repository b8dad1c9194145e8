#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hmc_memopt
short_description: Run (or stop) a Dynamic Platform Optimization when it improves affinity enough
version_added: 0.1.0
description:
  - With O(state=optimized), reads the affinity scores of the O(lpars) (or of the system when O(lpars) is
    empty) and the scores a Dynamic Platform Optimization (DPO) that prioritises them is predicted to reach,
    and starts the DPO (C(optmem -o start -t affinity)) only when one of them scores below O(target_score) and
    is predicted to gain at least O(min_gain). With O(wait) it then polls C(lsmemopt) on the same SSH
    connection until the DPO ends and returns the scores before, predicted and after.
  - The status listing is read strictly - one that lacks C(in_progress), C(status) or C(opt_id) fails the task
    with the HMC's text - and a DPO this task started counts as finished only after the listing showed the new run
    (see O(start_grace_period)), never because a listing right after the start still shows the previous one.
  - A DPO that is already running on the system is never started a second time. With O(wait) the module waits
    for it first - this is how a rerun resumes waiting after a timeout or a dropped connection - and then
    decides again; without O(wait) it reports it and changes nothing.
  - With O(state=stopped), stops a running DPO (C(optmem -o stop)).
  - While a DPO runs, the HMC blocks partition mobility and memory DLPAR on the system, and the moved
    partitions can lose up to 20% performance; protect partitions with O(protect).
  - A partition usually needs a restart to use its new placement (see RV(restart_recommended)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - rocketce.power.hmc
  - rocketce.power.hmc.system
  - rocketce.power.hmc.dpo_targets
attributes:
  check_mode:
    details: Predicts the scores and whether a DPO would start, without starting (or stopping) one.
  diff_mode:
    support: full
    details: Scores before and predicted (check mode) or reached (after the DPO).
options:
  state:
    description:
      - V(optimized) starts a DPO when it is worth it; V(stopped) stops a running DPO.
    type: str
    choices: [optimized, stopped]
    default: optimized
  min_gain:
    description:
      - Do not start a DPO unless a requested partition (or the system) is predicted to gain at least this many
        points.
    type: int
    default: 5
  target_score:
    description:
      - Do not start a DPO for a partition (or system) that already scores this much or more.
    type: int
    default: 100
  wait:
    description:
      - Wait until the DPO (started now, or found running) ends.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for a DPO. On timeout the task fails and says that the DPO may still be running; rerun the
        task to resume waiting. DPOs of large systems take hours.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two C(lsmemopt) status reads while waiting.
    type: int
    default: 30
  start_grace_period:
    description:
      - The C(lsmemopt -m SYS) status reports only the most recent optimization, so right after C(optmem -o start)
        it may still show the previous, finished run. The module takes the DPO it started as finished only once
        the listing showed the new run (another C(opt_id) or C(status), or C(in_progress=1)).
      - With a value above 0, a listing that still shows the previous run this many seconds after the start is
        taken to mean the new DPO has already finished (RV(dpo.assumed_finished) is then true). Use it only for
        an HMC known to keep the same C(opt_id) and status words for a new run.
      - V(0) (the default) never assumes so; the task waits for the new run and fails at O(timeout) saying it was
        never seen.
    type: int
    default: 0
seealso:
  - module: rocketce.power.hmc_memopt_info
  - module: rocketce.power.hmc_lpar_state
"""

EXAMPLES = r"""
- name: Optimize the AI LPAR's affinity, protecting the database
  rocketce.power.hmc_memopt:
    hmc_host: hmc1.example.com
    hmc_key_file: ~/.ssh/hmc_ed25519
    system: p10-s1024-prod
    lpars: [ai-lpar01]
    protect: [db-lpar01]
    min_gain: 5
    target_score: 90
    timeout: 14400
  register: dpo

- name: Report
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.before }} -> {{ item.after }} (predicted {{ item.predicted }})"
  loop: "{{ dpo.lpars | selectattr('requested') }}"
  loop_control:
    label: "{{ item.name }}"

- name: Stop a running DPO
  rocketce.power.hmc_memopt:
    system: p10-s1024-prod
    state: stopped
"""

RETURN = r"""
dpo_started:
  description: Whether this run started a DPO (or, in check mode, would have).
  returned: always
  type: bool
dpo_stopped:
  description: Whether this run stopped a DPO (O(state=stopped)).
  returned: always
  type: bool
waited_for_running:
  description: Id of a DPO that was already running and that this run waited for (null if none).
  returned: always
  type: int
reason:
  description: Why a DPO was or was not started.
  returned: always
  type: str
  sample: "ai-lpar01 would go from 32 to 95"
system:
  description: System scores before, predicted and after (after is null unless a DPO ran and was waited for).
  returned: always
  type: dict
  sample: {name: p10-s1024-lab, before: 70, predicted: 88, after: 87}
lpars:
  description: Every partition of the system with scores before, predicted and after.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Partition name.
      type: str
    id:
      description: Partition id.
      type: int
    before:
      description: Score before (null without resources).
      type: int
    predicted:
      description: Predicted score.
      type: int
    after:
      description: Score after the DPO (null unless waited for).
      type: int
    requested:
      description: Whether the partition is in O(lpars).
      type: bool
    protected:
      description: Whether the partition is in O(protect).
      type: bool
dpo:
  description: The DPO status at the end of the run (see M(rocketce.power.hmc_memopt_info)), with C(duration).
  returned: always
  type: dict
  contains:
    opt_id:
      description: Id of the optimization.
      type: int
    status:
      description: Status words as printed by the HMC.
      type: str
    in_progress:
      description: Whether it is still running (O(wait=false)).
      type: bool
    progress:
      description: Percent done.
      type: int
    duration:
      description: Seconds from start to end as observed by this run (null when not started and waited for here).
      type: float
    assumed_finished:
      description: The new run was never seen and was taken as finished after O(start_grace_period) (only then
        present).
      type: bool
restart_recommended:
  description: A DPO ran to completion; restart the requested partitions so their operating systems use the new
    placement (DPO-aware systems adapt without restart, but a restart gives the full benefit).
  returned: always
  type: bool
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_dpo import (
    DPO_TARGET_NAMES,
    DpoWaitTimeout,
    decide,
    describe,
    dpo_target_options,
    read_dpo_status,
    require_dpo_capable,
    resolve_targets,
    score_report,
    unsuccessful,
    wait_for_dpo,
    wait_for_new_dpo,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import (
    HmcCommandError,
    HmcConnectionError,
    HmcError,
    HmcPartialResultError,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import require_range, run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
    affinity_scores,
    find_system,
    start_dpo,
    stop_dpo,
)


class DpoFailure(HmcPartialResultError):
    """A failure after which the DPO may still be running; ``result`` is what is known so far."""


class MemoptRun:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.system = module.params["system"]
        self.result = dict(changed=False, dpo_started=False, dpo_stopped=False, waited_for_running=None, reason="",
                           system={"name": self.system, "before": None, "predicted": None, "after": None},
                           lpars=[], dpo={}, restart_recommended=False)

    # -- shared -------------------------------------------------------------------------------------------
    def wait(self, what, status=None, started_from=None):
        """Wait for the running DPO - or, with ``started_from`` (the status read before this task started one), for
        the new run; failures say that it may still be running and how to resume."""
        params = self.params
        try:
            if started_from is None:
                return wait_for_dpo(self.client, self.system, params["timeout"], params["poll_interval"], status)
            previous, started_at = started_from
            return wait_for_new_dpo(self.client, self.system, previous, started_at=started_at,
                                    timeout=params["timeout"], poll_interval=params["poll_interval"],
                                    grace_period=params["start_grace_period"])
        except DpoWaitTimeout as exc:
            self.result["dpo"] = exc.status
            raise DpoFailure("timed out waiting for %s: %s. The DPO may still be running on the HMC; rerun the task to "
                             "resume waiting (it will not start a second DPO), or stop it with state=stopped"
                             % (what, exc), self.result) from exc
        except HmcError as exc:
            raise DpoFailure("lost track of %s on %s while waiting: %s. The DPO may still be running on the HMC; rerun "
                             "the task to resume waiting (it will not start a second DPO)" % (what, self.system, exc),
                             self.result) from exc

    def fail_if_unsuccessful(self, status, what):
        if unsuccessful(status):
            self.result["dpo"] = status
            raise DpoFailure("%s ended with status %r on %s (%s%% done)"
                             % (what, status.get("status"), self.system, status.get("progress")), self.result)

    # -- state=stopped --------------------------------------------------------------------------------------
    def stop(self):
        status = read_dpo_status(self.client, self.system)
        self.result["dpo"] = status
        if not status["in_progress"]:
            self.result["reason"] = "no DPO is running on %s (%s)" % (self.system, describe(status))
            return
        self.result.update(changed=True, dpo_stopped=True, reason="%s is running; stopping it" % describe(status))
        if self.module._diff:
            self.result["diff"] = {"before": {"dpo": "running (opt_id %s)" % status["opt_id"]},
                                   "after": {"dpo": "stopped"}}
        if self.module.check_mode:
            return
        stop_dpo(self.client, self.system)
        if self.params["wait"]:
            self.result["dpo"] = self.wait("the DPO being stopped (opt_id %s)" % status["opt_id"])
        else:
            self.result["dpo"] = read_dpo_status(self.client, self.system)

    # -- state=optimized ------------------------------------------------------------------------------------
    def optimize(self):
        requested, protected = resolve_targets(self.client, self.system, self.params["lpars"], self.params["protect"])
        status = read_dpo_status(self.client, self.system)
        self.result["dpo"] = status
        if status["in_progress"]:
            if self.module.check_mode or not self.params["wait"]:
                self.result["reason"] = ("%s is already running on %s; not starting another%s"
                                         % (describe(status), self.system,
                                            "" if self.module.check_mode else " (wait=false, not waiting)"))
                self.fill_scores(*score_report(self.client, self.system, requested, protected, predict=False))
                return
            self.result["waited_for_running"] = status["opt_id"]
            status = self.wait("the DPO that was already running (opt_id %s)" % status["opt_id"], status)
            self.result["dpo"] = status
            self.fail_if_unsuccessful(status, "the DPO that was already running (opt_id %s)" % status["opt_id"])

        system_scores, lpars = score_report(self.client, self.system, requested, protected, predict=True)
        self.fill_scores(system_scores, lpars)
        worth, reason = decide(system_scores, lpars, requested, self.params["min_gain"], self.params["target_score"])
        self.result["reason"] = reason
        if not worth:
            return
        self.result.update(changed=True, dpo_started=True)
        self.set_diff("predicted")
        if self.module.check_mode:
            return

        try:
            start_dpo(self.client, self.system, [t["id"] for t in requested], [t["id"] for t in protected])
        except HmcCommandError:
            # The HMC refused to start it (nothing started): report the HMC's message as is.
            self.result.update(changed=False, dpo_started=False)
            raise
        except HmcConnectionError as exc:
            raise DpoFailure("the connection dropped while starting the DPO on %s (%s): the DPO may have started and "
                             "may still be running. Rerun the task: it waits for a running DPO instead of starting "
                             "another" % (self.system, exc), self.result) from exc
        started_at = self.client.clock()
        if not self.params["wait"]:
            self.result["dpo"] = read_dpo_status(self.client, self.system)
            return
        what = "the DPO started by this task"
        # ``status`` is the listing read before the start: until the listing changes, it describes the previous run.
        status = self.wait(what, started_from=(status, started_at))
        status["duration"] = round(self.client.clock() - started_at, 1)
        self.result["dpo"] = status
        self.fail_if_unsuccessful(status, what)
        after_system, after_lpars = affinity_scores(self.client, self.system, predict=False)
        self.result["system"]["after"] = after_system["current"]
        after_by_id = dict((lpar["id"], lpar["current"]) for lpar in after_lpars)
        for lpar in self.result["lpars"]:
            lpar["after"] = after_by_id.get(lpar["id"])
        self.result["restart_recommended"] = True
        self.set_diff("after")

    def fill_scores(self, system_scores, lpars):
        self.result["system"].update(before=system_scores["current"], predicted=system_scores["predicted"])
        self.result["lpars"] = [
            {"name": lpar["name"], "id": lpar["id"], "before": lpar["current"], "predicted": lpar["predicted"],
             "after": None, "requested": lpar["requested"], "protected": lpar["protected"]}
            for lpar in lpars]

    def set_diff(self, key):
        if not self.module._diff:
            return
        self.result["diff"] = {
            "before": {"system": self.result["system"]["before"],
                       "lpars": dict((lpar["name"], lpar["before"]) for lpar in self.result["lpars"])},
            "after": {"system": self.result["system"][key],
                      "lpars": dict((lpar["name"], lpar[key]) for lpar in self.result["lpars"])},
        }


def check_ranges(params):
    for option, low, high in (("min_gain", 0, 100), ("target_score", 0, 100), ("timeout", 1, None),
                              ("poll_interval", 1, None), ("start_grace_period", 0, None)):
        require_range(params, option, low, high)


def run(module, client):
    memopt = MemoptRun(module, client)
    require_dpo_capable(find_system(client, memopt.system))
    try:
        if module.params["state"] == "stopped":
            memopt.stop()
        else:
            memopt.optimize()
    except HmcCommandError as exc:
        if memopt.result["dpo_started"] and not module.check_mode:
            raise DpoFailure("%s. The DPO was started and may still be running; rerun the task to resume waiting"
                             % exc, memopt.result) from exc
        raise
    return memopt.result


def main():
    run_hmc_module(
        dict(
            dpo_target_options(),
            state=dict(type="str", choices=["optimized", "stopped"], default="optimized"),
            min_gain=dict(type="int", default=5),
            target_score=dict(type="int", default=100),
            wait=dict(type="bool", default=True),
            timeout=dict(type="int", default=3600),
            poll_interval=dict(type="int", default=30),
            start_grace_period=dict(type="int", default=0),
        ),
        run,
        names=DPO_TARGET_NAMES,
        check_params=check_ranges,
    )


if __name__ == "__main__":
    main()
