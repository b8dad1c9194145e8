"""The real server over SSH: paramiko and OpenSSH clients, auth, DPO, faults, hostile names, concurrency, restart."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import paramiko
import pytest
from hmcsim.testing import running_simulator

SYS = "p10-s1024-lab"
CALCSCORE_LINE = re.compile(r"^lpar_name=[^,]+,lpar_id=\d+,curr_lpar_score=(\d+|none),predicted_lpar_score=(\d+|none)$")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_simulator(tmp_path_factory.mktemp("ssh"), time_scale=0.05, dpo_seconds=1.5) as sim:
        yield sim


def ssh(server, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(server.ssh_argv(command), capture_output=True, text=True, timeout=30)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def test_paramiko_key_auth_formats_and_errors(server):
    status, out, err = server.run(f"lsmemopt -m {SYS} -r lpar -o calcscore")
    assert status == 0 and err == ""
    assert all(CALCSCORE_LINE.match(line) for line in out.splitlines()) and len(out.splitlines()) == 6
    status, out, err = server.run(f"lssyscfg -r lpar -m {SYS} --filter lpar_names=nope")
    assert (status, out, err) == (1, "HSCL8012 The partition named nope was not found.\n", "")


def test_password_auth_and_rejections(server):
    client = server.connect(password=True)
    assert server.run("lshmc -V", client=client)[0] == 0
    bad = paramiko.SSHClient()
    bad.load_host_keys(str(server.known_hosts))
    with pytest.raises(paramiko.AuthenticationException):
        bad.connect(
            server.host,
            server.port,
            username="hscroot",
            password="wrong",
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
        )
    bad.close()
    other = paramiko.SSHClient()
    other.load_host_keys(str(server.known_hosts))
    with pytest.raises(paramiko.AuthenticationException):
        other.connect(
            server.host,
            server.port,
            username="root",
            key_filename=str(server.client_key),
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
        )
    other.close()


def test_openssh_client_batch_mode_with_known_hosts(server):
    done = ssh(server, f"lsmemopt -m {SYS} -r lpar -o calcscore")
    assert done.returncode == 0, done.stderr
    assert all(CALCSCORE_LINE.match(line) for line in done.stdout.splitlines())
    missing = ssh(server, f"lssyscfg -r lpar -m {SYS} --filter lpar_names=nope")
    assert (missing.returncode, missing.stdout) == (1, "HSCL8012 The partition named nope was not found.\n")
    refused = ssh(server, "ls -la")
    assert (refused.returncode, refused.stderr) == (127, "rbash: ls: command not found\n")
    piped = ssh(server, f"lssyscfg -r lpar -m {SYS} -F name,state | grep ai- | wc -l")
    assert piped.stdout == "2\n"


def test_dpo_over_ssh(server):
    client = server.connect()
    assert server.run("optmem -m e1080-lab -o start -t affinity -p hana-prod01", client=client)[:2] == (0, "")
    status, out, _ = server.run("lsmemopt -m e1080-lab", client=client)
    assert status == 0 and out.startswith("in_progress=1,status=In Progress,type=affinity,opt_id=1,")
    second = server.run("optmem -m e1080-lab -o start -t affinity", client=client)
    assert second[0] == 1 and second[1].startswith("HSCL")
    finished = wait_for(
        lambda: (o := server.run("lsmemopt -m e1080-lab", client=client)[1]).startswith("in_progress=0") and o
    )
    assert ",status=Finished," in finished and ",progress=100," in finished


def test_hostile_names_are_data_and_audited_as_argv(server, tmp_path):
    marker = tmp_path / "pwned"
    names = [
        f"x;touch {marker}",
        f"$(touch {marker})",
        f"`touch {marker}`",
        "quote\"d 'name'",
        "new\nline",
        "zażółć ☃ name",
    ]
    for name in names:
        # HMC data quoting first (a pair with a quote or comma is quoted, inner quotes doubled), then shell quoting
        pair = f"lpar_names={name}"
        if '"' in pair or "," in pair:
            pair = '"' + pair.replace('"', '""') + '"'
        line = f"lssyscfg -r lpar -m {SYS} --filter " + shlex.quote(pair)
        status, out, _ = server.run(line)
        assert status == 1 and out.startswith("HSCL8012 "), (name, out)
        assert name in out
    unquoted = server.run(f"lssyscfg -r lpar -m {SYS} --filter lpar_names=$(touch {marker})")
    assert unquoted[0] == 1 and "command substitution" in unquoted[2]
    assert not marker.exists()
    audited = [
        r for r in server.audit() if r["argv"] and r["argv"][:2] == ["lssyscfg", "-r"] and "--filter" in r["argv"]
    ]
    seen = {r["argv"][-1] for r in audited}
    for name in names:
        assert f"lpar_names={name}" in seen or '"lpar_names=' + name.replace('"', '""') + '"' in seen
    refused = [r for r in server.audit() if r["command"].endswith(f"lpar_names=$(touch {marker})")]
    assert refused and refused[-1]["argv"] is None and refused[-1]["exit_status"] == 1


def test_twenty_concurrent_sessions(server):
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def session() -> None:
        try:
            client = paramiko.SSHClient()
            client.load_host_keys(str(server.known_hosts))
            client.connect(
                server.host,
                server.port,
                username="hscroot",
                key_filename=str(server.client_key),
                look_for_keys=False,
                allow_agent=False,
                timeout=30,
                banner_timeout=30,
                auth_timeout=30,
            )
            for _ in range(3):
                _, stdout, _ = client.exec_command(f"lssyscfg -r lpar -m {SYS} -F name,state", timeout=30)
                lines = stdout.read().decode().splitlines()
                results.append((stdout.channel.recv_exit_status(), len(lines)))
            client.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    before = {r["connection"] for r in server.audit()}
    threads = [threading.Thread(target=session) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert results == [(0, 6)] * 60
    new = {r["connection"] for r in server.audit()} - before
    assert len(new) == 20, "each SSH connection has its own id in the audit log"


def test_faults_from_the_control_file(server):
    client = server.connect()
    server.set_faults({"faults": [{"kind": "hscl_error", "match": "^chsysstate ", "message": "HSCL1234 Simulated."}]})
    assert server.run(f"chsysstate -m {SYS} -r lpar -o on -n sandbox01", client=client) == (
        1,
        "HSCL1234 Simulated.\n",
        "",
    )
    server.set_faults({"faults": [{"kind": "slow", "match": "^lshmc", "delay_s": 0.4}]})
    started = time.monotonic()
    assert server.run("lshmc -V", client=client)[0] == 0
    assert time.monotonic() - started >= 0.4
    server.set_faults({"faults": [{"kind": "drop_connection", "match": "^lshwres", "after": 1}]})
    assert server.run(f"lshwres -r proc -m {SYS} --level sys", client=client)[0] == 0
    status, out, _ = server.run(f"lshwres -r proc -m {SYS} --level sys", client=client)
    assert (status, out) == (-1, ""), "the connection drops without an exit status"
    assert not client.get_transport().is_active()
    dropped = ssh(server, f"lshwres -r mem -m {SYS} --level sys")
    assert dropped.returncode == 255, "OpenSSH reports a dropped connection as 255"
    server.clear_faults()
    assert ssh(server, f"lshwres -r mem -m {SYS} --level sys").returncode == 0
    assert [r["exit_status"] for r in server.audit() if r["faults"] == ["drop_connection"]] == [None, None]


def test_drop_after_n_commands_per_connection(server):
    server.set_faults({"faults": [{"kind": "drop_connection", "match": "^lshmc", "after": 2, "per_connection": True}]})
    try:
        for _ in range(2):
            client = server.connect()
            assert [server.run("lshmc -V", client=client)[0] for _ in range(3)] == [0, 0, -1]
    finally:
        server.clear_faults()


def test_drop_during_dpo_wait(server):
    server.set_faults(
        {"faults": [{"kind": "drop_connection", "match": "^lsmemopt", "while_dpo_running": True, "times": 1}]}
    )
    try:
        assert server.run(f"lsmemopt -m {SYS}", client=server.connect())[0] == 0, "no DPO running: no drop"
        assert server.run(f"optmem -m {SYS} -o start -t affinity", client=server.connect())[0] == 0
        assert server.run(f"lsmemopt -m {SYS}", client=server.connect())[0] == -1
        finished = wait_for(lambda: "status=Finished" in server.run(f"lsmemopt -m {SYS}", client=server.connect())[1])
        assert finished
    finally:
        server.clear_faults()


def test_exec_with_a_pty_ends_lines_with_crlf(server):
    _, stdout, _ = server.connect().exec_command("lssyscfg -r sys -F name", get_pty=True, timeout=20)
    assert stdout.read() == b"p10-s1024-lab\r\ne1080-lab\r\n" and stdout.channel.recv_exit_status() == 0


def test_interactive_shell(server):
    channel = server.connect().invoke_shell()
    channel.settimeout(10)
    channel.sendall(b"lssyscfg -r sys -F name | head -n 1\nexit\n")
    received = b""
    while not channel.exit_status_ready() or channel.recv_ready():
        chunk = channel.recv(4096)
        if not chunk:
            break
        received += chunk
    text = received.decode()
    assert text.startswith("hscroot@hmc-lab:~> ") and "p10-s1024-lab\r\n" in text


def test_restart_keeps_host_key_and_state(tmp_path):
    state_dir = tmp_path / "state"
    with running_simulator(tmp_path, state_dir=state_dir, time_scale=0.05, dpo_seconds=30) as first:
        host_key = first.host_public_key.read_text()
        assert first.run(f"chpwrmgmt -m {SYS} -r sys -o enable -t power_saving")[0] == 0
        assert first.run(f"chsyscfg -r lpar -m {SYS} -i 'name=sandbox01,new_name=renamed 01'")[0] == 0
        assert first.run(f"optmem -m {SYS} -o start -t affinity")[0] == 0
        process = first.process
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0, "SIGTERM is a clean exit"
    with running_simulator(tmp_path, state_dir=state_dir, time_scale=0.05, dpo_seconds=30) as second:
        assert second.host_public_key.read_text() == host_key
        done = ssh(second, f"lspwrmgmt -m {SYS} -r sys -F curr_power_saver_mode")
        assert done.returncode == 0 and done.stdout == "power_saving\n", done.stderr
        assert "renamed 01" in second.run(f"lssyscfg -r lpar -m {SYS} -F name")[1]
        assert second.run(f"lsmemopt -m {SYS}")[1].startswith("in_progress=1,status=In Progress,type=affinity,opt_id=1")
    state = json.loads((state_dir / "state.json").read_text())
    assert state["systems"][0]["power_mode"] == "power_saving"


def test_numa_view_follows_placement(server):
    argv = [sys.executable, "-m", "hmcsim.cli", "numa", "--state-dir", str(server.state_dir), "--system", SYS]
    before = json.loads(
        subprocess.run([*argv, "--lpar", "ai-lpar02"], capture_output=True, text=True, check=True, timeout=30).stdout
    )
    assert before["lpar_id"] == 4
    cpus = sum(len(node["cpus"]) for node in before["nodes"])
    memory = sum(node["memory_mb"] for node in before["nodes"])
    assert (cpus, memory) == (8 * 8, 131072), "dedicated: cores x SMT8 threads, all the memory"
    unknown = subprocess.run([*argv, "--lpar", "ghost"], capture_output=True, text=True, timeout=30)
    assert unknown.returncode == 1 and "ghost" in unknown.stderr


def test_numa_single_node_after_dpo(sim, tmp_path):
    from hmcsim.cli import main  # noqa: PLC0415

    sim.ok(f"optmem -m {SYS} -o start -t affinity -p ai-lpar01")
    sim.clock.advance(sim.store.model.dpo.duration_s + 1)
    sim.ok(f"lsmemopt -m {SYS}")
    out = tmp_path / "numa.json"
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["numa", "--state-dir", str(sim.state_dir), "--system", SYS, "--lpar", "ai-lpar01"]) == 0
    out.write_text(buffer.getvalue())
    view = json.loads(out.read_text())
    assert len(view["nodes"]) == 1 and view["affinity_score"] == 100
    assert len(view["nodes"][0]["cpus"]) == 12 * 8 and view["nodes"][0]["memory_mb"] == 131072
    assert view["reboot_recommended"] is True
    sim.ok(f"chsysstate -m {SYS} -r lpar -o shutdown --immed --restart -n ai-lpar01")
    sim.clock.advance(60)
    sim.ok(f"lssyscfg -r lpar -m {SYS} -F state")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["numa", "--state-dir", str(sim.state_dir), "--system", SYS, "--lpar", "ai-lpar01"])
    assert json.loads(buffer.getvalue())["reboot_recommended"] is False



PARITY_COMMANDS = [
    "lssyscfg -r sys | sed 's/sys_time=[^,]*,//'",  # the clock may tick between the two calls
    f"lssyscfg -r lpar -m {SYS} -F name,lpar_id,state --header",
    f"lssyscfg -r prof -m {SYS} --filter lpar_names=vios1",
    f"lshwres -r proc -m {SYS} --level sys",
    f"lshwres -r mem -m {SYS} --level lpar --filter lpar_names=ai-lpar01,ai-lpar02",
    f"lsmemopt -m {SYS} -r lpar -o currscore",
    "lspwrmgmt -r sys",
    "lshmc -V",
    f"lssyscfg -r lpar -m {SYS} -F bogus",
]


def test_openssh_and_paramiko_see_the_same_bytes(server):
    client = server.connect()
    for command in PARITY_COMMANDS:
        status, out, err = server.run(command, client=client)
        done = ssh(server, command)
        assert (done.returncode, done.stdout, done.stderr) == (status, out, err), command
        assert out and "\r" not in out, "exec channels use plain \\n line ends"


def test_daemon_status_known_hosts_and_stop(tmp_path, server):
    state_dir = tmp_path / "daemon-state"
    hmcsim = [sys.executable, "-m", "hmcsim.cli"]
    serve = [*hmcsim, "serve", "--model", str(server.model), "--listen", "127.0.0.1:0", "--state-dir", str(state_dir),
             "--authorized-keys", str(server.client_public_key), "--daemon"]

    def call(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([*hmcsim, *argv, "--state-dir", str(state_dir)], capture_output=True, text=True,
                              timeout=30)

    try:
        started = subprocess.run(serve, capture_output=True, text=True, timeout=60)
        assert started.returncode == 0 and "listening on 127.0.0.1:" in started.stdout, started.stderr
        assert subprocess.run(serve, capture_output=True, text=True, timeout=60).stdout.startswith(
            "hmcsim: already running"
        ), "a second --daemon start is a no-op"
        assert call("status").returncode == 0
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(call("known-hosts").stdout)
        port = (state_dir / "listen").read_text().strip().rsplit(":", 1)[1]
        done = subprocess.run(
            ["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known_hosts}", "-o", "IdentitiesOnly=yes",
             "-i", str(server.client_key), "-p", port, "hscroot@127.0.0.1", "lssyscfg -r sys -F name | head -n 1"],
            capture_output=True, text=True, timeout=30,
        )
        assert (done.returncode, done.stdout) == (0, "p10-s1024-lab\n"), done.stderr
    finally:
        stopped = call("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert call("status").returncode == 3
    assert call("stop").returncode == 0, "stop is idempotent"
