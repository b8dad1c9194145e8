"""The HMC playbooks run as AWX / AAP runs a job template: ansible-runner on a private data directory.

The directory is laid out as AWX lays it out for a job: project/ (a copy of this repository's playbooks, roles and
ansible.cfg: the project checkout), inventory/ (hosts with the HMC's address only, no credentials), env/extravars (the
survey answers to playbooks/aap/job_templates.yml's questions and the credential's extra_vars), env/envvars (the
credential's env injectors) and env/cmdline (check mode, as job type "check"). The credential is the generated
"RocketCE Power HMC" type of playbooks/aap/credential_type.yml, its injectors rendered as AWX renders them (the
known_hosts content written to a file under env/). The collection comes from ANSIBLE_COLLECTIONS_PATH, as an execution
environment provides it. Nothing but the directory is passed to ansible_runner.run(), so what is checked is what the
files say.

What an AAP admin relies on, checked from the job's events and the HMC simulator's audit log: the job ends with
playbook_on_stats and no failure, every rocketce.power HMC task reports runner_on_ok, logged in as the credential's
user with the password from the environment (no key file anywhere; a wrong password fails the first HMC task), one DPO
is started by the affinity job and none by a check job, and the password is in no event, no stdout and no artifact
file but ansible-runner's own `command` record of the job's environment (mode 0600, as AWX's is, in a private data
directory AWX deletes after the job).

Cost: three short jobs against one simulator, about 25 s. Run:
  .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/integration/test_aap_job.py
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import ansible_runner
import jinja2
import pytest
import yaml

hmcsim_testing = pytest.importorskip("hmcsim.testing", reason="needs the lab/hmcsim package in the venv")

REPO = Path(__file__).resolve().parents[2]
AAP = REPO / "playbooks" / "aap"
MUTATING = {"optmem", "chsysstate", "chsyscfg", "chpwrmgmt", "chhwres"}
HMC_TASK_PREFIX = "rocketce.power.hmc_"


def job_template(playbook: str) -> dict:
    templates = yaml.safe_load((AAP / "job_templates.yml").read_text(encoding="utf-8"))["job_templates"]
    return next(t for t in templates if t["playbook"] == playbook)


def credential_type() -> dict:
    return yaml.safe_load((AAP / "credential_type.yml").read_text(encoding="utf-8"))


def survey_extravars(template: dict, answers: dict) -> dict:
    """What AWX passes for a survey: the answers, and each unanswered question's default (the generated questions
    have none, so the inventory's hmc_affinity_poll_interval applies)."""
    assert set(answers) <= {q["variable"] for q in template["survey_spec"]["spec"]}, "answer to no question"
    values = {q["variable"]: q["default"] for q in template["survey_spec"]["spec"] if "default" in q}
    values.update(answers)
    return values


def inject(cred_type: dict, inputs: dict, env_dir: Path) -> tuple[dict, dict]:
    """(env, extra_vars) of a credential, its injectors rendered as AWX does: file templates written to files,
    whose paths the other templates see as tower.filename.<name>."""
    assert set(cred_type["inputs"]["required"]) <= set(inputs)
    render = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701  not HTML
    injectors = cred_type["injectors"]
    filenames = {}
    for key, template in injectors.get("file", {}).items():
        name = key.removeprefix("template.")
        path = env_dir / f"tmp_cred_{name}"
        path.write_text(render.from_string(template).render(**inputs), encoding="utf-8")
        path.chmod(0o600)
        filenames[name] = str(path)
    context = dict(inputs, tower={"filename": filenames})
    env = {k: render.from_string(v).render(**context) for k, v in injectors.get("env", {}).items()}
    extra_vars = {k: render.from_string(v).render(**context) for k, v in injectors.get("extra_vars", {}).items()}
    return env, extra_vars


def awx_job(root: Path, sim, playbook: str, answers: dict, password: str, check: bool = False):
    """Lay out a private data directory as AWX does for a launch of the playbook's job template, and run it."""
    template = job_template(playbook)
    assert template["credential_types"] == [credential_type()["name"]], template["credential_types"]
    private = root / "job"
    project = private / "project"
    for name in ("playbooks", "roles"):
        shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.retry"))
    shutil.copy2(REPO / "ansible.cfg", project / "ansible.cfg")
    (private / "inventory").mkdir(parents=True)
    (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"hmc": {"hosts": {
        "hmc-test": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "hmc_host": sim.host,
            "hmc_port": sim.port,
            "hmc_affinity_poll_interval": 1,
        }}}}}}), encoding="utf-8")
    env_dir = private / "env"
    env_dir.mkdir()
    cred_env, cred_extra_vars = inject(credential_type(), {
        "hmc_user": "hscroot", "hmc_password": password,
        "hmc_known_hosts": sim.known_hosts.read_text(encoding="utf-8")}, env_dir)
    extravars = dict(survey_extravars(template, answers), **cred_extra_vars)
    (env_dir / "extravars").write_text(yaml.safe_dump(extravars), encoding="utf-8")
    (env_dir / "envvars").write_text(yaml.safe_dump(dict(
        cred_env,
        ANSIBLE_CONFIG=str(project / "ansible.cfg"),
        ANSIBLE_ROLES_PATH=str(project / "roles"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),  # what the execution environment has installed
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),  # its ansible-playbook
    )), encoding="utf-8")
    if check:
        (env_dir / "cmdline").write_text("--check", encoding="utf-8")
    runner = ansible_runner.run(private_data_dir=str(private), playbook=template["playbook"], quiet=True,
                                timeout=240)
    return runner, private


