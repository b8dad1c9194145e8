"""The AAP objects (playbooks/aap/credential_type.yml, job_templates.yml) match what playbooks/aap/gen_aap.py makes of
the playbooks' documented inputs and the HMC modules' connection spec, and the generator reads those the way the files
claim.

Run: .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/unit/test_aap_current.py  (about 2 s)
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "playbooks" / "aap" / "gen_aap.py"

_spec = importlib.util.spec_from_file_location("gen_aap", GENERATOR)
gen_aap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_aap)


def test_generated_aap_files_are_current():
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False,
                            timeout=120)
    assert result.returncode == 0, \
        f"stale, run `.venv/bin/python playbooks/aap/gen_aap.py`:\n{result.stdout}{result.stderr}"


def write_playbook(tmp_path: Path, header: str, body: str = "- name: P\n  hosts: hmc\n  tasks: []\n") -> Path:
    path = tmp_path / "playbook.yml"
    path.write_text("---\n" + header + body, encoding="utf-8")
    return path


HEADER = (
    "# A playbook.\n"
    "# Runs on the `hmc` group. Inputs, all optional:\n"
    "#   alpha_lpars    LPAR names; default: the inventory's\n"
    "#                  AI LPARs (all of them if unset)\n"
    "#   alpha_gain     points (default 5)\n"
    "#   alpha_restart  restart them (default false: report)\n"
    "#   alpha_mode     default max_perf\n"
    "# Something else, not an input.\n"
)
BODY_USING_ALL = ("- name: P\n  hosts: hmc\n  vars:\n"
                  "    x: '{{ alpha_lpars | default([]) }} {{ alpha_gain | default(5) }}"
                  " {{ alpha_restart | default(false) }} {{ alpha_mode | default(\"max_perf\") }}'\n  tasks: []\n")


def test_inputs_block_is_read_with_continuations(tmp_path):
    inputs = gen_aap.documented_inputs(write_playbook(tmp_path, HEADER, BODY_USING_ALL))
    assert [item["name"] for item in inputs] == ["alpha_lpars", "alpha_gain", "alpha_restart", "alpha_mode"]
    assert inputs[0]["description"] == "LPAR names; default: the inventory's AI LPARs (all of them if unset)"


def test_survey_question_types_follow_the_stated_default(tmp_path):
    inputs = gen_aap.documented_inputs(write_playbook(tmp_path, HEADER, BODY_USING_ALL))
    questions = {q["variable"]: q for q in map(gen_aap.survey_question, inputs)}
    types = {name: q["type"] for name, q in questions.items()}
    assert types == {"alpha_lpars": "text", "alpha_gain": "integer", "alpha_restart": "multiplechoice",
                     "alpha_mode": "text"}
    assert questions["alpha_restart"]["choices"] == ["true", "false"]
    # No defaults (they would override the inventory), none required: blank leaves the inventory's or playbook's.
    assert not any("default" in q or q["required"] for q in questions.values())


def test_an_input_the_playbook_never_uses_fails(tmp_path):
    with pytest.raises(gen_aap.GenerationError, match="documents input alpha_gain that it never uses"):
        gen_aap.documented_inputs(write_playbook(tmp_path, HEADER, BODY_USING_ALL.replace("alpha_gain", "other")))


def test_an_input_line_of_another_form_fails(tmp_path):
    header = HEADER.replace("#   alpha_gain     points", "#  alpha_gain points")
    with pytest.raises(gen_aap.GenerationError, match="input line of an unknown form"):
        gen_aap.documented_inputs(write_playbook(tmp_path, header, BODY_USING_ALL))


def test_every_hmc_playbook_input_is_a_survey_question():
    generated = yaml.safe_load((REPO / "playbooks" / "aap" / "job_templates.yml").read_text(encoding="utf-8"))
    templates = {t["playbook"]: t for t in generated["job_templates"]}
    for playbook in ("playbooks/hmc_affinity.yml", "playbooks/hmc_lpar_layout.yml"):
        header = "\n".join(gen_aap.header_lines(REPO / playbook))
        variables = [q["variable"] for q in templates[playbook]["survey_spec"]["spec"]]
        assert len(variables) >= 5 and all(f"#   {v} " in header for v in variables), (playbook, variables)
        assert templates[playbook]["credential_types"] == [gen_aap.CREDENTIAL_TYPE_NAME]
    # site.yml asks for the inputs of the playbooks it imports, and its phases as tags.
    site = templates["site.yml"]
    assert {"target_lpars", "hmc_layout_procs"} <= {q["variable"] for q in site["survey_spec"]["spec"]}
    assert site["ask_tags_on_launch"] and site["credential_types"] == [gen_aap.CREDENTIAL_TYPE_NAME, gen_aap.MACHINE]


# Ansible's collection loader is process-wide and other tests of this group install it with other paths, so what
# imports the collection through it runs in a fresh interpreter.
ISOLATED_PRELUDE = f"""
import importlib.util, re
spec_ = importlib.util.spec_from_file_location("gen_aap", {str(GENERATOR)!r})
gen_aap = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(gen_aap)
spec, docs = gen_aap._collection_imports()
"""


def run_isolated(body: str) -> None:
    result = subprocess.run([sys.executable, "-c", ISOLATED_PRELUDE + textwrap.dedent(body)], capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_credential_type_injects_the_password_through_the_modules_env_fallback():
    run_isolated("""
        cred = gen_aap.credential_type(spec, docs)
        password_env = spec["hmc_password"]["fallback"][1][0]
        assert cred["injectors"]["env"] == {password_env: "{{ hmc_password }}"}, cred["injectors"]
        secrets = [f["id"] for f in cred["inputs"]["fields"] if f.get("secret")]
        assert secrets == ["hmc_password"], secrets
        assert not any(s in value for s in secrets for value in cred["injectors"]["extra_vars"].values())
        assert cred["injectors"]["extra_vars"]["hmc_known_hosts"] == "{{ tower.filename.known_hosts }}"
    """)


def test_a_secret_without_env_fallback_fails():
    run_isolated("""
        spec = dict(spec, hmc_password={k: v for k, v in spec["hmc_password"].items() if k != "fallback"})
        try:
            gen_aap.credential_type(spec, docs)
        except gen_aap.GenerationError as error:
            assert re.search("hmc_password has no env_fallback", str(error)), error
        else:
            raise AssertionError("a secret without env_fallback was accepted")
    """)
