#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hmc_lpar_state
short_description: Start, shut down or restart a partition and wait for it
version_added: 0.1.0
description:
  - Brings a partition to O(state) with C(chsysstate -r lpar) and waits until the HMC reports the target state.
  - Idempotent - a running partition is not activated again and a stopped one is not shut down again (the HMC
    itself answers those with an error). A partition that is C(Starting) or C(Shutting Down) is waited for.
  - O(state=restarted) always shuts the partition down and activates it with O(profile), which is how profile
    changes (for example dedicated processors from M(rocketce.power.hmc_lpar_procs)) take effect.
  - A partition in C(Error) or C(Not Available) does not leave that state on its own, so waiting ends there at
    once - whether the partition was found in it or went there while being started or shut down - and the task
    fails with the partition's last reference code (C(lsrefcode -r lpar), RV(refcode)). A partition in C(Error)
    can be shut down (and restarted) with O(shutdown_option=immediate) only.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - rocketce.power.hmc
  - rocketce.power.hmc.system
  - rocketce.power.hmc.partition
attributes:
  diff_mode:
    support: full
options:
  state:
    description:
      - V(running) activates a C(Not Activated) partition with O(profile).
      - V(shutdown) shuts a running partition down (see O(shutdown_option)).
      - V(restarted) shuts it down if it runs, then activates it with O(profile); always a change.
    type: str
    choices: [running, shutdown, restarted]
    default: running
  profile:
    description:
      - Profile to activate with. Defaults to the partition's default profile.
    type: str
  shutdown_option:
    description:
      - V(os) shuts the operating system down through RMC (C(osshutdown)), V(os_immediate) does it immediately,
        V(delayed) is the control-panel delayed power off (C(shutdown)), V(immediate) cuts power (C(shutdown --immed)).
      - V(auto) uses V(os) when the partition's RMC connection is active and V(delayed) otherwise.
    type: str
    choices: [auto, os, os_immediate, delayed, immediate]
    default: auto
  wait:
    description:
      - Wait until the partition reaches the target state.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each state change.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two state reads while waiting.
    type: int
    default: 5
seealso:
  - module: rocketce.power.hmc_lpar_info
  - module: rocketce.power.hmc_lpar_procs
"""

EXAMPLES = r"""
- name: Start the AI LPAR first, so it gets cores from one chip
  rocketce.power.hmc_lpar_state:
    system: p10-s1024-lab
    name: ai-lpar01
    state: running

- name: Restart with the profile that has dedicated processors
  rocketce.power.hmc_lpar_state:
    system: p10-s1024-lab
    name: ai-lpar01
    state: restarted
    profile: default_profile
    shutdown_option: os
"""

RETURN = r"""
state:
  description: Partition state at the end of the task (the target state in check mode).
  returned: always
  type: str
  sample: Running
previous_state:
  description: Partition state at the start.
  returned: always
  type: str
  sample: Not Activated
profile:
  description: The profile used for activation (null when not activated).
  returned: always
  type: str
refcode:
  description: The partition's last reference code when it was found in, or went to, C(Error) or C(Not Available)
    (null otherwise, or when it could not be read).
  returned: always
  type: str
  sample: BA218001
actions:
  description: What the task did (or, in check mode, would do), in order.
  returned: always
  type: list
  elements: str
  sample: [shutdown (osshutdown), activate with profile default_profile]
