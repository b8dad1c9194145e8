"""The HMC simulator (lab/hmcsim, console script `hmcsim`) as a detached lab process: THE way the project starts it.

- labctl up starts the lab's simulator from lab.yml (`HmcSim(spec, state, repo).ensure()`);
- molecule scenarios run `lab/labctl.py simulator-up --dir DIR --name NAME` (port from lab/lab.yml's port table);
- pytest uses `with simulator(DIR) as sim:` (tests/integration/conftest.py: fixture `hmc_simulator`), port 0.
Each gets a simulator with a key authorised for hscroot (STATE/id_ed25519), a random password file (0600) and a
known_hosts entry for its host key, so clients keep checking host keys.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from . import procs
from .config import HmcSpec, with_state
from .procs import LabError

REPO = Path(__file__).resolve().parents[2]


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
    def __init__(self, spec: HmcSpec, state: Path, repo: Path, env: dict[str, str] | None = None):
        self.spec = spec
        self.state = state
        self.repo = repo
        self.env = env or {}  # e.g. HMCSIM_DPO_SECONDS for fast tests
        self.dir = with_state(spec.state_dir, state)
        self.password_file = with_state(spec.password_file, state)
        self.known_hosts = with_state(spec.known_hosts, state)
        # One pid file per simulator (by name), so labs of other configs (molecule scenarios) keep theirs.
        self.pidfile = state / "services" / f"hmcsim-{spec.name}.pid"
        self.log = state / "services" / f"hmcsim-{spec.name}.log"
        # Which LPAR's NUMA view the simulator keeps written into which lab host (hmcsim.export).
        self.views_file = self.dir / "numa-views.json"
        self.listen_file = self.dir / "listen"  # hmcsim writes HOST:PORT there once it listens

    @property
    def host(self) -> str:
        return self.spec.host

    @property
    def port(self) -> int:
        """The port it listens on: lab.yml's, or for `listen: 127.0.0.1:0` the one it picked (0 before it runs)."""
        if self.spec.port:
            return self.spec.port
        try:
            return int(self.listen_file.read_text().strip().rpartition(":")[2])
        except (OSError, ValueError):
            return 0

    @property
    def client_key(self) -> Path:
        return self.state / "id_ed25519"

    def audit(self) -> list[dict]:
        """The simulator's audit log: one record per command it received."""
        path = self.dir / "audit.jsonl"
        text = path.read_text() if path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def inventory_vars(self) -> dict:
        """The hmc_* connection variables of an inventory host for this simulator."""
        return {"hmc_host": self.host, "hmc_port": self.port, "hmc_user": self.spec.user,
                "hmc_key_file": str(self.client_key), "hmc_known_hosts": str(self.known_hosts)}

    def set_numa_views(self, targets: list[dict]) -> None:
        """Tell the simulator (running or not) which files to keep current: [{system, lpar, file}]."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps({"views": targets}, indent=1) + "\n"
        if not self.views_file.exists() or self.views_file.read_text() != text:
            tmp = self.views_file.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self.views_file)

    def export_numa_views(self) -> list[str]:
        """Write the views now (a host that came up after the simulator's last state change gets its view)."""
        from hmcsim import export  # the project venv's hmcsim (labctl runs there when a lab has an HMC)

        return export.export_snapshot(self.dir, self.views_file, self.repo / self.spec.model)

    def reset_state(self) -> list[str]:
        """Forget what happened on the simulated HMC (the next start begins from the model); keeps its host key."""
        removed = []
        for name in ("state.json", "audit.jsonl", "faults.yml"):
            path = self.dir / name
            if path.exists():
                path.unlink()
                removed.append(name)
        return removed

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
            if self.spec.port and not procs.port_free(self.spec.port):
                raise LabError(f"HMC simulator port {self.spec.listen} is taken by another process")
            authorized = self._ensure_secrets()
            self.listen_file.unlink(missing_ok=True)
            self.pidfile.parent.mkdir(parents=True, exist_ok=True)
            argv = [command, "serve", "--model", str(self.repo / self.spec.model), "--listen", self.spec.listen,
                    "--state-dir", str(self.dir), "--authorized-keys", str(authorized),
                    "--password-file", str(self.password_file), "--numa-views", str(self.views_file)]
            pid = procs.start(argv, self.pidfile, self.log, env=dict(os.environ, **self.env))
            listening = (procs.wait_port(self.spec.port, timeout=30, pid=pid) if self.spec.port
                         else procs.wait_path(self.listen_file, timeout=30) and procs.wait_port(self.port, 10, pid=pid))
            if not listening:
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
        entry = f"[{self.host}]:{self.port}" if self.port != 22 else self.host
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


def standalone(directory: Path, name: str, listen: str, repo: Path, *, model: str = "lab/hmc/model.yml",
               env: dict[str, str] | None = None) -> HmcSim:
    """A simulator of its own in directory (no lab around it): its key, password, known_hosts and state there."""
    spec = HmcSpec(name=name, listen=listen, model=model, state_dir=str(directory / "state"), user="hscroot",
                   password_file=str(directory / "password"), known_hosts=str(directory / "known_hosts"))
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}-client", "-f", str(key)],
                       check=True)
    return HmcSim(spec, directory, repo, env=env)


@contextlib.contextmanager
def simulator(directory: Path, name: str = "hmc-test", port: int = 0, dpo_seconds: float | None = None,
              model: str = "lab/hmc/model.yml") -> Iterator[HmcSim]:
    """A running simulator for the length of the block (port 0: any free port), stopped afterwards."""
    env = {"HMCSIM_DPO_SECONDS": str(dpo_seconds)} if dpo_seconds is not None else {}
    sim = standalone(Path(directory), name, f"127.0.0.1:{port}", REPO, model=model, env=env)
    sim.ensure()
    try:
        yield sim
    finally:
        sim.stop()
