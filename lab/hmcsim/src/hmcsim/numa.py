"""The NUMA view a partition's operating system would get from its current placement (`hmcsim numa`).

One node per chip the partition has cores or memory on; node ids are chip numbers (sparse, like PowerVM's).
Logical CPUs are numbered across nodes in chip order: dedicated partitions get cores x SMT threads per node,
shared partitions spread their virtual processors over their home chips in proportion to the home cores.
"""

from __future__ import annotations

from . import affinity
from .model import Lpar, System


def numa_view(system: System, lpar: Lpar) -> dict:
    held = lpar.held()
    placement = sorted(lpar.placement or [], key=lambda c: c.chip)
    smt = system.topology.smt
    total_cores = sum(c.cores for c in placement)
    if held is not None and held.proc_mode == "shared" and total_cores:
        virtual = held.procs
        shares = [virtual * c.cores // total_cores for c in placement]
        for index in sorted(range(len(placement)), key=lambda i: -placement[i].cores)[: virtual - sum(shares)]:
            shares[index] += 1
    else:
        shares = [c.cores for c in placement]
    nodes = []
    next_cpu = 0
    for chunk, procs in zip(placement, shares):
        cpus = list(range(next_cpu, next_cpu + procs * smt))
        next_cpu += procs * smt
        nodes.append({"id": chunk.chip, "cpus": cpus, "memory_mb": chunk.memory_mb})
    booted = sorted((c.chip, c.cores, c.memory_mb) for c in lpar.booted_placement or [])
    current = sorted((c.chip, c.cores, c.memory_mb) for c in placement)
    return {
        "system": system.name,
        "lpar": lpar.name,
        "lpar_id": lpar.id,
        "state": lpar.state,
        "affinity_score": affinity.lpar_score(system, lpar.placement),
        "reboot_recommended": lpar.booted_placement is not None and booted != current,
        "nodes": nodes,
        # the physical machine, as lscpu prints it on PowerVM (RTAS PROCESSOR_MODULE_INFO; lpar facts 1.5)
        "physical": {
            "processor": system.processor,
            "sockets": system.topology.sockets,
            "chips_per_socket": system.topology.chips_per_socket,
            "cores_per_chip": system.topology.cores_per_chip,
            "smt": smt,
        },
    }


def _compress(ids: list[int]) -> str:
    """numactl's compressed list: 0-3,7."""
    ranges: list[str] = []
    start = previous = None
    for value in sorted(ids) + [None]:  # type: ignore[list-item]
        if start is not None and (value is None or value != previous + 1):
            ranges.append(str(start) if start == previous else f"{start}-{previous}")
            start = None
        if value is not None and start is None:
            start = value
        previous = value
    return ",".join(ranges)


def numactl_hardware(view: dict, chips_per_socket: int) -> str:
    """The view as `numactl --hardware` prints it (format: lpar-and-rocketce-facts.md section 2)."""
    nodes = view["nodes"]
    ids = [node["id"] for node in nodes]
    lines = [f"available: {len(nodes)} nodes ({_compress(ids)})"]
    for node in nodes:
        lines.append(f"node {node['id']} cpus:" + "".join(f" {cpu}" for cpu in node["cpus"]))
        lines.append(f"node {node['id']} size: {node['memory_mb']} MB")
        lines.append(f"node {node['id']} free: {node['memory_mb'] * 95 // 100} MB")
    lines.append("node distances:")
    lines.append("node " + "".join(f"{i:4d} " for i in ids).rstrip())
    for a in ids:
        distances = []
        for b in ids:
            same_socket = a // chips_per_socket == b // chips_per_socket
            distances.append(10 if a == b else 20 if same_socket else 40)
        lines.append(f"{a:4d}: " + "".join(f"{d:4d} " for d in distances).rstrip())
    return "\n".join(lines) + "\n"


def lscpu_text(view: dict) -> str:
    """The view as util-linux `lscpu` prints it to a pipe on a PowerVM LPAR (flat `Field: value`, lpar facts 1.5).

    `Physical sockets`/`Physical chips`/`Physical cores/chip` describe the machine (chips per socket, cores per
    chip), not the LPAR; `Socket(s)`/`Core(s) per socket` are derived per node, as unreliable as the real ones.
    """
    physical = view["physical"]
    cpus = [cpu for node in view["nodes"] for cpu in node["cpus"]]
    smt = physical["smt"]
    cpu_nodes = [node for node in view["nodes"] if node["cpus"]]
    sockets = max(1, len(cpu_nodes))
    fields = [
        ("Architecture", "ppc64le"),
        ("Byte Order", "Little Endian"),
        ("CPU(s)", str(len(cpus))),
        ("On-line CPU(s) list", _compress(cpus)),
        ("Model name", f"{physical['processor']} (architected), altivec supported"),
        ("Thread(s) per core", str(smt)),
        ("Core(s) per socket", str(len(cpus) // smt // sockets)),
        ("Socket(s)", str(sockets)),
        ("Physical sockets", str(physical["sockets"])),
        ("Physical chips", str(physical["chips_per_socket"])),
        ("Physical cores/chip", str(physical["cores_per_chip"])),
        ("Hypervisor vendor", "pHyp"),
        ("Virtualization type", "para"),
        ("NUMA node(s)", str(len(view["nodes"]))),
    ]
    fields += [(f"NUMA node{node['id']} CPU(s)", _compress(node["cpus"])) for node in view["nodes"]]
    width = max(len(name) for name, _ in fields) + 2
    return "".join(f"{name + ':':<{width}}{value}".rstrip() + "\n" for name, value in fields)
