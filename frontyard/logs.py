"""Logging of the served app: uvicorn's readable lines, or one JSON object per line.

`FRONTYARD_LOG_FORMAT=json` makes every record (uvicorn's access and error logs, Frontyard's
own loggers) a single line of JSON with `time` (UTC, ISO 8601), `level`, `logger` and
`message`; access lines also carry `client`, `method`, `path` and `status`, and errors their
`exception`. journald, Loki or Elasticsearch then index fields instead of parsing text.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
#: The loggers a worker writes to; Frontyard's own ("frontyard.*") included.
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "frontyard")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON; uvicorn's access records are split into fields."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(
                record.args) == 5:
            client, method, path, http_version, status = record.args
            entry.update(client=client, method=method, path=path, http=http_version,
                         status=status)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn's `log_config`, in the chosen format."""
    if log_format == "json":
        formatters: dict[str, Any] = {"default": {"()": JsonFormatter},
                                      "access": {"()": JsonFormatter}}
    else:
        formatters = {
            "default": {"()": "uvicorn.logging.DefaultFormatter",
                        "fmt": "%(levelprefix)s %(name)s: %(message)s", "use_colors": None},
            "access": {"()": "uvicorn.logging.AccessFormatter",
                       "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" '
                              "%(status_code)s"},
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler",
                        "stream": "ext://sys.stderr"},
            "access": {"formatter": "access", "class": "logging.StreamHandler",
                       "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "frontyard": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
