#!/usr/bin/env python3
"""HMC client benchmark: what one SSH connection per module run buys, printed as ratios against a baseline.

Baseline: a new SSH connection (key exchange + login) for every HMC command, the way IBM's collection runs
`sshpass ssh hscroot@hmc '<cmd>'` per command. Project: rocketce.power's HmcClient, one connection per module
run with one exec channel per command - the same command sequence an `hmc_memopt` run issues (system lookup,
partition ids, DPO status, predicted scores, and status polls). Both run against the lab HMC simulator in the
same process; the parser part compares hmc_output.parse_listing with a split-on-commas baseline that gets the
HMC's quoted pairs wrong (it is only there to show the cost of doing it right).

Usage: .venv/bin/python bench/hmc_client_bench.py [--polls 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.rocketce.power.plugins.module_utils.hmc_client import HmcClient  # noqa: E402
from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import parse_listing  # noqa: E402
from hmcsim.testing import running_simulator  # noqa: E402

SYSTEM = "p10-s1024-lab"


def memopt_commands(polls):
    """The reads of one hmc_memopt run that waits for a DPO through `polls` status reads."""
    return ([["lssyscfg", "-r", "sys"], ["lssyscfg", "-r", "lpar", "-m", SYSTEM], ["lsmemopt", "-m", SYSTEM],
             ["lsmemopt", "-m", SYSTEM, "-r", "sys", "-o", "calcscore", "--id", "3"],
             ["lsmemopt", "-m", SYSTEM, "-r", "lpar", "-o", "calcscore", "--id", "3"]]
            + [["lsmemopt", "-m", SYSTEM]] * polls
            + [["lsmemopt", "-m", SYSTEM, "-r", "sys", "-o", "currscore"],
               ["lsmemopt", "-m", SYSTEM, "-r", "lpar", "-o", "currscore"]])


def client(sim):
    return HmcClient(sim.host, "hscroot", port=sim.port, key_file=str(sim.client_key), known_hosts=str(sim.known_hosts))


def run_reused(sim, commands):
    with client(sim) as hmc:
        outputs = [hmc.run(argv) for argv in commands]
        return outputs, hmc.connections_opened


def run_connection_per_command(sim, commands):
    outputs = []
    for argv in commands:
        with client(sim) as hmc:
            outputs.append(hmc.run(argv))
    return outputs, len(commands)


def timed(function, *args, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def naive_parse(text):
    # What a split-on-commas parser does (wrong for "io_slots=a,b" pairs): the parsing-cost baseline only.
    rows = []
    for line in text.splitlines():
        if line.strip():
            rows.append(dict(field.partition("=")[::2] for field in line.split(",")))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--polls", type=int, default=20, help="DPO status polls in the simulated module run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    commands = memopt_commands(args.polls)
    with tempfile.TemporaryDirectory(prefix="hmc-client-bench-") as tmp, running_simulator(Path(tmp)) as sim:
        run_reused(sim, commands[:2])  # warm up both sides (imports, host key load)
        base_time, (base_out, base_conns) = timed(run_connection_per_command, sim, commands, repeat=args.repeat)
        ours_time, (ours_out, ours_conns) = timed(run_reused, sim, commands, repeat=args.repeat)
        assert base_out == ours_out, "both ways must read the same data"
        per_base = base_time * 1000 / len(commands)
        per_ours = ours_time * 1000 / len(commands)
        print(f"one hmc_memopt run = {len(commands)} HMC commands ({args.polls} DPO status polls)")
        print(f"  baseline, connection per command : {base_time * 1000:7.1f} ms  ({base_conns} SSH connections, "
              f"{per_base:.1f} ms/command)")
        print(f"  HmcClient, one connection        : {ours_time * 1000:7.1f} ms  ({ours_conns} SSH connection,  "
              f"{per_ours:.1f} ms/command)")
        print(f"  speed-up: {base_time / ours_time:.1f}x, connections: {base_conns // ours_conns}x fewer")

        listing = ours_out[1] * 200  # 200 x the partition listing of the lab system
        naive_time, _ = timed(naive_parse, listing, repeat=args.repeat)
        parse_time, rows = timed(parse_listing, listing, repeat=args.repeat)
        print(f"parse {len(rows)} partition rows: parse_listing {parse_time * 1000:.1f} ms vs split-on-commas "
              f"{naive_time * 1000:.1f} ms (ratio {parse_time / naive_time:.2f})")

if __name__ == "__main__":
    main()
