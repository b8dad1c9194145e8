"""Detached processes tracked by pid files.

Every process the lab starts is the leader of its own session, and its pid file holds "PID STARTTIME". A pid is
only trusted while /proc still shows a process with that start time, so a recycled pid is never signalled.
Stopping signals the whole process group, which also ends the per-connection children of a forking socat.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


class LabError(RuntimeError):
    """A lab operation failed for a reason the user can act on."""


def _starttime(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited already
        return None
    return fields[19]


def is_running(pid: int) -> bool:
    """True while pid is a live process (an exited one waiting to be reaped does not count)."""
    return _starttime(pid) is not None


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid):
            return True
        time.sleep(0.05)
    return not is_running(pid)


def start(argv: list[str], pidfile: Path, log: Path, env: dict[str, str] | None = None) -> int:
    """Start argv in a new session with stdin closed and output appended to log; record it in pidfile."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    pidfile.write_text(f"{proc.pid} {_starttime(proc.pid) or ''}\n")
    return proc.pid


def read_pid(pidfile: Path) -> int | None:
    """The pid recorded in pidfile if that very process still runs, else None."""
    try:
        parts = pidfile.read_text().split()
    except OSError:
        return None
    if not parts:
        return None
    pid = int(parts[0])
    started = _starttime(pid)
    if started is None or (len(parts) > 1 and parts[1] != started):
        return None
    return pid


def record(pid: int, pidfile: Path) -> None:
    pidfile.write_text(f"{pid} {_starttime(pid) or ''}\n")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A group may only hold zombies (reaped by init soon); treat it as gone when every member is a zombie.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop(pidfile: Path, timeout: float = 5.0, sig: int = signal.SIGTERM) -> bool:
    """Signal the process group recorded in pidfile, SIGKILL what is left after timeout. True if it was running."""
    pid = read_pid(pidfile)
    pidfile.unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _group_alive(pid):
        time.sleep(0.05)
    if _group_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.05)
    return True


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_port(port: int, timeout: float, host: str = "127.0.0.1", pid: int | None = None) -> bool:
    """Wait until something accepts on host:port; give up early when the process pid (if given) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not is_running(pid):
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_path(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.02)
    return path.exists()
