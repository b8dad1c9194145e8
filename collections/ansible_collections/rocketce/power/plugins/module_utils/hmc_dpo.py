# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dynamic Platform Optimization (DPO) logic shared by hmc_memopt and hmc_memopt_info.

Requested and protected partitions are resolved to partition ids (``--id``/``--xid``), so partition names
never appear on an ``lsmemopt``/``optmem`` command line. Waiting polls ``lsmemopt -m SYS`` on the caller's
connection, with the clock of the client (tests replace it).

The bare ``lsmemopt -m SYS`` listing is unverified on real HMCs (attribute names, status words), and it reports
only the most recent optimization: right after ``optmem -o start`` it may still describe the previous run.
So the status is read strictly - a listing without ``in_progress``, ``status`` and ``opt_id`` fails with the
raw text instead of being read as "not running" - and a DPO started by a module counts as finished only once
the new run has been seen: a listing whose identity (``opt_id``, ``status``) differs from the one read before
the start, or that is in progress (or, when the caller allows it, after a stated grace period).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcError, HmcNameError, HmcOutputError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import as_int, as_list, parse_listing
from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
    affinity_scores,
    list_lpars,
    select_lpars,
)

# Attributes of the bare lsmemopt listing the modules decide on; without any of them nothing can be decided.
DPO_STATUS_ATTRIBUTES = ("in_progress", "status", "opt_id")
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
    if status.get("opt_id") is None and not status.get("in_progress"):
        return "no DPO recorded (status %r)" % status.get("status")
    progress = "" if status.get("progress") is None else ", %s%% done" % status["progress"]
    return "DPO opt_id %s: %s%s" % (status.get("opt_id"), status.get("status"), progress)


def parse_dpo_status(text, system):
    """The bare ``lsmemopt -m SYS`` listing as a status dict; :class:`HmcOutputError` (with the raw text) unless
    it is one line with ``in_progress`` (0 or 1), ``status`` and ``opt_id``."""
    command = "lsmemopt -m %s" % system
    rows = parse_listing(text)
    if len(rows) != 1:
        raise HmcOutputError("%s printed %d status lines, expected one with %s; the DPO state cannot be read from "
                             "it: %r" % (command, len(rows), ", ".join(DPO_STATUS_ATTRIBUTES), text), output=text)
    row = rows[0]
    missing = [name for name in DPO_STATUS_ATTRIBUTES if name not in row]
    if missing:
        raise HmcOutputError("%s did not report %s (it printed the attributes %s); whether a DPO runs cannot be read "
                             "from this listing, so nothing is assumed: %r"
                             % (command, ", ".join(missing), ", ".join(row) or "none", text), output=text)
    if row["in_progress"] not in ("0", "1"):
        raise HmcOutputError("%s reported in_progress=%r, expected 0 or 1: %r" % (command, row["in_progress"], text),
                             output=text)
    try:
        return {
            "in_progress": row["in_progress"] == "1",
            "status": row["status"],
            "type": row.get("type"),
            "opt_id": as_int(row["opt_id"]),
            "progress": as_int(row.get("progress")),
            "requested_lpar_ids": [int(i) for i in as_list(row.get("requested_lpar_ids"))],
            "protected_lpar_ids": [int(i) for i in as_list(row.get("protected_lpar_ids"))],
            "impacted_lpar_ids": [int(i) for i in as_list(row.get("impacted_lpar_ids"))],
        }
    except (HmcOutputError, ValueError) as exc:
        raise HmcOutputError("%s: %s in %r" % (command, exc, text), output=text) from None


def read_dpo_status(client, system):
    """The running or most recent DPO of ``system`` (bare ``lsmemopt -m SYS``), read strictly."""
    return parse_dpo_status(client.run(["lsmemopt", "-m", system]), system)


def identity(status):
    """What tells two runs apart in the listing: the optimization id and its status words."""
    return status["opt_id"], status["status"]


def wait_for_dpo(client, system, timeout, poll_interval, status=None):
    """Poll until no DPO runs on ``system`` (one that was found running); returns the final status.

    ``status`` is a status just read by the caller (the first poll then starts after one interval). Raises
    :class:`DpoWaitTimeout` with the last status.
    """
    deadline = client.clock() + timeout
    while True:
        if status is None:
            status = read_dpo_status(client, system)
        if not status["in_progress"]:
            return status
        _sleep_until_next_poll(client, deadline, poll_interval, status, "%s still running on %s after waiting %ss"
                               % (describe(status), system, timeout))
        status = None


def wait_for_new_dpo(client, system, previous, *, started_at, timeout, poll_interval, grace_period=0):
    """Poll until the DPO started at ``started_at`` has run and ended; returns its final status.

    ``previous`` is the status read before ``optmem -o start``. A listing that still shows that run (same
    identity, not in progress) is not the new run: it is polled again, and after ``grace_period`` seconds (when
    > 0) accepted as the new run having finished already, marked ``assumed_finished``.
    """
    deadline = started_at + timeout
    seen_new = False
    while True:
        status = read_dpo_status(client, system)
        seen_new = seen_new or status["in_progress"] or identity(status) != identity(previous)
        elapsed = client.clock() - started_at
        if not status["in_progress"] and seen_new:
            return status
        if not status["in_progress"] and grace_period and elapsed >= grace_period:
            status["assumed_finished"] = True
            return status
        if seen_new:
            message = "%s still running on %s after waiting %ss" % (describe(status), system, timeout)
        else:
            message = ("the DPO started on %s was never seen in the status listing within %ss: lsmemopt -m %s still "
                       "shows the previous run (%s). The listing may be stale or this HMC may not report new runs "
                       "the way the module expects; set start_grace_period to accept an unchanged listing as "
                       "finished after that many seconds" % (system, timeout, system, describe(status)))
        _sleep_until_next_poll(client, deadline, poll_interval, status, message)


def _sleep_until_next_poll(client, deadline, poll_interval, status, timeout_message):
    remaining = deadline - client.clock()
    if remaining <= 0:
        raise DpoWaitTimeout(timeout_message, status)
    client.sleep(min(poll_interval, remaining))


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
