"""The demo's rerun figure: lab/callback_plugins/rocketce_timing.py times each task of a real ansible-playbook run,
and lab/demo_summary.py puts site.yml's wall time and the slowest tasks into the summary and demo-result.json."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = """\
- name: Timed play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Slow task
      ansible.builtin.command: sleep 0.6
      changed_when: false
    - name: Fast task
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: [1, 2]
"""
RECAP = "PLAY RECAP ***\nai-lpar01                  : ok=40   changed=0    unreachable=0    failed=0    skipped=3\n"


def test_the_callback_times_each_task_and_writes_them_slowest_first(tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    out = tmp_path / "timing.json"
    env = dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=str(REPO / "lab" / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="rocketce_timing", ROCKETCE_TIMING_FILE=str(out), ANSIBLE_NOCOLOR="1")
    run = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                          "-e", f"ansible_python_interpreter={sys.executable}",
                          str(tmp_path / "play.yml")], env=env, capture_output=True, text=True, check=True)
    assert "SLOWEST TASKS (of 2" in run.stdout
    data = json.loads(out.read_text())
    assert [t["task"] for t in data["tasks"]] == ["Slow task", "Fast task"]
    assert data["tasks"][0]["seconds"] >= 0.6 and data["tasks"][0]["play"] == "Timed play"
    assert data["wall_s"] >= data["tasks"][0]["seconds"] and data["plays"][0]["name"] == "Timed play"


def test_the_summary_reports_the_wall_time_and_the_slowest_tasks(tmp_path):
    (tmp_path / "site.log").write_text(RECAP)
    timing = {"wall_s": 41.0, "plays": [], "tasks": [
        {"play": "Apps", "task": "Install the wheel", "path": "x:1", "seconds": 12.5, "runs": 2},
        {"play": "LPAR", "task": "SMT", "path": "y:2", "seconds": 1.25, "runs": 1}]}
    (tmp_path / "timing.json").write_text(json.dumps(timing))
    result = tmp_path / "result.json"
    run = subprocess.run([sys.executable, str(REPO / "lab" / "demo_summary.py"), "--summary", str(tmp_path / "none"),
                          "--log", str(tmp_path / "site.log"), "--models", str(tmp_path), "--timing",
                          str(tmp_path / "timing.json"), "--wall", "42.25", "--result", str(result),
                          "--expect-unchanged"], capture_output=True, text=True, check=True)
    assert "changed=0, failed=0  (a rerun changes nothing), wall time 42.2s" in run.stdout
    assert "   12.50s  Apps : Install the wheel x2" in run.stdout
    assert run.stdout.rstrip().endswith("demo result: hosts=1 changed=0 failed=0 dpo_started=0 wall_s=42.25")
    data = json.loads(result.read_text())
    assert data["wall_s"] == 42.25 and data["status"] == 0
    assert data["slowest_tasks"][0] == {"play": "Apps", "task": "Install the wheel", "seconds": 12.5, "runs": 2}
