"""Lab hosts: systemd-nspawn containers of a Debian 12 image, one overlayfs and one network namespace each.

Layout under the state dir (ROCKETCE_LAB_STATE, default /var/tmp/rocketce-lab):
  id_ed25519[.pub]            key authorized for root in every host
  image/bookworm.tar.zst      packed root filesystem, built by lab/image/build.sh
  image/bookworm.recipe       hash of build.sh the image was built from (a changed recipe rebuilds it); the image
                              comes from the hash-keyed cache $ROCKETCE_LAB_CACHE when it is there (artifacts.py)
  template/<recipe>/          the image unpacked once; lower layer of every host's overlay
  hosts/NAME/                 root (overlay mount), upper, work, host.json, pid files, sockets, logs
  artifacts/                  what the artifact server serves, built by the first `up` (artifacts.py)
  services/                   shared egress proxy and artifact server (see services.py)
Inside a host's netns, sshd (22), the proxy (3128) and the artifact server (8081) are on 127.0.0.1 only; socat
relays through unix sockets connect them with the controller's loopback.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import artifacts, procs, services
from .procs import LabError

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = artifacts.IMAGE_RECIPE
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
PROXY_IN_HOST = 3128
ARTIFACTS_IN_HOST = 8081
NSPAWN_TMPFS = Path("/run/systemd/nspawn")
NETNS_DIR = Path("/run/netns")
READY_TIMEOUT = 90.0
HALT_TIMEOUT = 20.0
# nspawn exits with 133 when the container asks for a reboot; the supervisor then boots it again, like
# systemd-nspawn@.service does, so ansible.builtin.reboot works. The stop file ends the loop on `down`.
SUPERVISOR = (
    'while :; do "$@" & echo "$!" > "$LAB_HOST_DIR/nspawn.pid"; wait "$!"; rc=$?; '
    '[ "$rc" = 133 ] && [ ! -e "$LAB_HOST_DIR/stop" ] || break; done; exit "$rc"'
)
GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def state_dir() -> Path:
    # A fixed, root-owned place on purpose: the image cache must survive between runs and checkouts.
    return Path(os.environ.get("ROCKETCE_LAB_STATE", "/var/tmp/rocketce-lab"))  # noqa: S108


def key_file(state: Path) -> Path:
    return state / "id_ed25519"


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise LabError(f"invalid host name {name!r}: use 2-32 of a-z, 0-9 and '-', starting with a letter")
    return name


def validate_port(port: int | str, what: str = "port") -> int:
    try:
        value = int(port)
    except (TypeError, ValueError):
        raise LabError(f"invalid {what} {port!r}: not a number") from None
    if not 1024 <= value <= 65535:
        raise LabError(f"invalid {what} {value}: use 1024-65535")
    return value


def parse_forward(spec: str) -> tuple[int, int]:
    """'HOSTPORT:PORT' -> (controller port, port inside the host)."""
    host_port, sep, guest_port = spec.partition(":")
    if not sep:
        raise LabError(f"invalid forward {spec!r}: expected HOSTPORT:PORT")
    return validate_port(host_port, "forward host port"), validate_port(guest_port, "forward port")


@dataclass
class Host:
    name: str
    port: int
    forwards: list[tuple[int, int]] = field(default_factory=list)
    template: str = ""

    @property
    def netns(self) -> str:
        return f"rl-{self.name}"


class Lab:
    def __init__(self, state: Path | None = None, out=sys.stdout):
        self.state = state or state_dir()
        self.out = out

    # ------------------------------------------------------------------ paths and small helpers
    def host_dir(self, name: str) -> Path:
        return self.state / "hosts" / name

    def say(self, msg: str) -> None:
        print(msg, file=self.out, flush=True)

    @contextmanager
    def lock(self, name: str = ".lock", timeout: float = 900.0):
        """One lab operation at a time changes shared state (services, mounts, host dirs). The image build has its
        own lock (".image.lock"), so that `down` never waits for a minute-long debootstrap."""
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self.state / name, "w") as fh:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LabError(f"timed out waiting for the lab lock {self.state / name}") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def load(self, name: str) -> Host | None:
        try:
            data = json.loads((self.host_dir(name) / "host.json").read_text())
        except (OSError, ValueError):
            return None
        data["forwards"] = [tuple(f) for f in data.get("forwards", [])]
        return Host(**data)

    def save(self, host: Host) -> None:
        (self.host_dir(host.name) / "host.json").write_text(json.dumps(asdict(host), indent=1) + "\n")

    def names(self) -> list[str]:
        base = self.state / "hosts"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def nspawn_pid(self, name: str) -> int | None:
        return procs.read_pid(self.host_dir(name) / "nspawn.pid")

    def running(self, name: str) -> bool:
        # The supervisor, not nspawn: during a reboot nspawn is briefly gone, and the host still counts as up.
        return procs.read_pid(self.host_dir(name) / "supervisor.pid") is not None

    def leader_pid(self, name: str) -> int | None:
        """PID 1 of the container (the child of systemd-nspawn), for nsenter."""
        pid = self.nspawn_pid(name)
        if pid is None:
            return None
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    # ------------------------------------------------------------------ image and template
    def recipe(self) -> str:
        return artifacts.image_key(BUILD_SCRIPT)

    def ensure_key(self) -> Path:
        key = key_file(self.state)
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rocketce-lab", "-f", str(key)],
                           check=True)
        return key

    def ensure_image(self) -> Path:
        """STATE/image/bookworm.tar.zst for the current recipe: from the hash-keyed cache, else built (and cached)."""
        image = self.state / "image" / "bookworm.tar.zst"
        recipe_file = image.with_suffix("").with_suffix(".recipe")
        recipe = self.recipe()
        if image.exists() and recipe_file.exists() and recipe_file.read_text().strip() == recipe:
            return image
        cached = artifacts.cached_image(recipe)
        if cached is not None:
            artifacts.copy_in(cached, image)
            recipe_file.write_text(recipe + "\n")
            self.say(f"lab: host image {recipe} from the cache {cached}")
            return image
        self.say(f"lab: building the host image {image} (debootstrap bookworm, about a minute)")
        log = self.state / "image" / "build.log"
        image.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        with open(log, "wb") as out:
            build = subprocess.run([str(BUILD_SCRIPT), str(image)], check=False, stdout=out, stderr=subprocess.STDOUT)
        rc = build.returncode
        if rc != 0:
            tail = log.read_text(errors="replace").splitlines()[-15:]
            raise LabError(f"image build failed (rc={rc}); end of {log}:\n" + "\n".join(tail))
        recipe_file.write_text(recipe + "\n")
        artifacts.store_image(image, recipe)
        self.say(f"lab: image built in {time.monotonic() - t0:.1f}s")
        return image

    def ensure_template(self) -> Path:
        recipe = self.recipe()
        tpl = self.state / "template" / recipe
        if (tpl / "etc" / "os-release").exists():
            return tpl
        image = self.ensure_image()
        tmp = tpl.with_name(tpl.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        subprocess.run(["tar", "-C", str(tmp), "--numeric-owner", "--zstd", "-xf", str(image)], check=True)
        tmp.rename(tpl)
        return tpl

    def prune_templates(self, keep: Path) -> None:
        """Remove templates of older recipes that no host uses any more (call with the main lock held)."""
        in_use = {h.template for n in self.names() if (h := self.load(n))}
        for tpl in (self.state / "template").iterdir():
            if tpl != keep and str(tpl) not in in_use and not tpl.name.endswith(".tmp"):
                shutil.rmtree(tpl, ignore_errors=True)

    # ------------------------------------------------------------------ up
    def up(self, name: str, port: int, forwards: list[tuple[int, int]] | None = None) -> str:
        """Bring a host up: "started", or for a running host "updated" (missing forwards added) or "unchanged"."""
        validate_name(name)
        port = validate_port(port)
        forwards = forwards or []
        t0 = time.monotonic()
        with self.lock(".image.lock"):  # what every host needs, built here when missing, whoever runs first
            self.ensure_key()
            tpl = self.ensure_template()
            artifacts.ensure_artifacts(self.state, say=self.say)
        with self.lock():
            ensure_nspawn_tmpfs()
            host = self.load(name)
            if host and self.running(name):
                if host.port != port:
                    raise LabError(f"{name} is already running on port {host.port}, not {port}; "
                                   f"run `down {name}` first")
                added = self._add_forwards(host, forwards)
                if added:
                    self.say(f"{name}: already running on 127.0.0.1:{port}; added forwards {', '.join(added)}")
                    return "updated"
                self.say(f"{name}: already running on 127.0.0.1:{port} (no change)")
                return "unchanged"
            if self.host_dir(name).exists():
                self._teardown(name)  # leftovers of a host that died or of a machine reboot
            for p in [port, *[hp for hp, _ in forwards]]:
                if not procs.port_free(p):
                    raise LabError(f"{name}: port 127.0.0.1:{p} is already in use")
            services.ensure(self.state)
            host = Host(name=name, port=port, forwards=[], template=str(tpl))
            self._prepare(host)
            self._start(host)
            self._add_forwards(host, forwards)
            self.prune_templates(keep=tpl)
            t_prep = time.monotonic() - t0
        t1 = time.monotonic()
        state = self.wait_ready(host)
        self.say(f"{name}: up on 127.0.0.1:{port} prep={t_prep:.2f}s boot_to_ssh={time.monotonic() - t1:.2f}s "
                 f"state={state}")
        return "started"

    def _prepare(self, host: Host) -> None:
        hdir = self.host_dir(host.name)
        root = hdir / "root"
        for sub in ("root", "upper", "work"):
            (hdir / sub).mkdir(parents=True, exist_ok=True)
        self.save(host)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir={host.template},upperdir={hdir / 'upper'},workdir={hdir / 'work'}", str(root)],
                       check=True)
        etc = root / "etc"
        (etc / "hostname").write_text(host.name + "\n")
        (etc / "hosts").write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{host.name}\n::1\tlocalhost ip6-localhost\n")
        # Stable for the life of the host (journal across reboots), different for every host.
        (etc / "machine-id").write_text(uuid.uuid4().hex + "\n")
        hostkey = etc / "ssh" / "ssh_host_ed25519_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{host.name}", "-f", str(hostkey)],
                       check=True)
        ssh_dir = root / "root" / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        auth = ssh_dir / "authorized_keys"
        shutil.copyfile(key_file(self.state).with_suffix(".pub"), auth)
        auth.chmod(0o600)
        self._copy_ca_bundle(root)
        proxy = f"http://127.0.0.1:{PROXY_IN_HOST}"
        bundle = "/etc/ssl/certs/ca-certificates.crt"
        env_lines = [f"http_proxy={proxy}", f"https_proxy={proxy}", f"HTTP_PROXY={proxy}", f"HTTPS_PROXY={proxy}",
                     "no_proxy=127.0.0.1,localhost", "NO_PROXY=127.0.0.1,localhost",
                     f"PIP_CERT={bundle}", f"REQUESTS_CA_BUNDLE={bundle}", f"SSL_CERT_FILE={bundle}",
                     f"LAB_ARTIFACTS_URL=http://127.0.0.1:{ARTIFACTS_IN_HOST}/"]
        (etc / "environment").write_text("\n".join(env_lines) + "\n")
        (etc / "apt" / "apt.conf.d" / "90lab-proxy").write_text(
            f'Acquire::http::Proxy "{proxy}";\nAcquire::https::Proxy "{proxy}";\n')

    @staticmethod
    def _copy_ca_bundle(root: Path) -> None:
        """The controller's CAs (including a TLS-intercepting egress proxy's) so apt/pip/curl trust what it trusts."""
        local = Path("/usr/local/share/ca-certificates")
        if local.is_dir():
            for crt in local.glob("*.crt"):
                shutil.copyfile(crt, root / "usr/local/share/ca-certificates" / crt.name)
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        if bundle.exists():
            shutil.copyfile(bundle, root / "etc/ssl/certs/ca-certificates.crt")

    def _relay_in(self, host: Host, tag: str, listen: str, connect: str) -> None:
        hdir = self.host_dir(host.name)
        procs.start(["ip", "netns", "exec", host.netns, "socat", listen, connect], hdir / f"{tag}.pid",
                    hdir / "relays.log")

    def _relay_out(self, host: Host, tag: str, listen: str, connect: str) -> None:
        hdir = self.host_dir(host.name)
        procs.start(["socat", listen, connect], hdir / f"{tag}.pid", hdir / "relays.log")

    def _claim_netns(self, host: Host) -> None:
        """Create the host's netns. One left by a lab whose state directory is gone (a crash, a deleted LAB_STATE,
        a container that shared /run) is reclaimed when no process lives in it; one in use is another lab's."""
        if (NETNS_DIR / host.netns).exists():
            pids = subprocess.run(["ip", "netns", "pids", host.netns], capture_output=True, text=True, check=False)
            if pids.returncode != 0 or pids.stdout.split():
                raise LabError(f"{host.name}: network namespace {host.netns} is in use by processes "
                               f"{' '.join(pids.stdout.split()) or '(unknown)'} ({pids.stderr.strip()}): another "
                               "lab with this host name is up; run `make lab-down LAB_STATE=...` for it first")
            self.say(f"{host.name}: reclaiming the empty network namespace {host.netns} left by an earlier lab")
            subprocess.run(["ip", "netns", "del", host.netns], check=True)
        subprocess.run(["ip", "netns", "add", host.netns], check=True)

    def _start(self, host: Host) -> None:
        hdir = self.host_dir(host.name)
        root = hdir / "root"
        self._claim_netns(host)
        subprocess.run(["ip", "-n", host.netns, "link", "set", "lo", "up"], check=True)
        sdir = services.service_dir(self.state)
        # controller 127.0.0.1:PORT -> ssh.sock -> sshd on 127.0.0.1:22 in the netns
        self._forward(host, host.port, 22, tag="ssh")
        # netns 127.0.0.1:3128 / :8081 -> the shared proxy / artifact server on the controller
        for tag, port, svc in (("proxy", PROXY_IN_HOST, services.PROXY), ("artifacts", ARTIFACTS_IN_HOST,
                                                                            services.ARTIFACTS)):
            self._relay_in(host, f"{tag}-in", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
                           f"UNIX-CONNECT:{svc.socket(sdir)}")
        env = {"PATH": os.environ.get("PATH", GUEST_PATH), "LANG": "C.UTF-8", "LAB_HOST_DIR": str(hdir)}
        argv = ["bash", "-c", SUPERVISOR, "supervisor", "systemd-nspawn", "--boot", "--register=no", "--keep-unit",
                "--console=read-only", "--link-journal=no", f"--network-namespace-path=/run/netns/{host.netns}",
                "-D", str(root), "-M", host.name]
        procs.start(argv, hdir / "supervisor.pid", hdir / "console.log", env=env)
        # The supervisor writes the bare pid of nspawn; re-record it with its start time.
        nspawn_pidfile = hdir / "nspawn.pid"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = nspawn_pidfile.read_text().split() if nspawn_pidfile.exists() else []
            if text:
                procs.record(int(text[0]), nspawn_pidfile)
                break
            time.sleep(0.01)
        else:
            raise LabError(f"{host.name}: systemd-nspawn did not start; see {hdir / 'console.log'}")

    def _forward(self, host: Host, host_port: int, guest_port: int, tag: str) -> None:
        sock = self.host_dir(host.name) / f"{tag}.sock"
        sock.unlink(missing_ok=True)
        self._relay_in(host, f"{tag}-in", f"UNIX-LISTEN:{sock},fork,mode=600", f"TCP:127.0.0.1:{guest_port}")
        if not procs.wait_path(sock, timeout=5):
            raise LabError(f"{host.name}: relay socket {sock} did not appear")
        self._relay_out(host, f"{tag}-out", f"TCP-LISTEN:{host_port},bind=127.0.0.1,reuseaddr,fork",
                        f"UNIX-CONNECT:{sock}")
        if not procs.wait_port(host_port, timeout=5):
            raise LabError(f"{host.name}: relay on 127.0.0.1:{host_port} did not listen")

    def _add_forwards(self, host: Host, forwards: list[tuple[int, int]]) -> list[str]:
        added = []
        hdir = self.host_dir(host.name)
        for host_port, guest_port in forwards:
            tag = f"fwd-{host_port}"
            if (host_port, guest_port) in host.forwards and procs.read_pid(hdir / f"{tag}-out.pid"):
                continue
            for suffix in ("in", "out"):
                procs.stop(hdir / f"{tag}-{suffix}.pid")
            if not procs.port_free(host_port):
                raise LabError(f"{host.name}: forward port 127.0.0.1:{host_port} is already in use")
            self._forward(host, host_port, guest_port, tag=tag)
            if (host_port, guest_port) not in host.forwards:
                host.forwards.append((host_port, guest_port))
            added.append(f"{host_port}->{guest_port}")
        self.save(host)
        return added

    def ssh_argv(self, port: int, *command: str) -> list[str]:
        return ["ssh", "-i", str(key_file(self.state)), "-o", "StrictHostKeyChecking=no", "-o",
                "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
                "-p", str(port), "root@127.0.0.1", *command]

    def wait_ready(self, host: Host) -> str:
        """Wait until sshd answers and systemd has finished booting; 'running' or a LabError with the reason."""
        deadline = time.monotonic() + READY_TIMEOUT
        hdir = self.host_dir(host.name)
        state = "no ssh"
        while time.monotonic() < deadline:
            if procs.read_pid(hdir / "supervisor.pid") is None:
                tail = (hdir / "console.log").read_text(errors="replace").splitlines()[-20:]
                raise LabError(f"{host.name}: systemd-nspawn exited; end of console.log:\n" + "\n".join(tail))
            try:
                res = subprocess.run(self.ssh_argv(host.port, "systemctl is-system-running --wait"), check=False,
                                     capture_output=True, text=True, timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                state = "still booting"
                break
            state = res.stdout.strip()
            if res.returncode == 255 or not state:  # ssh itself failed: sshd not up yet
                time.sleep(0.1)
                continue
            if state == "running":
                return state
            failed = subprocess.run(self.ssh_argv(host.port, "systemctl --failed --no-legend --plain"), check=False,
                                    capture_output=True, text=True, timeout=30).stdout
            raise LabError(f"{host.name}: systemd state is {state!r}; failed units:\n{failed}")
        raise LabError(f"{host.name}: not ready after {READY_TIMEOUT:.0f}s (last state: {state}); "
                       f"see {hdir / 'console.log'}")

    # ------------------------------------------------------------------ down
    def down(self, name: str) -> bool:
        """Stop and remove a host; when it was the last one, stop the shared services too. True if it existed."""
        validate_name(name)
        with self.lock():
            existed = self.host_dir(name).exists()
            t0 = time.monotonic()
            if existed:
                self._teardown(name)
            if not self.names():
                stopped = services.stop(self.state)
                if stopped:
                    self.say(f"lab: last host gone, stopped {', '.join(stopped)}")
                release_global_mounts()
        self.say(f"{name}: down in {time.monotonic() - t0:.2f}s" if existed else f"{name}: not present (no change)")
        return existed

    def _teardown(self, name: str) -> None:
        hdir = self.host_dir(name)
        (hdir / "stop").touch()
        nspawn = self.nspawn_pid(name)
        if nspawn is not None:
            # SIGTERM makes nspawn halt the container cleanly (systemd in the container shuts down).
            os.kill(nspawn, 15)
            deadline = time.monotonic() + HALT_TIMEOUT
            while time.monotonic() < deadline and self.nspawn_pid(name) is not None:
                time.sleep(0.05)
            if self.nspawn_pid(name) is not None:
                self.say(f"{name}: container did not halt in {HALT_TIMEOUT:.0f}s, killing it")
        procs.stop(hdir / "supervisor.pid", timeout=3)
        for pidfile in sorted(hdir.glob("*.pid")):
            procs.stop(pidfile, timeout=3)
        # If nspawn was killed hard (or died), the container's own PID 1 lives on without it: end its PID namespace.
        for init in container_inits(hdir / "upper"):
            self.say(f"{name}: killing orphaned container init {init}")
            os.kill(init, 9)
            procs.wait_gone(init, timeout=5)
        subprocess.run(["ip", "netns", "del", f"rl-{name}"], capture_output=True, check=False)
        # nspawn removes its propagation dir on a clean exit only.
        shutil.rmtree(NSPAWN_TMPFS / "propagate" / name, ignore_errors=True)
        root = hdir / "root"
        if _is_mountpoint(root):
            res = subprocess.run(["umount", str(root)], capture_output=True, text=True, check=False)
            if res.returncode != 0:
                raise LabError(f"{name}: cannot unmount {root}: {res.stderr.strip()}")
        shutil.rmtree(hdir)

    # ------------------------------------------------------------------ exec and status
    def exec_argv(self, name: str, command: list[str]) -> list[str]:
        validate_name(name)
        leader = self.leader_pid(name)
        if leader is None:
            raise LabError(f"{name}: not running")
        env = ["HOME=/root", "LANG=C.UTF-8", f"PATH={GUEST_PATH}"]
        env_file = self.host_dir(name) / "root" / "etc" / "environment"
        env += [line for line in env_file.read_text().splitlines() if "=" in line and not line.startswith("#")]
        return ["nsenter", "-t", str(leader), "-a", "--", "/usr/bin/env", "-i", *env, *command]

    def status(self) -> dict:
        hosts = []
        for name in self.names():
            host = self.load(name)
            if host is None:
                continue
            hosts.append({"name": name, "port": host.port, "running": self.running(name),
                          "nspawn_pid": self.nspawn_pid(name), "container_pid": self.leader_pid(name),
                          "forwards": [f"{hp}->{gp}" for hp, gp in host.forwards]})
        return {"state": str(self.state), "hosts": hosts, "services": services.status(self.state)}


def container_inits(upper: Path, proc_root: Path = Path("/proc")) -> list[int]:
    """PIDs (in our namespace) of PID-1 processes of other PID namespaces whose root is the overlay on `upper`."""
    marker = f"upperdir={upper},"
    found = []
    for proc in proc_root.iterdir():
        if not proc.name.isdigit():
            continue
        try:
            nspid = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("NSpid:"))
            ids = nspid.split()[1:]
            if len(ids) < 2 or ids[-1] != "1":
                continue
            mounts = (proc / "mountinfo").read_text().splitlines()
        except (OSError, StopIteration):
            continue
        # mountinfo fields: id parent dev root MOUNTPOINT options ... - fstype source superoptions
        if any(line.split()[4] == "/" and marker in line + "," for line in mounts):
            found.append(int(proc.name))
    return found