def hmc_task_events(runner, kinds=("runner_on_ok", "runner_on_failed")) -> list[dict]:
    return [e for e in runner.events if e.get("event") in kinds
            and e.get("event_data", {}).get("task_action", "").startswith(HMC_TASK_PREFIX)]


def assert_secret_nowhere(runner, private: Path, secret: str):
    assert secret not in json.dumps(list(runner.events)), "the password is in a job event"
    assert secret not in runner.stdout.read(), "the password is in the job's stdout"
    artifacts = private / "artifacts"
    holding = sorted(str(p.relative_to(artifacts)) for p in artifacts.rglob("*")
                     if p.is_file() and secret in p.read_text(encoding="utf-8", errors="replace"))
    # ansible-runner records the job's environment in artifacts/<ident>/command, readable by its owner only.
    assert [Path(p).name for p in holding] == ["command"], holding
    assert stat.S_IMODE((artifacts / holding[0]).stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    with hmcsim_testing.running_simulator(tmp_path_factory.mktemp("hmcsim"), dpo_seconds=2) as sim:
        yield sim


def test_affinity_job_runs_with_the_injected_credential(simulator, tmp_path):
    before = len(simulator.audit())
    runner, private = awx_job(tmp_path, simulator, "playbooks/hmc_affinity.yml", {"target_lpars": "ai-lpar01"},
                              simulator.password)
    stdout = runner.stdout.read()
    assert runner.rc == 0 and runner.status == "successful", stdout
    stats = [e for e in runner.events if e["event"] == "playbook_on_stats"]
    assert len(stats) == 1 and runner.stats["failures"] == {} and runner.stats["changed"].get("hmc-test", 0) >= 1

    ok = hmc_task_events(runner)
    assert ok and all(e["event"] == "runner_on_ok" for e in ok), [(e["event"], e["event_data"]["task"]) for e in ok]
    for event in ok:
        args = event["event_data"]["res"].get("invocation", {}).get("module_args", {})
        if "hmc_host" in args:  # async HMC jobs report their arguments through async_status
            assert args["hmc_user"] == "hscroot" and args["hmc_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
            assert args["hmc_key_file"] is None and args["hmc_known_hosts"].startswith(str(private / "env"))
    commands = [e for e in simulator.audit()[before:] if e.get("argv")]
    assert {e["user"] for e in commands} == {"hscroot"}
    starts = [e["argv"] for e in commands if e["argv"][0] == "optmem" and "start" in e["argv"]]
    assert len(starts) == 1, starts
    assert_secret_nowhere(runner, private, simulator.password)


def test_layout_check_job_changes_nothing(simulator, tmp_path):
    before = len(simulator.audit())
    runner, private = awx_job(tmp_path, simulator, "playbooks/hmc_lpar_layout.yml",
                              {"hmc_layout_ai_lpars": "ai-lpar01", "hmc_layout_other_lpars": "",
                               "hmc_layout_procs": "12"}, simulator.password, check=True)
    stdout = runner.stdout.read()
    assert runner.rc == 0 and runner.stats["failures"] == {}, stdout
    assert hmc_task_events(runner, ("runner_on_ok",)), stdout
    assert not hmc_task_events(runner, ("runner_on_failed",)), stdout
    commands = [e for e in simulator.audit()[before:] if e.get("argv")]
    assert commands and not [e["argv"] for e in commands if e["argv"][0] in MUTATING]
    assert_secret_nowhere(runner, private, simulator.password)


def test_wrong_password_fails_the_first_hmc_task_without_showing_it(simulator, tmp_path):
    wrong = "not-" + simulator.password
    runner, private = awx_job(tmp_path, simulator, "playbooks/hmc_affinity.yml", {"target_lpars": "ai-lpar01"},
                              wrong, check=True)
    assert runner.rc != 0 and runner.stats["failures"].get("hmc-test") == 1
    failed = hmc_task_events(runner, ("runner_on_failed",))
    assert len(failed) == 1 and not hmc_task_events(runner, ("runner_on_ok",))
    assert "hscroot" in failed[0]["event_data"]["res"]["msg"], failed[0]["event_data"]["res"]["msg"]
    assert_secret_nowhere(runner, private, wrong)
