"""Keeps files outside the simulator current with the NUMA view of chosen partitions (`serve --numa-views FILE`).

FILE (JSON, written by whoever runs the simulator, e.g. lab/labctl) lists what to keep current:
    {"views": [{"system": "p10-s1024-lab", "lpar": "ai-lpar01", "file": "/.../etc/rocketce-lab/numa-view.json"}]}
After every save of the state (every command that changed it, every DPO step), the view of each listed partition
(`hmcsim numa`'s JSON, plus the same as `numactl --hardware` prints it) is written to its file when it differs from
what the file holds. A file whose directory
does not exist is skipped: the directory is the consumer's (a lab host's root file system that may be down), and
the simulator never creates one. FILE is read again each time, so its owner may change it while the simulator runs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from .numa import numa_view, numactl_hardware
from .state import Store

log = logging.getLogger(__name__)


def render(view: dict, chips_per_socket: int) -> str:
    """The view (`hmcsim numa`'s JSON) plus how `numactl --hardware` shows it, for the host's numactl stand-in."""
    return json.dumps({**view, "numactl_hardware": numactl_hardware(view, chips_per_socket)}, indent=1,
                      sort_keys=True) + "\n"


def read_targets(views_file: Path) -> list[dict]:
    try:
        data = json.loads(views_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.error("cannot read %s: %s", views_file, exc)
        return []
    return [v for v in data.get("views", []) if isinstance(v, dict) and {"system", "lpar", "file"} <= v.keys()]


def write_views(store: Store, views_file: Path) -> list[str]:
    """Write the listed views that changed; the files written."""
    written = []
    for target in read_targets(views_file):
        path = Path(target["file"])
        if not path.parent.is_dir():
            continue
        system = store.system(target["system"])
        lpar = system.lpar_by_name(target["lpar"]) if system else None
        if lpar is None:
            log.error("numa view: no partition %r on %r", target["lpar"], target["system"])
            continue
        text = render(numa_view(system, lpar), system.topology.chips_per_socket)
        try:
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:  # the host went down under us: its next start gets the view again
            log.warning("numa view %s not written: %s", path, exc)
            continue
        written.append(str(path))
    return written


def attach(store: Store, views_file: Path) -> None:
    """Make every save of store also write the listed views (and write them once now)."""
    save = store.save

    def save_and_export() -> None:
        save()
        write_views(store, views_file)

    store.save = save_and_export  # type: ignore[method-assign]
    write_views(store, views_file)


def export_snapshot(state_dir: Path, views_file: Path, model: Path | None = None) -> list[str]:
    """From another process: the views as of now (the saved state advanced to this moment, like `hmcsim numa`)."""
    store = Store.snapshot(state_dir, model)
    store.advance()
    return write_views(store, views_file)
