"""Release metadata that is true: one project URL everywhere, links into the repository that resolve, a changelog
that has released the version galaxy.yml ships, licences that agree."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections" / "ansible_collections" / "rocketce" / "power"
GALAXY = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
PROJECT_URL = GALAXY["repository"]
URL = re.compile(r"https?://[^\s\"'<>`)\]|]+")
# A link into the repository's tree on the default branch, or an ansible-galaxy git source with a subdirectory
# (<url>.git#/<path>/,<branch>): the path must exist in this checkout.
TREE_LINK = re.compile(re.escape(PROJECT_URL) + r"(?:/(?:tree|blob)/main/|\.git#/)([^\s#?,]+)")


def repo_text_files() -> list[Path]:
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            capture_output=True, text=True, check=True).stdout
    files = []
    for name in listed.split("\0"):
        path = REPO / name
        if name and path.is_file() and path.stat().st_size < 1_000_000:
            files.append(path)
    return files


def urls_naming_the_project() -> dict[str, set[str]]:
    """URL -> files, for every URL in the repo's text files that names the project (rocketce-power)."""
    found: dict[str, set[str]] = {}
    for path in repo_text_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for url in URL.findall(text):
            if "rocketce-power" in url.lower():
                found.setdefault(url.rstrip(".,;:"), set()).add(str(path.relative_to(REPO)))
    return found


def test_project_url_is_a_real_repository_address():
    assert re.fullmatch(r"https://github\.com/[A-Za-z0-9-]+/rocketce-power", PROJECT_URL), PROJECT_URL


@pytest.mark.parametrize("key", ["documentation", "issues"])
def test_galaxy_urls_are_under_the_project_url(key):
    assert GALAXY[key].startswith(PROJECT_URL + "/"), (key, GALAXY[key])


def test_every_project_url_in_the_repo_is_the_same_project():
    found = urls_naming_the_project()
    assert len(found) >= 3, found  # galaxy.yml alone has three
    ours = (PROJECT_URL, PROJECT_URL + ".git")
    stray = {url: sorted(files) for url, files in found.items()
             if url not in ours and not url.startswith((PROJECT_URL + "/", PROJECT_URL + ".git#"))}
    assert not stray, f"project URLs other than {PROJECT_URL}: {stray}"


def test_links_into_the_repository_resolve():
    broken = {}
    for url, files in urls_naming_the_project().items():
        match = TREE_LINK.match(url)
        if match and not (REPO / match.group(1)).exists():
            broken[url] = sorted(files)
    assert not broken, f"links to paths that do not exist: {broken}"


def test_documentation_url_is_the_collection_docs():
    match = TREE_LINK.match(GALAXY["documentation"])
    assert match, GALAXY["documentation"]
    assert (REPO / match.group(1)).resolve() == (COLLECTION / "docs").resolve()


def _version_key(version):
    return tuple(int(p) for p in str(version).split("."))


def test_changelog_has_released_the_galaxy_version():
    changelog = yaml.safe_load((COLLECTION / "changelogs" / "changelog.yaml").read_text())
    releases = changelog.get("releases") or {}
    versions = sorted(releases, key=lambda v: tuple(int(p) for p in v.split(".")))
    if versions and _version_key(GALAXY["version"]) > _version_key(versions[-1]):
        # galaxy.yml carries the next version while its fragments accumulate (community.general's workflow);
        # it must then have something to release.
        fragments = list((COLLECTION / "changelogs" / "fragments").glob("*.y*ml"))
        assert fragments, f"galaxy.yml is at unreleased {GALAXY['version']} but no fragment describes it"
        pytest.skip(f"{GALAXY['version']} is being prepared ({len(fragments)} fragments)")
    assert str(GALAXY["version"]) in releases, f"run antsibull-changelog release for {GALAXY['version']}"
    release = releases[str(GALAXY["version"])]
    assert release.get("release_date"), release
    assert (release.get("changes") or {}).get("release_summary"), "the release has no summary"