def _is_mountpoint(path: Path) -> bool:
    return path.exists() and subprocess.run(["mountpoint", "-q", str(path)], check=False).returncode == 0


def release_global_mounts() -> None:
    """Undo the machine-wide mounts the lab needed, once nothing uses them (another lab state dir may still run
    containers): the nspawn tmpfs, and /run/netns, which `ip netns add` bind-mounts onto itself the first time."""
    propagate = NSPAWN_TMPFS / "propagate"
    if _is_mountpoint(NSPAWN_TMPFS) and not (propagate.is_dir() and any(propagate.iterdir())):
        subprocess.run(["umount", str(NSPAWN_TMPFS)], capture_output=True, check=False)
    if _is_mountpoint(NETNS_DIR) and not any(NETNS_DIR.iterdir()):
        subprocess.run(["umount", str(NETNS_DIR)], capture_output=True, check=False)


def ensure_nspawn_tmpfs() -> None:
    """nspawn refuses to clean up its propagation dir on a disk file system; /run is not a tmpfs on these VMs."""
    NSPAWN_TMPFS.mkdir(parents=True, exist_ok=True)
    if not _is_mountpoint(NSPAWN_TMPFS):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=16m", "tmpfs", str(NSPAWN_TMPFS)], check=True)


def format_status(status: dict) -> str:
    lines = [f"{'HOST':<14} {'PORT':>5} {'STATE':<8} {'NSPAWN':>7} {'PID1':>7}  FORWARDS"]
    for h in status["hosts"]:
        lines.append(f"{h['name']:<14} {h['port']:>5} {'running' if h['running'] else 'dead':<8} "
                     f"{h['nspawn_pid'] or '-':>7} {h['container_pid'] or '-':>7}  {' '.join(h['forwards']) or '-'}")
    if not status["hosts"]:
        lines.append("(no lab hosts)")
    for s in status["services"]:
        lines.append(f"service {s['name']:<10} 127.0.0.1:{s['port']:<6} pid={s['pid'] or '-'} "
                     f"relay_pid={s['relay_pid'] or '-'}")
    return "\n".join(lines)


