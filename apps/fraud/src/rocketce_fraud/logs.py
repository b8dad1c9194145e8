"""`--log-format json` (or ROCKETCE_FRAUD_LOG_FORMAT=json): one JSON object per log event, on stderr.

rocketce-fraud and rocketce-ids are installed separately on different hosts, so each carries its own formatter.
Events never include request bodies (card transactions) or the environment.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
import os
import sys

LOG_FORMAT_ENV = "ROCKETCE_FRAUD_LOG_FORMAT"
LOG_FORMATS = ("text", "json")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {"time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "pid": record.process,
                 "message": record.getMessage()}
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)  # newlines escaped: still one line
        return json.dumps(event, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each event (pytest and other harnesses swap it; a bound stream goes stale)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def log_format_from_env() -> str:
    return "json" if os.environ.get(LOG_FORMAT_ENV) == "json" else "text"


def dict_config(log_format: str) -> dict:
    """For logging.config.dictConfig and for gunicorn's logconfig_dict (which replaces its defaults)."""
    formatters = {"json": {"()": f"{__name__}.JsonLines"},
                  "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {log_format: formatters[log_format]},
        "handlers": {"stderr": {"()": f"{__name__}.StderrHandler", "formatter": log_format}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
                    # no access log, as before: /metrics counts requests by method, route and status
                    "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False}},
    }


def configure_cli_logging(log_format: str) -> None:
    """The CLI's root handler. Not dictConfig: that closes the handlers already there, and a library's handler
    (absl's, which TensorFlow installs) may close the stream it holds, which can be a test harness's stderr."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)
    config = dict_config(log_format)
    formatter = logging.config.DictConfigurator(config).configure_formatter(next(iter(config["formatters"].values())))
    handler = StderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
