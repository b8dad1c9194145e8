"""The execution environment for AWX / AAP: `ansible-builder create` renders a build context that would build.

collections/ansible_collections/rocketce/power/execution-environment.yml is rendered as a release does it: the
collection tarball from `ansible-galaxy collection build` beside the file, then `ansible-builder create`. The
context must name the EE's base image and ansible-core (a range holding every ansible-core the collection claims),
carry the very tarball that was built, and the steps of the image build that need no network are replayed from
the context as the Containerfile runs them: its galaxy stage (`ansible-galaxy collection install -r
requirements.yml` in /build, which is the context's _build/) installs the collection at the version galaxy.yml
says, and its builder stage's introspection of the installed collections finds exactly the collection's own
Python requirements (requirements.txt) and no system packages (bindep). The image itself is built only where a
container engine runs and the base image is at hand (`test_image_builds`, skipped otherwise, saying why).

Offline, about 5 s. Run:
  .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/integration/test_execution_environment.py
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections" / "ansible_collections" / "rocketce" / "power"
EE_FILE = COLLECTION / "execution-environment.yml"
CORE_MATRIX = REPO / "lab" / "requirements" / "ansible-core-matrix.txt"
BIN = Path(sys.executable).parent


def run(argv: list[str], cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=180)
    assert result.returncode == 0, f"{' '.join(map(str, argv))}: rc {result.returncode}\n{result.stdout}{result.stderr}"
    return result.stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def galaxy_version() -> str:
    return yaml.safe_load((COLLECTION / "galaxy.yml").read_text(encoding="utf-8"))["version"]


def requirement_lines(text: str) -> list[str]:
    """Requirement specifiers of a pip requirements text, comments and blank lines dropped."""
    return sorted(line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(tmp dir with the EE file and the built tarball, the rendered context dir, the EE definition)."""
    tmp = tmp_path_factory.mktemp("ee")
    shutil.copy2(EE_FILE, tmp / EE_FILE.name)
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp)], cwd=COLLECTION)
    context = tmp / "context"
    run([str(BIN / "ansible-builder"), "create", "--file", EE_FILE.name, "--context", str(context),
         "--output-filename", "Containerfile"], cwd=tmp)
    return tmp, context, yaml.safe_load(EE_FILE.read_text(encoding="utf-8"))


def test_ee_names_the_tarball_of_this_version(rendered):
    tmp, _, ee = rendered
    tarball = f"rocketce-power-{galaxy_version()}.tar.gz"
    assert (tmp / tarball).is_file(), sorted(p.name for p in tmp.iterdir())
    assert [f["src"] for f in ee["additional_build_files"]] == [tarball], "bump the EE with galaxy.yml"
    names = [c["name"] for c in ee["dependencies"]["galaxy"]["collections"]]
    assert [Path(n).name for n in names] == [tarball], names


def test_context_holds_the_built_tarball_and_the_base_image(rendered):
    tmp, context, ee = rendered
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert f'ARG EE_BASE_IMAGE="{ee["images"]["base_image"]["name"]}"' in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile
    tarball = f"rocketce-power-{galaxy_version()}.tar.gz"
    copied = context / "_build" / "collections" / tarball
    assert copied.is_file() and sha256(copied) == sha256(tmp / tarball)
    # The galaxy stage runs in /build, a copy of _build: what the replay below relies on.
    assert "COPY _build /build\nWORKDIR /build" in containerfile, containerfile
    assert 'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' in containerfile


def test_ee_ansible_core_holds_every_core_the_collection_claims(rendered):
    _, context, ee = rendered
    spec = ee["dependencies"]["ansible_core"]["package_pip"]
    assert spec.startswith("ansible-core")
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.M).group(1)
    assert spec in refs and "ansible-runner" in refs, refs
    claimed = re.findall(r"^ansible-core==(\S+)$", CORE_MATRIX.read_text(encoding="utf-8"), re.M)
    assert claimed, CORE_MATRIX
    specifiers = SpecifierSet(spec[len("ansible-core"):])
    assert all(Version(v) in specifiers for v in claimed), (spec, claimed)


def test_galaxy_and_builder_stages_replayed_from_the_context(rendered, tmp_path):
    _, context, _ = rendered
    build = tmp_path / "build"
    shutil.copytree(context / "_build", build)  # COPY _build /build
    collections = tmp_path / "usr-share-ansible-collections"
    env = dict(os.environ, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1", ANSIBLE_COLLECTIONS_PATH=str(collections))
    env.pop("ANSIBLE_CONFIG", None)
    run([str(BIN / "ansible-galaxy"), "collection", "install", "-r", "requirements.yml", "--collections-path",
         str(collections)], cwd=build, env=env)
    manifest = collections / "ansible_collections" / "rocketce" / "power" / "MANIFEST.json"
    assert yaml.safe_load(manifest.read_text(encoding="utf-8"))["collection_info"]["version"] == galaxy_version()

    # The builder stage: introspect the installed collections (plus a user requirements.txt, if the EE has one).
    user_pip = build / "requirements.txt"
    argv = [sys.executable, str(build / "scripts" / "introspect.py"), "introspect", str(collections),
            "--write-pip", str(tmp_path / "pip.txt"), "--write-bindep", str(tmp_path / "bindep.txt")]
    if user_pip.exists():
        argv.insert(4, f"--user-pip={user_pip}")
    run(argv, cwd=build)
    expected = requirement_lines((COLLECTION / "requirements.txt").read_text(encoding="utf-8"))
    assert expected and any(line.startswith("paramiko") for line in expected), expected
    assert requirement_lines((tmp_path / "pip.txt").read_text(encoding="utf-8")) == expected
    # No system packages: introspection writes no bindep file when no collection declares one.
    bindep = tmp_path / "bindep.txt"
    assert not bindep.exists() or not bindep.read_text(encoding="utf-8").strip(), bindep.read_text(encoding="utf-8")


def _engine_and_base_image(base_image: str) -> tuple[str | None, str]:
    for engine in ("podman", "docker"):
        path = shutil.which(engine)
        if not path:
            continue
        probe = subprocess.run([path, "image", "inspect", base_image], capture_output=True, text=True, check=False,
                               timeout=30)
        if probe.returncode == 0:
            return path, ""
        return None, f"{engine} cannot show the base image {base_image}: {(probe.stderr or probe.stdout).strip()[:200]}"
    return None, "no container engine (podman, docker) on PATH"


def test_image_builds(rendered):
    _, context, ee = rendered
    base_image = ee["images"]["base_image"]["name"]
    engine, why = _engine_and_base_image(base_image)
    if engine is None:
        pytest.skip(f"image not built: {why}; the build context is tested above")
    run([engine, "build", "--pull=never" if engine.endswith("podman") else "--pull=false", "-f", "Containerfile",
         "-t", f"rocketce-power-ee:{galaxy_version()}", "."], cwd=context)
