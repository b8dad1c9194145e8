"""The SSH side: paramiko server, host key, authentication, exec and shell channels."""

from __future__ import annotations

import base64
import hmac
import logging
import os
import signal
import socket
import threading
import uuid
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from paramiko.common import MSG_CHANNEL_REQUEST

from .engine import Engine
from .state import Store

USER = "hscroot"
QUICKACK = getattr(socket, "TCP_QUICKACK", None)
HOST_KEY_FILE = "ssh_host_key"
log = logging.getLogger("hmcsim")


def load_or_create_host_key(state_dir: Path) -> paramiko.PKey:
    """DIR/ssh_host_key (OpenSSH private key) and DIR/ssh_host_key.pub (`ssh-ed25519 BASE64 comment`)."""
    private_path = state_dir / HOST_KEY_FILE
    public_path = state_dir / (HOST_KEY_FILE + ".pub")
    if not private_path.exists():
        key = ed25519.Ed25519PrivateKey.generate()
        private_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        public_bytes = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_bytes)
        public_path.write_text(public_bytes.decode() + " hmcsim\n", encoding="utf-8")
    host_key = paramiko.Ed25519Key(filename=str(private_path))
    if not public_path.exists():
        public_path.write_text(f"{host_key.get_name()} {host_key.get_base64()} hmcsim\n", encoding="utf-8")
    return host_key


def read_authorized_keys(path: Path | None) -> set[bytes]:
    """Key blobs from an OpenSSH authorized_keys file (options before the key type are skipped)."""
    if path is None or not path.exists():
        return set()
    blobs = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.strip().split()
        for position, field in enumerate(fields[:-1]):
            if field.startswith(("ssh-", "ecdsa-", "sk-")):
                try:
                    blobs.add(base64.b64decode(fields[position + 1], validate=True))
                except ValueError:
                    pass
                break
    return blobs


class Credentials:
    def __init__(self, authorized_keys: Path | None, password_file: Path | None):
        self.authorized_keys = authorized_keys
        self.password_file = password_file

    def methods(self) -> str:
        methods = []
        if self.authorized_keys is not None:
            methods.append("publickey")
        if self.password_file is not None:
            methods.append("password")
        return ",".join(methods)

    def password_ok(self, password: str) -> bool:
        if self.password_file is None:
            return False
        expected = self.password_file.read_text(encoding="utf-8").splitlines()[0] if self.password_file.exists() else ""
        return bool(expected) and hmac.compare_digest(expected.encode(), password.encode())

    def key_ok(self, key: paramiko.PKey) -> bool:
        # Re-read per attempt so tests and the lab can add keys while the simulator runs.
        return key.asbytes() in read_authorized_keys(self.authorized_keys)


def _handle_request_then_start_work(channel: paramiko.Channel, message: paramiko.Message) -> None:
    """Paramiko answers an exec/shell request only after our check_* callback returns. A worker started inside
    the callback can finish and close the channel before that answer is sent, and the client then sees "Channel
    closed". So the callback only stores the work, and it starts here, after paramiko has sent the reply."""
    paramiko.Channel._handle_request(channel, message)
    start = getattr(channel, "hmcsim_start", None)
    if start is not None:
        channel.hmcsim_start = None
        start()


class HmcTransport(paramiko.Transport):
    _channel_handler_table = {  # noqa: RUF012 - the same class-level table paramiko uses, one entry changed
        **paramiko.Transport._channel_handler_table,
        MSG_CHANNEL_REQUEST: _handle_request_then_start_work,
    }


class QuickAckSocket(socket.socket):
    """A client socket that acknowledges every segment at once (TCP_QUICKACK before each read).

    paramiko's client does not set TCP_NODELAY, so it holds a small message (e.g. CHANNEL_OPEN after the previous
    channel's EOF and CLOSE) until the server acknowledges the one before. With delayed ACKs that costs ~40 ms per
    command on a reused connection; quick ACKs bring it to about 1 ms. Linux clears the flag, hence per read.
    """

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if QUICKACK is not None:
            self.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        return super().recv(bufsize, flags)


