"""`rocketce-fraud serve`: gunicorn (pre-fork, model loaded once before forking) around the Flask app."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def prepare_metrics_dir() -> None:
    """prometheus_client multiprocess mode: a per-start directory, wiped before workers start."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = tempfile.mkdtemp(prefix="rocketce-fraud-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True)
    for child in target.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def run(model_dir: str, bind: str, state_dir: str, workers: int, threshold: str | None, *,
        log_format: str = "text") -> None:
    prepare_metrics_dir()
    from gunicorn.app.base import BaseApplication

    from .app import create_app
    from .logs import dict_config

    def child_exit(_server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", [bind])
            self.cfg.set("workers", workers)
            self.cfg.set("preload_app", True)
            self.cfg.set("child_exit", child_exit)
            self.cfg.set("accesslog", None)
            self.cfg.set("logconfig_dict", dict_config(log_format))  # gunicorn's lines in the app's format
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 10)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25.1 opens a control socket in $HOME or $XDG_RUNTIME_DIR; the service needs none.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return create_app(model_dir, state_dir, threshold)

    Server().run()
