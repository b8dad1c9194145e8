"""Text filters allowed after a pipe in the HMC shell: grep, sed (s, d, p, q), head, tail, wc.

Each takes (argv, stdin text) and returns (stdout, stderr, exit status) like the GNU tool, for the options
HMC users put after `lssyscfg ... |`. POSIX basic regular expressions are translated to Python's syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable

POSIX_CLASSES = {
    "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:alnum:]": "a-zA-Z0-9", "[:upper:]": "A-Z", "[:lower:]": "a-z",
    "[:space:]": " \\t\\n\\r\\f\\v", "[:blank:]": " \\t", "[:punct:]": "!-/:-@\\[-`{-~", "[:xdigit:]": "0-9A-Fa-f",
}


class FilterError(Exception):
    pass


def _escape_in_brackets(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[")


def posix_to_python(pattern: str, extended: bool) -> str:
    """Translate a POSIX BRE/ERE into a Python regex (bracket expressions, \\( \\) \\{ \\} \\| \\+ \\?)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "[":
            end = index + 1
            if end < len(pattern) and pattern[end] == "^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            while end < len(pattern) and pattern[end] != "]":
                if pattern.startswith("[:", end):
                    close = pattern.find(":]", end)
                    end = close + 2 if close >= 0 else end + 1
                else:
                    end += 1
            body = pattern[index + 1 : end]
            pieces = re.split(r"(\[:[a-z]+:\])", body)
            converted = "".join(
                POSIX_CLASSES.get(piece, "") if piece.startswith("[:") else _escape_in_brackets(piece)
                for piece in pieces
            )
            out.append("[" + converted + "]")
            index = end + 1
            continue
        if char == "\\" and index + 1 < len(pattern):
            following = pattern[index + 1]
            if following in "<>":
                out.append(r"\b")
            elif not extended and following in "(){}|+?":
                out.append(following)
            else:
                out.append("\\" + following)
            index += 2
            continue
        if not extended and char in "(){}|+?":
            out.append("\\" + char)
        elif not extended and char == "*" and (not out or out[-1] in ("^", "(")):
            out.append(r"\*")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _short_flags(argv: list[str], with_value: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """getopt-style: combined flags (-iv), values attached (-n5) or separate (-n 5), `--` ends options."""
    flags: dict[str, list[str]] = {}
    rest: list[str] = []
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1 and not arg[1:].isdigit():
            position = 1
            while position < len(arg):
                flag = arg[position]
                if flag in with_value:
                    value = arg[position + 1 :]
                    if not value:
                        index += 1
                        if index >= len(argv):
                            raise FilterError(f"option requires an argument -- '{flag}'")
                        value = argv[index]
                    flags.setdefault(flag, []).append(value)
                    break
                flags.setdefault(flag, []).append("")
                position += 1
        else:
            rest.append(arg)
        index += 1
    return flags, rest


def grep(argv: list[str], stdin: str) -> tuple[str, str, int]:
    try:
        flags, rest = _short_flags(argv, {"e", "m"})
        patterns = flags.get("e") or ([rest.pop(0)] if rest else [])
        if not patterns:
            raise FilterError("Usage: grep [OPTION]... PATTERNS [FILE]...")
        if rest:
            return "", f"grep: {rest[0]}: No such file or directory\n", 2
        if "F" in flags:
            regexes = [re.escape(p) for p in patterns]
        else:
            regexes = [posix_to_python(p, extended="E" in flags) for p in patterns]
        if "w" in flags:
            regexes = [rf"(?<!\w)(?:{r})(?!\w)" for r in regexes]
        if "x" in flags:
            regexes = [rf"^(?:{r})$" for r in regexes]
        compiled = re.compile("|".join(f"(?:{r})" for r in regexes), re.IGNORECASE if "i" in flags else 0)
    except (FilterError, re.error) as exc:
        return "", f"grep: {exc}\n", 2
    invert = "v" in flags
    selected = [line for line in _lines(stdin) if bool(compiled.search(line)) != invert]
    if "m" in flags:
        selected = selected[: int(flags["m"][-1])]
    status = 0 if selected else 1
    if "q" in flags:
        return "", "", status
    if "c" in flags:
        return f"{len(selected)}\n", "", status
    return _join(selected), "", status


_SED_ADDRESS = re.compile(r"^(\d+|\$|/(?:[^/\\]|\\.)*/)?(?:,(\d+|\$|/(?:[^/\\]|\\.)*/))?")


def _sed_commands(script: str, extended: bool) -> list[tuple]:
    commands = []
    for raw in re.split(r"[;\n]", script):
        text = raw.strip()
        if not text:
            continue
        match = _SED_ADDRESS.match(text)
        first, second = match.group(1), match.group(2)
        command = text[match.end() :].strip()
        if not command:
            raise FilterError(f"-e expression #1, char {len(text)}: missing command")
        addresses = [_sed_address(a, extended) for a in (first, second) if a is not None]
        if command[0] == "s" and len(command) > 1:
            delimiter = command[1]
            parts = re.split(rf"(?<!\\){re.escape(delimiter)}", command[2:])
            if len(parts) < 3:
                raise FilterError(f"-e expression #1, char {len(text)}: unterminated `s' command")
            pattern, replacement, options = parts[0], parts[1], parts[2]
            regex = re.compile(posix_to_python(pattern, extended), re.IGNORECASE if "I" in options.upper() else 0)
            python_replacement = re.sub(r"\\(\d)", r"\\g<\1>", replacement.replace("\\&", "\0"))
            python_replacement = python_replacement.replace("&", r"\g<0>").replace("\0", "&")
            commands.append(("s", addresses, regex, python_replacement, "g" in options, "p" in options))
        elif command in {"d", "p", "q"}:
            commands.append((command, addresses))
        else:
            raise FilterError(f"-e expression #1, char {len(text)}: unknown command: `{command[0]}'")
    return commands


def _sed_address(text: str, extended: bool):
    if text.startswith("/"):
        return re.compile(posix_to_python(text[1:-1], extended))
    return text


def _address_matches(address, number: int, last: bool, line: str) -> bool:
    if address == "$":
        return last
    if isinstance(address, str):
        return number == int(address)
    return bool(address.search(line))


def sed(argv: list[str], stdin: str) -> tuple[str, str, int]:
    try:
        flags, rest = _short_flags(argv, {"e"})
        scripts = flags.get("e") or ([rest.pop(0)] if rest else [])
        if not scripts:
            raise FilterError("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
        if rest:
            return "", f"sed: can't read {rest[0]}: No such file or directory\n", 2
        commands = _sed_commands("\n".join(scripts), extended="E" in flags or "r" in flags)
    except (FilterError, re.error) as exc:
        return "", f"sed: {exc}\n", 1
    quiet = "n" in flags
    lines = _lines(stdin)
    output: list[str] = []
    ranges: dict[int, bool] = {}
    for number, original in enumerate(lines, start=1):
        line = original
        last = number == len(lines)
        deleted = False
        stop = False
        for position, command in enumerate(commands):
            addresses = command[1]
            if len(addresses) == 2:
                active = ranges.get(position, False)
                if not active and _address_matches(addresses[0], number, last, line):
                    ranges[position] = active = True
                elif active and _address_matches(addresses[1], number, last, line):
                    ranges[position] = False
                    active = True
                selected = active
            else:
                selected = not addresses or _address_matches(addresses[0], number, last, line)
            if not selected:
                continue
            if command[0] == "s":
                _, _, regex, replacement, every, print_it = command
                line, count = regex.subn(replacement, line, count=0 if every else 1)
                if count and print_it:
                    output.append(line)
            elif command[0] == "d":
                deleted = True
                break
            elif command[0] == "p":
                output.append(line)
            elif command[0] == "q":
                stop = True
                break
        if not deleted and not quiet:
            output.append(line)
        if stop:
            break
    return _join(output), "", 0


def _count(argv: list[str], name: str) -> tuple[int, bool]:
    """-n N, -n +N (tail), -N; returns (count, from_start)."""
    flags, rest = _short_flags(argv, {"n"})
    rest = [a for a in rest if not (a.startswith("-") and a[1:].isdigit())]
    value = flags["n"][-1] if "n" in flags else next((a[1:] for a in argv[1:] if a[1:].isdigit()), "10")
    from_start = value.startswith("+")
    digits = value.lstrip("+-")
    if not digits.isdigit():
        raise FilterError(f"{name}: invalid number of lines: '{value}'")
    if rest:
        raise FilterError(f"{name}: cannot open '{rest[0]}' for reading: No such file or directory")
    return int(digits), from_start


def head(argv: list[str], stdin: str) -> tuple[str, str, int]:
    try:
        count, _ = _count(argv, "head")
    except FilterError as exc:
        return "", f"{exc}\n", 1
    return _join(_lines(stdin)[:count]), "", 0


def tail(argv: list[str], stdin: str) -> tuple[str, str, int]:
    try:
        count, from_start = _count(argv, "tail")
    except FilterError as exc:
        return "", f"{exc}\n", 1
    lines = _lines(stdin)
    selected = lines[max(count - 1, 0) :] if from_start else (lines[-count:] if count else [])
    return _join(selected), "", 0


def wc(argv: list[str], stdin: str) -> tuple[str, str, int]:
    flags, rest = _short_flags(argv, set())
    if rest:
        return "", f"wc: {rest[0]}: No such file or directory\n", 1
    counts = {"l": stdin.count("\n"), "w": len(stdin.split()), "c": len(stdin.encode()), "m": len(stdin)}
    wanted = [f for f in "lwmc" if f in flags] or ["l", "w", "c"]
    if len(wanted) == 1:
        return f"{counts[wanted[0]]}\n", "", 0
    return " ".join(f"{counts[f]:7d}" for f in wanted) + "\n", "", 0


FILTERS: dict[str, Callable[[list[str], str], tuple[str, str, int]]] = {
    "grep": grep,
    "egrep": lambda argv, stdin: grep(["grep", "-E", *argv[1:]], stdin),
    "sed": sed,
    "head": head,
    "tail": tail,
    "wc": wc,
}
