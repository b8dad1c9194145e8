#!/usr/bin/env python3
"""HMC simulator benchmark: listing latency and throughput, printed as ratios against a baseline.

Baseline: a fresh SSH connection for every listing, which is what `ssh hscroot@hmc 'lssyscfg ...'` does. It is
compared with a reused paramiko connection (one exec channel per command, what the rocketce.power modules
should do), with 20 concurrent sessions, and with the in-process cost of the command itself. The target from
issue 3 is a listing that answers in well under 50 ms.

Usage: .venv/bin/python bench/hmcsim_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paramiko
from hmcsim.engine import Engine
from hmcsim.state import Store
from hmcsim.testing import DEFAULT_MODEL, running_simulator

LISTING = "lssyscfg -r lpar -m p10-s1024-lab -F name,lpar_id,state,curr_profile --header"
TARGET_MS = 50.0


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


def exec_ok(client: paramiko.SSHClient, command: str) -> None:
    _, stdout, _ = client.exec_command(command, timeout=30)
    stdout.read()
    if stdout.channel.recv_exit_status() != 0:
        raise RuntimeError(f"{command!r} failed")


def new_client(sim) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(sim.known_hosts))
    client.connect(sim.host, sim.port, username="hscroot", key_filename=str(sim.client_key), look_for_keys=False,
                   allow_agent=False, timeout=30, banner_timeout=30, auth_timeout=30)
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    scale = 0.3 if args.quick else 1.0
    fresh_n, reused_n = int(30 * scale) or 3, int(300 * scale)
    ssh_n, per_session = int(10 * scale) or 2, int(15 * scale)

    with tempfile.TemporaryDirectory() as work:
        store = Store(DEFAULT_MODEL, Path(work) / "inproc")
        engine = Engine(store)
        in_process = timed(lambda: engine.execute(LISTING, "bench", 0, "hscroot", "-"), reused_n)

        with running_simulator(Path(work) / "ssh") as sim:
            def fresh() -> None:
                client = new_client(sim)
                exec_ok(client, LISTING)
                client.close()

            fresh_ms = timed(fresh, fresh_n)
            client = new_client(sim)
            exec_ok(client, LISTING)  # warm-up
            reused_ms = timed(lambda: exec_ok(client, LISTING), reused_n)
            sequential_rate = len(reused_ms) / (sum(reused_ms) / 1000)
            openssh_ms = timed(
                lambda: subprocess.run(sim.ssh_argv(LISTING), check=True, capture_output=True, timeout=30), ssh_n
            )

            clients = [new_client(sim) for _ in range(20)]
            errors: list[BaseException] = []

            def session(worker: paramiko.SSHClient) -> None:
                try:
                    for _ in range(per_session):
                        exec_ok(worker, LISTING)
                except BaseException as exc:  # noqa: BLE001 - reported after the run
                    errors.append(exc)

            threads = [threading.Thread(target=session, args=(c,)) for c in clients]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
            concurrent_s = time.perf_counter() - started
            for worker in clients:
                worker.close()
            client.close()
            concurrent_rate = 20 * per_session / concurrent_s

    fresh_median = statistics.median(fresh_ms)
    reused_median = statistics.median(reused_ms)
    print(f"listing: {LISTING}")
    print(f"{'case':48} {'n':>5} {'median ms':>10} {'p95 ms':>8}")
    rows = [
        ("baseline: fresh paramiko connection per listing", fresh_ms),
        ("OpenSSH ssh process per listing", openssh_ms),
        ("reused paramiko connection (exec channel each)", reused_ms),
        ("in process (shell + command, no SSH)", in_process),
    ]
    for name, samples in rows:
        print(f"{name:48} {len(samples):5d} {statistics.median(samples):10.2f} {p95(samples):8.2f}")
    print(f"ratio fresh/reused latency:            {fresh_median / reused_median:6.1f}x")
    print(f"ratio reused/in-process latency:       {reused_median / statistics.median(in_process):6.1f}x")
    print(f"throughput sequential (1 session):     {sequential_rate:8.1f} listings/s")
    print(f"throughput 20 concurrent sessions:     {concurrent_rate:8.1f} listings/s "
          f"(ratio {concurrent_rate / sequential_rate:.2f}x, errors {len(errors)})")
    verdict = "PASS" if p95(reused_ms) < TARGET_MS and not errors else "FAIL"
    print(f"{verdict}: reused-connection listing p95 {p95(reused_ms):.1f} ms (target < {TARGET_MS:.0f} ms); "
          f"20 concurrent sessions {'ok' if not errors else 'had errors'}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
