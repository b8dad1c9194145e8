"""The HMC phase at fleet size: playbooks/hmc_affinity.yml through ansible-runner (the way AWX runs a job) against
the simulated fleet of lab/fleet.yml (4 HMC simulators x 5 managed systems x 20 LPARs, one system whose DPO fails).

Fails on a broken invariant, never on speed (speed figures belong to bench/): two DPOs overlapping on one managed
system, more than hmc_throttle sessions open on one HMC, more than one SSH connection per module run, a managed
system lost from the summary, the failed system stopping the others. All proved from the simulators' audit logs
(one JSON line per command, with its connection id and time) and from the runner's events. Prints a measured table.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

import ansible_runner
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from labctl import fleet as labfleet  # noqa: E402

PLAYBOOK = REPO / "playbooks" / "hmc_affinity.yml"
THROTTLE = 3
PORT_SHIFT = 50  # 24050-...: the fleet's port range, clear of `make fleet-up`'s simulators


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    spec = labfleet.load(REPO / "lab" / "fleet.yml")
    spec = spec.model_copy(update={"first_port": spec.first_port + PORT_SHIFT})
    fl = labfleet.Fleet(spec, tmp_path_factory.mktemp("lab-state"), REPO)
    try:
        fl.up()
        yield fl
    finally:
        fl.down()


def when(entry: dict) -> float:
    return datetime.fromisoformat(entry["time"]).timestamp()


def system_of(entry: dict) -> str | None:
    argv = entry.get("argv") or []
    return argv[argv.index("-m") + 1] if "-m" in argv[:-1] else None


def max_overlap(spans: list[tuple[float, float]]) -> int:
    points = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda p: (p[0], p[1]))
    best = current = 0
    for _, step in points:
        current += step
        best = max(best, current)
    return best


def run(fl, private: Path, **extravars):
    private.mkdir(parents=True, exist_ok=True)
    started, cpu = time.monotonic(), os.times()
    runner = ansible_runner.run(
        private_data_dir=str(private), playbook=str(PLAYBOOK), inventory=str(fl.inventory_dir / "hosts.yml"),
        extravars={"hmc_affinity_poll_interval": 1, **extravars},
        envvars={"ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"), "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
                 "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")},
        quiet=True, timeout=300)
    after = os.times()
    runner.wall = time.monotonic() - started
    runner.cpu = (after.children_user + after.children_system) - (cpu.children_user + cpu.children_system)
    return runner


def test_affinity_at_fleet_size(fleet, tmp_path):
    models = labfleet.models(fleet.spec)
    operating = {hmc: [s["name"] for s in m["systems"] if s["state"] == "Operating"] for hmc, m in models.items()}
    failing = {s["name"] for m in models.values() for s in m["systems"] if "dpo" in s}
    assert failing, "lab/fleet.yml must keep a system whose DPO fails"

    runner = run(fleet, tmp_path / "job", hmc_throttle=THROTTLE)
    out = runner.stdout.read()
    failed_hosts = {h for h, n in runner.stats["failures"].items() if n}
    hmc_of_failing = {hmc for hmc, systems in operating.items() if failing & set(systems)}
    assert failed_hosts == hmc_of_failing, out[-4000:]

    # The summary says what happened on every operating managed system of every HMC; only the failing one failed.
    summary = {}
    module_runs: dict[str, int] = {}
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("task", "").startswith("Report what happened"):
            summary = dict(line.split(": ", 1) for line in data["res"]["msg"])
        if event.get("event") in ("runner_on_ok", "runner_on_failed", "runner_item_on_ok", "runner_item_on_failed"):
            # One module run: a loop item, or a task without a loop (a loop's own event carries `results`).
            single = event["event"].startswith("runner_item") or "results" not in data.get("res", {})
            if data.get("task_action", "").startswith("rocketce.power.hmc_") and single:
                module_runs[data["host"]] = module_runs.get(data["host"], 0) + 1
    every = {s for systems in operating.values() for s in systems}
    assert set(summary) == every, f"systems lost from the summary: {every - set(summary)}"
    for system, outcome in summary.items():
        assert outcome.startswith("FAILED") == (system in failing), f"{system}: {outcome}"
        if system not in failing:
            assert outcome.startswith("DPO ") and "Finished" in outcome, f"{system}: {outcome}"

    rows = []
    for sim in fleet.sims():
        audit = [e for e in sim.audit() if e.get("argv")]
        name = sim.spec.name
        # Two DPOs never overlap on one system: a DPO runs from its `optmem -o start` to the last status read of
        # the connection that started it (hmc_memopt waits in that connection).
        dpo_spans: dict[str, list[tuple[float, float]]] = {}
        for start in (e for e in audit if e["argv"][0] == "optmem" and "start" in e["argv"]):
            same = [when(e) for e in audit if e["connection"] == start["connection"]]
            dpo_spans.setdefault(system_of(start), []).append((when(start), max(same)))
        assert set(dpo_spans) == set(operating[name]), f"{name}: DPOs on {sorted(dpo_spans)}"
        for system, spans in dpo_spans.items():
            assert len(spans) == 1 and max_overlap(spans) == 1, f"{system}: DPOs {spans}"
        # Sessions open on this HMC at once never exceed hmc_throttle.
        connections: dict[str, list[dict]] = {}
        for entry in audit:
            connections.setdefault(entry["connection"], []).append(entry)
        sessions = [(min(map(when, c)), max(map(when, c))) for c in connections.values()]
        assert max_overlap(sessions) <= THROTTLE, f"{name}: {max_overlap(sessions)} sessions at once"
        # One SSH connection per module run, each about one managed system at most.
        assert len(connections) == module_runs[name], f"{name}: {len(connections)} connections, " \
                                                      f"{module_runs[name]} module runs"
        for conn in connections.values():  # a memopt connection (scores, DPO and its wait) is about one system
            if any(e["argv"][0] in ("optmem", "lsmemopt") for e in conn):
                assert len({system_of(e) for e in conn} - {None}) == 1, conn
        for system in operating[name]:
            mine = [c for c in connections.values()
                    if any(system_of(e) == system and e["argv"][0] in ("optmem", "lsmemopt") for e in c)]
            rows.append((system, sum(1 for c in mine for e in c if system_of(e) == system), len(mine)))
    # The failing system did not stop the systems of its HMC that were optimized after it (a later batch).
    assert all(summary[s].startswith("DPO ") for hmc in hmc_of_failing for s in operating[hmc] if s not in failing)
    # DPOs of different systems ran in parallel somewhere in the fleet.
    all_spans = []
    for sim in fleet.sims():
        audit = [e for e in sim.audit() if e.get("argv")]
        for start in (e for e in audit if e["argv"][0] == "optmem" and "start" in e["argv"]):
            same = [when(e) for e in audit if e["connection"] == start["connection"]]
            all_spans.append((when(start), max(same)))
    assert max_overlap(all_spans) >= 2, "no two DPOs ever ran at the same time"

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nfleet: {len(every)} managed systems on {len(operating)} HMCs, hmc_throttle={THROTTLE}: "
          f"wall {runner.wall:.1f}s, controller CPU {runner.cpu:.1f}s, peak child RSS {rss:.0f} MB, "
          f"DPOs at once (fleet) {max_overlap(all_spans)}")
    print(f"{'system':<16} {'commands':>8} {'connections':>11}")
    for system, commands, conns in rows:
        print(f"{system:<16} {commands:>8} {conns:>11}")
