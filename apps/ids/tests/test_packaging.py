"""The serving install the role makes on hosts matches what the tests here ran with."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_role_pins_every_serving_dependency_at_the_controller_version():
    defaults = yaml.safe_load((REPO / "roles/ids_app/defaults/main.yml").read_text())
    pins = dict(req.lower().split("==") for req in defaults["ids_app_requirements"])
    project = tomllib.loads((REPO / "apps/ids/pyproject.toml").read_text())["project"]
    assert set(pins) == {_name(dep) for dep in project["dependencies"]}
    constraints = {}
    for line in (REPO / "lab/requirements/constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            constraints[_name(name)] = version.strip()
    for name, version in pins.items():
        assert constraints.get(name) == version, f"{name}: role pins {version}, controller has {constraints.get(name)}"


def test_serving_modules_do_not_import_training_libraries():
    """Hosts get no torch/sklearn/matplotlib/pandas: the modules the service loads must not need them."""
    serving = ["api", "client", "cli", "data", "model", "preprocessing", "schema", "server", "serving", "settings"]
    heavy = re.compile(r"^\s*(import|from)\s+(torch|sklearn|matplotlib|pandas|tqdm)\b", re.MULTILINE)
    package = REPO / "apps/ids/src/rocketce_ids"
    for module in serving:
        source = (package / f"{module}.py").read_text()
        assert not heavy.search(source), f"{module}.py imports a training library"
