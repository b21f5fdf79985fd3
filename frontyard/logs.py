"""Logging of the served app: uvicorn's readable lines, or one JSON object per line.

`FRONTYARD_LOG_FORMAT=json` makes every record (uvicorn's access and error logs, Frontyard's
own loggers) a single line of JSON with `time` (UTC, ISO 8601), `level`, `logger` and
`message`; access lines also carry `client`, `method`, `path` and `status`, and errors their
`exception`. journald, Loki or Elasticsearch then index fields instead of parsing text.

Secrets in addresses (a resident's status token) never reach a log line: a feature names the
path prefixes whose next segment is a secret (`hide_segment_after`), and `RedactingFilter`,
on every handler, replaces that segment in messages, arguments, tracebacks and stacks.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
#: The loggers a worker writes to; Frontyard's own ("frontyard.*") included.
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "frontyard")
#: What a hidden path segment becomes in the logs.
REDACTED = "[redacted]"
#: Path prefixes whose next segment is a secret; features add theirs (`hide_segment_after`).
_SECRET_SEGMENTS: list[re.Pattern[str]] = []
#: A segment ends at a slash (also percent-encoded), a query, a fragment, a parameter's end,
#: a space or a quote.
_SEGMENT = r"(?:(?!%2F)[^/?#&\s\"'\\])+"


def hide_segment_after(prefix: str) -> None:
    """Keep the path segment after `prefix` (e.g. "/status/") out of every log line."""
    parts = [re.escape(part) for part in prefix.split("/")]
    pattern = re.compile("(" + "(?:/|%2F)".join(parts) + ")" + _SEGMENT, re.IGNORECASE)
    if all(known.pattern != pattern.pattern for known in _SECRET_SEGMENTS):
        _SECRET_SEGMENTS.append(pattern)


def redact(text: str) -> str:
    """`text` with every secret path segment replaced by REDACTED."""
    for pattern in _SECRET_SEGMENTS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactingFilter(logging.Filter):
    """Hide secret path segments in a record: message, arguments, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place (the handlers after this one see it redacted too)."""
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it itself
            message = None
        if message is not None and redact(message) != message:
            # The secret spans the message and an argument ("/status/%s", token): keep the
            # redacted text only. Access records keep their fields (the path is one argument).
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text: the traceback is written as redacted here.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction() -> None:
    """Put a RedactingFilter on the handlers of the root and served loggers (idempotent).

    `log_config` puts one on its handlers already; this covers a worker whose logging was
    configured otherwise (another server, a test), once the app is created.
    """
    for name in ("", *LOGGERS):
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(known, RedactingFilter) for known in target.filters):
                target.addFilter(RedactingFilter())


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
        if record.exc_info:  # exc_text when set: the redacted traceback
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
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
        "filters": {"redact": {"()": RedactingFilter}},
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler",
                        "stream": "ext://sys.stderr", "filters": ["redact"]},
            "access": {"formatter": "access", "class": "logging.StreamHandler",
                       "stream": "ext://sys.stdout", "filters": ["redact"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "frontyard": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
