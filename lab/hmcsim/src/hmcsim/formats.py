"""HMC text formats: F1 listings, F2/F3 `-F` listings and `attr=value` records (`-i`, `--filter`).

See hmc-cli-facts.md section 0. One generic quoting rule serves both directions: a pair (F1) or a value (F2)
is wrapped in double quotes when it contains the separator, a double quote or a newline, and inner double
quotes are doubled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_]+")


class RecordError(ValueError):
    """Configuration data (`-i`/`--filter`) that cannot be parsed."""


def quote_if_needed(text: str, separator: str) -> str:
    if separator in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def render_pairs(row: Mapping[str, str]) -> str:
    """F1: `attr=value` pairs joined by commas, quoting a whole pair when needed."""
    return ",".join(quote_if_needed(f"{name}={value}", ",") for name, value in row.items())


def render_values(row: Mapping[str, str], names: Iterable[str], delimiter: str, missing: str) -> str:
    """F2: the requested values only, joined by the delimiter the caller used between names."""
    return delimiter.join(quote_if_needed(str(row.get(name, missing)), delimiter) for name in names)


@dataclass(frozen=True)
class FieldSelection:
    """What `-F` asked for: attribute names, the delimiter between them, and the names as typed (F3 header)."""

    names: tuple[str, ...]
    delimiter: str
    header_text: str


def parse_field_selection(spec: str) -> FieldSelection:
    """Split `-F name,lpar_id` / `-F name:state` / `-F "name state"` into names and the delimiter.

    The delimiter is whatever separates the first two names [V-3p]; a single name has the default `,`.
    """
    names = ATTRIBUTE_NAME.findall(spec)
    separators = [s for s in ATTRIBUTE_NAME.split(spec) if s]
    delimiter = separators[0] if separators else ","
    if len(names) > 1 and separators and len(set(separators)) != 1:
        raise RecordError(f"mixed delimiters in {spec!r}")
    return FieldSelection(tuple(names), delimiter, spec)


@dataclass(frozen=True)
class RecordItem:
    """One `attr=value`, `attr+=value` or `attr-=value` element of configuration data."""

    name: str
    operator: str  # "=", "+=" or "-="
    value: str


_ITEM = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(\+=|-=|=)(.*)$", re.DOTALL)


def split_record(text: str) -> list[str]:
    """Split configuration data on commas outside double quotes; `""` inside quotes is a literal quote.

    Accepts the pair-quoted form the HMC documents (`"a=x,y"`) and the value-quoted form the IBM collection
    emits (`a="x,y"`): quotes only group characters, wherever they are.
    """
    items: list[str] = []
    current: list[str] = []
    in_quotes = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            if in_quotes and text[index + 1 : index + 2] == '"':
                current.append('"')
                index += 2
                continue
            in_quotes = not in_quotes
        elif char == "," and not in_quotes:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    if in_quotes:
        raise RecordError("unbalanced double quotes")
    items.append("".join(current))
    return items


def parse_record(text: str) -> list[RecordItem]:
    """Parse `-i` data into items, keeping order (a later item for the same name wins where it matters)."""
    if not text.strip():
        raise RecordError("no attributes were given")
    items = []
    for raw in split_record(text):
        match = _ITEM.match(raw)
        if not match:
            raise RecordError(f"{raw.strip()!r} is not of the form attribute=value")
        items.append(RecordItem(match.group(1), match.group(2), match.group(3)))
    return items


def split_list_value(value: str) -> list[str]:
    """A list-valued attribute (`io_slots`, `power_ctrl_lpar_ids`...) as elements; `none` is the empty list."""
    if value in ("", "none"):
        return []
    return [v for v in value.split(",") if v != ""]


def join_list_value(elements: list[str]) -> str:
    return ",".join(elements) if elements else "none"
