"""`lsmemopt` (status and affinity scores) and `optmem` (start/stop a Dynamic Platform Optimization)."""

from __future__ import annotations

from .. import affinity
from ..messages import (
    DPO_STATUS_ALTERNATE_ATTRIBUTES,
    DPO_STATUS_ALTERNATE_WORDS,
    DPO_STATUS_ATTRIBUTES,
    DPO_STATUS_WORDS,
)
from ..model import DpoRun, System
from ..options import Option, choice, fail, parse_options, require
from .common import (
    LISTING_OPTIONS,
    Context,
    find_system,
    help_requested,
    id_list,
    listing,
    names_or_ids,
    parse_filter,
    require_operating,
    select_lpars,
)

SELECTION_OPTIONS = [Option(("-p",)), Option(("--id",)), Option(("-x",)), Option(("--xid",))]


def require_dpo_capable(system: System) -> None:
    require_operating(system)
    if str(system.capabilities.get("dynamic_platform_optimization_capable", 1)) != "1":
        raise fail("dpo_unsupported", sys=system.name)


def _score(value: int | None) -> str:
    return "none" if value is None else str(value)


def dpo_status_row(run: DpoRun | None, names: str = "standard") -> dict[str, str]:
    """The bare `lsmemopt -m SYS` row for a run (None: no DPO ever ran) in the dialect's attribute names."""
    status = "never" if run is None else run.status
    opt_id = "0" if run is None else str(run.opt_id)
    progress = "0" if run is None else str(run.progress)
    requested = "none" if run is None else id_list(run.requested)
    protected = "none" if run is None else id_list(run.protected)
    impacted = "none" if run is None or run.status == "running" else id_list(run.impacted)
    if names == "alternate":
        values = [opt_id, "affinity", DPO_STATUS_ALTERNATE_WORDS[status], progress, requested, protected, impacted]
        return dict(zip(DPO_STATUS_ALTERNATE_ATTRIBUTES, values))
    in_progress = "1" if status == "running" else "0"
    values = [in_progress, DPO_STATUS_WORDS[status], "affinity", opt_id, progress, requested, protected, impacted]
    return dict(zip(DPO_STATUS_ATTRIBUTES, values))


def dpo_status_listing(ctx: Context, system: System, parsed: dict) -> str:
    """Status of the most recent run; with dpo_stale_polls, the first listings after a start show the one before."""
    dialect = ctx.store.dialect()
    stale = system.stale_status_polls > 0
    run = system.previous_dpo_run if stale else system.dpo_run
    attributes = DPO_STATUS_ALTERNATE_ATTRIBUTES if dialect.dpo_status_names == "alternate" else DPO_STATUS_ATTRIBUTES
    output = listing([dpo_status_row(run, dialect.dpo_status_names)], attributes, parsed)
    if stale:  # counted only for listings that were answered
        system.stale_status_polls -= 1
        ctx.store.mark_dirty()
    return output


def lsmemopt(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(argv, [Option(("-m",)), Option(("-r",)), Option(("-o",)), *SELECTION_OPTIONS,
                                  *LISTING_OPTIONS])
    usage = help_requested(parsed, "Usage: lsmemopt -m managed-system [-r {sys | lpar}] [-o {currscore | "
                                   "calcscore}] [-p partition-names | --id partition-IDs] [-x partition-names | "
                                   "--xid partition-IDs] [--filter \"filter-data\"] [-F [attribute-names] [--header]]")
    if usage:
        return usage
    system = find_system(ctx, require(parsed, "-m"))
    require_dpo_capable(system)
    resource = choice(parsed, "-r", {"sys", "lpar", "resgroup"}, required=False)
    operation = choice(parsed, "-o", {"currscore", "calcscore"}, required=False)
    if resource == "resgroup":
        raise fail("not_simulated", what="lsmemopt -r resgroup")
    requested = names_or_ids(system, parsed, "-p", "--id")
    protected = names_or_ids(system, parsed, "-x", "--xid")
    if resource is None and operation is None:
        return dpo_status_listing(ctx, system, parsed)
    resource = resource or "sys"  # facts doc 1.2: -o without -r means -r sys
    operation = operation or "currscore"
    current = affinity.current_placements(system)
    predicted = affinity.predicted_placements(system, requested, protected) if operation == "calcscore" else {}
    if resource == "sys":
        if "--filter" in parsed:
            parse_filter(str(parsed["--filter"]), set())
        row = {"curr_sys_score": _score(affinity.system_score(system, current))}
        if operation == "calcscore":
            row["predicted_sys_score"] = _score(affinity.system_score(system, predicted))
            row["requested_lpar_ids"] = id_list(requested)
            row["protected_lpar_ids"] = id_list(protected)
        return listing([row], list(row), parsed)
    filters = parse_filter(str(parsed["--filter"]), {"lpar_names", "lpar_ids"}) if "--filter" in parsed else {}
    rows = []
    for lpar in select_lpars(system, filters):
        row = {
            "lpar_name": lpar.name,
            "lpar_id": str(lpar.id),
            "curr_lpar_score": _score(affinity.lpar_score(system, current[lpar.id])),
        }
        if operation == "calcscore":
            row["predicted_lpar_score"] = _score(affinity.lpar_score(system, predicted[lpar.id]))
        rows.append(row)
    attributes = ["lpar_name", "lpar_id", "curr_lpar_score"] + (
        ["predicted_lpar_score"] if operation == "calcscore" else []
    )
    return listing(rows, attributes, parsed)


def optmem(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(argv, [Option(("-m",)), Option(("-o",)), Option(("-t",)), *SELECTION_OPTIONS,
                                  Option(("--help",), "flag")])
    usage = help_requested(parsed, "Usage: optmem -m managed-system -o start -t affinity [-p partition-names | "
                                   "--id partition-IDs] [-x partition-names | --xid partition-IDs]\n"
                                   "       optmem -m managed-system -o stop")
    if usage:
        return usage
    system = find_system(ctx, require(parsed, "-m"))
    operation = choice(parsed, "-o", {"start", "stop"})
    require_dpo_capable(system)
    run = system.dpo_run
    if operation == "stop":
        if run is None or run.status != "running":
            raise fail("dpo_not_running", sys=system.name)
        ctx.store.stop_dpo(system, ctx.now)
        return ""
    kind = choice(parsed, "-t", {"affinity", "mirror"})
    if kind == "mirror":
        raise fail("not_simulated", what="optmem -t mirror")
    requested = names_or_ids(system, parsed, "-p", "--id")
    protected = names_or_ids(system, parsed, "-x", "--xid")
    if run is not None and run.status == "running":
        raise fail("dpo_running", sys=system.name)
    ctx.store.start_dpo(system, requested, protected, ctx.now)
    return ""
