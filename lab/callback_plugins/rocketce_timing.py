"""Per-task wall time of a playbook run, for the demo (`make demo` enables it; site.yml does not know it).

Like ansible.posix.profile_tasks (not a dependency of this repo): a task's time runs from its start until the next
task (or handler, or play) starts, so with the linear strategy it covers every host. At the end it prints the
slowest tasks and, when ROCKETCE_TIMING_FILE is set, writes them all there as JSON:
{"wall_s": total, "plays": [{"name", "seconds"}], "tasks": [{"play", "task", "path", "seconds", "runs"}]}.
ROCKETCE_TIMING_TOP (default 10) is how many tasks are printed.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: rocketce_timing
type: aggregate
short_description: per-task wall time, slowest tasks at the end, optionally as JSON
description:
  - Times every task from its start to the start of the next one and prints the slowest at the end of the run.
requirements:
  - enable in callbacks_enabled (ANSIBLE_CALLBACKS_ENABLED=rocketce_timing)
options: {}
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "rocketce_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._start = time.monotonic()
        self._tasks: dict[str, dict] = {}
        self._plays: list[dict] = []
        self._current: tuple[str, float] | None = None
        self._play = ""

    def _close(self, now: float) -> None:
        if self._current is not None:
            key, started = self._current
            self._tasks[key]["seconds"] += now - started
            self._current = None
        if self._plays and "started" in self._plays[-1]:
            self._plays[-1]["seconds"] = now - self._plays[-1]["started"]

    def _begin(self, task) -> None:
        now = time.monotonic()
        self._close(now)
        key = task._uuid
        if key not in self._tasks:
            self._tasks[key] = {"play": self._play, "task": task.get_name().strip(),
                                "path": task.get_path() or "", "seconds": 0.0, "runs": 0}
        self._tasks[key]["runs"] += 1
        self._current = (key, now)

    def v2_playbook_on_play_start(self, play):
        now = time.monotonic()
        self._close(now)
        self._play = play.get_name().strip()
        self._plays.append({"name": self._play, "started": now, "seconds": 0.0})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._begin(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._begin(task)

    def v2_playbook_on_stats(self, stats):
        now = time.monotonic()
        self._close(now)
        wall = now - self._start
        tasks = sorted(self._tasks.values(), key=lambda t: t["seconds"], reverse=True)
        top = int(os.environ.get("ROCKETCE_TIMING_TOP", "10"))
        self._display.banner(f"SLOWEST TASKS (of {len(tasks)}, {wall:.1f}s in all)")
        for entry in tasks[:top]:
            runs = f" x{entry['runs']}" if entry["runs"] > 1 else ""
            self._display.display(f"{entry['seconds']:8.2f}s  {entry['play']} : {entry['task']}{runs}")
        out = os.environ.get("ROCKETCE_TIMING_FILE")
        if out:
            plays = [{"name": p["name"], "seconds": round(p["seconds"], 3)} for p in self._plays]
            data = {"wall_s": round(wall, 3), "plays": plays,
                    "tasks": [dict(t, seconds=round(t["seconds"], 3)) for t in tasks]}
            with open(out, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
                handle.write("\n")
