"""Placement of partitions on chips, affinity scores, and the DPO planner.

Score of one partition (0-100, `none` when it holds nothing):

    locality    = sum over chips of min(share of its cores there, share of its memory there)
    compactness = (fewest chips that could hold it) / (chips its cores are on)
    score       = 100 * locality * sqrt(compactness) * (0.9 if it spans more sockets than it must, else 1)

The system score is the core-weighted mean of the partition scores. A partition on one chip with its memory
there scores 100; 12 cores spread over four chips with mismatched memory scores about 30.

The planner is what a DPO run (and `lsmemopt -o calcscore`) does: protected partitions stay, every other
partition that holds resources is placed again, requested ones first, largest first, each preferring the chips
it already uses (so nothing moves without a reason). Others may gain or lose; that is DPO's documented nature.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .model import Chunk, System


class Capacity:
    """Free cores and memory per chip."""

    def __init__(self, system: System):
        self.topology = system.topology
        self.cores = [system.topology.cores_per_chip] * system.topology.chips
        self.memory = [system.memory_per_chip] * system.topology.chips

    def take(self, chunk: Chunk) -> None:
        self.cores[chunk.chip] -= chunk.cores
        self.memory[chunk.chip] -= chunk.memory_mb

    def give(self, chunk: Chunk) -> None:
        self.cores[chunk.chip] += chunk.cores
        self.memory[chunk.chip] += chunk.memory_mb

    def socket_of(self, chip: int) -> int:
        return chip // self.topology.chips_per_socket

    def check(self, system_name: str) -> None:
        for chip, (cores, memory) in enumerate(zip(self.cores, self.memory)):
            if cores < 0 or memory < 0:
                raise ValueError(f"{system_name}: chip {chip} is overcommitted ({cores} cores, {memory} MB free)")


def free_capacity(system: System, exclude: set[int] | None = None) -> Capacity:
    capacity = Capacity(system)
    for lpar in system.lpars:
        if lpar.placement and lpar.id not in (exclude or set()):
            for chunk in lpar.placement:
                capacity.take(chunk)
    return capacity


def _chunk(chip: int, cores: int, memory: int) -> Chunk:
    from .model import Chunk

    return Chunk(chip=chip, cores=cores, memory_mb=memory)


def place(system: System, cores: int, memory: int, free: Capacity, prefer: list[Chunk] | None = None) -> list[Chunk]:
    """Choose chips for a partition and take them from `free`.

    One chip if any fits (preferring chips the partition already uses, then the tightest fit); otherwise the
    socket with the most room, filling its emptiest chips first; memory follows the cores and spills over to
    chips with free memory (same socket first) when a chip runs out.
    """
    presence = {c.chip: c.cores + c.memory_mb / 65536 for c in prefer or []}
    chips = range(system.topology.chips)
    fitting = [c for c in chips if free.cores[c] >= cores and free.memory[c] >= memory]
    cores_on: dict[int, int] = {}
    if fitting:
        best = min(fitting, key=lambda c: (-presence.get(c, 0), free.cores[c] - cores, c))
        cores_on[best] = cores
    else:
        sockets: dict[int, list[int]] = {}
        for chip in chips:
            sockets.setdefault(free.socket_of(chip), []).append(chip)
        order = sorted(
            sockets.values(),
            key=lambda group: (-sum(presence.get(c, 0) for c in group), -sum(max(free.cores[c], 0) for c in group)),
        )
        candidates = [c for group in order for c in sorted(group, key=lambda c: (-presence.get(c, 0), -free.cores[c]))]
        remaining = cores
        for chip in candidates:
            if remaining == 0:
                break
            take = min(remaining, max(free.cores[chip], 0))
            if take:
                cores_on[chip] = take
                remaining -= take
        if remaining:  # overcommitted system: put the rest where the partition already is (shared pools do this)
            chip = candidates[0]
            cores_on[chip] = cores_on.get(chip, 0) + remaining
    memory_on = _spread_memory(system, cores_on, memory, free)
    placement = [
        _chunk(chip, cores_on.get(chip, 0), memory_on.get(chip, 0))
        for chip in sorted(set(cores_on) | set(memory_on))
        if cores_on.get(chip, 0) or memory_on.get(chip, 0)
    ]
    for chunk in placement:
        free.take(chunk)
    return placement


def _spread_memory(system: System, cores_on: dict[int, int], memory: int, free: Capacity) -> dict[int, int]:
    total_cores = sum(cores_on.values()) or 1
    region = system.mem_region_size
    memory_on: dict[int, int] = {}
    assigned = 0
    for index, (chip, chip_cores) in enumerate(sorted(cores_on.items())):
        if index == len(cores_on) - 1:
            want = memory - assigned
        else:
            want = (memory * chip_cores // total_cores) // region * region
        got = max(0, min(want, free.memory[chip]))
        memory_on[chip] = got
        assigned += got
    left = memory - assigned
    if left > 0:
        home_sockets = {free.socket_of(c) for c in cores_on}
        spill = sorted(
            range(system.topology.chips), key=lambda c: (free.socket_of(c) not in home_sockets, -free.memory[c])
        )
        for chip in spill:
            room = max(0, free.memory[chip] - memory_on.get(chip, 0))
            take = min(room, left)
            if take:
                memory_on[chip] = memory_on.get(chip, 0) + take
                left -= take
            if not left:
                break
        if left:  # nowhere left: keep it with the cores (the model check reports real overcommit)
            first = min(cores_on)
            memory_on[first] = memory_on.get(first, 0) + left
    return {chip: mb for chip, mb in memory_on.items() if mb}


def lpar_score(system: System, placement: list[Chunk] | None) -> int | None:
    if not placement:
        return None
    cores = sum(c.cores for c in placement)
    memory = sum(c.memory_mb for c in placement)
    if cores == 0:
        return None
    topology = system.topology
    locality = sum(min(c.cores / cores, (c.memory_mb / memory) if memory else 1.0) for c in placement)
    if memory == 0:
        locality = 1.0
    fewest_chips = max(
        1, math.ceil(cores / topology.cores_per_chip), math.ceil(memory / max(system.memory_per_chip, 1))
    )
    cpu_chips = sum(1 for c in placement if c.cores)
    compactness = min(1.0, fewest_chips / cpu_chips)
    sockets_used = len({c.chip // topology.chips_per_socket for c in placement if c.cores})
    fewest_sockets = math.ceil(fewest_chips / topology.chips_per_socket)
    socket_factor = 0.9 if sockets_used > fewest_sockets else 1.0
    return max(0, min(100, round(100 * locality * math.sqrt(compactness) * socket_factor)))


def system_score(system: System, placements: dict[int, list[Chunk] | None]) -> int | None:
    weighted = 0.0
    weight = 0
    for placement in placements.values():
        score = lpar_score(system, placement)
        if score is None:
            continue
        cores = sum(c.cores for c in placement or [])
        weighted += score * cores
        weight += cores
    return round(weighted / weight) if weight else None


def current_placements(system: System) -> dict[int, list[Chunk] | None]:
    return {lpar.id: lpar.placement for lpar in system.lpars}


def plan(system: System, requested: list[int], protected: list[int]) -> tuple[dict[int, list[Chunk]], list[int]]:
    """Placement after a DPO run and the ids in the order they move (only those whose placement changes)."""
    movable = [
        lpar for lpar in system.lpars if lpar.placement and lpar.held() is not None and lpar.id not in protected
    ]
    free = free_capacity(system, exclude={lpar.id for lpar in movable})
    size = {lpar.id: (lpar.held().cores, lpar.held().mem) for lpar in movable}  # type: ignore[union-attr]
    ordered = sorted(
        movable, key=lambda lpar: (lpar.id not in requested, -size[lpar.id][0], -size[lpar.id][1], lpar.id)
    )
    result: dict[int, list[Chunk]] = {}
    for lpar in ordered:
        cores, memory = size[lpar.id]
        result[lpar.id] = place(system, cores, memory, free, prefer=lpar.placement)
    changed = [lpar.id for lpar in ordered if _as_key(result[lpar.id]) != _as_key(lpar.placement)]
    return result, changed


def _as_key(placement: list[Chunk] | None) -> tuple:
    return tuple(sorted((c.chip, c.cores, c.memory_mb) for c in placement or []))


def predicted_placements(system: System, requested: list[int], protected: list[int]) -> dict[int, list[Chunk] | None]:
    planned, _ = plan(system, requested, protected)
    placements = current_placements(system)
    placements.update(planned)
    return placements
