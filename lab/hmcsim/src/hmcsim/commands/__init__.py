"""The HMC commands the simulator answers: name -> function(context, argv) -> stdout text."""

from __future__ import annotations

from collections.abc import Callable

from .common import Context
from .config import chhwres, chsyscfg, migrlpar
from .dpo import lsmemopt, optmem
from .hmc import lshmc
from .listing import lshwres, lssyscfg
from .power import chpwrmgmt, chsysstate, lspwrmgmt
from .refcode import lsrefcode

HMC_COMMANDS: dict[str, Callable[[Context, list[str]], str]] = {
    "lssyscfg": lssyscfg,
    "lshwres": lshwres,
    "lsmemopt": lsmemopt,
    "optmem": optmem,
    "chsysstate": chsysstate,
    "chsyscfg": chsyscfg,
    "chhwres": chhwres,
    "migrlpar": migrlpar,
    "lspwrmgmt": lspwrmgmt,
    "chpwrmgmt": chpwrmgmt,
    "lshmc": lshmc,
    "lsrefcode": lsrefcode,
}

__all__ = ["HMC_COMMANDS", "Context"]
