# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Power and performance modes per processor generation: which mode exists where, how ``chpwrmgmt`` sets it,
and how ``lspwrmgmt`` may show it.

What is verified (field facts): ``chpwrmgmt -m SYS -r sys -o enable -t MODE``; POWER9 nominal is
``-o disable``; Power10 has power saving, static (nominal) and maximum performance, and no dynamic performance
mode; ``supported_power_saver_mode_types`` lists the tokens a system accepts. What is not: the name of the
``lspwrmgmt`` attribute holding the current mode (``curr_power_saver_mode`` here) and whether it holds a token
or display text - so both spellings are recognised per generation, and anything else fails with the listing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcError, HmcOutputError
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import as_list, parse_listing

CURRENT_MODE_ATTRIBUTE = "curr_power_saver_mode"
SUPPORTED_MODES_ATTRIBUTE = "supported_power_saver_mode_types"
GENERATIONS = ("POWER9", "Power10", "Power11")

# mode -> generation -> (chpwrmgmt arguments after -r sys, the token lspwrmgmt may show, its display texts).
# Tokens match exactly; display texts ignore case and blanks.
# A generation missing from a mode's entry does not have that mode.
POWER_MODES = {
    "maximum_performance": {
        "POWER9": (["-o", "enable", "-t", "max_perf"], "max_perf", ("Maximum Performance",)),
        "Power10": (["-o", "enable", "-t", "max_perf"], "max_perf", ("Maximum Performance",)),
        "Power11": (["-o", "enable", "-t", "max_perf"], "max_perf", ("Maximum Performance",)),
    },
    "nominal": {
        # [V] POWER9 nominal is "disable": no power saver mode (shown as none/Nominal [U]).
        "POWER9": (["-o", "disable"], "none", ("Nominal", "Disabled")),
        # [V] Power10 static is nominal; Power11 [U] the same.
        "Power10": (["-o", "enable", "-t", "static"], "static", ("Static", "Nominal")),
        "Power11": (["-o", "enable", "-t", "static"], "static", ("Static", "Nominal")),
    },
    "power_saving": {
        # On POWER9 the power saving mode is Static Power Saver, token static [I] (op-test).
        "POWER9": (["-o", "enable", "-t", "static"], "static", ("Static Power Saver",)),
        "Power10": (["-o", "enable", "-t", "power_saving"], "power_saving", ("Power Saving",)),
        "Power11": (["-o", "enable", "-t", "power_saving"], "power_saving", ("Power Saving",)),
    },
    "dynamic_performance": {
        # POWER9 only: dynamic performance mode is gone on Power10 [V].
        "POWER9": (["-o", "enable", "-t", "dynamic_favor_perf"], "dynamic_favor_perf",
                   ("Dynamic Performance", "Dynamic Power Saver (Favor Performance)")),
    },
    "energy_efficient": {
        # Power11 only [U]: the token is checked against supported_power_saver_mode_types before it is sent.
        "Power11": (["-o", "enable", "-t", "efficiency_favor_perf"], "efficiency_favor_perf", ("Energy Efficient",)),
    },
}
# Older spelling of the module's default, the same token on every generation.
MODE_ALIASES = {"max_perf": "maximum_performance"}

# Machine types by generation, for systems whose lssyscfg row lacks lpar_proc_compat_modes.
GENERATION_BY_MACHINE_TYPE = {
    "9009": "POWER9", "9008": "POWER9", "9223": "POWER9", "9040": "POWER9", "9080-M9S": "POWER9",
    "9105": "Power10", "9043": "Power10", "9786": "Power10", "9028": "Power10", "9080-HEX": "Power10",
    "9824": "Power11", "9080-HEU": "Power11",
}
_COMPAT_GENERATION_RE = re.compile(r"^power(9|10|11)$", re.IGNORECASE)


class PowerModeError(HmcError):
    """A mode the system cannot be set to, or a system whose generation is unknown."""


