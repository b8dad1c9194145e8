"""Running the app under gunicorn (the `serve` command) with multiprocess-safe Prometheus metrics."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

from gunicorn.app.base import BaseApplication

from .logs import logging_config
from .model import IdsModel
from .settings import MAX_BODY_ENV, METRICS_DIR_ENV, MODEL_DIR_ENV

PR_SET_PDEATHSIG = 1  # linux/prctl.h
log = logging.getLogger("rocketce_ids.serving")


def child_exit(server, worker) -> None:  # gunicorn hook: a dead worker's live gauges must go
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker) -> None:
    """gunicorn hook, in the new worker: die with the master.

    After a kill -9 of the master, orphaned workers would keep the listening socket until they notice (up to
    timeout/2 s), and the master systemd restarts could not bind. systemd normally kills them with the cgroup,
    but not where it cannot (seen in systemd-nspawn lab hosts).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        server.log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != server.pid:  # the master died before prctl took effect
        os._exit(0)


class IdsApplication(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .server import create_app  # imported in the worker, after PROMETHEUS_MULTIPROC_DIR is set

        return create_app()


def prepare_metrics_dir() -> tuple[Path, bool]:
    """Use PROMETHEUS_MULTIPROC_DIR (systemd sets it to a RuntimeDirectory) or a private temporary one; start empty.

    Files left by an earlier run would make counters continue from stale values, hence the wipe. Returns the
    directory and whether it is a temporary one (to remove at exit).
    """
    configured = os.environ.get(METRICS_DIR_ENV)
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="rocketce-ids-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    os.environ[METRICS_DIR_ENV] = str(path)
    return path, not configured


def serve(model_dir: str, *, bind: str, workers: int, threads: int, max_body_bytes: int | None = None,
          timeout: int = 30, log_format: str = "text") -> None:
    os.environ[MODEL_DIR_ENV] = str(Path(model_dir).resolve())
    if max_body_bytes:
        os.environ[MAX_BODY_ENV] = str(max_body_bytes)
    metrics_dir, temporary = prepare_metrics_dir()
    # Check once in the master too, so a broken model is in the log right at start (workers stay up, not ready).
    try:
        IdsModel.load(model_dir)
    except Exception as exc:  # noqa: BLE001 - only logged here; each worker reports it on /readyz
        log.error("model not ready: %s", exc)
    options = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": timeout,
        "graceful_timeout": 5,
        "keepalive": 5,
        "child_exit": child_exit,
        "post_fork": post_fork,
        # No control socket: nothing else steers the service, and it wants a writable $HOME (none in the sandbox).
        "control_socket_disable": True,
        "proc_name": "rocketce-ids",
        "limit_request_line": 4094,
        "limit_request_fields": 50,
        "logconfig_dict": logging_config(log_format),  # gunicorn's own lines and the app's, in one format
    }
    try:
        IdsApplication(options).run()
    finally:
        if temporary:
            shutil.rmtree(metrics_dir, ignore_errors=True)
