"""The HMC's restricted shell, simulated: a bash-like parser and an interpreter that never runs a real program.

Exec requests arrive as one string (what `ssh hscroot@hmc 'cmd'` or paramiko `exec_command` sends), which the
HMC hands to rbash. This module parses that string with bash's quoting rules (single quotes, double quotes with
backslash escapes, backslashes, `$VAR`), splits it into lists (`;`, `&&`, `||`, newlines) and pipelines (`|`),
and runs each word list against the simulated commands. Anything rbash refuses (a `/` in a command name, output
redirection, `cd`, `exec`, changing PATH) is refused with rbash's wording; command substitution is refused
outright, so a `$(...)` inside a name is data when quoted and an error when not, never a process.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import filters
from .messages import message

RESTRICTED_VARIABLES = {"PATH", "SHELL", "ENV", "BASH_ENV"}
OPERATORS = ["&&", "||", ">>", ">|", ">&", "&>", "<>", "<<", "|", ";", "&", ">", "<", "(", ")"]
REDIRECTIONS = {">>", ">|", ">&", "&>", "<>", "<<", ">", "<"}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ShellSyntaxError(Exception):
    """Maps to `rbash: -c: line 1: ...`, exit 2."""


class Refused(Exception):
    """An rbash refusal or expansion error: message on stderr, exit status."""

    def __init__(self, text: str, status: int = 1):
        super().__init__(text)
        self.text = text
        self.status = status


@dataclass(frozen=True)
class VarRef:
    """A parameter expansion, resolved when its command runs (so `cmd; echo $?` sees cmd's status)."""

    name: str
    quoted: bool


@dataclass
class Word:
    parts: list[str | VarRef]
    assignment_ok: bool = True  # the `NAME=` part, if any, was unquoted

    def resolve(self, variables: dict[str, str]) -> str:
        return "".join(p if isinstance(p, str) else variables.get(p.name, "") for p in self.parts)

    def vanishes(self, variables: dict[str, str]) -> bool:
        """Only unquoted expansions that are empty: bash drops such a word entirely."""
        return all(isinstance(p, VarRef) and not p.quoted for p in self.parts) and not self.resolve(variables)

    @property
    def literal(self) -> str:
        return "".join(p if isinstance(p, str) else "" for p in self.parts)


@dataclass
class Token:
    kind: str  # "word" or "op"
    value: str  # the operator, or the word's literal text (for messages)
    word: Word | None = None
    fd: str | None = None  # redirection with a leading fd number, e.g. "2" in 2>&1


@dataclass
class Redirect:
    fd: str | None
    op: str
    target: Word


@dataclass
class SimpleCommand:
    assignments: list[tuple[str, Word]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)

    def argv(self, variables: dict[str, str]) -> list[str]:
        return [w.resolve(variables) for w in self.words if not w.vanishes(variables)]


@dataclass
class Pipeline:
    connector: str  # how it joins the previous pipeline: ";", "&&" or "||" (";" for the first)
    commands: list[SimpleCommand]


def tokenize(line: str) -> list[Token]:
    """Bash-style word splitting and quote removal with parameter expansion; no globbing, no substitution."""
    tokens: list[Token] = []
    index = 0
    length = len(line)
    while index < length:
        char = line[index]
        if char in " \t":
            index += 1
            continue
        if char == "\n":
            tokens.append(Token("op", ";"))
            index += 1
            continue
        if char == "#":
            end = line.find("\n", index)
            index = length if end < 0 else end
            continue
        fd_match = re.match(r"\d+(?=[<>])", line[index:])
        operator = next((op for op in OPERATORS if line.startswith(op, index)), None)
        if fd_match:
            index += len(fd_match.group(0))
            operator = next(op for op in OPERATORS if line.startswith(op, index))
            tokens.append(Token("op", operator, fd=fd_match.group(0)))
            index += len(operator)
            continue
        if operator:
            tokens.append(Token("op", operator))
            index += len(operator)
            continue
        word, index = _read_word(line, index)
        tokens.append(Token("word", word.literal, word=word))
    return tokens


def _read_word(line: str, index: int) -> tuple[Word, int]:
    parts: list[str | VarRef] = []
    unquoted_prefix: list[str] | None = []  # plain characters before the first quote/escape/expansion
    length = len(line)
    while index < length:
        char = line[index]
        if char in " \t\n" or any(line.startswith(op, index) for op in OPERATORS):
            break
        if char == "\\":
            if index + 1 < length and line[index + 1] == "\n":
                index += 2  # line continuation
                continue
            parts.append(line[index + 1 : index + 2])
            index += 2
            if unquoted_prefix is not None and "=" not in unquoted_prefix:
                unquoted_prefix = None
            continue
        if char == "'":
            end = line.find("'", index + 1)
            if end < 0:
                raise ShellSyntaxError("unexpected EOF while looking for matching `''")
            parts.append(line[index + 1 : end])
            index = end + 1
        elif char == '"':
            quoted_parts, index = _read_double_quoted(line, index + 1)
            parts.extend(quoted_parts)
        elif char in "$`":
            ref, index = _expansion(line, index, quoted=False)
            parts.append(ref)
        else:
            parts.append(char)
            if unquoted_prefix is not None:
                unquoted_prefix.append(char)
            index += 1
            continue
        if unquoted_prefix is not None and "=" not in unquoted_prefix:
            unquoted_prefix = None  # a quote or expansion before any `=`: not an assignment
    assignment_ok = unquoted_prefix is not None and "=" in unquoted_prefix
    return Word(parts, assignment_ok=assignment_ok), index


def _read_double_quoted(line: str, index: int) -> tuple[list[str | VarRef], int]:
    parts: list[str | VarRef] = []
    while index < len(line):
        char = line[index]
        if char == '"':
            return parts or [""], index + 1
        if char == "\\" and index + 1 < len(line) and line[index + 1] in '$`"\\\n':
            if line[index + 1] != "\n":
                parts.append(line[index + 1])
            index += 2
        elif char in "$`":
            ref, index = _expansion(line, index, quoted=True)
            parts.append(ref)
        else:
            parts.append(char)
            index += 1
    raise ShellSyntaxError("unexpected EOF while looking for matching `\"'")


def _expansion(line: str, index: int, quoted: bool) -> tuple[str | VarRef, int]:
    """`$NAME`, `${NAME}`, `$?`, `$$`; command substitution (`$(...)`, backquotes, `$((...))`) is refused."""
    if line[index] == "`" or line.startswith("$(", index):
        end = len(line) if line[index] == "`" else _matching_paren(line, index + 1)
        snippet = line[index : end + 1].split("\n", maxsplit=1)[0]
        raise Refused(message("rbash_substitution", text=snippet), 1)
    following = line[index + 1 : index + 2]
    if following == "{":
        end = line.find("}", index)
        if end < 0:
            raise ShellSyntaxError("unexpected EOF while looking for matching `}'")
        name = line[index + 2 : end]
        if not NAME.fullmatch(name) and name not in {"?", "$"}:
            raise Refused(f"rbash: ${{{name}}}: bad substitution", 1)
        return VarRef(name, quoted), end + 1
    if following and following in "?$#0":
        return VarRef(following, quoted), index + 2
    match = NAME.match(line, index + 1)
    if match:
        return VarRef(match.group(0), quoted), match.end()
    return "$", index + 1  # a lone dollar is literal, as in bash


def _matching_paren(line: str, index: int) -> int:
    depth = 0
    for position in range(index, len(line)):
        if line[position] == "(":
            depth += 1
        elif line[position] == ")":
            depth -= 1
            if depth == 0:
                return position
    return len(line) - 1


def _split_assignment(word: Word) -> tuple[str, Word] | None:
    if not word.assignment_ok:
        return None
    position = word.parts.index("=")
    name = "".join(str(p) for p in word.parts[:position])
    if not NAME.fullmatch(name):
        return None
    return name, Word(word.parts[position + 1 :] or [""])


def parse(line: str) -> list[Pipeline]:
    tokens = tokenize(line)
    pipelines: list[Pipeline] = []
    connector = ";"
    commands: list[SimpleCommand] = []
    current = SimpleCommand()
    index = 0

    def close_command(op: str) -> None:
        nonlocal current
        if not current.words and not current.assignments and not current.redirects:
            raise ShellSyntaxError(f"syntax error near unexpected token `{op}'")
        commands.append(current)
        current = SimpleCommand()

    while index < len(tokens):
        token = tokens[index]
        if token.kind == "word":
            assert token.word is not None
            assignment = _split_assignment(token.word) if not current.words else None
            if assignment:
                current.assignments.append(assignment)
            else:
                current.words.append(token.word)
            index += 1
            continue
        op = token.value
        if op in REDIRECTIONS:
            if index + 1 >= len(tokens) or tokens[index + 1].kind != "word":
                raise ShellSyntaxError("syntax error near unexpected token `newline'")
            target = tokens[index + 1].word
            assert target is not None
            current.redirects.append(Redirect(token.fd, op, target))
            index += 2
            continue
        if op in {"(", ")"}:
            raise ShellSyntaxError(f"syntax error near unexpected token `{op}'")
        if op == "|":
            close_command(op)
        else:  # ; && || &
            if not current.words and not current.assignments and not current.redirects and not commands:
                if op == ";" and (index == len(tokens) - 1 or tokens[index + 1].value == ";"):
                    index += 1  # trailing or repeated newline
                    continue
                raise ShellSyntaxError(f"syntax error near unexpected token `{op}'")
            close_command(op)
            pipelines.append(Pipeline(connector, commands))
            commands = []
            connector = ";" if op in {";", "&"} else op
        index += 1
    if current.words or current.assignments or current.redirects:
        commands.append(current)
    elif commands:
        raise ShellSyntaxError("syntax error: unexpected end of file")
    if commands:
        pipelines.append(Pipeline(connector, commands))
    elif connector in {"&&", "||"}:
        raise ShellSyntaxError("syntax error: unexpected end of file")
    return pipelines


@dataclass
class Outcome:
    stdout: str = ""
    stderr: str = ""
    status: int = 0
    argvs: list[list[str]] = field(default_factory=list)


HmcRunner = Callable[[list[str]], tuple[str, int]]


class RestrictedShell:
    """Runs one command line; `run_hmc(argv)` executes an HMC command and returns (stdout, status)."""

    def __init__(self, run_hmc: HmcRunner, hmc_commands: set[str], user: str = "hscroot"):
        self.run_hmc = run_hmc
        self.hmc_commands = hmc_commands
        self.variables = {"HOME": f"/home/{user}", "USER": user, "LOGNAME": user, "SHELL": "/bin/rbash",
                          "PATH": "/usr/hmcrbin", "?": "0", "$": "4242", "0": "rbash"}

    def run(self, line: str) -> Outcome:
        outcome = Outcome()
        try:
            pipelines = parse(line)
        except ShellSyntaxError as exc:
            return Outcome(stderr=message("rbash_syntax", detail=exc) + "\n", status=2)
        except Refused as exc:
            return Outcome(stderr=exc.text + "\n", status=exc.status)
        for pipeline in pipelines:
            if pipeline.connector == "&&" and outcome.status != 0:
                continue
            if pipeline.connector == "||" and outcome.status == 0:
                continue
            try:
                stdout, stderr, status = self._pipeline(pipeline, outcome.argvs)
            except _Exit as leave:
                outcome.status = leave.status
                break
            outcome.stdout += stdout
            outcome.stderr += stderr
            outcome.status = status
            self.variables["?"] = str(status)
        return outcome

    def _pipeline(self, pipeline: Pipeline, argvs: list[list[str]]) -> tuple[str, str, int]:
        data = ""
        errors = ""
        status = 0
        for command in pipeline.commands:
            argv = command.argv(self.variables)
            argvs.append(argv)
            stdout, stderr, status = self._simple(command, argv, data)
            data = stdout
            errors += stderr
        return data, errors, status

    def _simple(self, command: SimpleCommand, argv: list[str], stdin: str) -> tuple[str, str, int]:
        merge_stderr = False
        to_stderr = False
        for redirect in command.redirects:
            target = redirect.target.resolve(self.variables)
            if redirect.op in {">&", "<&"} and (target.isdigit() or target == "-"):
                if redirect.fd == "2" and target == "1":
                    merge_stderr = True
                elif redirect.fd in (None, "1") and target == "2":
                    to_stderr = True
                continue
            if redirect.op in {"<", "<<"}:
                return "", message("rbash_no_file", name=target) + "\n", 1
            return "", message("rbash_redirect", target=target) + "\n", 1
        for name, _value in command.assignments:
            if name in RESTRICTED_VARIABLES:
                return "", message("rbash_readonly", name=name) + "\n", 1
        if not argv:
            self.variables.update({name: value.resolve(self.variables) for name, value in command.assignments})
            return "", "", 0
        try:
            stdout, stderr, status = self._dispatch(argv, stdin)
        except Refused as exc:
            stdout, stderr, status = "", exc.text + "\n", exc.status
        if merge_stderr:
            stdout, stderr = stdout + stderr, ""
        if to_stderr:
            stdout, stderr = "", stderr + stdout
        return stdout, stderr, status

    def _dispatch(self, argv: list[str], stdin: str) -> tuple[str, str, int]:
        name = argv[0]
        if "/" in name:
            raise Refused(message("rbash_slash", name=name), 1)
        if name in self.hmc_commands:
            stdout, status = self.run_hmc(argv)
            return stdout, "", status
        if name in filters.FILTERS:
            return filters.FILTERS[name](argv, stdin)
        builtin = getattr(self, f"_builtin_{name}", None) if NAME.fullmatch(name) else None
        if builtin is not None:
            return builtin(argv)
        if name == ":":
            return "", "", 0
        raise Refused(message("rbash_not_found", name=name), 127)

    # ---- builtins (bash's, as far as a restricted HMC session uses them)
    def _builtin_echo(self, argv: list[str]) -> tuple[str, str, int]:
        words = argv[1:]
        newline = True
        if words and words[0] == "-n":
            newline = False
            words = words[1:]
        return " ".join(words) + ("\n" if newline else ""), "", 0

    def _builtin_true(self, argv: list[str]) -> tuple[str, str, int]:
        return "", "", 0

    def _builtin_false(self, argv: list[str]) -> tuple[str, str, int]:
        return "", "", 1

    def _builtin_pwd(self, argv: list[str]) -> tuple[str, str, int]:
        return self.variables["HOME"] + "\n", "", 0

    def _builtin_exit(self, argv: list[str]) -> tuple[str, str, int]:
        status = int(argv[1]) % 256 if len(argv) > 1 and argv[1].isdigit() else int(self.variables["?"])
        raise _Exit(status)

    def _builtin_cd(self, argv: list[str]) -> tuple[str, str, int]:
        raise Refused(message("rbash_restricted", name="cd"), 1)

    def _builtin_exec(self, argv: list[str]) -> tuple[str, str, int]:
        raise Refused(message("rbash_restricted", name="exec"), 1)

    def _builtin_set(self, argv: list[str]) -> tuple[str, str, int]:
        if "+r" in argv:
            raise Refused("rbash: set: +r: invalid option", 2)
        return "", "", 0

    def _builtin_export(self, argv: list[str]) -> tuple[str, str, int]:
        for item in argv[1:]:
            name = item.split("=", 1)[0]
            if name in RESTRICTED_VARIABLES:
                raise Refused(message("rbash_readonly", name=name), 1)
            if "=" in item:
                self.variables[name] = item.split("=", 1)[1]
        return "", "", 0

    def _builtin_unset(self, argv: list[str]) -> tuple[str, str, int]:
        for name in argv[1:]:
            if name in RESTRICTED_VARIABLES:
                raise Refused(f"rbash: unset: {name}: cannot unset: readonly variable", 1)
            self.variables.pop(name, None)
        return "", "", 0


class _Exit(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status
