"""Pure and process-level logic of lab hosts (lab/labctl/hosts.py, procs.py) that needs no container."""

import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl import hosts, procs  # noqa: E402
from labctl.procs import LabError  # noqa: E402


@pytest.mark.parametrize("name", ["ai-lpar01", "labt-1", "h1", "a" * 32])
def test_valid_host_names(name):
    assert hosts.validate_name(name) == name


@pytest.mark.parametrize("name", ["", "a", "1host", "Host", "ai_lpar", "host-", "a" * 33, "x;reboot", "../etc"])
def test_invalid_host_names_are_refused(name):
    with pytest.raises(LabError, match="invalid host name"):
        hosts.validate_name(name)


@pytest.mark.parametrize(("spec", "expected"), [("18080:8080", (18080, 8080)), ("2213:8888", (2213, 8888))])
def test_parse_forward(spec, expected):
    assert hosts.parse_forward(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [("18080", "expected HOSTPORT:PORT"), ("x:8080", "not a number"), ("80:8080", "use 1024-65535"),
     ("18080:70000", "use 1024-65535")],
)
def test_bad_forward_gets_a_clear_error(spec, message):
    with pytest.raises(LabError, match=message):
        hosts.parse_forward(spec)


def test_usage_error_exits_2_and_bad_input_exits_1(capsys):
    assert hosts.main(["frobnicate"]) == 2
    assert "usage: labhost up NAME PORT" in capsys.readouterr().err
    assert hosts.main(["up", "Bad_Name", "2300"]) == 1
    assert "invalid host name 'Bad_Name'" in capsys.readouterr().err
    assert hosts.main(["up", "okname", "22"]) == 1
    assert "invalid port 22" in capsys.readouterr().err


def test_pidfile_tracks_a_detached_process_group_and_stop_ends_it(tmp_path):
    pidfile = tmp_path / "p.pid"
    # The child of the shell is in the same process group: stop() must end both.
    child_file = tmp_path / "child"
    pid = procs.start(["sh", "-c", f"sleep 30 & echo $! > {child_file}; wait"], pidfile, tmp_path / "log")
    assert procs.read_pid(pidfile) == pid
    assert os.getpgid(pid) == pid  # own session, own group
    assert procs.wait_path(child_file, timeout=5)
    deadline = time.monotonic() + 2
    while not child_file.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.02)
    child = int(child_file.read_text())
    assert procs.stop(pidfile) is True
    assert procs.read_pid(pidfile) is None
    assert not pidfile.exists()
    assert not procs.is_running(pid)
    assert not procs.is_running(child)  # the group's other members end too


def test_a_recycled_pid_is_never_trusted(tmp_path):
    pidfile = tmp_path / "p.pid"
    # Our own pid with a start time that is not ours: it must read as "not running", and stop() must not signal it.
    pidfile.write_text(f"{os.getpid()} 1\n")
    assert procs.read_pid(pidfile) is None
    assert procs.stop(pidfile) is False


def test_a_dead_process_reads_as_not_running(tmp_path):
    proc = subprocess.Popen(["true"])
    proc.wait()
    pidfile = tmp_path / "p.pid"
    pidfile.write_text(f"{proc.pid}\n")
    assert procs.read_pid(pidfile) is None


def test_port_free_sees_a_listener():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert procs.port_free(port) is False
        assert procs.wait_port(port, timeout=1) is True
    assert procs.port_free(port) is True


FAKE_BUILD = """#!/bin/bash
# {mark}
set -euo pipefail
d=$(mktemp -d); mkdir -p "$d/etc"; echo 'ID=fake' > "$d/etc/os-release"
tar -C "$d" --zstd -cf "$1" . ; rm -rf "$d"
echo built >> "$(dirname "$1")/runs"
"""


@pytest.fixture(name="fake_lab")
def fixture_fake_lab(tmp_path, monkeypatch):
    script = tmp_path / "build.sh"
    script.write_text(FAKE_BUILD.format(mark="v1"))
    script.chmod(0o755)
    monkeypatch.setattr(hosts, "BUILD_SCRIPT", script)
    monkeypatch.setenv("ROCKETCE_LAB_CACHE", str(tmp_path / "cache"))  # never the machine's image cache
    return hosts.Lab(state=tmp_path / "state", out=io.StringIO()), script


def test_image_is_built_once_and_rebuilt_when_the_recipe_changes(fake_lab):
    lab, script = fake_lab
    runs = lab.state / "image" / "runs"
    tpl1 = lab.ensure_template()
    assert (tpl1 / "etc" / "os-release").read_text() == "ID=fake\n"
    assert tpl1.name == lab.recipe()
    assert lab.ensure_template() == tpl1
    assert runs.read_text().count("built") == 1

    script.write_text(FAKE_BUILD.format(mark="v2: another package"))
    tpl2 = lab.ensure_template()
    assert tpl2 != tpl1
    assert runs.read_text().count("built") == 2
    lab.prune_templates(keep=tpl2)
    assert not tpl1.exists()  # no host used the old template: pruned
    assert tpl2.exists()


def test_a_fresh_state_takes_the_image_from_the_cache_of_the_same_recipe_only(fake_lab, tmp_path):
    lab, script = fake_lab
    lab.ensure_image()
    other = hosts.Lab(state=tmp_path / "fresh-state", out=io.StringIO())
    image = other.ensure_image()
    assert image.exists() and not (other.state / "image" / "runs").exists()  # not built again
    assert "from the cache" in other.out.getvalue()
    script.write_text(FAKE_BUILD.format(mark="v2: another package"))
    third = hosts.Lab(state=tmp_path / "third-state", out=io.StringIO())
    third.ensure_image()
    assert (third.state / "image" / "runs").read_text().count("built") == 1  # another recipe: built


