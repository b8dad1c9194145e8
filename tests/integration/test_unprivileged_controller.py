"""README's "Running it on real systems", as written, by an unprivileged controller user.

A real non-root account is created for the test (useradd), with SSH keys of its own, authorized for an `ansible`
account with sudo on a lab host (an LPAR prepared for Ansible) and on the HMC simulator (like `mkauthkeys` on an
HMC). It copies inventories/example into its home, the test points the copy at a small lab of its own by
overriding connection variables only (addresses, ports, keys; host keys go into known_hosts with ssh-keyscan as
the README says), and the user runs `site.yml --check` and `playbooks/hmc_affinity.yml --check` from the
checkout. Both must pass on a lab host where nothing is installed yet, leave it as it was, and send the HMC no
command but listings (the simulator's audit log).

The lab (lab/labctl.py with a lab.yml of this test: host ctl-lpar01 on 2271, HMC simulator on 2272, a copy of
the lab HMC model renamed to the example inventory's systems and LPARs) is started as root and torn down at the
end, also on failure. Only the Ansible commands run as the user.

The checkout and its venv may sit below directories the user cannot enter (a CI clone under /root, a pyenv
interpreter under /root/.pyenv). The user's commands therefore run in a private mount namespace in which each
such directory is covered by an empty tmpfs (mode 0755) holding only the paths the controller needs, bound back
at their own paths: every absolute path (venv, interpreter, shebangs) stays what it is, nothing on the machine
changes permissions, and the rest of those directories stays invisible to the user.

Needs root (user, lab). Cost, measured on 2 shared cores: 3.3-3.6 min wall (lab up + provisioning ~65 s,
tiny models trained by the user ~50 s, site.yml --check ~70-105 s, affinity --check ~6-10 s), +70 s when the lab
host image is not built yet.
Run: .venv/bin/pytest -q -p no:cacheprovider --import-mode=importlib tests/integration/test_unprivileged_controller.py
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

hmcsim_testing = pytest.importorskip("hmcsim.testing", reason="needs the lab/hmcsim package in the venv")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventories" / "example"
LABCTL = REPO / "lab" / "labctl.py"
LAB_MODEL = REPO / "lab" / "hmc" / "model.yml"
USER = "rocketce-ctl"
LAB_HOST, LAB_HOST_PORT = "ctl-lpar01", 2271
# The example's two HMCs: hmc-dc1 is the lab's simulator (labctl), hmc-dc2 one more simulator. Each serves the lab
# HMC model's system renamed to the one inventories/example/hosts.yml gives it: ai01 on an E1080 (dc1), ai02 on
# an S1024 (dc2).
HMCS = {
    "hmc-dc1": {"port": 2272, "system": ("e1080-lab", "p10-e1080-prod1"), "lpar": ("hana-prod01", "ai01")},
    "hmc-dc2": {"port": 2273, "system": ("p10-s1024-lab", "p10-s1024-prod2"), "lpar": ("ai-lpar01", "ai02")},
}
# Beyond connection variables, the lab needs the locations of its stand-ins and mirrors (what a site sets for its
# internal mirror, README's production checklist), taken from the lab's own settings: no behaviour knob of the
# example inventory is changed.
LAB_SETTINGS = REPO / "lab" / "standins" / "group_vars" / "lpars.yml"
LAB_LOCATIONS = ["lpar_tuning_lparcfg_path", "micromamba_base_url", "micromamba_channel_alias",
                 "micromamba_default_channels"]
KDD_TRAIN = REPO / "apps" / "ids" / "data" / "nsl-kdd" / "KDDTrain+.txt.gz"
# HMC commands that only read; anything else the HMC received during a --check run is a change.
READ_ONLY_PREFIX = "ls"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creates a user account and a lab (root only)")


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 600)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{shlex.join(map(str, argv))} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


# ---------------------------------------------------------------- the user's view of the controller
def blocked_directories(paths: list[Path]) -> list[Path]:
    """Ancestors of `paths` that others may not enter, outermost first."""
    blocked = {parent for path in paths for parent in path.parents
               if parent != Path("/") and not parent.stat().st_mode & 0o001}
    return sorted(blocked, key=lambda p: len(p.parts))


def namespace_script(needed: list[Path], stage: Path) -> str:
    """Shell (run as root in a private mount namespace) that makes `needed` reachable at their own paths: each
    blocked ancestor is covered by a tmpfs holding only the entries on the way to a needed path."""
    lines = ["set -eu"]
    for number, blocked in enumerate(blocked_directories(needed)):
        entries = sorted({path.relative_to(blocked).parts[0] for path in needed if blocked in path.parents})
        for index, entry in enumerate(entries):
            lines.append(f"mkdir -p {stage}/{number}-{index}")
            lines.append(f"mount --rbind {shlex.quote(str(blocked / entry))} {stage}/{number}-{index}")
        lines.append(f"mount -t tmpfs -o mode=0755,size=1m rocketce-ctl-view {shlex.quote(str(blocked))}")
        for index, entry in enumerate(entries):
            target = shlex.quote(str(blocked / entry))
            lines.append(f"if [ -d {stage}/{number}-{index} ]; then mkdir {target}; else touch {target}; fi")
            lines.append(f"mount --rbind {stage}/{number}-{index} {target}")
    lines.append('exec "$@"')
    return "\n".join(lines)


class ControllerUser:
    """A non-root account with its own home and SSH key; `run()` executes a command as that user, from the
    checkout, with a clean environment (no ANSIBLE_* of the test's own process)."""

    def __init__(self, base: Path):
        self.home = base / "home"
        self.stage = base / "stage"
        self.stage.mkdir(mode=0o700)
        subprocess.run(["userdel", "--remove", USER], capture_output=True, check=False)  # left by a killed run
        run(["useradd", "--create-home", "--home-dir", str(self.home), "--shell", "/bin/bash", "--user-group", USER])
        venv_python = Path(sys.executable)
        self.needed = sorted({REPO, venv_python.parent.parent, Path(sys.base_prefix).resolve(),
                              venv_python.resolve().parent.parent})
        # A needed directory that is itself closed to others (a checkout made with `mktemp -d` is 0700) cannot be
        # opened by a bind mount: it gets o+x (traverse only, no listing) for the test's duration, restored by remove().
        self.opened = {path: path.stat().st_mode for path in self.needed if not path.stat().st_mode & 0o001}
        for path, mode in self.opened.items():
            path.chmod(mode | 0o001)
        self.script = namespace_script(self.needed, self.stage)
        self.path = f"{venv_python.parent}:/usr/local/bin:/usr/bin:/bin"
        self.run(["mkdir", "-m", "0700", self.home / ".ssh"], cwd=self.home)
        self.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{USER}@controller",
                  "-f", self.home / ".ssh" / "id_ed25519"], cwd=self.home)

    @property
    def public_key(self) -> str:
        return (self.home / ".ssh" / "id_ed25519.pub").read_text(encoding="utf-8")

    def run(self, argv, cwd: Path = REPO, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
        env = ["env", "-i", f"HOME={self.home}", f"USER={USER}", f"LOGNAME={USER}", f"PATH={self.path}",
               "LANG=C.UTF-8", "ANSIBLE_FORCE_COLOR=0"]
        inner = ["runuser", "-u", USER, "--", *env, "sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", str(cwd),
                 *map(str, argv)]
        argv_ns = ["unshare", "--mount", "--propagation", "private", "sh", "-c", self.script, "sh", *inner]
        proc = subprocess.run(argv_ns, capture_output=True, text=True, check=False, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"as {USER}: {shlex.join(map(str, argv))} -> {proc.returncode}\n" \
                                         f"{proc.stdout[-12000:]}\n{proc.stderr[-4000:]}"
        return proc

    def write(self, path: Path, text: str, mode: int = 0o644) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
        shutil.chown(path, USER, USER)

    def processes(self) -> list[int]:
        """Pids still running as the user (OpenSSH ControlPersist masters that Ansible started for it)."""
        uid = pwd.getpwnam(USER).pw_uid
        pids = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and proc.stat().st_uid == uid:
                    pids.append(int(proc.name))
            except OSError:
                continue
        return pids

    def remove(self) -> None:
        """End what the user's runs left running (by pid), then delete the account; userdel refuses while any
        process of the user lives."""
        deadline = time.monotonic() + 10
        while (pids := self.processes()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            time.sleep(0.2)
        for path, mode in self.opened.items():
            path.chmod(mode)
        proc = subprocess.run(["userdel", "--remove", USER], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"userdel {USER}: {proc.stderr}"


# ---------------------------------------------------------------- the lab of this test
def hmc_model(hmc: str, path: Path) -> Path:
    """The lab HMC model with only the system this HMC manages, renamed as the example inventory names it."""
    model = yaml.safe_load(LAB_MODEL.read_text(encoding="utf-8"))
    (lab_system, system_name), (lab_lpar, lpar_name) = HMCS[hmc]["system"], HMCS[hmc]["lpar"]
    model["systems"] = [system for system in model["systems"] if system["name"] == lab_system]
    model["systems"][0]["name"] = system_name
    for lpar in model["systems"][0]["lpars"]:
        if lpar["name"] == lab_lpar:
            lpar["name"] = lpar_name
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path


def lab_spec(base: Path) -> dict:
    return {
        "inventory": str(base / "lab-inventory" / "hosts.yml"),
        "hosts": [{"name": LAB_HOST, "ssh_port": LAB_HOST_PORT, "hmc_managed_system": "p10-e1080-prod1",
                   "hmc_lpar_name": "ai01"}],
        "provision": ["lab/standins/install.yml"],
        "hmc": {"name": "ctl-hmc", "listen": f"127.0.0.1:{HMCS['hmc-dc1']['port']}",
                "model": str(hmc_model("hmc-dc1", base / "model-dc1.yml")),
                "state_dir": str(base / "hmc"), "user": "hscroot", "password_file": str(base / "hmc" / "password"),
                "known_hosts": str(base / "hmc_known_hosts")},
    }


def labctl(action: str, config: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(LABCTL), action, "--config", str(config)], capture_output=True,
                          text=True, check=False, timeout=900, cwd=REPO)
    if check:
        assert proc.returncode == 0, f"labctl {action}: {proc.stdout}\n{proc.stderr}"
    return proc


def lab_state() -> Path:
    return Path(os.environ.get("ROCKETCE_LAB_STATE") or "/var/tmp/rocketce-lab")


def as_lab_root(command: str) -> str:
    """Run a shell command as root on the lab host (the lab's own key, as labctl set it up)."""
    return run(["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-i", str(lab_state() / "id_ed25519"), "-p", str(LAB_HOST_PORT),
                "root@127.0.0.1", command]).stdout


def prepare_lpar_for_ansible(public_key: str) -> None:
    """What an LPAR admin does once: an `ansible` account with the controller user's key and sudo."""
    as_lab_root(
        "set -e; id ansible >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ansible; "
        "install -d -m 0700 -o ansible -g ansible ~ansible/.ssh; "
        f"printf '%s' {shlex.quote(public_key)} > ~ansible/.ssh/authorized_keys; "
        "chown ansible:ansible ~ansible/.ssh/authorized_keys; chmod 0600 ~ansible/.ssh/authorized_keys; "
        "echo 'ansible ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/ansible; chmod 0440 /etc/sudoers.d/ansible")


# ---------------------------------------------------------------- the user's copy of inventories/example
def point_example_at_lab(user: ControllerUser, inventory: Path) -> None:
    """Connection variables only: where the HMCs and LPARs are and which key the user logs in with."""
    key = str(user.home / ".ssh" / "id_ed25519")
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text(encoding="utf-8"))["all"]["children"]
    assert sorted(hosts["hmc"]["hosts"]) == sorted(HMCS)
    for hmc in hosts["hmc"]["hosts"]:
        user.write(inventory / "host_vars" / f"{hmc}.yml", yaml.safe_dump(
            {"hmc_host": "127.0.0.1", "hmc_port": HMCS[hmc]["port"], "hmc_key_file": key}))
    # Both AI LPARs are the one lab host: --check changes nothing, so they cannot get in each other's way.
    for lpar in hosts["lpars"]["children"]["ai_lpars"]["hosts"]:
        user.write(inventory / "host_vars" / f"{lpar}.yml", yaml.safe_dump(
            {"ansible_host": "127.0.0.1", "ansible_port": LAB_HOST_PORT}))
    ports = {hostvars["hmc_host"]: HMCS[hmc]["port"] for hmc, hostvars in hosts["hmc"]["hosts"].items()}
    source = yaml.safe_load((inventory / "hmc.hmc.yml").read_text(encoding="utf-8"))
    for hmc in source["hmcs"]:
        hmc.pop("password", None)
        hmc.update(host="127.0.0.1", port=ports[hmc["host"]], key_file=key)
    user.write(inventory / "hmc.hmc.yml", yaml.safe_dump(source, sort_keys=False))
    lab = yaml.safe_load(LAB_SETTINGS.read_text(encoding="utf-8"))
    user.write(inventory / "group_vars" / "lpars" / "lab_locations.yml",
               "---\n" + yaml.safe_dump({key: lab[key] for key in LAB_LOCATIONS}))


def train_models_and_point_the_roles_at_them(user: ControllerUser, inventory: Path) -> None:
    """README checklist: models trained on the controller (tiny ones: the runs only check, nothing serves them);
    the app roles read them, and keep their wheel build cache, in the user's home instead of the checkout."""
    models = user.home / "models"
    user.run(["rocketce-ids", "train", "--train", KDD_TRAIN, "--out", models / "ids", "--max-train-rows", "2000",
              "--mlp-epochs", "1", "--ae-epochs", "1", "--no-plots", "--no-progress"], cwd=user.home)
    user.run(["rocketce-fraud", "synth", "--users", "20", "--seed", "7", "--start-year", "2019",
              "--out", models / "fraud.csv.gz"], cwd=user.home)
    user.run(["rocketce-fraud", "train", "--data", models / "fraud.csv.gz", "--out", models / "fraud",
              "--epochs", "1", "--no-baseline"], cwd=user.home)
    user.write(inventory / "group_vars" / "ai_lpars" / "controller_paths.yml", "---\n" + yaml.safe_dump({
        "ids_app_model_src": str(models / "ids"), "fraud_app_model_src": str(models / "fraud"),
        "ids_app_wheel_build_dir": str(user.home / "build" / "wheels"),
        "fraud_app_wheel_build_dir": str(user.home / "build" / "wheels")}))


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    base = Path(tempfile.mkdtemp(prefix="rocketce-ctl-", dir="/var/tmp"))
    base.chmod(0o755)
    config = base / "lab.yml"
    config.write_text(yaml.safe_dump(lab_spec(base), sort_keys=False), encoding="utf-8")
    user = None
    try:
        labctl("up", config)
        with contextlib.ExitStack() as stack:
            dc2 = stack.enter_context(hmcsim_testing.running_simulator(
                base / "hmc-dc2", model=hmc_model("hmc-dc2", base / "model-dc2.yml"), port=HMCS["hmc-dc2"]["port"]))
            user = ControllerUser(base)
            yield from controller_session(user, [base / "hmc", dc2.state_dir],
                                          [base / "hmc" / "authorized_keys", dc2.state_dir.parent / "authorized_keys"])
    finally:
        if user is not None:
            user.remove()
        down = labctl("down", config, check=False)
        shutil.rmtree(base, ignore_errors=True)
        assert down.returncode == 0, f"labctl down: {down.stdout}\n{down.stderr}"


def controller_session(user: ControllerUser, hmc_state_dirs: list[Path], hmc_authorized: list[Path]):
    for authorized in hmc_authorized:  # mkauthkeys on each HMC
        with authorized.open("a", encoding="utf-8") as keys:
            keys.write(user.public_key)
    prepare_lpar_for_ansible(user.public_key)
    inventory = user.home / "inventories" / "prod"
    # README: cp -r inventories/example inventories/prod; host keys with ssh-keyscan, reviewed, kept.
    user.run(["mkdir", "-p", inventory.parent])
    user.run(["cp", "-r", EXAMPLE, inventory])
    point_example_at_lab(user, inventory)
    train_models_and_point_the_roles_at_them(user, inventory)
    user.write(user.home / ".ssh" / "known_hosts",
               user.run(["ssh-keyscan", "-p", LAB_HOST_PORT, "127.0.0.1"]).stdout, mode=0o600)
    user.write(inventory / "hmc_known_hosts.txt", "".join(
        user.run(["ssh-keyscan", "-p", hmc["port"], "127.0.0.1"]).stdout for hmc in HMCS.values()))
    yield user, inventory, hmc_state_dirs


def audit_lengths(state_dirs: list[Path]) -> list[int]:
    return [len(audit_lines(state_dir)) for state_dir in state_dirs]


def audit_lines(state_dir: Path) -> list[str]:
    path = state_dir / "audit.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def check_run(user: ControllerUser, state_dirs: list[Path], argv: list) -> tuple[str, list[dict]]:
    """Run a --check command as the user; its output and the HMC commands it sent (none may change anything)."""
    starts = audit_lengths(state_dirs)
    proc = user.run(argv)
    commands = [json.loads(line) for state_dir, start in zip(state_dirs, starts, strict=True)
                for line in audit_lines(state_dir)[start:] if line.strip()]
    commands = [entry for entry in commands if entry.get("argv")]
    changes = [entry["command"] for entry in commands if not entry["argv"][0].startswith(READ_ONLY_PREFIX)]
    assert not changes, f"--check sent the HMC commands that change it: {changes}"
    return proc.stdout, commands


# ---------------------------------------------------------------- tests
def test_example_inventory_hmc_hosts_never_become():
    inventory = run([Path(sys.executable).parent / "ansible-inventory", "-i", EXAMPLE, "--list"],
                    cwd=REPO).stdout
    hostvars = json.loads(inventory)["_meta"]["hostvars"]
    groups = json.loads(inventory)
    hmc_hosts = groups["hmc"]["hosts"]
    assert hmc_hosts
    for host in hmc_hosts:
        become = {k: v for k, v in hostvars[host].items() if k.startswith("ansible_become")}
        assert not become, f"{host} (connection local, the controller itself) would become: {become}"
    lpars = [h for child in groups["lpars"]["children"] for h in groups[child].get("hosts", [])]
    assert lpars and all(hostvars[h].get("ansible_become") is True for h in lpars), lpars


@needs_root
def test_site_check_passes_for_an_unprivileged_user_on_fresh_hosts(controller):
    user, inventory, hmc_state_dirs = controller
    # README: ansible-galaxy collection install -r requirements.yml
    user.run(["ansible-galaxy", "collection", "install", "-r", "requirements.yml"])
    before = as_lab_root("ls -1 /opt /usr/local/bin; dpkg-query -W -f '${Package}\\n' | sort")
    stdout, commands = check_run(user, hmc_state_dirs, ["ansible-playbook", "site.yml", "-i", inventory, "--check"])
    assert "failed=0" in stdout and "unreachable=0" in stdout, stdout
    for host in ("hmc-dc1", "hmc-dc2", "ai01.example.com", "ai02.example.com"):
        assert f"\n{host} " in stdout, f"{host} is not in the PLAY RECAP:\n{stdout}"
    assert {c["argv"][0] for c in commands} >= {"lssyscfg", "lsmemopt"}, commands
    assert as_lab_root("ls -1 /opt /usr/local/bin; dpkg-query -W -f '${Package}\\n' | sort") == before, \
        "site.yml --check changed the lab host"


@needs_root
def test_affinity_check_predicts_for_an_unprivileged_user(controller):
    user, inventory, hmc_state_dirs = controller
    stdout, commands = check_run(user, hmc_state_dirs, ["ansible-playbook", "playbooks/hmc_affinity.yml",
                                                        "-i", inventory, "-e", "target_lpars=ai01", "--check"])
    assert "failed=0" in stdout, stdout
    assert [c for c in commands if c["argv"][0] == "lsmemopt"], commands