USAGE = """usage: labhost up NAME PORT [--forward HOSTPORT:PORT]...
       labhost down NAME
       labhost exec NAME CMD...
       labhost status [--json]"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    lab = Lab()
    try:
        if args[:1] in (["up"], ["down"], ["exec"]) and os.geteuid() != 0:
            raise LabError("needs root (systemd-nspawn, overlay mounts and network namespaces)")
        if len(args) >= 3 and args[0] == "up":
            forwards = []
            rest = args[3:]
            while rest:
                opt = rest.pop(0)
                if opt == "--forward" and rest:
                    forwards.append(parse_forward(rest.pop(0)))
                elif opt.startswith("--forward="):
                    forwards.append(parse_forward(opt.split("=", 1)[1]))
                else:
                    raise LabError(f"unexpected argument {opt!r}\n{USAGE}")
            lab.up(args[1], validate_port(args[2]), forwards)
            return 0
        if len(args) == 2 and args[0] == "down":
            lab.down(args[1])
            return 0
        if len(args) >= 3 and args[0] == "exec":
            argv_exec = lab.exec_argv(args[1], args[2:])
            sys.stdout.flush()
            os.execvp(argv_exec[0], argv_exec)  # noqa: S606 - replaces labhost with nsenter, argv list
        if args and args[0] == "status" and args[1:] in ([], ["--json"]):
            status = lab.status()
            print(json.dumps(status, indent=1) if args[1:] else format_status(status))
            return 0
    except LabError as exc:
        print(f"labhost: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"labhost: `{' '.join(map(str, exc.cmd))}` failed with exit code {exc.returncode}", file=sys.stderr)
        return 1
    print(USAGE, file=sys.stderr)
    return 2
