"""How ``serve`` and ``worker`` log: JSON lines (default) or text, on stderr.

Every JSON line has ``time`` (UTC, RFC 3339 with milliseconds), ``level``, ``logger`` and
``message``; records about an execution add ``executionArn`` (and ``stateMachineArn``,
``stateName`` where known), passed by the code that logs with ``extra=``; an exception adds
``exc_info``. Nothing is logged per transition: the records are one per execution's end, plus
warnings and errors.
"""
from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

FORMATS = ("json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# fields of a record about an execution, shown by the text format too
CONTEXT_FIELDS = ("executionArn", "stateMachineArn", "stateName")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """One line per record, the execution's fields appended as ``key=value``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS
                           if getattr(record, key, None) is not None)
        return f"{line} [{context}]" if context else line


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter  # imported only by serve and worker

    class _Json(JsonFormatter):
        def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
            return utc_time(record)

    return _Json("{asctime}{levelname}{name}{message}", style="{",
                 rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})


QUIET_LIBRARIES = ("alembic",)


def configure(log_format: str = "json", level: str = "INFO", stream=None) -> logging.Handler:
    """Send every record at ``level`` or above to ``stream`` (stderr) in ``log_format``;
    replaces the root logger's handlers. Returns the handler."""
    if log_format not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: choose json or text")
    if level.upper() not in LEVELS:
        raise ValueError(f"unknown log level {level!r}: choose one of {', '.join(LEVELS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # libraries' start-up chatter (Alembic lists its plugins at INFO) is not the operator's news
    for chatty in QUIET_LIBRARIES:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    return handler
