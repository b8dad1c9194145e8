"""The actions of lab/labctl.py: the demo lab from lab/lab.yml as one unit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from . import config, inventory, procs
from .hmc import HmcSim, hmcsim_command, standalone
from .hosts import Lab, format_status
from .procs import LabError


def up(spec: config.LabSpec, lab: Lab, repo: Path) -> list[str]:
    """Bring everything up; the list of what changed (empty: the lab was up already)."""
    changed = []
    for host in spec.hosts:
        result = lab.up(host.name, host.ssh_port, [(f.host_port, f.port) for f in host.forwards])
        if result != "unchanged":
            changed.append(f"host {host.name} {result}")
    if spec.hmc:
        views = [{"system": h.hmc_managed_system, "lpar": h.hmc_lpar_name, "file": str(numa_view_file(lab, h.name))}
                 for h in spec.hosts]
        if hmcsim_command() is None:
            print("labctl: WARNING: the HMC simulator is skipped: the hmcsim package (with hmcsim.cli) is not "
                  "installed in this Python; `make setup` installs it from lab/hmcsim", file=sys.stderr)
        else:
            sim = HmcSim(spec.hmc, lab.state, repo)
            sim.set_numa_views(views)
            if sim.ensure():
                changed.append(f"HMC simulator started on {spec.hmc.listen}")
            else:
                print(f"{spec.hmc.name}: HMC simulator already running on {spec.hmc.listen} (no change)")
    inv = repo / spec.inventory
    if inventory.write(spec, lab.state, inv):
        changed.append(f"inventory {spec.inventory} written")
    if inventory.write_hmc_source(spec, lab.state, inv.parent / "hmc.hmc.yml"):
        changed.append(f"inventory {(Path(spec.inventory).parent / 'hmc.hmc.yml').as_posix()} written")
    provisioned = provision(spec, lab, repo)
    if provisioned:
        changed.append(f"provisioned {', '.join(provisioned)}")
    if spec.hmc and hmcsim_command() is not None:
        # Provisioning creates /etc/rocketce-lab in a fresh host; from then on the simulator keeps the view current.
        written = HmcSim(spec.hmc, lab.state, repo).export_numa_views()
        if written:
            changed.append(f"NUMA view written into {len(written)} lab host(s)")
    return changed


def numa_view_file(lab: Lab, name: str) -> Path:
    """Where the lab host's numactl stand-in reads the simulated LPAR's NUMA view, seen from the controller."""
    return lab.host_dir(name) / "root" / "etc" / "rocketce-lab" / "numa-view.json"


def provision(spec: config.LabSpec, lab: Lab, repo: Path) -> list[str]:
    """Run the lab.yml `provision` playbooks on the hosts that have not had them yet (fresh hosts). The marker lives
    in the host's dir, so it goes away with the host and a second `up` does not run anything."""
    if not spec.provision:
        return []
    wanted = "\n".join(spec.provision) + "\n"
    todo = [h.name for h in spec.hosts if _read(lab.host_dir(h.name) / "provisioned") != wanted]
    if not todo:
        return []
    playbook_cmd = ansible_playbook()
    for playbook in spec.provision:
        if not (repo / playbook).is_file():
            raise LabError(f"provision playbook {playbook} (lab.yml) does not exist")
        print(f"labctl: provisioning {', '.join(todo)} with {playbook}", flush=True)
        env = dict(os.environ, ANSIBLE_CONFIG=str(repo / "ansible.cfg"))
        argv = [str(playbook_cmd), "-i", str(repo / spec.inventory), "--limit", ",".join(todo), str(repo / playbook)]
        if subprocess.run(argv, cwd=repo, env=env, check=False).returncode != 0:
            raise LabError(f"provisioning with {playbook} failed (see above); `make lab-up` retries it")
    for name in todo:
        (lab.host_dir(name) / "provisioned").write_text(wanted)
    return todo


def ansible_playbook() -> Path:
    """ansible-playbook of the Python running labctl (the project venv)."""
    return Path(sys.executable).parent / "ansible-playbook"


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def leftovers(spec: config.LabSpec, lab: Lab) -> list[str]:
    """Processes, mounts and netns of this lab that still exist (should be none after `down`)."""
    left = []
    mounts = Path("/proc/self/mounts").read_text()
    netns = {p.name for p in Path("/run/netns").iterdir()} if Path("/run/netns").is_dir() else set()
    markers = []
    for host in spec.hosts:
        hdir = lab.host_dir(host.name)
        markers.append(str(hdir))
        if f" {hdir}/" in mounts:
            left.append(f"mount under {hdir}")
        if f"rl-{host.name}" in netns:
            left.append(f"netns rl-{host.name}")
    if not lab.names():  # no other lab host (e.g. of a molecule scenario) may still use the shared services
        markers.append(str(lab.state))
    if spec.hmc:
        markers.append(str(config.with_state(spec.hmc.state_dir, lab.state)))
    callers = ancestors()  # e.g. `make lab-down LAB_STATE=DIR`: named after the state dir, but not the lab's
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in callers:
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            zombie = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        if not zombie and any(m in cmdline for m in markers):
            left.append(f"process {proc.name}: {cmdline.strip()[:100]}")
    return left


