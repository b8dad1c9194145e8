"""`chsysstate` (partitions and systems), `lspwrmgmt` and `chpwrmgmt` (power/performance mode)."""

from __future__ import annotations

from ..dialect import Dialect
from ..messages import (
    POWER_MODE_DISABLED,
    POWER_MODE_DISABLED_BY_PROCESSOR,
    POWER_MODE_DISPLAY_TEXT,
    POWER_MODES_BY_PROCESSOR,
    PWRMGMT_ATTRIBUTES,
)
from ..model import System
from ..options import Option, choice, fail, parse_options, require
from .common import LISTING_OPTIONS, Context, find_system, help_requested, listing, lpar_from_options, require_operating

RUNNING_STATES = {"Running", "Starting", "Open Firmware"}


def chsysstate(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(
        argv,
        [Option(("-m",)), Option(("-r",)), Option(("-o",)), Option(("-n",)), Option(("--id",)), Option(("-f",)),
         Option(("-b",)), Option(("-k",)), Option(("-i",)), Option(("--immed",), "flag"),
         Option(("--restart",), "flag"), Option(("--force",), "flag"), Option(("--help",), "flag")],
    )
    usage = help_requested(parsed, "Usage: chsysstate -m managed-system -r lpar -o {on | shutdown | osshutdown} "
                                   "{-n partition-name | --id partition-ID} [-f profile-name] [--immed] [--restart]\n"
                                   "       chsysstate -m managed-system -r sys -o {on | onstandby | off} [--immed] "
                                   "[--restart]")
    if usage:
        return usage
    resource = choice(parsed, "-r", {"lpar", "sys"})
    system = find_system(ctx, require(parsed, "-m"))
    if resource == "sys":
        return _system_power(ctx, system, parsed)
    operation = choice(parsed, "-o", {"on", "shutdown", "osshutdown", "dumprestart", "chkey"})
    require_operating(system)
    lpar = lpar_from_options(system, parsed)
    if operation in {"dumprestart", "chkey"}:
        raise fail("not_simulated", what=f"chsysstate -o {operation}")
    if operation == "on":
        if lpar.state != "Not Activated":
            raise fail("lpar_not_startable", name=lpar.name, state=lpar.state)
        profile_name = str(parsed.get("-f") or lpar.curr_profile or lpar.default_profile)
        if lpar.profile(profile_name) is None:
            raise fail("profile_not_found", prof=profile_name, lpar=lpar.name)
        if "-b" in parsed:
            choice(parsed, "-b", {"norm", "sms", "of", "dd", "ds"})
        problem = ctx.store.activate(system, lpar, profile_name, ctx.now)
        if problem:
            raise fail(problem, sys=system.name, name=lpar.name)
        return ""
    stoppable = RUNNING_STATES | ({"Error"} if parsed.get("--immed") else set())  # an Error LPAR: immediate only
    if lpar.state not in stoppable:
        raise fail("lpar_not_running", name=lpar.name, state=lpar.state)
    if operation == "osshutdown" and lpar.state != "Running":
        raise fail("rmc_inactive", name=lpar.name)
    ctx.store.shutdown(lpar, immediate=bool(parsed.get("--immed")), restart=bool(parsed.get("--restart")),
                       now=ctx.now)
    return ""


def _system_power(ctx: Context, system: System, parsed: dict) -> str:
    operation = choice(parsed, "-o", {"on", "onstandby", "off", "onstartpolicy", "onsysprof", "onhwdisc",
                                      "rebuild", "recover", "spfailover"})
    if operation in {"onstartpolicy", "onsysprof", "onhwdisc", "rebuild", "recover", "spfailover"}:
        raise fail("not_simulated", what=f"chsysstate -r sys -o {operation}")
    if operation == "off":
        if system.state not in {"Operating", "Standby"}:
            raise fail("sys_wrong_state", sys=system.name, state=system.state)
        if system.dpo_run is not None and system.dpo_run.status == "running":
            ctx.store.stop_dpo(system, ctx.now)
        ctx.store.power_system(system, "off", restart=bool(parsed.get("--restart")), now=ctx.now)
        return ""
    if system.state != "Power Off":
        raise fail("sys_wrong_state", sys=system.name, state=system.state)
    ctx.store.power_system(system, operation, restart=False, now=ctx.now)
    return ""


def supported_modes(system: System) -> list[str]:
    return system.supported_power_modes or POWER_MODES_BY_PROCESSOR.get(system.processor, ["static"])


def disabled_mode(system: System) -> str:
    """The mode `chpwrmgmt -o disable` leaves (nominal)."""
    return POWER_MODE_DISABLED_BY_PROCESSOR.get(system.processor, POWER_MODE_DISABLED)


def shown_mode(system: System, dialect: Dialect) -> str:
    """The current mode as lspwrmgmt prints it: the token, or the display text of the dialect."""
    if dialect.power_mode_format == "display_text":
        return POWER_MODE_DISPLAY_TEXT.get(system.processor, {}).get(system.power_mode, system.power_mode)
    return system.power_mode


def lspwrmgmt(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(argv, [Option(("-m",)), Option(("-r",)), Option(("-t",)), *LISTING_OPTIONS])
    usage = help_requested(parsed, "Usage: lspwrmgmt [-m managed-system] -r sys [-F [attribute-names] [--header]]")
    if usage:
        return usage
    choice(parsed, "-r", {"sys"})
    if "-t" in parsed:
        raise fail("not_simulated", what="lspwrmgmt -t")
    systems = [find_system(ctx, str(parsed["-m"]))] if "-m" in parsed else ctx.store.state.systems
    dialect = ctx.store.dialect()
    attributes = [dialect.power_mode_attribute if name == "curr_power_saver_mode" else name
                  for name in PWRMGMT_ATTRIBUTES]
    rows = [
        dict(zip(attributes, [s.name, shown_mode(s, dialect), ",".join(supported_modes(s))])) for s in systems
    ]
    return listing(rows, attributes, parsed)


def chpwrmgmt(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(argv, [Option(("-m",)), Option(("-r",)), Option(("-o",)), Option(("-t",)),
                                  Option(("--help",), "flag")])
    usage = help_requested(parsed, "Usage: chpwrmgmt -m managed-system -r sys -o {enable -t mode | disable}")
    if usage:
        return usage
    system = find_system(ctx, require(parsed, "-m"))
    choice(parsed, "-r", {"sys"})
    operation = choice(parsed, "-o", {"enable", "disable"})
    require_operating(system)
    mode = disabled_mode(system) if operation == "disable" else require(parsed, "-t")
    if operation == "enable" and mode not in supported_modes(system):
        raise fail("bad_power_mode", mode=mode, sys=system.name)
    if system.power_mode != mode:
        system.power_mode = mode
        ctx.store.mark_dirty()
    return ""
