"""A throwaway PostgreSQL cluster for the fraud app's tests and bench (Debian's `postgresql` package, no service).

`initdb` into a temporary directory, a free port of a given range on 127.0.0.1, scram-sha-256 for TCP clients
(a `fraud` role and database, a random password), fsync and synchronous_commit on (the durability the app
documents). Runs as the `postgres` user when started by root (PostgreSQL refuses to run as root). Loaded by path
(`importlib`), like contract_testing.py: it is not part of either app's package.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def bin_dir() -> Path:
    """The newest /usr/lib/postgresql/N/bin (Debian), else wherever initdb is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("no PostgreSQL server binaries (apt install postgresql: lab/setup/system-packages.sh)")
    return Path(initdb).resolve().parent


def free_port(first: int, last: int) -> int:
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


class Cluster:
    def __init__(self, ports: tuple[int, int], base: Path | None = None):
        self.bin = bin_dir()
        self.port = free_port(*ports)
        self.dir = Path(tempfile.mkdtemp(prefix="rocketce-pg-", dir=base))
        self.data, self.log = self.dir / "data", self.dir / "postgres.log"
        self.password = secrets.token_urlsafe(18)
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        os.chmod(self.dir, 0o700)

    def _run(self, *argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        if self.user:
            kwargs.update(user=self.user, group=self.user, extra_groups=[])
        return subprocess.run(argv, cwd=self.dir, check=check, **kwargs)  # noqa: S603 - fixed binaries, our own arguments

    def init(self) -> Cluster:
        pwfile = self.dir / "pw"
        pwfile.write_text(secrets.token_urlsafe(18) + "\n")   # the superuser's, never used over TCP
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                  "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync")
        pwfile.unlink()
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                       "password_encryption = 'scram-sha-256'\nfsync = on\nsynchronous_commit = on\n"
                       "shared_buffers = 16MB\nmax_connections = 40\n")
        self.start()
        self.sql(f"CREATE ROLE fraud LOGIN PASSWORD '{self.password}'")
        self.sql("CREATE DATABASE fraud OWNER fraud")
        return self

    def sql(self, statement: str, dbname: str = "postgres") -> str:
        """Run SQL over the Unix socket (trust, the superuser); the statement goes on stdin, never on argv."""
        return self._run(str(self.bin / "psql"), "-h", str(self.dir), "-p", str(self.port), "-U", "postgres",
                         "-d", dbname, "-v", "ON_ERROR_STOP=1", "-At", "-f", "-", input=statement).stdout

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=fraud user=fraud password={self.password} sslmode=disable"

    def dsn_file(self, path: Path) -> Path:
        path.write_text(self.conninfo() + "\n")
        path.chmod(0o600)
        return path

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
