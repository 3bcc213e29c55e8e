"""How every process logs: readable text by default, one JSON object a line with LOG_FORMAT=json.

Web, worker and beat share this configuration (settings.LOGGING): Django applies it at
start-up, and Celery is told not to replace it (opsconsole/celery.py answers its
`setup_logging` signal). A line logged while a request is served carries that request's
id (opsconsole/request_id.py) as `request_id`.

Imported by settings.py: nothing here may need Django's settings.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

LOG_FORMATS = ("text", "json")

# The id of the request this thread (or task) serves; set by RequestIdMiddleware.
request_id_var: ContextVar[str | None] = ContextVar("opsconsole_request_id", default=None)

# Loggers that are quiet at INFO. An idle console logged ~35 lines a minute: beat's "Sending
# due task", the worker's "received" and "succeeded" for every 5 s sweep. Failures still log
# (ERROR); the tasks log what they did when they did something. LOG_LEVEL=DEBUG brings them back.
QUIET_AT_INFO = ("celery.beat", "celery.worker.strategy", "celery.app.trace", "axes.apps")


class RequestIdFilter(logging.Filter):
    """Put the current request's id on the record (`record.request_id`) when there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class TextFormatter(logging.Formatter):
    """`ts LEVEL logger: message`, ending with `request_id=…` on request lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        text = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{text} request_id={request_id}" if request_id else text


def logging_config(*, level: str = "INFO", log_format: str = "text") -> dict[str, Any]:
    """The dictConfig of every process."""
    level = level.upper()
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    formatters: dict[str, Any] = {
        "text": {"()": TextFormatter, "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            # ISO 8601 in UTC, from the record's own time.
            "timestamp": "ts",
        },
    }
    loggers: dict[str, Any] = {
        # Django's defaults give these handlers of their own (plain text, and runserver's
        # access line): route them through ours instead. Requests are logged once, with
        # their id, by RequestIdMiddleware ("opsconsole.request").
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
        # gunicorn's own (gunicorn.conf.py hands it this configuration; Django's start-up in
        # each gunicorn worker applies it again): the console handler, once. Its access lines
        # would repeat opsconsole.request's (and log every probe at INFO): off.
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    }
    if level != "DEBUG":
        loggers |= {name: {"level": "WARNING"} for name in QUIET_AT_INFO}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": formatters,
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": loggers,
    }
