"""`lshmc -V` (version, facts doc F7) and `lshmc -r` (remote access settings)."""

from __future__ import annotations

from ..options import Option, fail, parse_options
from .common import LISTING_OPTIONS, Context, help_requested, listing


def version_row(ctx: Context) -> dict[str, str]:
    hmc = ctx.store.state.hmc
    lines = [f" Version: {hmc.version}", f" Release: {hmc.release}", f" Service Pack: {hmc.service_pack}",
             f"HMC Build level {hmc.build_level}", *hmc.fixes]
    return {"version": "\n".join(lines) + "\n", "base_version": f"V{hmc.version}R{hmc.release}\n"}


def remote_row() -> dict[str, str]:
    return {"ssh": "enable", "sshprotocol": "2", "remotewebui": "enable", "xntp": "disable", "xntpserver": "",
            "syslogserver": "", "altdiskboot": "disable", "ldap": "disable", "kerberos": "disable",
            "legacyhmccomm": "disable", "security": "legacy", "sol": "disabled"}


def lshmc(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(argv, [Option(("-V",), "flag"), Option(("-v",), "flag"), Option(("-r",), "flag"),
                                  Option(("-n",), "flag"), *LISTING_OPTIONS])
    usage = help_requested(parsed, "Usage: lshmc {-V | -r} [-F [attribute-names] [--header]]")
    if usage:
        return usage
    if parsed.get("-V"):
        row = version_row(ctx)
        # F7: the quoted value keeps its real newlines; `version=` is followed by the first line directly.
        return listing([row], list(row), parsed)
    if parsed.get("-r"):
        row = remote_row()
        return listing([row], list(row), parsed)
    if parsed.get("-v") or parsed.get("-n"):
        raise fail("not_simulated", what="lshmc -v/-n")
    raise fail("usage_missing_option", option="-V")
