#!/usr/bin/python3
"""Lab stand-in for `numactl --hardware`: prints the NUMA view the HMC simulator's placement gives this LPAR.

A lab host is a container on an x86 box, so the kernel's NUMA view says nothing about the simulated LPAR.
The HMC simulator keeps the simulator's view of the LPAR (JSON: {"nodes": [{"id", "cpus", "memory_mb"}]}) in
/etc/rocketce-lab/numa-view.json of the host, rewriting it whenever the placement changes (hmcsim.export, set up
by lab/labctl); this script prints it in numactl's own format (numactl.c hardware()),
so numa_info parses exactly what it would parse on an LPAR. Any other invocation runs the real numactl.
"""
import json
import os
import sys

VIEW_FILE = os.environ.get("ROCKETCE_NUMA_VIEW", "/etc/rocketce-lab/numa-view.json")
REAL_NUMACTL = "/usr/bin/numactl"


def compress(ids):
    """Node ids as numactl prints them in the header: ranges joined by commas (e.g. 0-1,7)."""
    ids = sorted(ids)
    parts, start = [], None
    for i, value in enumerate(ids):
        if start is None:
            start = value
        if i + 1 == len(ids) or ids[i + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ",".join(parts)


def render(view):
    nodes = sorted(view["nodes"], key=lambda n: n["id"])
    ids = [n["id"] for n in nodes]
    lines = [f"available: {len(nodes)} nodes ({compress(ids)})"]
    for node in nodes:
        cpus = " ".join(str(c) for c in node.get("cpus", []))
        lines.append(f"node {node['id']} cpus:" + (f" {cpus}" if cpus else ""))
        size = int(node.get("memory_mb", 0))
        lines.append(f"node {node['id']} size: {size} MB")
        lines.append(f"node {node['id']} free: {int(size * 0.9)} MB")
    lines.append("node distances:")
    lines.append("node " + "".join(f"{i:4d}" for i in ids))
    for a in ids:
        lines.append(f"{a:4d}: " + "".join(f"{10 if a == b else 40:4d}" for b in ids))
    return "\n".join(lines) + "\n"


def main(argv):
    if argv[1:] in (["-H"], ["--hardware"]) and os.path.exists(VIEW_FILE):
        with open(VIEW_FILE, encoding="utf-8") as handle:
            sys.stdout.write(render(json.load(handle)))
        return 0
    os.execv(REAL_NUMACTL, [REAL_NUMACTL, *argv[1:]])  # noqa: S606 - the real numactl, argv list
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv))
