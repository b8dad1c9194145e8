"""rocketce.power as a user gets it: `ansible-galaxy collection build`, install of the tarball, `ansible-doc`.

The collection's files (git's view: tracked, or new and not ignored) are copied to a temporary directory together
with the debris a checkout collects (ansible-test output, bytecode, tool caches, an older tarball), built there,
and the tarball must hold exactly the collection's files. The tarball is installed into a temporary collections
path, and ansible-doc, seeing only that path (no ansible.cfg, no site-packages collections), must list every
module and plugin of the source tree and render each one from the installed copy. Offline, about 10 s.

Run: .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/integration/test_collection_install.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections" / "ansible_collections" / "rocketce" / "power"
BIN = Path(sys.executable).parent
# plugins/<dir> -> ansible-doc --type; doc_fragments and module_utils are not plugins ansible-doc shows.
PLUGIN_TYPES = {"modules": "module", "inventory": "inventory", "lookup": "lookup", "filter": "filter",
                "test": "test", "callback": "callback", "connection": "connection", "action": None,
                "doc_fragments": None, "module_utils": None}
# Files that plugins/<dir> may hold and that are no plugin of their own (filter and test files define several).
MULTI_PLUGIN_TYPES = {"filter", "test"}
# What a checkout collects and a build must leave out (galaxy.yml build_ignore plus ansible-galaxy's defaults).
DEBRIS = ["tests/output/.tmp/delegation/python3.11/bin/python", "tests/output/junit/python3.11-sanity.xml",
          "plugins/modules/__pycache__/smt.cpython-311.pyc", "plugins/module_utils/numa.pyc",
          "__pycache__/conftest.cpython-311.pyc", ".pytest_cache/v/cache/lastfailed", ".ruff_cache/CACHEDIR.TAG",
          "tests/unit/.pytest_cache/README.md", "rocketce-power-0.0.1.tar.gz", "roles.retry"]


def collection_files() -> list[str]:
    listed = subprocess.run(["git", "-C", str(COLLECTION), "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z", "."], capture_output=True, text=True, check=True).stdout
    files = sorted({name for name in listed.split("\0") if name and (COLLECTION / name).is_file()})
    assert "galaxy.yml" in files and "meta/runtime.yml" in files, files
    return files


def run(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False, timeout=120)
    assert result.returncode == 0, f"{' '.join(argv)}: rc {result.returncode}\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(tarball, collections path with the tarball installed, env that sees only that path)."""
    tmp = tmp_path_factory.mktemp("collection")
    source = tmp / "src" / "ansible_collections" / "rocketce" / "power"
    for name in collection_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(COLLECTION / name, source / name)
    for name in DEBRIS:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("debris that must not be shipped\n")

    empty_config = tmp / "ansible.cfg"
    empty_config.write_text("")
    install = tmp / "install"
    env = dict(os.environ)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(empty_config),
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
        "ANSIBLE_COLLECTIONS_PATH": str(install),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    dist = tmp / "dist"
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(dist)], env, cwd=source)
    version = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["version"]
    tarball = dist / f"rocketce-power-{version}.tar.gz"
    assert tarball.is_file(), sorted(p.name for p in dist.iterdir())
    run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(install), str(tarball)],
        env, cwd=tmp)
    return tarball, install, env


def source_plugins() -> dict[str, set[str]]:
    """ansible-doc type -> plugin names, from the source tree's plugins/ directories."""
    found: dict[str, set[str]] = {}
    for directory in sorted(p for p in (COLLECTION / "plugins").iterdir() if p.is_dir()):
        assert directory.name in PLUGIN_TYPES, f"plugins/{directory.name}: add its ansible-doc type to PLUGIN_TYPES"
        doc_type = PLUGIN_TYPES[directory.name]
        if doc_type:
            found[doc_type] = {p.stem for p in directory.glob("*.py") if p.stem != "__init__"}
    assert found.get("module"), "no modules found in the source tree"
    return found


def test_tarball_holds_exactly_the_collection_files(installed):
    tarball, _, _ = installed
    with tarfile.open(tarball) as archive:
        members = sorted(m.name for m in archive.getmembers() if m.isfile())
    expected = sorted({name for name in collection_files() if name != "galaxy.yml"} | {"MANIFEST.json", "FILES.json"})
    assert members == expected, {"extra": sorted(set(members) - set(expected)),
                                 "missing": sorted(set(expected) - set(members))}


def test_installed_manifest_is_the_galaxy_metadata(installed):
    _, install, _ = installed
    manifest = json.loads((install / "ansible_collections" / "rocketce" / "power" / "MANIFEST.json").read_text())
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    info = manifest["collection_info"]
    for key in ("namespace", "name", "version", "license", "repository", "documentation", "issues", "dependencies"):
        assert info[key] == galaxy[key], key


@pytest.fixture(scope="module")
def listings(installed):
    """ansible-doc type -> FQCNs that `ansible-doc -l` shows for rocketce.power, seeing only the installed copy."""
    _, install, env = installed
    return {doc_type: sorted(json.loads(run([str(BIN / "ansible-doc"), "-t", doc_type, "-l", "--json",
                                             "rocketce.power"], env, cwd=install)))
            for doc_type in source_plugins()}


def test_ansible_doc_lists_every_plugin_from_the_installed_copy(listings):
    for doc_type, names in source_plugins().items():
        listed = {fqcn.removeprefix("rocketce.power.") for fqcn in listings[doc_type]}
        if doc_type in MULTI_PLUGIN_TYPES:
            assert listed, f"ansible-doc lists no {doc_type} plugin of rocketce.power"
        else:
            assert listed == names, f"{doc_type}: listed {sorted(listed)}, source has {sorted(names)}"


def test_ansible_doc_renders_every_plugin_from_the_installed_copy(installed, listings):
    _, install, env = installed
    installed_root = (install / "ansible_collections" / "rocketce" / "power").resolve()
    for doc_type, fqcns in listings.items():
        docs = json.loads(run([str(BIN / "ansible-doc"), "-t", doc_type, "--json", *fqcns], env, cwd=install))
        assert sorted(docs) == fqcns
        for fqcn, data in docs.items():
            doc = data["doc"]
            assert doc.get("short_description") and doc.get("description"), fqcn
            assert Path(doc["filename"]).resolve().is_relative_to(installed_root), (fqcn, doc["filename"])
            if doc_type == "module":
                assert data.get("examples"), f"{fqcn}: no EXAMPLES"
                assert data.get("return"), f"{fqcn}: no RETURN"
        text = run([str(BIN / "ansible-doc"), "-t", doc_type, *fqcns], env, cwd=install)
        for fqcn in fqcns:
            assert f"> {doc_type.upper()} {fqcn}" in text, f"{fqcn} not rendered:\n{text[:2000]}"
        assert "[WARNING]" not in text and "[ERROR]" not in text, text
