#!/usr/bin/env python3
"""labctl.py up | down | status [--config lab/lab.yml]: the whole demo lab described by lab/lab.yml.

up     brings up every lab host and the HMC simulator and writes the inventory; a second run changes nothing.
down   stops everything `up` started (processes by pid, mounts, netns) and checks nothing is left.
status shows what runs, on which ports, with which pids.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labctl.cli import run  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="labctl.py", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--config", type=Path, default=REPO / "lab" / "lab.yml", help="lab description (lab.yml)")
    args = parser.parse_args()
    return run(args.action, args.config, REPO)


if __name__ == "__main__":
    sys.exit(main())