class Connection(paramiko.ServerInterface):
    """One SSH connection: authentication and channel requests."""

    def __init__(self, simulator: Simulator, transport: paramiko.Transport, peer: str):
        self.simulator = simulator
        self.transport = transport
        self.peer = peer
        self.connection_id = uuid.uuid4().hex[:12]
        self.user: str | None = None

    def get_allowed_auths(self, username: str) -> str:
        return self.simulator.credentials.methods()

    def check_auth_password(self, username: str, password: str) -> int:
        if username == USER and self.simulator.credentials.password_ok(password):
            self.user = username
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == USER and self.simulator.credentials.key_ok(key):
            self.user = username
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, channel, *_terminal) -> bool:
        channel.hmcsim_pty = True
        return True

    def check_channel_env_request(self, channel, name, value) -> bool:
        return True  # SendEnv LC_ALL etc.: accepted and ignored, like the HMC's English locale

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        line = command.decode("utf-8", errors="replace")
        worker = threading.Thread(target=self._run_exec, args=(channel, line), daemon=True)
        channel.hmcsim_start = worker.start
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        channel.hmcsim_start = threading.Thread(target=self._run_shell, args=(channel,), daemon=True).start
        return True

    # ---- channel workers
    def _execute(self, channel: paramiko.Channel, line: str):
        return self.simulator.engine.execute(line, self.connection_id, channel.get_id(), self.user or USER, self.peer)

    def _run_exec(self, channel: paramiko.Channel, line: str) -> None:
        try:
            result = self._execute(channel, line)
            if result.drop:
                self.transport.close()
                return
            newline = "\r\n" if getattr(channel, "hmcsim_pty", False) else "\n"
            if result.stdout:
                channel.sendall(result.stdout.replace("\n", newline).encode())
            if result.stderr:
                channel.sendall_stderr(result.stderr.replace("\n", newline).encode())
            channel.send_exit_status(result.status or 0)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            log.info("connection %s: %s", self.connection_id, exc)
        finally:
            channel.close()

    def _run_shell(self, channel: paramiko.Channel) -> None:
        """Interactive session (xCAT style): prompt, one command per line, `exit` ends it."""
        prompt = f"{USER}@{self.simulator.store.state.hmc.name}:~> "
        buffer = b""
        status = 0
        try:
            channel.sendall(prompt.encode())
            while True:
                data = channel.recv(4096)
                if not data:
                    break
                buffer += data
                while b"\n" in buffer.replace(b"\r", b"\n"):
                    normalized = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                    raw, _, rest = normalized.partition(b"\n")
                    buffer = rest
                    line = raw.decode("utf-8", errors="replace").strip()
                    if line in {"exit", "logout"}:
                        channel.send_exit_status(status)
                        return
                    if line:
                        result = self._execute(channel, line)
                        if result.drop:
                            self.transport.close()
                            return
                        status = result.status or 0
                        channel.sendall((result.stdout + result.stderr).replace("\n", "\r\n").encode())
                    channel.sendall(prompt.encode())
        except (OSError, EOFError, paramiko.SSHException) as exc:
            log.info("connection %s: %s", self.connection_id, exc)
        finally:
            channel.close()


class Simulator:
    """Listens on host:port and serves every connection in its own thread until stopped."""

    def __init__(self, store: Store, host: str, port: int, credentials: Credentials):
        self.store = store
        self.engine = Engine(store)
        self.credentials = credentials
        self.host_key = load_or_create_host_key(store.state_dir)
        self.stopping = threading.Event()
        self.transports: set[paramiko.Transport] = set()
        self._transports_lock = threading.Lock()
        self.socket = socket.create_server((host, port), reuse_port=False, backlog=128)
        self.socket.settimeout(0.2)

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    def serve_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                client, address = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stopping.is_set():
                    break
                raise
            threading.Thread(target=self._serve_connection, args=(client, address), daemon=True).start()
        self._close()

    def _serve_connection(self, client: socket.socket, address) -> None:
        client = QuickAckSocket(client.family, client.type, client.proto, fileno=client.detach())
        client.settimeout(None)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # our small replies go out at once too
        transport = HmcTransport(client)
        transport.add_server_key(self.host_key)
        transport.set_keepalive(30)
        with self._transports_lock:
            self.transports.add(transport)
        try:
            transport.start_server(server=Connection(self, transport, f"{address[0]}:{address[1]}"))
            open_channels: list[paramiko.Channel] = []
            while transport.is_active() and not self.stopping.is_set():
                # Channels are served from their exec/shell requests; this loop only drains the accept queue and
                # keeps a reference to each open channel (a dropped paramiko Channel closes itself when collected).
                channel = transport.accept(timeout=0.5)
                open_channels = [c for c in open_channels if not c.closed]
                if channel is not None:
                    open_channels.append(channel)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            log.info("connection from %s ended: %s", address, exc)
        finally:
            transport.close()
            with self._transports_lock:
                self.transports.discard(transport)

    def stop(self, *_args) -> None:
        self.stopping.set()

    def _close(self) -> None:
        self.socket.close()
        with self._transports_lock:
            transports = list(self.transports)
        for transport in transports:
            transport.close()
        with self.store.lock:
            self.store.advance()
            self.store.save()


def install_signal_handlers(simulator: Simulator) -> None:
    signal.signal(signal.SIGTERM, simulator.stop)
    signal.signal(signal.SIGINT, simulator.stop)