def test_a_template_in_use_by_a_host_is_kept(fake_lab):
    lab, script = fake_lab
    tpl1 = lab.ensure_template()
    lab.host_dir("h1").mkdir(parents=True)
    lab.save(hosts.Host(name="h1", port=2300, template=str(tpl1)))
    script.write_text(FAKE_BUILD.format(mark="v2"))
    tpl2 = lab.ensure_template()
    lab.prune_templates(keep=tpl2)
    assert tpl1.exists() and tpl2.exists()


def test_failed_image_build_shows_the_end_of_its_log(fake_lab):
    lab, script = fake_lab
    script.write_text("#!/bin/bash\necho 'E: Failed getting release file' >&2\nexit 3\n")
    with pytest.raises(LabError, match=r"(?s)image build failed \(rc=3\).*Failed getting release file"):
        lab.ensure_image()
    assert not (lab.state / "image" / "bookworm.recipe").exists()


def test_status_of_an_empty_lab_lists_no_hosts(tmp_path):
    lab = hosts.Lab(state=tmp_path)
    status = lab.status()
    assert status["hosts"] == []
    assert {s["name"] for s in status["services"]} == {"proxy", "artifacts"}
    assert "(no lab hosts)" in hosts.format_status(status)


def test_exec_on_a_host_that_is_not_running_is_refused(tmp_path):
    lab = hosts.Lab(state=tmp_path)
    with pytest.raises(LabError, match="h1: not running"):
        lab.exec_argv("h1", ["true"])


def test_supervisor_restarts_on_exit_133_only_until_stopped(tmp_path):
    """The reboot loop: exit 133 (reboot) starts the container again, any other exit or the stop file ends it."""
    counter = tmp_path / "n"
    fake = tmp_path / "fake-nspawn"
    fake.write_text(f"#!/bin/bash\necho x >> {counter}\n[ $(wc -l < {counter}) -lt 3 ] && exit 133\nexit 0\n")
    fake.chmod(0o755)
    env = dict(os.environ, LAB_HOST_DIR=str(tmp_path))
    rc = subprocess.run(["bash", "-c", hosts.SUPERVISOR, "sup", str(fake)], env=env, timeout=10).returncode
    assert rc == 0
    assert counter.read_text().count("x") == 3  # booted, rebooted twice, halted
    counter.write_text("")
    (tmp_path / "stop").touch()
    rc = subprocess.run(["bash", "-c", hosts.SUPERVISOR, "sup", str(fake)], env=env, timeout=10).returncode
    assert rc == 133
    assert counter.read_text().count("x") == 1  # a reboot during `down` does not boot again


def fake_proc(root: Path, pid: int, nspid: str, root_mount_upper: str | None) -> None:
    d = root / str(pid)
    d.mkdir(parents=True)
    (d / "status").write_text(f"Name:\tsystemd\nNSpid:\t{nspid}\n")
    source = (f"382 357 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/t,upperdir={root_mount_upper},"
              "workdir=/w,uuid=on" if root_mount_upper else "22 1 252:0 / / rw,relatime - ext4 /dev/vda rw")
    (d / "mountinfo").write_text(source + "\n383 382 0:61 / /tmp rw - tmpfs tmpfs rw\n")


def test_orphaned_container_init_is_found_by_its_overlay(tmp_path):
    """After nspawn is killed hard, the container's PID 1 lives on; `down` finds it by the overlay it runs on."""
    proc = tmp_path / "proc"
    upper = Path("/var/tmp/lab/hosts/h1/upper")
    fake_proc(proc, 100, "100\t1", str(upper))  # PID 1 of h1's container
    fake_proc(proc, 101, "101\t7", str(upper))  # another process of h1's container: killing PID 1 ends it
    fake_proc(proc, 102, "102", None)  # a controller process
    fake_proc(proc, 103, "103\t1", "/var/tmp/lab/hosts/h10/upper")  # another host whose name starts alike
    (proc / "self").mkdir()
    assert hosts.container_inits(upper, proc_root=proc) == [100]
    assert hosts.container_inits(Path("/var/tmp/lab/hosts/h2/upper"), proc_root=proc) == []


needs_netns = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                 reason="creates network namespaces: needs root and iproute2")


@needs_netns
def test_an_empty_netns_left_by_an_earlier_lab_is_reclaimed_and_one_in_use_is_refused(tmp_path):
    lab = hosts.Lab(state=tmp_path / "state", out=io.StringIO())
    host = hosts.Host(name="zz-netns-test", port=1)
    subprocess.run(["ip", "netns", "del", host.netns], capture_output=True, check=False)
    subprocess.run(["ip", "netns", "add", host.netns], check=True)  # what a lab that died leaves behind
    sleeper = None
    try:
        lab._claim_netns(host)
        assert "reclaiming the empty network namespace rl-zz-netns-test" in lab.out.getvalue()
        assert (hosts.NETNS_DIR / host.netns).exists()
        sleeper = subprocess.Popen(["ip", "netns", "exec", host.netns, "sleep", "30"])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not subprocess.run(
                ["ip", "netns", "pids", host.netns], capture_output=True, text=True).stdout.split():
            time.sleep(0.05)
        with pytest.raises(LabError, match=r"rl-zz-netns-test is in use by processes \d+.*another lab"):
            lab._claim_netns(host)
        assert (hosts.NETNS_DIR / host.netns).exists()  # another lab's namespace is never deleted
    finally:
        if sleeper:
            sleeper.kill()
            sleeper.wait()
        subprocess.run(["ip", "netns", "del", host.netns], capture_output=True, check=False)
