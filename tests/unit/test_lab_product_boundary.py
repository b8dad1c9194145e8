"""The product never references the lab: site.yml and playbooks/ import, copy, template or run nothing under lab/
(the lab differs from production only by inventory variables and stand-ins the lab itself installs)."""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PRODUCT = [REPO / "site.yml", *sorted((REPO / "playbooks").rglob("*.yml")), *sorted((REPO / "playbooks").rglob("*"))]
PRODUCT_FILES = sorted({p for p in PRODUCT if p.is_file()})
# A path into the lab tree, however it is spelled (lab/..., ../lab/..., {{ playbook_dir }}/../lab/...), or a lab
# tool. inventories/lab/ is an inventory like any other and may be named.
LAB_REFERENCE = re.compile(r"(?<!inventories/)(?<![\w.-])lab/|\bhmcsim\b|\blabctl\b|\blabhost\b|rocketce-lab/")


def test_there_are_product_files_to_check():
    assert REPO / "site.yml" in PRODUCT_FILES
    assert len(PRODUCT_FILES) > 5


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_product_file_references_the_lab(path):
    hits = [f"{n}: {line.strip()}" for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
            if LAB_REFERENCE.search(line.split("#", 1)[0] if path.suffix in (".yml", ".yaml") else line)]
    assert not hits, f"{path.relative_to(REPO)} references the lab:\n" + "\n".join(hits)


def test_site_yml_imports_only_product_playbooks():
    plays = yaml.safe_load((REPO / "site.yml").read_text())
    imported = [play["ansible.builtin.import_playbook"] for play in plays]
    assert imported and all(p.startswith("playbooks/") and (REPO / p).is_file() for p in imported), imported
    assert not any("lab" in Path(p).name for p in imported), imported


def test_the_check_catches_a_lab_reference():
    # The pattern the test relies on, on lines like the one playbooks/lab_numa_view.yml had.
    assert LAB_REFERENCE.search("        src: ../lab/numaview/numactl")
    assert LAB_REFERENCE.search("argv: [hmcsim, numa, --state-dir, x]")
    assert LAB_REFERENCE.search("src: '{{ playbook_dir }}/../lab/standins/numactl.py'")
    assert not LAB_REFERENCE.search("ansible-playbook site.yml -i inventories/lab/hosts.yml")
    assert not LAB_REFERENCE.search("    - role: jupyterlab/tasks")
