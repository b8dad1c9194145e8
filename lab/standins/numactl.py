#!/usr/bin/python3
"""Lab stand-in for `numactl --hardware`: prints the NUMA view the HMC simulator's placement gives this LPAR.

A lab host is a container on an x86 box, so the kernel's NUMA view says nothing about the simulated LPAR.
The HMC simulator keeps its view of the LPAR in /etc/rocketce-lab/numa-view.json of the host (JSON with
"numactl_hardware": the text `numactl --hardware` prints, rendered by hmcsim.numa.numactl_hardware after
numactl.c hardware()), rewriting it whenever the placement changes (hmcsim.export, set up by lab/labctl);
numa_info parses exactly what it would parse on an LPAR. Any other invocation runs the real numactl.
"""
import json
import os
import sys

VIEW_FILE = os.environ.get("ROCKETCE_NUMA_VIEW", "/etc/rocketce-lab/numa-view.json")
REAL_NUMACTL = "/usr/bin/numactl"


def main(argv):
    if argv[1:] in (["-H"], ["--hardware"]) and os.path.exists(VIEW_FILE):
        with open(VIEW_FILE, encoding="utf-8") as handle:
            view = json.load(handle)
        if "numactl_hardware" not in view:  # fail loudly rather than show the container's own layout
            sys.stderr.write(f"numactl stand-in: {VIEW_FILE} has no numactl_hardware: {json.dumps(view)[:200]}\n")
            return 1
        sys.stdout.write(view["numactl_hardware"])
        return 0
    os.execv(REAL_NUMACTL, [REAL_NUMACTL, *argv[1:]])  # noqa: S606 - the real numactl, argv list
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv))
