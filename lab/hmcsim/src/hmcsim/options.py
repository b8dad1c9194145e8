"""HMC command options: `-m SYS`, `--filter "..."`, `-F [names]`, flags; any order, last one wins."""

from __future__ import annotations

from dataclasses import dataclass

from .messages import message


class HmcError(Exception):
    """An HMC error: the text goes to stdout and the command exits with `status` (facts doc F5)."""

    def __init__(self, text: str, status: int = 1):
        super().__init__(text)
        self.text = text
        self.status = status


def fail(key: str, **fields: object) -> HmcError:
    return HmcError(message(key, **fields))


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]  # spellings; the first is the key in the parsed result
    value: str = "required"  # "required", "optional" (like -F) or "flag"


def parse_options(argv: list[str], options: list[Option]) -> dict[str, str | bool | None]:
    """Parse argv[1:] into {canonical name: value}; unknown options and stray words are usage errors."""
    by_name = {name: option for option in options for name in option.names}
    parsed: dict[str, str | bool | None] = {}
    index = 1
    while index < len(argv):
        word = argv[index]
        option = by_name.get(word)
        if option is None:
            raise fail("usage_invalid_option", option=word)
        key = option.names[0]
        if option.value == "flag":
            parsed[key] = True
            index += 1
            continue
        following = argv[index + 1] if index + 1 < len(argv) else None
        takes_next = following is not None and not (following.startswith("-") and following in by_name)
        if option.value == "required":
            if following is None or not takes_next:
                raise fail("usage_missing_value", option=word)
            parsed[key] = following
            index += 2
        else:  # optional value
            parsed[key] = following if takes_next else None
            index += 2 if takes_next else 1
    return parsed


def require(parsed: dict, key: str) -> str:
    value = parsed.get(key)
    if value is None or value is True:
        raise fail("usage_missing_option", option=key)
    return str(value)


def choice(parsed: dict, key: str, allowed: set[str], required: bool = True) -> str | None:
    value = parsed.get(key)
    if value is None:
        if required:
            raise fail("usage_missing_option", option=key)
        return None
    if value not in allowed:
        raise fail("usage_bad_value", option=key, value=value)
    return str(value)


def exclusive(parsed: dict, a: str, b: str) -> None:
    if a in parsed and b in parsed:
        raise fail("usage_conflict", a=a, b=b)
