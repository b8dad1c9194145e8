# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""1,000 hostile partition/system/profile names through the HMC modules.

Each name is given to hmc_lpar_state (system, partition and profile all named by it) and hmc_lpar_procs (profile
in a ``-i`` record) against a fake HMC that *knows* objects of that name, so valid names go all the way to
mutating commands. Every command line the client would send is then executed by a real bash with stub
functions for the HMC commands, which print the arguments they received: each hostile name must arrive as one
unchanged argument (or, inside ``-i``, as one unchanged pair), nothing else may run. A name that cannot be an HMC
name must fail with a message naming the rule, before any command is sent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import random
import shlex
import subprocess

import pytest

from ansible_collections.rocketce.power.plugins.module_utils import hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_client import build_command_line
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import format_record, parse_listing
from ansible_collections.rocketce.power.plugins.modules import hmc_lpar_procs, hmc_lpar_state
from ansible_collections.rocketce.power.tests.unit.plugins.modules.case_runner import HMC_CONNECTION, call_module

PIECES = [
    "'", '"', "''", '""', ";", "&&", "||", "|", "&", ">", ">>", "<", "2>&1", "$(touch {canary})", "`touch {canary}`",
    "${IFS}", "$HOME", "$((1+1))", "*", "?", "[a-z]", "~", "!", "!!", "#", "\\", "\\n", "{a,b}", ",", "=", " ",
    "  ", "-o start", "--filter", "lpar_names=x", '"name=x,y"', "a=b,c=d", "%s", "%n", "..", "/", "./", "-",
    "\n", "\r", "\t", "\x00", "\x1b[31m", "\x7f", "é", "名", "\u202e", "ai-lpar01", "lpar 01", "HSCL8012",
    "No results were found.", "x" * 50,
]
MUTATING = {"chsysstate", "chsyscfg", "optmem", "chpwrmgmt", "chhwres"}
RULE_WORDS = ("control character", "non-ASCII", "leading or trailing blanks", "must not be empty", "characters long")


def hostile_names(count, canary):
    rng = random.Random(4242)
    names = []
    while len(names) < count:
        parts = [rng.choice(PIECES).replace("{canary}", canary) for _piece in range(rng.randint(1, 5))]
        if rng.random() < 0.7:
            parts.insert(rng.randrange(len(parts) + 1), "lpar")
        names.append("".join(parts))
    return names


def f2_value(value):
    return '"%s"' % value.replace('"', '""') if ("," in value or '"' in value) else value


class KnowingHmc:
    """A fake HMC whose only system, partition and profile are all called ``name``; records command lines."""

    def __init__(self, name):
        self.name = name
        self.lines = []
        self.argvs = []
        self.state = "Not Activated"
        # The profile as the HMC holds it: a change is read back (hmc_lpar_procs re-reads the profile).
        self.profile = [("proc_mode", "shared"), ("min_procs", "1"), ("desired_procs", "4"), ("max_procs", "8"),
                        ("sharing_mode", "uncap")]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def clock(self):
        return 0.0

    def sleep(self, seconds):
        pass

    def run(self, argv, mutating=False):
        argv = [str(piece) for piece in argv]
        line = build_command_line(argv)
        # The line as the HMC's shell splits it must be exactly the argv: every piece one word, unchanged.
        assert shlex.split(line) == ["LC_ALL=en_US"] + argv
        assert mutating == (argv[0] in MUTATING)
        self.lines.append(line)
        self.argvs.append(argv)
        name = self.name
        if argv[:3] == ["lssyscfg", "-r", "sys"]:
            return format_record([("name", name), ("type_model", "9105-42A"), ("serial_num", "78C4A21"),
                                  ("state", "Operating"), ("dynamic_platform_optimization_capable", "1")]) + "\n"
        assert argv[argv.index("-m") + 1] == name
        if argv[:3] == ["lssyscfg", "-r", "lpar"] and "-F" in argv:
            return "%s,%s\n" % (f2_value(name), self.state)
        if argv[:3] == ["lssyscfg", "-r", "lpar"]:
            return format_record([("name", name), ("lpar_id", "3"), ("lpar_env", "aixlinux"), ("state", self.state),
                                  ("default_profile", name), ("curr_profile", name), ("rmc_state", "inactive")]) + "\n"
        if argv[:3] == ["lssyscfg", "-r", "prof"]:
            return format_record([("name", name), ("lpar_name", name), ("lpar_id", "3")] + self.profile) + "\n"
        if argv[0] == "chsysstate":
            assert argv[argv.index("-f") + 1] == name
            self.state = "Running"
            return ""
        if argv[0] == "chsyscfg":
            [record] = parse_listing(argv[argv.index("-i") + 1])
            assert record["name"] == name and record["lpar_name"] == name
            self.profile = [(key, record.get(key, value)) for key, value in self.profile]
            return ""
        if argv[:3] == ["lshwres", "-r", "proc"]:
            return ""
        raise AssertionError("unexpected command %r" % (argv,))