def ancestors(pid: int | None = None) -> set[int]:
    """This process and every process it descends from."""
    found = set()
    pid = os.getpid() if pid is None else pid
    while pid > 1 and pid not in found:
        found.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return found


def down(spec: config.LabSpec, lab: Lab, repo: Path) -> list[str]:
    removed = []
    if spec.hmc and HmcSim(spec.hmc, lab.state, repo).stop():
        removed.append("HMC simulator")
    for host in spec.hosts:
        if lab.down(host.name):
            removed.append(f"host {host.name}")
    return removed


def reset(spec: config.LabSpec, lab: Lab, repo: Path) -> list[str]:
    """Back to the start: every lab host of the spec removed (a new overlay at the next `up`) and the simulated
    HMC's state forgotten (the model again), then `up`. The image, the artifacts and the keys are kept."""
    down(spec, lab, repo)
    forgotten = HmcSim(spec.hmc, lab.state, repo).reset_state() if spec.hmc else []
    if forgotten:
        print(f"{spec.hmc.name}: state forgotten ({', '.join(forgotten)}); it starts from {spec.hmc.model}")
    return up(spec, lab, repo)


def status(spec: config.LabSpec, lab: Lab, repo: Path) -> str:
    st = lab.status()
    ours = {h.name for h in spec.hosts}
    lines = [format_status(st)]
    missing = sorted(ours - {h["name"] for h in st["hosts"]})
    if missing:
        lines.append(f"not up: {', '.join(missing)}")
    others = sorted({h["name"] for h in st["hosts"]} - ours)
    if others:
        lines.append(f"other lab hosts (not in lab.yml, e.g. molecule): {', '.join(others)}")
    if spec.hmc:
        sim = HmcSim(spec.hmc, lab.state, repo)
        pid = sim.pid()
        if hmcsim_command() is None:
            state = "not installed"
        elif pid is None:
            state = "stopped"
        else:
            state = "listening" if procs.wait_port(spec.hmc.port, timeout=0.5) else "not listening"
        lines.append(f"hmc     {spec.hmc.name:<10} {spec.hmc.listen:<16} pid={pid or '-'} {state}")
    inv = repo / spec.inventory
    lines.append(f"inventory {spec.inventory}: {'present' if inv.exists() else 'absent'}")
    return "\n".join(lines)


def run(action: str, config_path: Path, repo: Path) -> int:
    try:
        spec = config.load(config_path)
        lab = Lab(config.state_dir())
        t0 = time.monotonic()
        if action == "up":
            changed = up(spec, lab, repo)
            if changed:
                print(f"lab up in {time.monotonic() - t0:.1f}s: {', '.join(changed)}")
            else:
                print("lab up: everything was already running - no change")
            print(f"try: ansible -i {spec.inventory} lpars -m ping")
        elif action == "reset":
            changed = reset(spec, lab, repo)
            print(f"lab reset in {time.monotonic() - t0:.1f}s: fresh lab hosts, the HMC simulator from its model"
                  f" ({', '.join(changed)})")
        elif action == "down":
            removed = down(spec, lab, repo)
            left = leftovers(spec, lab)
            if left:
                print("lab down: still present:\n  " + "\n  ".join(left), file=sys.stderr)
                return 1
            print(f"lab down in {time.monotonic() - t0:.1f}s: "
                  + (f"removed {', '.join(removed)}" if removed else "nothing was running")
                  + "; no process, mount or netns of the lab left")
        else:
            print(status(spec, lab, repo))
            print(f"state: {lab.state} (the proxy and artifact services stop with the last lab host)")
    except LabError as exc:
        print(f"labctl: {exc}", file=sys.stderr)
        return 1
    return 0


def run_fleet(action: str, config_path: Path, repo: Path) -> int:
    """fleet up|down|reset|status: the simulated fleet that lab.yml's `fleet:` names."""
    from . import fleet

    try:
        spec = config.load(config_path)
    except LabError as exc:
        print(f"labctl: {exc}", file=sys.stderr)
        return 1
    if spec.fleet is None:
        print(f"labctl: {config_path} has no `fleet:` (the fleet spec file)", file=sys.stderr)
        return 1
    return fleet.run(action, repo / spec.fleet, config.state_dir(), repo)


def run_simulator(action: str, directory: Path, name: str, dpo_seconds: float | None, repo: Path) -> int:
    """simulator-up / simulator-down: a simulator of its own in directory, on its port from the port table."""
    try:
        port = next((p for table in config.ports.table().get("molecule", {}).values()
                     for n, p in table.items() if n == name), None)
        if port is None:
            raise LabError(f"no port for simulator {name!r} in lab/lab.yml ports.molecule")
        env = {"HMCSIM_DPO_SECONDS": str(dpo_seconds)} if dpo_seconds is not None else {}
        sim = standalone(directory.resolve(), name, f"127.0.0.1:{port}", repo, env=env)
        if action == "simulator-up":
            started = sim.ensure()
            print(f"{name}: HMC simulator {'started' if started else 'already running (no change)'} on "
                  f"127.0.0.1:{sim.port}; key {sim.client_key}, known_hosts {sim.known_hosts}, state {sim.dir}")
        else:
            print(f"{name}: {'stopped' if sim.stop() else 'not running (no change)'}")
    except LabError as exc:
        print(f"labctl: {exc}", file=sys.stderr)
        return 1
    return 0
