"""lab/lab.yml validation (lab/labctl/config.py), driven by test_lab_config_cases.yml."""

import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl import config  # noqa: E402
from labctl.procs import LabError  # noqa: E402

CASES = yaml.safe_load((Path(__file__).parent / "test_lab_config_cases.yml").read_text())


@pytest.mark.parametrize("case", sorted(CASES), ids=str)
def test_lab_yml_case(case):
    spec = CASES[case]
    text = yaml.safe_dump(spec["lab"])
    if "error" not in spec:
        parsed = config.parse(text, "lab.yml")
        assert [h.name for h in parsed.hosts] == [h["name"] for h in spec["lab"]["hosts"]]
        return
    with pytest.raises(LabError) as exc:
        config.parse(text, "lab.yml")
    assert spec["error"] in str(exc.value)
    assert str(exc.value).startswith("lab.yml is invalid:")


def test_the_repository_lab_yml_is_valid_and_describes_the_demo_lab():
    spec = config.load(REPO / "lab" / "lab.yml")
    assert [(h.name, h.ssh_port, h.hmc_managed_system, h.hmc_lpar_name) for h in spec.hosts] == [
        ("ai-lpar01", 2201, "p10-s1024-lab", "ai-lpar01"),
        ("ai-lpar02", 2202, "p10-s1024-lab", "ai-lpar02"),
    ]
    assert spec.hmc is not None
    assert (spec.hmc.host, spec.hmc.port, spec.hmc.user) == ("127.0.0.1", 2222, "hscroot")
    assert (REPO / spec.hmc.model).is_file()
    assert all((REPO / playbook).is_file() for playbook in spec.provision)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hosts: [", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping at the top level"),
    ],
)
def test_unreadable_lab_yml_gets_a_clear_error(text, message):
    with pytest.raises(LabError, match=message):
        config.parse(text, "lab.yml")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(LabError, match=f"cannot read {tmp_path}/nope.yml"):
        config.load(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/var/tmp/rocketce-lab", "/state"),
        ("/var/tmp/rocketce-lab/hmc/password", "/state/hmc/password"),
        ("/var/tmp/rocketce-lab-other/x", "/var/tmp/rocketce-lab-other/x"),
        ("/srv/hmc", "/srv/hmc"),
    ],
)
def test_paths_under_the_default_state_dir_follow_rocketce_lab_state(path, expected):
    assert str(config.with_state(path, Path("/state"))) == expected
