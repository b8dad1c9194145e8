"""The model file: the default lab model's shape, and clear errors for wrong models."""

from __future__ import annotations

from pathlib import Path

import pytest
from hmcsim import affinity
from hmcsim.cli import main
from hmcsim.model import ModelError, load_model
from hmcsim.numa import numa_view


def test_default_lab_model(capsys):
    path = Path(__file__).resolve().parents[2] / "hmc" / "model.yml"
    model = load_model(path)
    s1024 = model.system("p10-s1024-lab")
    assert (s1024.type_model, s1024.topology.sockets, s1024.topology.chips_per_socket) == ("9105-42A", 2, 2)
    assert s1024.topology.cores_per_chip == 12, "24-core DCM = 2 chips x 12 cores"
    assert model.system("9105-42A*78C4A21") is s1024, "-m also accepts type-model*serial"
    assert model.system("e1080-lab").type_model == "9080-HEX"
    envs = [lpar.env for lpar in s1024.lpars]
    assert envs.count("vioserver") == 2
    ai1 = s1024.lpar_by_name("ai-lpar01")
    assert ai1.held().proc_mode == "shared" and ai1.held().procs == 12
    assert len({chunk.chip for chunk in ai1.placement if chunk.cores}) == 4, "spread over all four chips"
    assert affinity.lpar_score(s1024, ai1.placement) < 50
    assert len(numa_view(s1024, ai1)["nodes"]) == 4
    assert main(["check-model", str(path)]) == 0
    assert "OK" in capsys.readouterr().out


def _break_placement(model):
    model["systems"][0]["lpars"][2]["placement"][0]["cores"] = 3


def _overcommit(model):
    model["systems"][0]["lpars"][4]["placement"] = [{"chip": 1, "cores": 8, "memory_mb": 163840}]


def _bad_profile(model):
    model["systems"][0]["lpars"][3]["profiles"][0]["desired_procs"] = 20


def _unknown_key(model):
    model["systems"][0]["lpars"][0]["colour"] = "blue"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_break_placement, "ai-lpar01: placement holds 13 cores"),
        (_overcommit, "chip 1 is overcommitted"),
        (_bad_profile, "ai-lpar02 profile default_profile: bad_range"),
        (_unknown_key, "colour"),
    ],
)
def test_wrong_models_are_refused_with_the_reason(write_model, change, reason):
    with pytest.raises(ModelError, match=reason):
        load_model(write_model(change=change))


def test_numactl_format_of_the_numa_view():
    from hmcsim.numa import numactl_hardware  # noqa: PLC0415

    model = load_model(Path(__file__).resolve().parents[2] / "hmc" / "model.yml")
    s1024 = model.system("p10-s1024-lab")
    text = numactl_hardware(numa_view(s1024, s1024.lpar_by_name("ai-lpar02")), s1024.topology.chips_per_socket)
    lines = text.splitlines()
    assert lines[0] == "available: 2 nodes (0-1)"
    assert lines[1] == "node 0 cpus:", "memory-only node: nothing after the colon"
    assert lines[4] == "node 1 cpus: " + " ".join(str(cpu) for cpu in range(64))
    assert lines[5] == "node 1 size: 98304 MB"
    assert lines[-3:] == ["node    0    1", "   0:   10   20", "   1:   20   10"]


@pytest.mark.parametrize(
    ("variant", "system", "physical"),
    [
        ("s1024-16core", "s1024-16core", ("2", "2", "8")),
        ("s1024-24core", "s1024-24core", ("2", "2", "12")),
        ("s1024-ambiguous", "s1024-ambiguous", ("2", "2", "6")),
        ("power9", "p9-s924", ("2", "1", "12")),
    ],
)
def test_lscpu_format_shows_the_physical_topology(variant, system, physical):
    """`hmcsim numa --format lscpu`: what sizing reads inside an LPAR (lpar facts 1.5), from the model topology."""
    from hmcsim.numa import lscpu_text  # noqa: PLC0415

    model = load_model(Path(__file__).resolve().parents[2] / "hmc" / "variants" / f"{variant}.yml")
    machine = model.system(system)
    view = numa_view(machine, machine.lpar_by_name("ai-lpar01"))
    fields = dict(line.split(":", 1) for line in lscpu_text(view).splitlines())
    fields = {name: value.strip() for name, value in fields.items()}
    assert (fields["Physical sockets"], fields["Physical chips"], fields["Physical cores/chip"]) == physical
    assert fields["Hypervisor vendor"] == "pHyp" and fields["Model name"].startswith(machine.processor)
    assert int(fields["NUMA node(s)"]) == len(view["nodes"])
    assert int(fields["CPU(s)"]) == sum(len(node["cpus"]) for node in view["nodes"])
