"""The lab's ppc64_cpu and smtstate stand-ins behave like powerpc-utils (outputs, streams, exit codes, state).

They are checked against the documented powerpc-utils 1.3.13 formats and against the collection's own parser,
so the smt module reads the stand-in exactly as it reads the real tool.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STANDINS = ROOT / "lab" / "standins"
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.rocketce.power.plugins.module_utils.ppc64_cpu import parse_smt_state  # noqa: E402


@pytest.fixture
def machine(tmp_path):
    config = tmp_path / "ppc64_cpu.conf"
    config.write_text("# lab model\nthreads_per_core=8\ncores=4\n")
    env = dict(os.environ, PPC64_CPU_STANDIN_CONFIG=str(config),
               PPC64_CPU_STANDIN_STATE=str(tmp_path / "run" / "state"))

    def run(*args):
        proc = subprocess.run([sys.executable, str(STANDINS / "ppc64_cpu.py"), *args], env=env,
                              capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    run.env, run.config, run.state = env, config, tmp_path / "run" / "state"
    return run


def test_fresh_boot_has_every_thread_online(machine):
    assert machine("--smt") == (0, "SMT=8\n", "")
    assert machine("--smt", "-n") == (0, "SMT=8\n", "")
    assert machine("--threads-per-core") == (0, "Threads per core: 8\n", "")
    assert machine("--cores-present") == (0, "Number of cores present = 4\n", "")


@pytest.mark.parametrize("value,verbose,numeric", [("2", "SMT=2\n", "SMT=2\n"), ("off", "SMT is off\n", "SMT=1\n"),
                                                   ("on", "SMT=8\n", "SMT=8\n"), ("3", "SMT=3\n", "SMT=3\n")])
def test_set_then_get(machine, value, verbose, numeric):
    assert machine(f"--smt={value}") == (0, "", "")
    assert machine("--smt")[1] == verbose
    assert machine("--smt", "-n")[1] == numeric
    rc, out, err = machine("--smt", "-n")
    assert parse_smt_state(out, err, rc)["level"] == int(numeric.strip().split("=")[1])


@pytest.mark.parametrize("value", ["9", "0", "two", ""])
def test_invalid_level_is_rejected_like_the_real_tool(machine, value):
    assert machine(f"--smt={value}") == (255, f"SMT={value} is not valid\n", "")
    assert machine("--smt")[1] == "SMT=8\n"  # unchanged


def test_mixed_state_lists_core_ranges(machine):
    machine.state.parent.mkdir(parents=True)
    machine.state.write_text(json.dumps([2, 2, 4, 2]))
    rc, out, err = machine("--smt", "-n")
    assert (rc, out) == (0, "SMT=2: 0-1,3\nSMT=4: 2\n")
    assert parse_smt_state(out, err, rc) == {"capable": True, "mixed": True, "level": None,
                                             "levels": {2: "0-1,3", 4: "2"}}
    info = machine("--info")[1].splitlines()
    assert info[2] == "Core   2:   16*   17*   18*   19*   20    21    22    23"


def test_not_smt_capable(machine):
    machine.config.write_text("threads_per_core=1\ncores=4\n")
    assert machine("--smt") == (255, "", "Machine is not SMT capable\n")
    assert machine("--smt", "-n") == (255, "SMT=1\n", "")
    assert parse_smt_state("SMT=1\n", "", 255)["capable"] is False
    assert machine("--smt=2")[0] == 255


def test_unknown_option_prints_usage(machine):
    rc, out, err = machine("--frobnicate")
    assert rc == 255 and out == "" and "ppc64_cpu --smt=X" in err


def test_smtstate_load_and_save(machine, tmp_path):
    state_file = tmp_path / "smt.state"
    state_file.write_text("# This file is used by smt_init.service to restore the SMT state\nSMT_VALUE=2\n")
    wrapper = tmp_path / "ppc64_cpu"
    wrapper.write_text("#!/bin/sh\nexec {} {} \"$@\"\n".format(sys.executable, STANDINS / "ppc64_cpu.py"))
    wrapper.chmod(0o755)
    env = dict(machine.env, SMTSTATE_FILE=str(state_file), PPC64_CPU=str(wrapper))

    def smtstate(option):
        return subprocess.run(["bash", str(STANDINS / "smtstate"), option], env=env, capture_output=True,
                              text=True, check=False)

    assert smtstate("--load").returncode == 0
    assert machine("--smt")[1] == "SMT=2\n"
    machine("--smt=4")
    assert smtstate("--save").returncode == 0
    assert state_file.read_text().splitlines() == [
        "# This file is used by smt_init.service to restore the SMT state", "SMT_VALUE=4"]
    machine.state.write_text(json.dumps([2, 4, 4, 4]))  # mixed: --save keeps the file
    assert smtstate("--save").returncode == 0
    assert "SMT_VALUE=4" in state_file.read_text()
    state_file.write_text("SMT_VALUE=x\n")
    result = smtstate("--load")
    assert result.returncode == 1 and "invalid SMT_VALUE" in result.stderr