def bash_arguments(lines, commands):
    """Run ``lines`` in bash with stub functions for ``commands``; the argument lists each stub received."""
    stubs = "".join("%s() { printf '%%s\\0' \"$@\"; printf '\\1'; }\n" % command for command in sorted(commands))
    script = "set -u\n" + stubs + "\n".join(lines) + "\n"
    output = subprocess.run(["bash", "--norc", "--noprofile", "-s"], input=script.encode(), capture_output=True,
                            timeout=120, check=True).stdout
    calls = output.split(b"\x01")[:-1]
    return [[arg.decode("utf-8", "surrogateescape") for arg in call.split(b"\0")[:-1]] for call in calls]


def test_1000_hostile_names_are_rejected_or_passed_as_data(monkeypatch, tmp_path):
    canary = str(tmp_path / "pwned")
    names = hostile_names(1000, canary)
    assert len(set(names)) > 900
    rejected = passed = 0
    all_lines, all_argvs = [], []
    for name in names:
        for module, params in ((hmc_lpar_state, {"system": name, "name": name, "profile": name}),
                               (hmc_lpar_procs, {"system": name, "name": name, "profile": name, "procs": 4})):
            fake = KnowingHmc(name)
            monkeypatch.setattr(hmc_module, "hmc_client_from_module", lambda ansible_module, fake=fake: fake)
            result = call_module(module, dict(HMC_CONNECTION, **params), monkeypatch)
            if result["failed"]:
                assert not fake.lines, "a rejected name reached the HMC: %r" % (name,)
                assert any(word in result["msg"] for word in RULE_WORDS), result["msg"]
                rejected += 1
            else:
                assert result["changed"] is True
                passed += 1
                all_lines.extend(fake.lines)
                all_argvs.extend(fake.argvs)
    print("hostile names: %d module runs rejected, %d passed as data" % (rejected, passed))
    assert rejected + passed == 2000
    assert rejected > 100 and passed > 100
    mutating = [argv for argv in all_argvs if argv[0] in MUTATING]
    assert len(mutating) == passed, "every accepted name led to exactly one mutating command"

    received = bash_arguments(all_lines, set(argv[0] for argv in all_argvs))
    assert received == [argv[1:] for argv in all_argvs]
    assert not os.path.exists(canary), "a hostile name was executed by the shell"


@pytest.mark.parametrize("piece", ["\n", "\r", "\x00", "\x1b"])
def test_command_builder_refuses_control_characters_even_without_validation(piece):
    with pytest.raises(ValueError, match="control character"):
        build_command_line(["lssyscfg", "-r", "lpar", "-m", "sys" + piece + "x"])


def test_command_builder_refuses_non_commands():
    for command in ["/usr/bin/id", "ls;id", "LC_ALL=C", "", "Lssyscfg"]:
        with pytest.raises(ValueError):
            build_command_line([command, "-r", "sys"])
