"""Logging for `regie serve` and `regie worker`: stdlib ``logging`` with one JSON object
per line (python-json-logger), or plain text for a terminal.

What goes in: time, level, logger, message, the request id of the request being served
(``request_id``), and the ``extra`` fields a call site adds (ids, counts, route
templates, status codes, durations). What never goes in: medical content, names, BSNs,
tokens, passwords, codes. Call sites log ids and counts, the request log names the route
template rather than the path (paths hold ids), and uvicorn's access log (raw paths and
query strings) is off. ``tests/web/test_logs.py`` drives requests carrying medical strings
and secrets and checks the captured log holds none of them.
"""
from __future__ import annotations

import contextvars
import logging
import logging.config
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("regie_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or none) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def logging_config(fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    """A ``dictConfig`` for Regie and uvicorn (passed to uvicorn so every worker uses it)."""
    formatters = {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    }
    formatter = "json" if fmt == "json" else "text"
    handler = {
        "class": "logging.StreamHandler",
        "formatter": formatter,
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "regie.ops.logs.RequestIdFilter"}},
        "formatters": {formatter: formatters[formatter]},
        "handlers": {"default": handler},
        "loggers": {
            "regie": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            # Raw paths and query strings: replaced by regie.web.request_log.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "httpx": {"level": "WARNING"},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }


def configure_logging(fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    config = logging_config(fmt, level)
    logging.config.dictConfig(config)
    return config
