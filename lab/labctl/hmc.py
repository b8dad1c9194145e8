"""The HMC simulator (lab/hmcsim, console script `hmcsim`) as a detached lab process."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from . import procs
from .config import HmcSpec, with_state
from .procs import LabError


def hmcsim_command() -> str | None:
    """The `hmcsim` console script next to the running Python (the venv), else on PATH; None if the package or
    its command-line module is not installed (yet)."""
    try:
        if importlib.util.find_spec("hmcsim.cli") is None:
            return None
    except ImportError:
        return None
    beside = Path(sys.executable).parent / "hmcsim"
    if beside.exists():
        return str(beside)
    return shutil.which("hmcsim")


class HmcSim:
    def __init__(self, spec: HmcSpec, state: Path, repo: Path):
        self.spec = spec
        self.state = state
        self.repo = repo
        self.dir = with_state(spec.state_dir, state)
        self.password_file = with_state(spec.password_file, state)
        self.known_hosts = with_state(spec.known_hosts, state)
        # One pid file per simulator (by name), so labs of other configs (molecule scenarios) keep theirs.
        self.pidfile = state / "services" / f"hmcsim-{spec.name}.pid"
        self.log = state / "services" / f"hmcsim-{spec.name}.log"

    def pid(self) -> int | None:
        return procs.read_pid(self.pidfile)

    def _ensure_secrets(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.password_file.exists():
            # Created with 0600 from the start, so the password is never readable by others, not even briefly.
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(24) + "\n")
        authorized = self.dir / "authorized_keys"
        pub = (self.state / "id_ed25519.pub").read_text()
        if not authorized.exists() or authorized.read_text() != pub:
            authorized.write_text(pub)
            authorized.chmod(0o600)
        return authorized

    def ensure(self) -> bool:
        """Start the simulator unless it runs; True if started. Also (re)writes its known_hosts entry."""
        command = hmcsim_command()
        if command is None:
            raise LabError("the hmcsim package is not installed (pip install -e lab/hmcsim)")
        started = False
        if self.pid() is None:
            if not procs.port_free(self.spec.port):
                raise LabError(f"HMC simulator port {self.spec.listen} is taken by another process")
            authorized = self._ensure_secrets()
            self.pidfile.parent.mkdir(parents=True, exist_ok=True)
            argv = [command, "serve", "--model", str(self.repo / self.spec.model), "--listen", self.spec.listen,
                    "--state-dir", str(self.dir), "--authorized-keys", str(authorized),
                    "--password-file", str(self.password_file)]
            pid = procs.start(argv, self.pidfile, self.log)
            if not procs.wait_port(self.spec.port, timeout=30, pid=pid):
                alive = procs.read_pid(self.pidfile) == pid
                procs.stop(self.pidfile)
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
                raise LabError(f"HMC simulator did not listen on {self.spec.listen} "
                               f"({'still starting' if alive else 'exited'}); end of {self.log}:\n{tail}")
            started = True
        self._write_known_hosts()
        return started

    def _write_known_hosts(self) -> None:
        deadline = time.monotonic() + 10
        keys: list[Path] = []
        while time.monotonic() < deadline and not keys:
            keys = sorted(self.dir.glob("*.pub"))
            if not keys:
                time.sleep(0.1)
        if not keys:
            raise LabError(f"HMC simulator wrote no host key (*.pub) into {self.dir}")
        entry = f"[{self.spec.host}]:{self.spec.port}" if self.spec.port != 22 else self.spec.host
        lines = []
        for key in keys:
            fields = key.read_text().split()
            if len(fields) >= 2:
                lines.append(f"{entry} {fields[0]} {fields[1]}\n")
        text = "".join(lines)
        if not self.known_hosts.exists() or self.known_hosts.read_text() != text:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            self.known_hosts.write_text(text)

    def stop(self) -> bool:
        return procs.stop(self.pidfile, timeout=10)
