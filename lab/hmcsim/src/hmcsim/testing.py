"""Start a simulator for tests: `with running_simulator(tmp_path) as sim: sim.run("lssyscfg -r sys")`.

The simulator runs as a real `hmcsim serve` subprocess on a free loopback port, with a fresh client key pair,
a password file and a known_hosts file, so a test can use paramiko, OpenSSH `ssh` or an Ansible module.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from .dialect import DIALECT_ENV, Dialect
from .faults import ControlFile

DEFAULT_MODEL = Path(os.environ.get("HMCSIM_MODEL", Path(__file__).resolve().parents[4] / "lab" / "hmc" / "model.yml"))
STARTUP_TIMEOUT_S = 20.0


@dataclass
class RunningSimulator:
    host: str
    port: int
    state_dir: Path
    client_key: Path  # private key (OpenSSH format) authorised for hscroot
    client_public_key: Path
    password: str
    password_file: Path
    known_hosts: Path  # `[127.0.0.1]:PORT ssh-ed25519 AAAA...`
    host_public_key: Path
    model: Path
    process: subprocess.Popen
    _clients: list[paramiko.SSHClient] = field(default_factory=list)

    # ---- clients
    def connect(self, password: bool = False) -> paramiko.SSHClient:
        """A paramiko client that checks the host key against known_hosts."""
        client = paramiko.SSHClient()
        client.load_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        if password:
            client.connect(self.host, self.port, username="hscroot", password=self.password, look_for_keys=False,
                           allow_agent=False, timeout=10)
        else:
            client.connect(self.host, self.port, username="hscroot", key_filename=str(self.client_key),
                           look_for_keys=False, allow_agent=False, timeout=10)
        self._clients.append(client)
        return client

    def run(self, command: str, client: paramiko.SSHClient | None = None, timeout: float = 20) -> tuple[int, str, str]:
        """Run one command over an exec channel: (exit status, stdout, stderr)."""
        client = client or (self._clients[0] if self._clients else self.connect())
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        out = stdout.read().decode()
        err = stderr.read().decode()
        return stdout.channel.recv_exit_status(), out, err

    def ssh_argv(self, command: str) -> list[str]:
        """OpenSSH `ssh` argv (BatchMode, key auth, strict known_hosts) for one command."""
        return [
            "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
            "-i", str(self.client_key), "-p", str(self.port),
            f"hscroot@{self.host}", command,
        ]

    # ---- state and control
    def audit(self) -> list[dict]:
        path = self.state_dir / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def set_faults(self, control: dict) -> None:
        """Write DIR/faults.yml (re-read by the simulator before every command); checked here first, because the
        simulator ignores a broken file (it only logs why)."""
        ControlFile.model_validate(control)
        path = self.state_dir / "faults.yml"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(control), encoding="utf-8")
        os.replace(tmp, path)

    def set_dialect(self, dialect: dict) -> None:
        """Switch dialect keys while the simulator runs: merged into the `dialect:` of DIR/faults.yml."""
        path = self.state_dir / "faults.yml"
        control = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
        control["dialect"] = {**(control.get("dialect") or {}), **dialect}
        self.set_faults(control)

    def clear_faults(self) -> None:
        (self.state_dir / "faults.yml").unlink(missing_ok=True)

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_client_key(directory: Path) -> tuple[Path, Path]:
    raw = ed25519.Ed25519PrivateKey.generate()
    private_path = directory / "client_ed25519"
    public_path = directory / "client_ed25519.pub"
    private_path.write_bytes(
        raw.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    os.chmod(private_path, 0o600)
    public = raw.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    public_path.write_text(public.decode() + " hmcsim-test\n", encoding="utf-8")
    return private_path, public_path


@contextlib.contextmanager
def running_simulator(
    tmp_path: Path,
    *,
    model: Path | str | None = None,
    port: int | None = None,
    time_scale: float | None = None,
    dpo_seconds: float | None = None,
    faults: dict | None = None,
    state_dir: Path | None = None,
    env: dict[str, str] | None = None,
    dialect: dict | None = None,
) -> Iterator[RunningSimulator]:
    """Start `hmcsim serve` in a subprocess and stop it (SIGTERM) afterwards.

    time_scale / dpo_seconds set HMCSIM_TIME_SCALE / HMCSIM_DPO_SECONDS; dialect sets HMCSIM_DIALECT (checked
    here: unknown keys or values raise pydantic.ValidationError); faults is written to DIR/faults.yml before the
    start. Reuse `state_dir` to test restarts.
    """
    if dialect is not None:
        Dialect.model_validate(dialect)
    if faults is not None:
        ControlFile.model_validate(faults)
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    state_dir = Path(state_dir) if state_dir else tmp_path / "hmcsim-state"
    state_dir.mkdir(parents=True, exist_ok=True)
    client_key, client_public = (
        (tmp_path / "client_ed25519", tmp_path / "client_ed25519.pub")
        if (tmp_path / "client_ed25519").exists()
        else _write_client_key(tmp_path)
    )
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(client_public.read_text(encoding="utf-8"), encoding="utf-8")
    password = secrets.token_urlsafe(12)
    password_file = tmp_path / "hscroot.password"
    password_file.write_text(password + "\n", encoding="utf-8")
    os.chmod(password_file, 0o600)
    if faults is not None:
        (state_dir / "faults.yml").write_text(yaml.safe_dump(faults), encoding="utf-8")
    model_path = Path(model) if model else DEFAULT_MODEL
    listen_file = state_dir / "listen"
    listen_file.unlink(missing_ok=True)
    environment = dict(os.environ)
    if time_scale is not None:
        environment["HMCSIM_TIME_SCALE"] = str(time_scale)
    if dpo_seconds is not None:
        environment["HMCSIM_DPO_SECONDS"] = str(dpo_seconds)
    if dialect is not None:
        environment[DIALECT_ENV] = json.dumps(dialect)
    environment.update(env or {})
    log = (tmp_path / "hmcsim.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "hmcsim.cli", "serve", "--model", str(model_path), "--listen",
         f"127.0.0.1:{port or 0}", "--state-dir", str(state_dir), "--authorized-keys", str(authorized),
         "--password-file", str(password_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
    )
    simulator = None
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not listen_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"hmcsim exited with {process.returncode}; see {tmp_path / 'hmcsim.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError("hmcsim did not start listening")
            time.sleep(0.05)
        host, _, listen_port = listen_file.read_text(encoding="utf-8").strip().rpartition(":")
        host_public = state_dir / "ssh_host_key.pub"
        key_type, key_data = host_public.read_text(encoding="utf-8").split()[:2]
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(f"[{host}]:{listen_port} {key_type} {key_data}\n", encoding="utf-8")
        simulator = RunningSimulator(
            host=host, port=int(listen_port), state_dir=state_dir, client_key=client_key,
            client_public_key=client_public, password=password, password_file=password_file,
            known_hosts=known_hosts, host_public_key=host_public, model=model_path, process=process,
        )
        yield simulator
    finally:
        if simulator is not None:
            simulator.close_clients()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        log.close()
