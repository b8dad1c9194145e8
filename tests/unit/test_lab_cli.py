"""lab/labctl.py actions that need no container: errors, status of an empty lab, and the leftover check of `down`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl import cli, config  # noqa: E402
from labctl.hosts import Lab  # noqa: E402

LAB_YML = """\
inventory: {inventory}
hosts:
  - {{name: cli-h1, ssh_port: 2391, hmc_managed_system: sys1, hmc_lpar_name: lp1}}
hmc:
  name: hmc-t
  listen: 127.0.0.1:2392
  model: lab/hmc/model.yml
  state_dir: {state}/hmc
  user: hscroot
  password_file: {state}/hmc/password
  known_hosts: {state}/known_hosts
"""


@pytest.fixture(name="lab_env")
def fixture_lab_env(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("ROCKETCE_LAB_STATE", str(state))
    cfg = tmp_path / "lab.yml"
    cfg.write_text(LAB_YML.format(inventory=tmp_path / "inv" / "hosts.yml", state=state))
    return cfg, state


def test_invalid_lab_yml_fails_with_the_reason(tmp_path, capsys):
    cfg = tmp_path / "lab.yml"
    cfg.write_text("inventory: x.yml\nhosts: []\n")
    assert cli.run("up", cfg, REPO) == 1
    err = capsys.readouterr().err
    assert "is invalid" in err and "hosts: List should have at least 1 item" in err


def test_status_of_a_lab_that_is_not_up(lab_env, capsys):
    cfg, _ = lab_env
    assert cli.run("status", cfg, REPO) == 0
    out = capsys.readouterr().out
    assert "not up: cli-h1" in out
    assert "hmc-t" in out
    assert "inventory" in out and "absent" in out


def test_down_of_a_lab_that_is_not_up_is_a_clean_no_op(lab_env, capsys):
    cfg, _ = lab_env
    assert cli.run("down", cfg, REPO) == 0
    assert "nothing was running; no process, mount or netns of the lab left" in capsys.readouterr().out


def test_leftover_check_finds_a_process_of_the_lab(lab_env):
    cfg, state = lab_env
    spec = config.load(cfg)
    lab = Lab(state)
    hmc_dir = state / "hmc"
    hmc_dir.mkdir(parents=True)
    # A process whose command line names the lab's HMC state dir, as `hmcsim serve --state-dir ...` does.
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(hmc_dir)])
    try:
        assert any(f"process {proc.pid}:" in item for item in cli.leftovers(spec, lab))
    finally:
        proc.kill()
        proc.wait()
    assert not any(f"process {proc.pid}:" in item for item in cli.leftovers(spec, lab))


def test_the_command_that_runs_down_is_not_a_leftover(lab_env):
    # `make lab-down LAB_STATE=DIR` names the state dir on its command line; it is the caller, not the lab.
    cfg, state = lab_env
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from labctl import cli, config; from labctl.hosts import"
              " Lab; spec = config.load(__import__('pathlib').Path(sys.argv[2]));"
              " print(cli.leftovers(spec, Lab(__import__('pathlib').Path(sys.argv[3]))))")
    res = subprocess.run(["sh", "-c", f'"$@" # LAB_STATE={state}', "sh", sys.executable, "-c", script,
                          str(REPO / "lab"), str(cfg), str(state)], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"
    assert cli.ancestors() >= {os.getpid(), os.getppid()}


FAKE_PLAYBOOK = """#!/bin/sh
echo "$@" >> {log}
exit {rc}
"""


def provision_setup(tmp_path, monkeypatch, rc=0):
    state = tmp_path / "state"
    (tmp_path / "site.yml").write_text("- hosts: all\n")
    spec = config.parse(
        "inventory: inv.yml\nprovision: [site.yml]\n"
        "hosts: [{name: cli-h1, ssh_port: 2391, hmc_managed_system: s, hmc_lpar_name: a},"
        " {name: cli-h2, ssh_port: 2392, hmc_managed_system: s, hmc_lpar_name: b}]\n"
    )
    lab = Lab(state)
    for name in ("cli-h1", "cli-h2"):
        lab.host_dir(name).mkdir(parents=True)
    fake = tmp_path / "ansible-playbook"
    log = tmp_path / "calls"
    fake.write_text(FAKE_PLAYBOOK.format(log=log, rc=rc))
    fake.chmod(0o755)
    monkeypatch.setattr(cli, "ansible_playbook", lambda: fake)
    return spec, lab, log


def test_provision_runs_once_on_fresh_hosts_only(tmp_path, monkeypatch):
    spec, lab, log = provision_setup(tmp_path, monkeypatch)
    (lab.host_dir("cli-h2") / "provisioned").write_text("site.yml\n")  # cli-h2 had it already
    assert cli.provision(spec, lab, tmp_path) == ["cli-h1"]
    calls = log.read_text().splitlines()
    assert len(calls) == 1
    assert "--limit cli-h1 " in calls[0] and calls[0].endswith(f"{tmp_path}/site.yml")
    assert cli.provision(spec, lab, tmp_path) == []  # second `up`: nothing runs
    assert len(log.read_text().splitlines()) == 1


def test_failed_provisioning_is_retried_by_the_next_up(tmp_path, monkeypatch, capsys):
    spec, lab, log = provision_setup(tmp_path, monkeypatch, rc=2)
    with pytest.raises(cli.LabError, match="provisioning with site.yml failed"):
        cli.provision(spec, lab, tmp_path)
    assert not (lab.host_dir("cli-h1") / "provisioned").exists()
    assert "--limit cli-h1,cli-h2" in log.read_text()


def test_missing_provision_playbook_is_named(tmp_path, monkeypatch):
    spec, lab, _ = provision_setup(tmp_path, monkeypatch)
    (tmp_path / "site.yml").unlink()
    with pytest.raises(cli.LabError, match="provision playbook site.yml"):
        cli.provision(spec, lab, tmp_path)
