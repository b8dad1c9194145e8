"""The ansible-core versions the collection claims are the versions CI tests, from one list.

lab/requirements/ansible-core-matrix.txt is the source of truth: meta/runtime.yml's requires_ansible, the roles'
min_ansible_version, the execution environment's ansible-core, the controller's pin and the Makefile's
core-matrix targets must all agree with it.
"""

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections" / "ansible_collections" / "rocketce" / "power"
MATRIX_FILE = REPO / "lab" / "requirements" / "ansible-core-matrix.txt"
PIN = re.compile(r"^ansible-core==(\d+\.\d+\.\d+)$")


def read_pins(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [PIN.match(line).group(1) for line in lines if line and not line.startswith("#") and PIN.match(line)]


def matrix() -> list[str]:
    versions = read_pins(MATRIX_FILE)
    assert versions, f"no ansible-core==X.Y.Z line in {MATRIX_FILE}"
    return versions


def next_minor(version: str) -> str:
    parsed = Version(version)
    return f"{parsed.major}.{parsed.minor + 1}.0"


def test_matrix_is_sorted_without_duplicates():
    versions = matrix()
    assert versions == sorted(set(versions), key=Version), versions


def test_matrix_has_no_line_it_ignores():
    # A typo (ansible_core, ">=", a missing patch level) would silently drop a version from CI.
    for line in MATRIX_FILE.read_text().splitlines():
        stripped = line.strip()
        assert not stripped or stripped.startswith("#") or PIN.match(stripped), f"unreadable line: {line!r}"


def test_runtime_requires_exactly_the_tested_range():
    versions = matrix()
    runtime = yaml.safe_load((COLLECTION / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] == f">={versions[0]},<{next_minor(versions[-1])}"


def test_controller_pin_is_the_newest_tested_version():
    controller = read_pins(REPO / "lab" / "requirements" / "constraints.txt")
    assert controller == [matrix()[-1]]


@pytest.mark.parametrize("meta", sorted(REPO.glob("roles/*/meta/main.yml")), ids=lambda p: p.parts[-3])
def test_role_min_ansible_version_is_the_floor(meta):
    galaxy_info = yaml.safe_load(meta.read_text())["galaxy_info"]
    assert str(galaxy_info["min_ansible_version"]) == matrix()[0]


def test_execution_environment_installs_a_tested_version():
    ee = yaml.safe_load((COLLECTION / "execution-environment.yml").read_text())
    spec = ee["dependencies"]["ansible_core"]["package_pip"]
    assert spec.startswith("ansible-core"), spec
    allowed = SpecifierSet(spec[len("ansible-core"):])
    versions = matrix()
    assert all(allowed.contains(v) for v in versions), (spec, versions)
    floor = Version(versions[0])
    below = f"{floor.major}.{floor.minor}.{floor.micro - 1}" if floor.micro else f"{floor.major}.{floor.minor - 1}.99"
    assert not allowed.contains(below), f"{spec} admits {below}, older than the tested floor"
    assert not allowed.contains(next_minor(versions[-1])), f"{spec} admits an untested minor"


def test_make_test_runs_every_other_version_in_a_venv_of_its_own():
    # The controller's version is tested in .venv by `make unit` and `make sanity`; every other one by core-matrix.
    planned = subprocess.run(["make", "-n", "-C", str(REPO), "test"], capture_output=True, text=True, check=True).stdout
    in_own_venv = set(re.findall(r"/\.venv/core/(\d+\.\d+\.\d+)/bin:", planned))
    assert in_own_venv == set(matrix()[:-1])
    assert "lab/setup/sanity.sh" in planned and "tests/unit" in planned
