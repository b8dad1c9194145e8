"""Dialects and model alternatives (README "Dialects"): YAML cases in process, the three sources of a dialect and
their precedence, refusal of unknown keys and values, and switching over SSH while the simulator runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hmcsim.dialect import DIALECT_ENV, Dialect, DialectError
from hmcsim.model import ModelError, load_model
from hmcsim.testing import running_simulator
from pydantic import ValidationError

REPO = Path(__file__).resolve().parents[3]
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "dialects.yml").read_text(encoding="utf-8"))
VARIANTS = REPO / "lab" / "hmc" / "variants"


def write_dialect(state_dir: Path, dialect: dict) -> None:
    path = state_dir / "faults.yml"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump({"dialect": dialect}), encoding="utf-8")
    os.replace(tmp, path)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_dialect_case(case, sim_for, monkeypatch):
    monkeypatch.delenv(DIALECT_ENV, raising=False)
    sim = sim_for(REPO / case.get("model", "lab/hmc/model.yml"))
    if "dialect" in case:
        write_dialect(sim.state_dir, case["dialect"])
    for number, step in enumerate(case["steps"], 1):
        if "dialect" in step:
            write_dialect(sim.state_dir, step["dialect"])
        if "advance" in step:
            sim.clock.advance(step["advance"])
        if "run" not in step:
            continue
        status, out, err = sim.run(step["run"])
        where = f"step {number}: {step['run']!r} -> {status}: {out!r}{err!r}"
        assert status == step.get("status", 0), where
        assert sim.store.faults.last_error is None, sim.store.faults.last_error
        if "stdout" in step:
            assert out == step["stdout"], where
        if "lines" in step:
            assert out.splitlines() == step["lines"], where
        for text in step.get("contains", []):
            assert text in out, where
        for text in step.get("absent", []):
            assert text not in out, where


def test_every_variant_model_loads_with_a_shared_ai_lpar():
    variants = sorted(VARIANTS.glob("*.yml"))
    assert {path.stem for path in variants} >= {
        "s1024-16core", "s1024-24core", "s1024-ambiguous", "power9", "power11", "powered-off", "error-states"
    }
    for path in variants:
        model = load_model(path)
        ai = model.systems[0].lpar_by_name("ai-lpar01")
        assert ai is not None and ai.held().proc_mode == "shared", path.name
        assert len({chunk.chip for chunk in ai.placement if chunk.cores}) > 1, f"{path.name}: DPO has work to do"


@pytest.mark.parametrize(
    ("variant", "system", "installed", "cores_per_chip"),
    [
        ("s1024-16core", "s1024-16core", 32, 8),
        ("s1024-24core", "s1024-24core", 48, 12),
        ("s1024-ambiguous", "s1024-ambiguous", 24, 6),
        ("power9", "p9-s924", 24, 12),
        ("power11", "p11-s1124", 32, 8),
    ],
)
def test_installed_units_follow_the_topology(variant, system, installed, cores_per_chip, sim_for):
    sim = sim_for(VARIANTS / f"{variant}.yml")
    out = sim.ok(f"lshwres -r proc -m {system} --level sys -F installed_sys_proc_units")
    assert float(out) == installed
    assert sim.store.system(system).topology.cores_per_chip == cores_per_chip


def test_ambiguous_s1024_lists_like_a_single_24_core_dcm(sim_for, write_model):
    """One 24-core DCM or two 12-core DCMs: nothing the HMC prints tells them apart."""

    def one_dcm(model):
        model["systems"][0]["topology"] = {"sockets": 1, "chips_per_socket": 2, "cores_per_chip": 12, "smt": 8}
        for lpar in model["systems"][0]["lpars"]:
            lpar.pop("placement", None)

    two = sim_for(VARIANTS / "s1024-ambiguous.yml", "two")
    one = sim_for(write_model(yaml.safe_load((VARIANTS / "s1024-ambiguous.yml").read_text()), change=one_dcm), "one")
    for command in ("lssyscfg -r sys", "lshwres -r proc -m s1024-ambiguous --level sys",
                    "lshwres -r mem -m s1024-ambiguous --level sys"):
        assert one.ok(command) == two.ok(command), command


def test_precedence_model_then_environment_then_faults_file(sim_for, write_model, monkeypatch):
    path = write_model(change=lambda m: m.update(dialect={"power_mode_format": "display_text",
                                                          "error_wrapping": "hscl127d"}))
    monkeypatch.setenv(DIALECT_ENV, json.dumps({"error_wrapping": "none", "power_mode_attribute": "curr_power_mode"}))
    sim = sim_for(path)
    assert sim.store.dialect() == Dialect(power_mode_format="display_text", power_mode_attribute="curr_power_mode")
    write_dialect(sim.state_dir, {"power_mode_attribute": "mode"})
    assert sim.ok("lspwrmgmt -m p10-s1024-lab -r sys -F mode") == "Maximum Performance\n"
    assert sim.fail("lssyscfg -r lpar -m p10-s1024-lab --filter lpar_names=ghost").startswith("HSCL8012 ")
    (sim.state_dir / "faults.yml").unlink()
    assert sim.ok("lspwrmgmt -m p10-s1024-lab -r sys -F curr_power_mode") == "Maximum Performance\n"


def test_no_dialect_is_the_standard_behaviour(sim):
    assert sim.store.dialect() == Dialect()
    assert Dialect().model_dump() == {
        "dpo_status_names": "standard", "dpo_stale_polls": 0, "power_mode_format": "token",
        "power_mode_attribute": "curr_power_saver_mode", "error_wrapping": "none", "profile_sync": "off",
    }
    assert Dialect.model_validate(yaml.safe_load("profile_sync: off")).profile_sync == "off", "YAML 1.1 off"


@pytest.mark.parametrize(
    "dialect",
    [{"colour": "blue"}, {"dpo_status_names": "other"}, {"dpo_stale_polls": -1}, {"power_mode_format": "text"},
     {"power_mode_attribute": "Curr Mode"}, {"power_mode_attribute": "sys_name"}, {"error_wrapping": "HSCL127D"},
     {"profile_sync": True}],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()),
)
def test_unknown_dialect_keys_and_values_are_errors(dialect, tmp_path, sim_for, write_model, monkeypatch):
    monkeypatch.delenv(DIALECT_ENV, raising=False)
    with pytest.raises(ModelError, match=next(iter(dialect))):
        load_model(write_model(change=lambda m: m.update(dialect=dialect)))
    monkeypatch.setenv(DIALECT_ENV, json.dumps(dialect))
    with pytest.raises(DialectError, match=DIALECT_ENV):
        sim_for(REPO / "lab/hmc/model.yml", "env")
    monkeypatch.delenv(DIALECT_ENV)
    sim = sim_for(REPO / "lab/hmc/model.yml", "file")
    write_dialect(sim.state_dir, dialect)
    sim.ok("lssyscfg -r sys -F name")
    assert "dialect" in (sim.store.faults.last_error or ""), "a broken control file is ignored and its reason kept"
    with pytest.raises(ValidationError), running_simulator(tmp_path / "ssh", dialect=dialect):
        pytest.fail("the simulator must not start with a wrong dialect")


def test_dialect_over_ssh_and_switched_while_running(tmp_path):
    with running_simulator(tmp_path, dialect={"error_wrapping": "hscl127d"}, time_scale=0.05) as sim:
        status, out, _ = sim.run("lssyscfg -r lpar -m p10-s1024-lab --filter lpar_names=ghost")
        assert (status, out) == (1, "HSCL127D: HSCL8012 The partition named ghost was not found.\n")
        assert sim.run("lsmemopt -m p10-s1024-lab -F in_progress")[1] == "0\n"
        sim.set_dialect({"dpo_status_names": "alternate"})
        assert sim.run("lsmemopt -m p10-s1024-lab -F state,operation_id")[1] == "Not Started,0\n"
        sim.set_dialect({"error_wrapping": "none"})
        assert sim.run("lsmemopt -m p10-s1024-lab -F in_progress")[1].startswith("An invalid attribute was entered.")
        assert sim.run("lssyscfg -r lpar -m p10-s1024-lab --filter lpar_names=ghost")[1].startswith("HSCL8012 ")
        with pytest.raises(ValidationError):
            sim.set_dialect({"dpo_status_names": "bogus"})
        assert yaml.safe_load((sim.state_dir / "faults.yml").read_text())["dialect"] == {
            "error_wrapping": "none", "dpo_status_names": "alternate"
        }, "a refused dialect is not written"
