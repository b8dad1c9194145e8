"""Background operation for scripts and molecule: `serve --daemon`, `stop`, `status`, `known-hosts`.

`serve --daemon` starts the same `serve` command in a new session with output in DIR/hmcsim.log, waits until
it listens, and records its pid in DIR/hmcsim.pid. `stop` sends SIGTERM to that pid (only if the process is
an hmcsim for this DIR) and waits. Both are idempotent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PID_FILE = "hmcsim.pid"
LOG_FILE = "hmcsim.log"
LISTEN_FILE = "listen"


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def running_pid(state_dir: Path) -> int | None:
    """The pid of the hmcsim serving DIR, if it is alive (a stale pid file is ignored)."""
    try:
        pid = int((state_dir / PID_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    cmdline = _cmdline(pid)
    if pid == os.getpid() or not any("hmcsim" in part for part in cmdline) or "serve" not in cmdline:
        return None
    return pid


def start_daemon(argv: list[str], state_dir: Path, timeout_s: float = 20.0) -> int:
    """Run `hmcsim serve` (argv without --daemon) in the background; 0 once it listens."""
    state_dir.mkdir(parents=True, exist_ok=True)
    pid = running_pid(state_dir)
    if pid is not None:
        print(f"hmcsim: already running (pid {pid}) on {_listen(state_dir)}")
        return 0
    (state_dir / LISTEN_FILE).unlink(missing_ok=True)
    command = [sys.executable, "-m", "hmcsim.cli", *argv]
    with (state_dir / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    (state_dir / PID_FILE).write_text(f"{process.pid}\n", encoding="utf-8")
    deadline = time.monotonic() + timeout_s
    while not (state_dir / LISTEN_FILE).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.terminate()
            tail = (state_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")[-2000:]
            print(f"hmcsim: failed to start; log {state_dir / LOG_FILE}:\n{tail}", file=sys.stderr)
            (state_dir / PID_FILE).unlink(missing_ok=True)
            return 1
        time.sleep(0.05)
    print(f"hmcsim: listening on {_listen(state_dir)} (pid {process.pid})")
    return 0


def _listen(state_dir: Path) -> str:
    try:
        return (state_dir / LISTEN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return "?"


def stop(state_dir: Path, timeout_s: float = 10.0) -> int:
    pid = running_pid(state_dir)
    if pid is None:
        (state_dir / PID_FILE).unlink(missing_ok=True)
        print("hmcsim: not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while running_pid(state_dir) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if running_pid(state_dir) == pid:
        print(f"hmcsim: pid {pid} did not stop within {timeout_s:.0f} s", file=sys.stderr)
        return 1
    (state_dir / PID_FILE).unlink(missing_ok=True)
    print(f"hmcsim: stopped (pid {pid})")
    return 0


def status(state_dir: Path) -> int:
    pid = running_pid(state_dir)
    if pid is None:
        print("hmcsim: not running")
        return 3
    print(f"hmcsim: running (pid {pid}) on {_listen(state_dir)}")
    return 0


def known_hosts_line(state_dir: Path) -> str:
    host, _, port = _listen(state_dir).rpartition(":")
    key_type, key_data = (state_dir / "ssh_host_key.pub").read_text(encoding="utf-8").split()[:2]
    return f"[{host}]:{port} {key_type} {key_data}"
