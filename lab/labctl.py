#!/usr/bin/env python3
"""labctl.py up | down | reset | status [--config LAB.yml]: the lab described by LAB.yml (default lab/lab.yml).

up     brings up every lab host and the HMC simulator and writes the inventory; a second run changes nothing.
       Whatever that needs and is missing is built first (key, host image, lab artifacts), whoever runs first.
down   stops everything `up` started (processes by pid, mounts, netns) and checks nothing is left.
reset  down, forget the simulated HMC's state, up: fresh lab hosts (new overlays) and the HMC of the model.
status shows what runs, on which ports, with which pids.
fleet up|down|reset|status
       the simulated fleet of lab.yml's `fleet:` (lab/fleet.yml): HMC simulators only, up or down in seconds;
       its inventory is written under the fleet's state dir (STATE/fleet/inventory).
simulator-up --dir DIR --name NAME [--dpo-seconds S] / simulator-down --dir DIR --name NAME
       an HMC simulator of its own in DIR (key, password, known_hosts, state), on the port lab/lab.yml's port
       table gives NAME (ports.molecule.*); what molecule scenarios use (labctl/hmc.py is the one way to start it).

The state dir is $ROCKETCE_LAB_STATE (default /var/tmp/rocketce-lab). From Python, the same is
`labctl.cli.run(action, config_path, repo)` with ROCKETCE_LAB_STATE set (labctl.cli.up/down/reset take a LabSpec).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labctl.cli import run, run_fleet, run_simulator  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="labctl.py", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "reset", "status", "simulator-up", "simulator-down",
                                                  "fleet"])
    parser.add_argument("fleet_action", nargs="?", choices=["up", "down", "reset", "status"],
                        help="fleet: what to do with the simulated fleet")
    parser.add_argument("--config", type=Path, default=REPO / "lab" / "lab.yml", help="lab description (lab.yml)")
    parser.add_argument("--dir", type=Path, help="simulator-*: the simulator's own directory")
    parser.add_argument("--name", help="simulator-*: its name in lab/lab.yml's port table (ports.molecule.*)")
    parser.add_argument("--dpo-seconds", type=float, help="simulator-up: how long a DPO takes")
    args = parser.parse_args()
    if args.action.startswith("simulator-"):
        if args.dir is None or args.name is None:
            parser.error(f"{args.action} needs --dir and --name")
        return run_simulator(args.action, args.dir, args.name, args.dpo_seconds, REPO)
    if args.action == "fleet":
        if args.fleet_action is None:
            parser.error("fleet needs up, down, reset or status")
        return run_fleet(args.fleet_action, args.config, REPO)
    if args.fleet_action is not None:
        parser.error(f"{args.action} takes no further argument")
    return run(args.action, args.config, REPO)


if __name__ == "__main__":
    sys.exit(main())