"""

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import (
    HmcCommandError,
    HmcOutputError,
    HmcPartialResultError,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_module import require_range, run_hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import as_int, parse_fields
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import find_lpar, find_system

RUNNING = "Running"
STOPPED = "Not Activated"
# States the HMC passes through on its own; waiting for them to settle is always safe.
STARTING_STATES = ("Starting",)
STOPPING_STATES = ("Shutting Down",)
ACTIVE_STATES = (RUNNING, "Open Firmware")
# States a partition does not leave on its own: waiting in them would only run out the timeout. Their reason is
# the partition's last reference code (lsrefcode).
TERMINAL_STATES = ("Error", "Not Available")
# The HMC shuts a partition in Error down only immediately.
IMMEDIATE_ONLY_STATES = ("Error",)
SHUTDOWN_COMMANDS = {
    "os": ["-o", "osshutdown"],
    "os_immediate": ["-o", "osshutdown", "--immed"],
    "delayed": ["-o", "shutdown"],
    "immediate": ["-o", "shutdown", "--immed"],
}


class LparStateError(HmcPartialResultError):
    """The partition did not reach the requested state; ``result`` says how far it got."""


class LparStateRun:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.system = module.params["system"]
        self.name = module.params["name"]
        self.lpar_id = None
        self.result = dict(changed=False, state=None, previous_state=None, profile=None, actions=[], refcode=None)

    def read_state(self):
        rows = parse_fields(self.client.run(["lssyscfg", "-r", "lpar", "-m", self.system, "--filter",
                                             "lpar_ids=%d" % self.lpar_id, "-F", "name,state"]), ["name", "state"])
        if not rows:
            raise LparStateError("partition %s (id %s) disappeared from %s" % (self.name, self.lpar_id, self.system),
                                 self.result)
        return rows[0]["state"]

    def read_refcode(self):
        """The partition's last reference code, or a sentence saying why it could not be read."""
        argv = ["lsrefcode", "-r", "lpar", "-m", self.system, "--filter", "lpar_ids=%d" % self.lpar_id, "-F", "refcode"]
        try:
            rows = parse_fields(self.client.run(argv), ["refcode"])
        except (HmcCommandError, HmcOutputError) as exc:
            # The state is the failure; the code only explains it, so a failed read is reported, not raised.
            return None, "reference code unavailable: %s" % exc
        refcode = rows[0]["refcode"] if rows else ""
        return refcode or None, "reference code %s" % (refcode or "none")

    def stuck(self, state, problem):
        """Fail for a partition in a terminal state, with its reference code."""
        refcode, described = self.read_refcode()
        self.result.update(state=state, refcode=refcode)
        raise LparStateError("partition %s on %s is %r (%s), %s; it does not leave that state on its own: look up the "
                             "reference code, fix the cause, then rerun the task"
                             % (self.name, self.system, state, described, problem), self.result)

    def cannot(self, state, action):
        if state in TERMINAL_STATES:
            self.stuck(state, "it cannot be %s" % action)
        raise LparStateError("partition %s on %s is %r, it cannot be %s" % (self.name, self.system, state, action),
                             self.result)

    def can_shut_down(self, state):
        return state in ACTIVE_STATES or (state in IMMEDIATE_ONLY_STATES
                                          and self.params["shutdown_option"] == "immediate")

    def wait_for(self, targets, state):
        """Poll until the state is one of ``targets``; returns it. A terminal state ends the wait at once."""
        if state in targets or not self.params["wait"] or self.module.check_mode:
            return state
        if state in TERMINAL_STATES:
            self.stuck(state, "not %s" % " or ".join(targets))
        deadline = self.client.clock() + self.params["timeout"]
        while True:
            remaining = deadline - self.client.clock()
            if remaining <= 0:
                self.result["state"] = state
                raise LparStateError("partition %s on %s is still %r after %ss (waiting for %s); the HMC continues the "
                                     "operation, rerun the task to wait again"
                                     % (self.name, self.system, state, self.params["timeout"], " or ".join(targets)),
                                     self.result)
            self.client.sleep(min(self.params["poll_interval"], remaining))
            state = self.read_state()
            if state in targets:
                return state
            if state in TERMINAL_STATES:
                self.stuck(state, "reached while waiting for %s" % " or ".join(targets))

    def act(self, description, options, expect):
        self.result["changed"] = True
        self.result["actions"].append(description)
        if self.module.check_mode:
            return expect
        self.client.run(["chsysstate", "-r", "lpar", "-m", self.system] + options + ["--id", str(self.lpar_id)],
                        mutating=True)
        return self.read_state()

    def activate(self, profile):
        self.result["profile"] = profile
        state = self.act("activate with profile %s" % profile, ["-o", "on", "-f", profile], STARTING_STATES[0])
        return self.wait_for(ACTIVE_STATES, state)

    def shutdown(self, lpar):
        option = self.params["shutdown_option"]
        if option == "auto":
            option = "os" if lpar.get("rmc_state") == "active" else "delayed"
        state = self.act("shutdown (%s)" % " ".join(SHUTDOWN_COMMANDS[option][1:]), SHUTDOWN_COMMANDS[option],
                         STOPPING_STATES[0])
        return self.wait_for((STOPPED,), state)

    def run(self):
        find_system(self.client, self.system)
        lpar = find_lpar(self.client, self.system, self.name)
        self.lpar_id = as_int(lpar.get("lpar_id"))
        profile = self.params["profile"] or lpar.get("default_profile")
        state = lpar.get("state")
        self.result["previous_state"] = state
        target = self.params["state"]
        if state in STARTING_STATES:
            state = self.wait_for(ACTIVE_STATES, state)
        elif state in STOPPING_STATES:
            state = self.wait_for((STOPPED,), state)

        if target == "running":
            if state == STOPPED:
                state = self.activate(profile)
            elif state not in ACTIVE_STATES + STARTING_STATES:
                self.cannot(state, "activated")
        elif target == "shutdown":
            if self.can_shut_down(state):
                state = self.shutdown(lpar)
            elif state not in (STOPPED,) + STOPPING_STATES:
                self.cannot(state, "shut down" + (" (only shutdown_option=immediate can)"
                                                  if state in IMMEDIATE_ONLY_STATES else ""))
        else:
            if self.can_shut_down(state):
                state = self.shutdown(lpar)
                if self.module.check_mode:
                    state = STOPPED
            if state != STOPPED:
                self.cannot(state, "restarted" + (" (only shutdown_option=immediate can shut it down)"
                                                  if state in IMMEDIATE_ONLY_STATES else ""))
            state = self.activate(profile)

        if self.module.check_mode and self.result["changed"]:
            state = RUNNING if target in ("running", "restarted") else STOPPED
        self.result["state"] = state
        if self.result["changed"] and self.module._diff:
            self.result["diff"] = {"before": "state: %s\n" % self.result["previous_state"],
                                   "after": "state: %s\n" % state,
                                   "before_header": "%s/%s" % (self.system, self.name),
                                   "after_header": "%s/%s" % (self.system, self.name)}
        return self.result


def check_wait_options(params):
    require_range(params, "timeout", 1)
    require_range(params, "poll_interval", 1)


def main():
    run_hmc_module(
        dict(
            system=dict(type="str", required=True),
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["running", "shutdown", "restarted"], default="running"),
            profile=dict(type="str"),
            shutdown_option=dict(type="str", default="auto",
                                 choices=["auto", "os", "os_immediate", "delayed", "immediate"]),
            wait=dict(type="bool", default=True),
            timeout=dict(type="int", default=900),
            poll_interval=dict(type="int", default=5),
        ),
        lambda module, client: LparStateRun(module, client).run(),
        names={"system": "managed system", "name": "partition", "profile": "profile"},
        check_params=check_wait_options,
    )


if __name__ == "__main__":
    main()
