# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cores of one processor chip: the size of a NUMA-local dedicated AI LPAR (RocketCE sizing rule).

The rule of the guide is "allocate the max number of cores available on the chip". The number is read, in
this order of trust:

1. an explicit ``cores_per_chip``;
2. the LPAR side: ``lscpu`` on PowerVM prints ``Physical sockets``, ``Physical chips`` and ``Physical
   cores/chip`` from firmware (RTAS parameter 43, also ``/sys/devices/hv_24x7/interface/*``) [V];
3. the HMC side: the installed cores of the managed system (``installed_sys_proc_units``) matched against
   the model's module options (:data:`POWER_MODELS`): the (sockets x module) combinations that give exactly
   the installed core count. One combination (or several that agree on the cores per chip) gives the answer;
   several that disagree refuse - never a guess from the machine type alone.

Facts are marked as in the project's facts documents: [V] verified in a vendor source, [I] inferred (not
verified on a real system).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcParameterError

# One kind of processor module a model ships with. active_chips: chips that carry the cores (DCM 2; an eSCM
# has two chips but all active cores on one [V]); core_options: cores of one module.
ModuleKind = namedtuple("ModuleKind", "kind active_chips core_options mark")
# mark: where the facts come from ([V]/[I] per fact, see the model table in the module docs).
PowerModel = namedtuple("PowerModel", "model generation sockets modules mark")

POWER_MODELS = {
    # Power10 scale-out (type-models [V]: FW1020/FW1040 release notes). DCM core options: field-facts.md
    # ("S1024 comes with 12-, 16- or 24-core DCMs, S1022 with 12/16/20, E1050 with 12/18/24" [V Redbook]);
    # socket counts are [I].
    "9105-41B": PowerModel("S1014", "Power10", (1,), (
        ModuleKind("eSCM", 1, (4, 8), "[I]"),
        ModuleKind("DCM", 2, (24,), "[I] 24-core DCM option not verified"),
    ), "type-model [V]; module options [I]"),
    "9105-22A": PowerModel("S1022", "Power10", (1, 2), (ModuleKind("DCM", 2, (12, 16, 20), "[V]"),),
                           "type-model [V]; DCM 12/16/20 [V]; 1-2 sockets [I]"),
    "9105-22B": PowerModel("S1022s", "Power10", (1, 2), (ModuleKind("eSCM", 1, (4, 8), "[I]"),),
                           "type-model [V]; eSCM all cores on one chip [V]; 4/8 cores, 1-2 sockets [I]"),
    "9105-42A": PowerModel("S1024", "Power10", (1, 2), (ModuleKind("DCM", 2, (12, 16, 24), "[V]"),),
                           "type-model [V]; DCM 12/16/24 [V]; 1-2 sockets [I]"),
    "9786-22H": PowerModel("L1022", "Power10", (1, 2), (ModuleKind("DCM", 2, (12, 16, 20), "[I] as S1022"),),
                           "type-model [V]; modules as S1022 [I]"),
    "9786-42H": PowerModel("L1024", "Power10", (1, 2), (ModuleKind("DCM", 2, (12, 16, 24), "[I] as S1024"),),
                           "type-model [V]; modules as S1024 [I]"),
    "9028-21B": PowerModel("S1012", "Power10", (1,), (ModuleKind("eSCM", 1, (1, 4, 8), "[I]"),),
                           "type-model [V]; one eSCM of 1/4/8 cores [I]"),
    # Power10 enterprise: E1050 DCMs [V Redpaper]; E1080 SCMs of 10/12/15 cores [V], 4 per node, 1-4 nodes [I].
    "9043-MRX": PowerModel("E1050", "Power10", (2, 3, 4), (ModuleKind("DCM", 2, (12, 18, 24), "[V]"),),
                           "type-model [V]; DCM 12/18/24 [V]; 2-4 sockets [I]"),
    "9080-HEX": PowerModel("E1080", "Power10", (4, 8, 12, 16), (ModuleKind("SCM", 1, (10, 12, 15), "[V]"),),
                           "type-model [V]; SCM 10/12/15 [V]; 4 SCMs per node, 1-4 nodes [I]"),
    # Power11 (type-models [V]); no verified module options: sizing needs the LPAR side or cores_per_chip.
    "9824-22A": PowerModel("Power11 9824-22A", "Power11", (), (), "type-model [V]; module options unknown"),
    "9824-42A": PowerModel("Power11 9824-42A", "Power11", (), (), "type-model [V]; module options unknown"),
    "9080-HEU": PowerModel("Power11 9080-HEU", "Power11", (), (), "type-model [V]; module options unknown"),
}

LPAR_TOPOLOGY_KEYS = ("physical_sockets", "physical_chips", "physical_cores_per_chip")

NEEDS = ("run rocketce.power.numa_info on an LPAR of this managed system and pass its lscpu facts "
         "(physical_sockets, physical_chips, physical_cores_per_chip), or pass cores_per_chip explicitly")


class SizingError(HmcParameterError):
    """The cores per chip cannot be decided (or the given facts are not usable); the message says what is needed."""


def topology_candidates(type_model, installed_cores):
    """Every (sockets x module) combination of the model that has exactly ``installed_cores`` cores."""
    model = POWER_MODELS.get(type_model)
    if model is None or not installed_cores:
        return []
    installed = int(round(float(installed_cores)))
    candidates = []
    for module in model.modules:
        for module_cores in module.core_options:
            for sockets in model.sockets:
                if sockets * module_cores == installed and module_cores % module.active_chips == 0:
                    candidates.append({
                        "sockets": sockets, "module": module.kind, "module_cores": module_cores,
                        "cores_per_chip": module_cores // module.active_chips, "mark": module.mark,
                    })
    # Largest chips first, so messages read the same way every time.
    return sorted(candidates, key=lambda candidate: (-candidate["cores_per_chip"], candidate["sockets"]))


def lpar_cores_per_chip(topology):
    """Cores per chip from an LPAR's lscpu facts (numa_info ``topology`` or ``lscpu``); SizingError if unusable."""
    if not isinstance(topology, dict):
        raise SizingError("lpar_topology must be a dictionary with %s" % ", ".join(LPAR_TOPOLOGY_KEYS))
    value = topology.get("physical_cores_per_chip")
    try:
        cores = int(value)
    except (TypeError, ValueError):
        cores = None
    if cores is None or cores < 1 or isinstance(value, bool):
        raise SizingError("lpar_topology has no usable physical_cores_per_chip (got %r; lscpu prints 'Physical "
                          "cores/chip' only on PowerVM LPARs): %s" % (value, NEEDS))
    return cores


def _describe(candidate):
    return ("%(sockets)d x %(module_cores)d-core %(module)s = %(cores_per_chip)d cores per chip" % candidate)


def chip_sizing(type_model, installed_cores=None, lpar_topology=None, cores_per_chip=None):
    """Cores per chip and the recommended dedicated cores, with where the number came from.

    Returns a dict; ``recommended_dedicated_cores`` is None when it cannot be decided, and ``basis`` then
    says why and what is needed. :func:`require_chip_sizing` turns that into a :class:`SizingError`.
    """
    model = POWER_MODELS.get(type_model)
    candidates = topology_candidates(type_model, installed_cores)
    advice = {
        "type_model": type_model,
        "model": model.model if model else None,
        "generation": model.generation if model else None,
        "facts": model.mark if model else None,
        "installed_cores": installed_cores,
        "candidates": candidates,
        "cores_per_chip": None,
        "recommended_dedicated_cores": None,
        "source": None,
        "basis": None,
    }
    if cores_per_chip is not None:
        if int(cores_per_chip) < 1:
            raise SizingError("cores_per_chip must be at least 1, got %r" % cores_per_chip)
        advice.update(cores_per_chip=int(cores_per_chip), source="parameter",
                      basis="cores_per_chip=%d given explicitly" % int(cores_per_chip))
    elif lpar_topology is not None:
        cores = lpar_cores_per_chip(lpar_topology)
        advice.update(cores_per_chip=cores, source="lpar",
                      basis="lscpu on an LPAR of the system: %s physical sockets, %s chips per socket, %d cores "
                            "per chip" % (lpar_topology.get("physical_sockets"), lpar_topology.get("physical_chips"),
                                          cores))
    else:
        per_chip = sorted(set(candidate["cores_per_chip"] for candidate in candidates))
        if model is None:
            advice["basis"] = "no module facts for type-model %s: %s" % (type_model, NEEDS)
        elif not model.modules:
            advice["basis"] = ("no verified module options for %s (%s): %s" % (model.model, type_model, NEEDS))
        elif not installed_cores:
            advice["basis"] = ("no installed core count for this %s (not read, or not reported by the HMC): %s"
                               % (model.model, NEEDS))
        elif not candidates:
            advice["basis"] = ("%s installed cores fit no known %s module option (%s): %s"
                               % (_cores(installed_cores), model.model, _options(model), NEEDS))
        elif len(per_chip) > 1:
            advice["basis"] = ("ambiguous topology: %s installed cores on a %s can be %s: %s"
                               % (_cores(installed_cores), model.model,
                                  " or ".join(_describe(c) for c in candidates), NEEDS))
        else:
            advice.update(cores_per_chip=per_chip[0], source="hmc",
                          basis="%s installed cores on a %s: %s" % (_cores(installed_cores), model.model,
                                                                    " or ".join(_describe(c) for c in candidates)))
    advice["recommended_dedicated_cores"] = advice["cores_per_chip"]
    return advice


def require_chip_sizing(type_model, installed_cores=None, lpar_topology=None, cores_per_chip=None):
    """:func:`chip_sizing` that raises :class:`SizingError` (with what is needed) when it cannot decide."""
    advice = chip_sizing(type_model, installed_cores, lpar_topology, cores_per_chip)
    if advice["recommended_dedicated_cores"] is None:
        raise SizingError("cannot size to one chip: %s" % advice["basis"])
    return advice


def _cores(value):
    return "%d" % int(round(float(value)))


def _options(model):
    return "; ".join("%s %s cores, %s sockets" % (module.kind, "/".join(str(c) for c in module.core_options),
                                                  "/".join(str(s) for s in model.sockets))
                     for module in model.modules)
