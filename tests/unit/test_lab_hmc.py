"""Starting and stopping the HMC simulator as a lab process (lab/labctl/hmc.py), with a stand-in `hmcsim`."""

import json
import socket
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl import hmc, procs  # noqa: E402
from labctl.config import HmcSpec  # noqa: E402
from labctl.procs import LabError  # noqa: E402

# Behaves like `hmcsim serve` as far as the lab cares: writes a host key into --state-dir, then listens.
FAKE_HMCSIM = """#!{python}
import argparse, pathlib, socket, sys, time
p = argparse.ArgumentParser()
p.add_argument("cmd"); p.add_argument("--model"); p.add_argument("--listen"); p.add_argument("--state-dir")
p.add_argument("--authorized-keys"); p.add_argument("--password-file"); p.add_argument("--numa-views")
a = p.parse_args()
if {fail}:
    print("hmcsim: cannot load model", file=sys.stderr); sys.exit(2)
d = pathlib.Path(a.state_dir)
(d / "ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAAC3NzaFAKEKEY hmcsim\\n")
host, port = a.listen.rsplit(":", 1)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, int(port))); s.listen()
print("argv", sys.argv, flush=True)
while True:
    c, _ = s.accept(); c.close()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_sim(tmp_path, monkeypatch, fail=False) -> hmc.HmcSim:
    fake = tmp_path / "hmcsim"
    fake.write_text(FAKE_HMCSIM.format(python=sys.executable, fail=fail))
    fake.chmod(0o755)
    monkeypatch.setattr(hmc, "hmcsim_command", lambda: str(fake))
    state = tmp_path / "state"
    state.mkdir()
    (state / "id_ed25519.pub").write_text("ssh-ed25519 AAAAlabkey rocketce-lab\n")
    spec = HmcSpec(name="hmc-lab", listen=f"127.0.0.1:{free_port()}", model="lab/hmc/model.yml",
                   state_dir="/var/tmp/rocketce-lab/hmc", user="hscroot",
                   password_file="/var/tmp/rocketce-lab/hmc/password",
                   known_hosts="/var/tmp/rocketce-lab/hmc_known_hosts")
    return hmc.HmcSim(spec, state, REPO)


def test_start_is_idempotent_and_stop_ends_it(tmp_path, monkeypatch):
    sim = make_sim(tmp_path, monkeypatch)
    try:
        assert sim.ensure() is True
        pid = sim.pid()
        assert pid is not None
        assert sim.ensure() is False  # already running: nothing started
        assert sim.pid() == pid
    finally:
        assert sim.stop() is True
    assert sim.pid() is None
    assert not procs.is_running(pid)
    assert sim.stop() is False


def test_secrets_are_files_with_mode_0600_and_never_on_the_command_line(tmp_path, monkeypatch):
    sim = make_sim(tmp_path, monkeypatch)
    try:
        sim.ensure()
        password = sim.password_file.read_text().strip()
        assert len(password) >= 24
        assert stat.S_IMODE(sim.password_file.stat().st_mode) == 0o600
        authorized = sim.dir / "authorized_keys"
        assert authorized.read_text() == "ssh-ed25519 AAAAlabkey rocketce-lab\n"
        assert stat.S_IMODE(authorized.stat().st_mode) == 0o600
        cmdline = Path(f"/proc/{sim.pid()}/cmdline").read_bytes().decode()
        assert password not in cmdline
        assert str(sim.password_file) in cmdline
    finally:
        sim.stop()
    # A restart keeps the password the lab created first.
    try:
        sim.ensure()
        assert sim.password_file.read_text().strip() == password
    finally:
        sim.stop()


def test_known_hosts_holds_the_simulator_host_key_for_its_port(tmp_path, monkeypatch):
    sim = make_sim(tmp_path, monkeypatch)
    try:
        sim.ensure()
    finally:
        sim.stop()
    assert sim.known_hosts == tmp_path / "state" / "hmc_known_hosts"
    assert sim.known_hosts.read_text() == f"[127.0.0.1]:{sim.spec.port} ssh-ed25519 AAAAC3NzaFAKEKEY\n"


def test_a_simulator_that_exits_gets_its_log_in_the_error(tmp_path, monkeypatch):
    sim = make_sim(tmp_path, monkeypatch, fail=True)
    with pytest.raises(LabError, match=r"(?s)did not listen on 127\.0\.0\.1:\d+ \(exited\).*cannot load model"):
        sim.ensure()
    assert sim.pid() is None


def test_a_taken_port_is_reported(tmp_path, monkeypatch):
    sim = make_sim(tmp_path, monkeypatch)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", sim.spec.port))
        sock.listen()
        with pytest.raises(LabError, match="is taken by another process"):
            sim.ensure()


def test_reset_forgets_what_happened_on_the_hmc_but_keeps_its_identity(tmp_path, monkeypatch):
    sim = make_sim(tmp_path, monkeypatch)
    sim.dir.mkdir(parents=True)
    for name in ("state.json", "audit.jsonl", "faults.yml", "ssh_host_ed25519_key.pub", "password"):
        (sim.dir / name).write_text("x")
    assert sim.reset_state() == ["state.json", "audit.jsonl", "faults.yml"]
    assert sorted(p.name for p in sim.dir.iterdir()) == ["password", "ssh_host_ed25519_key.pub"]
    assert sim.reset_state() == []


def test_the_simulator_is_told_which_numa_views_to_keep(tmp_path, monkeypatch):
    sim = make_sim(tmp_path, monkeypatch)
    views = [{"system": "p10-s1024-lab", "lpar": "ai-lpar01", "file": "/x/etc/rocketce-lab/numa-view.json"}]
    sim.set_numa_views(views)
    assert json.loads(sim.views_file.read_text()) == {"views": views}
    try:
        sim.ensure()
        cmdline = Path(f"/proc/{sim.pid()}/cmdline").read_bytes().split(b"\0")
        assert cmdline[cmdline.index(b"--numa-views") + 1] == str(sim.views_file).encode()
    finally:
        sim.stop()