def processor_generation(system_row):
    """POWER9, Power10 or Power11 from an ``lssyscfg -r sys`` row; :class:`PowerModeError` when it cannot tell.

    The newest processor compatibility mode a system offers is its own generation; the machine type is the
    fallback.
    """
    found = [int(match.group(1)) for match in (_COMPAT_GENERATION_RE.match(mode.strip())
                                               for mode in as_list(system_row.get("lpar_proc_compat_modes")))
             if match]
    if found:
        newest = max(found)
        return "POWER9" if newest == 9 else "Power%d" % newest
    type_model = system_row.get("type_model") or ""
    for key in (type_model, type_model.split("-")[0]):
        if key in GENERATION_BY_MACHINE_TYPE:
            return GENERATION_BY_MACHINE_TYPE[key]
    raise PowerModeError("cannot tell the processor generation of managed system %s (type_model %s, "
                         "lpar_proc_compat_modes %s); power modes are known for %s"
                         % (system_row.get("name"), type_model or "unknown",
                            system_row.get("lpar_proc_compat_modes", "not listed"), ", ".join(GENERATIONS)))


def mode_name(mode):
    return MODE_ALIASES.get(mode, mode)


def set_command(mode, generation, system):
    """The ``chpwrmgmt`` argv that sets ``mode`` on a system of ``generation``."""
    forms = POWER_MODES[mode_name(mode)]
    if generation not in forms:
        raise PowerModeError("managed system %s is a %s system, which has no %s mode; %s modes: %s"
                             % (system, generation, mode_name(mode), generation, ", ".join(modes_of(generation))))
    return ["chpwrmgmt", "-m", system, "-r", "sys"] + forms[generation][0]


def modes_of(generation):
    return [mode for mode, forms in POWER_MODES.items() if generation in forms]


def _normalized(text):
    return " ".join(text.split()).lower()


def recognise(shown, generation):
    """The mode that ``shown`` (a token, or a display text) stands for on ``generation``, or None."""
    for mode, forms in POWER_MODES.items():
        if generation in forms and shown == forms[generation][1]:
            return mode
    for mode, forms in POWER_MODES.items():
        if generation in forms and _normalized(shown) in (_normalized(text) for text in forms[generation][2]):
            return mode
    return None


def spellings(mode, generation):
    _command, token, texts = POWER_MODES[mode][generation]
    return ", ".join((token,) + texts)


def read_power_mode(client, system, generation):
    """Current mode (one of POWER_MODES), its text as printed, and the supported tokens; fails with the listing
    when the current-mode attribute is missing or its value is not a mode of ``generation``."""
    text = client.run(["lspwrmgmt", "-m", system, "-r", "sys"])
    rows = parse_listing(text)
    row = rows[0] if len(rows) == 1 else {}
    if CURRENT_MODE_ATTRIBUTE not in row:
        raise HmcOutputError("lspwrmgmt -m %s -r sys did not report %s (attributes: %s), so the current power mode "
                             "cannot be compared: %r"
                             % (system, CURRENT_MODE_ATTRIBUTE, ", ".join(row) or "none", text), output=text)
    shown = row[CURRENT_MODE_ATTRIBUTE]
    current = recognise(shown, generation)
    if current is None:
        known = "; ".join("%s: %s" % (mode, spellings(mode, generation)) for mode in modes_of(generation))
        raise HmcOutputError("lspwrmgmt -m %s -r sys reports %s=%r, which is not a %s power mode this module knows "
                             "(%s), so it cannot tell whether a change is needed: %r"
                             % (system, CURRENT_MODE_ATTRIBUTE, shown, generation,
                                known, text), output=text)
    supported = as_list(row.get(SUPPORTED_MODES_ATTRIBUTE)) if SUPPORTED_MODES_ATTRIBUTE in row else None
    return {"current": current, "shown": shown, "supported": supported}
