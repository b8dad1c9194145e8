# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dynamic Platform Optimization (DPO) logic shared by hmc_memopt and hmc_memopt_info.

Requested and protected partitions are resolved to partition ids (``--id``/``--xid``), so partition names
never appear on an ``lsmemopt``/``optmem`` command line. Waiting polls ``lsmemopt -m SYS`` on the caller's
connection, with the clock of the client (tests replace it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcError, HmcNameError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import as_int
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
    affinity_scores,
    dpo_status,
    list_lpars,
    select_lpars,
)

# Words in a finished DPO's status that mean it did not complete (the exact HMC words are unverified, so
# match loosely; "Finished"/"Complete" are success).
UNSUCCESSFUL_STATUS_WORDS = ("fail", "stop", "cancel", "abort", "error")

# Options naming the system and the partitions of a DPO (doc fragments rocketce.power.hmc.system and .dpo_targets),
# and the HMC name kind of each.
DPO_TARGET_NAMES = {"system": "managed system", "lpars": "partition", "protect": "partition"}


def dpo_target_options():
    return dict(system=dict(type="str", required=True), lpars=dict(type="list", elements="str", default=[]),
                protect=dict(type="list", elements="str", default=[]))


class DpoNotSupportedError(HmcError):
    """The managed system cannot run DPO."""


class DpoWaitTimeout(HmcError):
    """The DPO was still running when the timeout expired."""

    def __init__(self, message, status):
        self.status = status
        super().__init__(message)


def require_dpo_capable(system_row):
    if system_row.get("dynamic_platform_optimization_capable") != "1":
        raise DpoNotSupportedError(
            "managed system %s does not support Dynamic Platform Optimization (dynamic_platform_optimization_capable"
            "=%s, state %s)" % (system_row.get("name"), system_row.get("dynamic_platform_optimization_capable"),
                                system_row.get("state")))


def resolve_targets(client, system, requested_names, protected_names):
    """``(requested, protected)`` as lists of ``{"name", "id"}``; a name in both is an error."""
    both = [name for name in requested_names if name in protected_names]
    if both:
        raise HmcNameError("partition(s) %s cannot be both requested (lpars) and protected (protect)"
                           % ", ".join(repr(name) for name in both))
    if not requested_names and not protected_names:
        return [], []
    rows = list_lpars(client, system)

    def ids(names):
        return [{"name": row["name"], "id": as_int(row.get("lpar_id"))} for row in select_lpars(rows, names, system)]

    return ids(requested_names), ids(protected_names)


def unsuccessful(status):
    """True when a finished DPO ended in a failed/stopped state."""
    word = (status.get("status") or "").lower()
    return any(marker in word for marker in UNSUCCESSFUL_STATUS_WORDS)


def describe(status):
    if not status.get("opt_id") and not status.get("in_progress"):
        return "no DPO recorded"
    return "DPO opt_id %s: %s, %s%% done" % (status.get("opt_id"), status.get("status"), status.get("progress"))


def wait_for_dpo(client, system, timeout, poll_interval, status=None):
    """Poll until no DPO runs on ``system``; returns the final status, raises :class:`DpoWaitTimeout`.

    ``status`` is a status just read by the caller (the first poll then starts after one interval).
    """
    deadline = client.clock() + timeout
    while True:
        if status is None:
            status = dpo_status(client, system)
        if not status["in_progress"]:
            return status
        remaining = deadline - client.clock()
        if remaining <= 0:
            raise DpoWaitTimeout("%s still running on %s after waiting %ss" % (describe(status), system, timeout),
                                 status)
        client.sleep(min(poll_interval, remaining))
        status = None


def score_report(client, system, requested, protected, predict=True):
    """Scores with predictions (``lsmemopt -o calcscore`` for the requested/protected ids).

    Returns ``(system_scores, lpars)``; every partition entry carries ``requested``/``protected`` flags and
    ``gain`` (predicted - current, None when either is unknown).
    """
    requested_ids = [target["id"] for target in requested]
    protected_ids = [target["id"] for target in protected]
    system_scores, lpars = affinity_scores(client, system, predict, requested_ids, protected_ids)
    for lpar in lpars:
        lpar["requested"] = lpar["id"] in requested_ids
        lpar["protected"] = lpar["id"] in protected_ids
        lpar["gain"] = gain(lpar)
    system_scores["gain"] = gain(system_scores)
    return system_scores, lpars


def gain(scores):
    if scores.get("current") is None or scores.get("predicted") is None:
        return None
    return scores["predicted"] - scores["current"]


def decide(system_scores, lpars, requested, min_gain, target_score):
    """Whether a DPO is worth starting, and why (or why not).

    With requested partitions, it is worth it when at least one of them scores below ``target_score`` and is
    predicted to gain at least ``min_gain``. Without, the same test is made on the system score.
    """
    if requested:
        candidates = [lpar for lpar in lpars if lpar["requested"]]
        listed = set(lpar["name"] for lpar in candidates)
        unscored = [lpar["name"] for lpar in candidates if lpar["current"] is None]
        unscored += [target["name"] for target in requested if target["name"] not in listed]
        scored = [lpar for lpar in candidates if lpar["current"] is not None]
    else:
        candidates = [dict(system_scores, name="the system")]
        unscored = [] if system_scores["current"] is not None else ["the system"]
        scored = candidates if not unscored else []
    reasons = []
    worth = []
    for item in scored:
        if item["current"] >= target_score:
            reasons.append("%s scores %s, at or above the target %s" % (item["name"], item["current"], target_score))
        elif item["gain"] is None or item["gain"] < min_gain:
            reasons.append("%s would go from %s to %s (gain %s, below min_gain %s)"
                           % (item["name"], item["current"], item["predicted"], item["gain"], min_gain))
        else:
            worth.append(item["name"])
            reasons.append("%s would go from %s to %s" % (item["name"], item["current"], item["predicted"]))
    for name in unscored:
        reasons.append("%s has no affinity score (no processors or memory assigned)" % name)
    return bool(worth), "; ".join(reasons)
