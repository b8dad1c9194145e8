"""Log output: the default human format, or one JSON object per line (`--log-format json` / ROCKETCE_IDS_LOG_FORMAT).

Log lines never carry request bodies (records may be sensitive traffic data) nor anything from the environment.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
import os
import sys

LOG_FORMAT_ENV = "ROCKETCE_IDS_LOG_FORMAT"
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One event per line: time (UTC, ms), level, logger, pid, message, and the traceback as one string field."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
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


def default_log_format() -> str:
    value = os.environ.get(LOG_FORMAT_ENV, "text")
    return value if value in LOG_FORMATS else "text"


def logging_config(log_format: str) -> dict:
    """A dictConfig for the CLI and for gunicorn's logconfig_dict (its own loggers included)."""
    formatter = {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    handler = {"()": f"{__name__}.StderrHandler", "formatter": "main"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"stderr": handler},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            # No access log (a logconfig_dict would switch it on): a line per request costs throughput and fills
            # the journal; /metrics counts requests by method, route and status instead.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure_cli_logging(log_format: str) -> None:
    """The CLI's root handler. Not dictConfig: that closes the handlers already there, and a library's handler
    (absl's, which TensorFlow installs) may close the stream it holds, which can be a test harness's stderr."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)
    config = logging_config(log_format)
    formatter = logging.config.DictConfigurator(config).configure_formatter(next(iter(config["formatters"].values())))
    handler = StderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
