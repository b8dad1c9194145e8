"""Shared pieces of the HMC commands: the context, system/partition lookup, filters and listings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..formats import RecordError, parse_field_selection, render_pairs, render_values, split_record
from ..messages import NOT_APPLICABLE_VALUE, message
from ..model import Lpar, System
from ..options import HmcError, Option, fail
from ..state import Store

LISTING_OPTIONS = [
    Option(("-F",), "optional"),
    Option(("--header",), "flag"),
    Option(("--filter",)),
    Option(("--help",), "flag"),
]


@dataclass
class Context:
    store: Store
    now: float
    user: str = "hscroot"


def find_system(ctx: Context, name: str) -> System:
    system = ctx.store.system(name)
    if system is None:
        raise fail("sys_not_found", name=name)
    return system


def require_operating(system: System) -> None:
    if system.state != "Operating":
        raise fail("sys_wrong_state", sys=system.name, state=system.state)


def find_lpar(system: System, name: str | None = None, lpar_id: str | None = None) -> Lpar:
    if lpar_id is not None:
        lpar = system.lpar_by_id(int(lpar_id)) if lpar_id.isdigit() else None
        if lpar is None:
            raise fail("lpar_id_not_found", lpar_id=lpar_id)
        return lpar
    assert name is not None
    lpar = system.lpar_by_name(name)
    if lpar is None:
        raise fail("lpar_not_found", name=name)
    return lpar


def lpar_from_options(system: System, parsed: dict, name_key: str = "-n", id_key: str = "--id") -> Lpar:
    if name_key in parsed and id_key in parsed:
        raise fail("usage_conflict", a=name_key, b=id_key)
    if id_key in parsed:
        return find_lpar(system, lpar_id=str(parsed[id_key]))
    if name_key in parsed:
        return find_lpar(system, name=str(parsed[name_key]))
    raise fail("usage_missing_option", option=name_key)


def parse_filter(text: str, allowed: set[str]) -> dict[str, list[str]]:
    """`lpar_names=a,b,profile_names=p`: a word without `=` continues the previous filter's value list."""
    try:
        items = split_record(text)
    except RecordError as exc:
        raise fail("bad_config_data", detail=str(exc)) from exc
    filters: dict[str, list[str]] = {}
    current: str | None = None
    for item in items:
        if "=" in item:
            name, value = item.split("=", 1)
            name = name.strip()
            if name not in allowed:
                raise fail("invalid_filter", name=name)
            current = name
            # a quoted multi-value filter ("lpar_names=a,b") arrives as one item; names never contain commas
            filters.setdefault(name, []).extend(value.split(","))
        elif current is None:
            raise fail("invalid_filter", name=item)
        else:
            filters[current].append(item)
    return filters


def select_lpars(system: System, filters: dict[str, list[str]]) -> list[Lpar]:
    """Partitions matching lpar_names / lpar_ids filters; an unknown name is HSCL8012 (facts doc 3.1)."""
    lpars = list(system.lpars)
    if "lpar_names" in filters:
        for name in filters["lpar_names"]:
            if system.lpar_by_name(name) is None:
                raise fail("lpar_not_found", name=name)
        wanted = set(filters["lpar_names"])
        lpars = [lpar for lpar in lpars if lpar.name in wanted]
    if "lpar_ids" in filters:
        ids = set()
        for value in filters["lpar_ids"]:
            if not value.isdigit():
                raise fail("usage_bad_value", option="lpar_ids", value=value)
            ids.add(int(value))
        lpars = [lpar for lpar in lpars if lpar.id in ids]
    return lpars


def listing(rows: Iterable[dict[str, str]], attributes: Iterable[str], parsed: dict) -> str:
    """Render rows as F1, or F2/F3 when -F is given; validate -F names; F4 when nothing matches."""
    rows = list(rows)
    valid = list(attributes)
    if "-F" in parsed:
        spec = parsed["-F"]
        try:
            selection = parse_field_selection(spec) if spec else None
        except ValueError as exc:
            raise fail("bad_config_data", detail=str(exc)) from exc
        names = list(selection.names) if selection else valid
        delimiter = selection.delimiter if selection else ","
        for name in names:
            if name not in valid:
                raise fail("invalid_attribute", name=name)
        if not rows:
            return message("no_results") + "\n"
        lines = []
        if parsed.get("--header"):
            lines.append(delimiter.join(names))
        lines.extend(render_values(row, names, delimiter, NOT_APPLICABLE_VALUE) for row in rows)
        return "\n".join(lines) + "\n"
    if not rows:
        return message("no_results") + "\n"
    return "\n".join(render_pairs(row) for row in rows) + "\n"


def id_list(values: list[int]) -> str:
    return ",".join(str(v) for v in values) if values else "none"


def names_or_ids(system: System, parsed: dict, names_key: str, ids_key: str) -> list[int]:
    """`-p a,b` or `--id 1,2` (lsmemopt/optmem) as partition ids; unknown names are HSCL8012."""
    if names_key in parsed and ids_key in parsed:
        raise fail("usage_conflict", a=names_key, b=ids_key)
    result: list[int] = []
    if names_key in parsed:
        for name in str(parsed[names_key]).split(","):
            result.append(find_lpar(system, name=name).id)
    elif ids_key in parsed:
        for value in str(parsed[ids_key]).split(","):
            result.append(find_lpar(system, lpar_id=value.strip()).id)
    return sorted(set(result))


def help_requested(parsed: dict, usage: str) -> str | None:
    return usage + "\n" if parsed.get("--help") else None


__all__ = ["HmcError", "Context"]