def test_released_version_lists_every_module_and_plugin():
    """While galaxy.yml ships the latest released version, that release names every module and plugin."""
    changelog = yaml.safe_load((COLLECTION / "changelogs" / "changelog.yaml").read_text())
    versions = sorted(changelog["releases"], key=lambda v: tuple(int(p) for p in v.split(".")))
    if str(GALAXY["version"]) != versions[-1]:
        pytest.skip(f"galaxy.yml version {GALAXY['version']} is not released yet")
    announced = {"modules": set(), "inventory": set()}
    for release in changelog["releases"].values():
        announced["modules"] |= {m["name"] for m in release.get("modules") or []}
        for plugin_type, plugins in (release.get("plugins") or {}).items():
            announced.setdefault(plugin_type, set()).update(p["name"] for p in plugins)
    for directory, names in announced.items():
        present = {p.stem for p in (COLLECTION / "plugins" / directory).glob("*.py") if p.stem != "__init__"}
        assert present == names, (f"plugins/{directory} {sorted(present)} != released {sorted(names)}: add a "
                                  "version and run antsibull-changelog release")


def test_no_fragment_is_left_over_after_the_release():
    changelog = yaml.safe_load((COLLECTION / "changelogs" / "changelog.yaml").read_text())
    config = yaml.safe_load((COLLECTION / "changelogs" / "config.yaml").read_text())
    if str(GALAXY["version"]) not in changelog["releases"] or config.get("keep_fragments"):
        pytest.skip("fragments are kept or the version is not released")
    versions = sorted(changelog["releases"], key=lambda v: tuple(int(p) for p in v.split(".")))
    if str(GALAXY["version"]) != versions[-1]:
        pytest.skip("a newer version is being prepared")
    # A fragment added after the release of galaxy.yml's version would be shipped without being in the changelog.
    fragments = sorted(p.name for p in (COLLECTION / "changelogs" / "fragments").glob("*.y*ml"))
    assert not fragments, f"fragments not in any release (bump galaxy.yml's version): {fragments}"


def test_collection_and_roles_are_gpl_and_apps_apache():
    assert GALAXY["license"] == ["GPL-3.0-or-later"]
    assert (COLLECTION / GALAXY.get("license_file", "COPYING")).read_text().lstrip().startswith(
        "GNU GENERAL PUBLIC LICENSE")
    for meta in sorted(REPO.glob("roles/*/meta/main.yml")):
        assert yaml.safe_load(meta.read_text())["galaxy_info"]["license"] == "GPL-3.0-or-later", meta
    for pyproject in sorted(REPO.glob("apps/*/pyproject.toml")):
        assert tomllib.loads(pyproject.read_text())["project"]["license"] == "Apache-2.0", pyproject


def test_root_license_names_each_part_and_its_full_text():
    text = (REPO / "LICENSE").read_text()
    for part in ("GPL-3.0-or-later", "Apache-2.0", "collections/ansible_collections/rocketce/power/COPYING",
                 "roles/", "apps/"):
        assert part in text, part
    for path in re.findall(r"`([\w./-]+(?:COPYING|LICENSE[\w.-]*))`", text):
        assert (REPO / path).is_file(), f"LICENSE points at {path}, which does not exist"


def test_changelog_and_fragments_pass_antsibull_lint():
    antsibull = Path(sys.executable).parent / "antsibull-changelog"
    for argv in ([str(antsibull), "lint"], [str(antsibull), "lint-changelog-yaml", "changelogs/changelog.yaml"]):
        result = subprocess.run(argv, cwd=COLLECTION, capture_output=True, text=True, check=False)
        assert result.returncode == 0 and not result.stdout.strip(), f"{argv}: {result.stdout}{result.stderr}"


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    copy = tmp_path / "ansible_collections" / "rocketce" / "power"
    shutil.copytree(COLLECTION / "changelogs", copy / "changelogs")
    for name in ("galaxy.yml", "CHANGELOG.rst"):
        shutil.copy2(COLLECTION / name, copy / name)
    antsibull = Path(sys.executable).parent / "antsibull-changelog"
    result = subprocess.run([str(antsibull), "generate"], cwd=copy, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (copy / "CHANGELOG.rst").read_text() == (COLLECTION / "CHANGELOG.rst").read_text(), (
        "CHANGELOG.rst is stale: run antsibull-changelog generate in the collection")
