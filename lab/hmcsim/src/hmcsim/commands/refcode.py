"""`lsrefcode -r lpar|sys -m SYS`: the last reference (progress/error) code of partitions or the system."""

from __future__ import annotations

import time

from ..messages import REFCODE_LPAR_ATTRIBUTES, REFCODE_SYS_ATTRIBUTES, REFCODE_WORD2, REFCODES
from ..model import Lpar, System
from ..options import Option, choice, fail, parse_options, require
from .common import LISTING_OPTIONS, Context, find_system, help_requested, listing, parse_filter, select_lpars


def lpar_refcode(lpar: Lpar) -> str:
    """The code the model or the last transition set, else the usual code of the partition's state."""
    return lpar.refcode if lpar.refcode is not None else REFCODES.get(lpar.state, "")


def _stamp(now: float) -> str:
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now))


def refcode_lpar_row(lpar: Lpar, now: float) -> dict[str, str]:
    return {"lpar_name": lpar.name, "lpar_id": str(lpar.id), "time_stamp": _stamp(now), "refcode": lpar_refcode(lpar),
            "word2": REFCODE_WORD2, "fru_call_out_loc_codes": ""}


def refcode_sys_row(system: System, now: float) -> dict[str, str]:
    return {"time_stamp": _stamp(now), "refcode": REFCODES.get(system.state, ""), "word2": REFCODE_WORD2,
            "fru_call_out_loc_codes": ""}


def lsrefcode(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(argv, [Option(("-r",)), Option(("-m",)), Option(("-s",)), Option(("-n",)),
                                  *LISTING_OPTIONS])
    usage = help_requested(parsed, "Usage: lsrefcode -r {sys | lpar} -m managed-system [-s {p | s}] [-n number] "
                                   "[--filter \"filter-data\"] [-F [attribute-names] [--header]] [--help]")
    if usage:
        return usage
    resource = choice(parsed, "-r", {"sys", "lpar"})
    system = find_system(ctx, require(parsed, "-m"))
    if "-s" in parsed:
        choice(parsed, "-s", {"p", "s"})
    if "-n" in parsed and parsed["-n"] != "1":
        raise fail("not_simulated", what="lsrefcode -n (code history)")
    if resource == "sys":
        if "--filter" in parsed:
            parse_filter(str(parsed["--filter"]), set())
        return listing([refcode_sys_row(system, ctx.now)], REFCODE_SYS_ATTRIBUTES, parsed)
    filters = parse_filter(str(parsed["--filter"]), {"lpar_names", "lpar_ids"}) if "--filter" in parsed else {}
    rows = [refcode_lpar_row(lpar, ctx.now) for lpar in select_lpars(system, filters)]
    return listing(rows, REFCODE_LPAR_ATTRIBUTES, parsed)
