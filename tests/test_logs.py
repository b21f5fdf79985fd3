"""Structured logs: FRONTYARD_LOG_FORMAT=json gives one JSON object per line."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys

import pytest

from frontyard.logs import JsonFormatter, log_config


def _record(name: str, message: str, args: tuple = (), exc_info=None) -> logging.LogRecord:  # type: ignore[no-untyped-def,type-arg]
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)


def test_access_line_becomes_fields():
    """uvicorn's access record is split into client, method, path and status."""
    record = _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d',
                     ("10.0.0.5:5123", "POST", "/api/v1/tickets", "1.1", 201))
    entry = json.loads(JsonFormatter().format(record))
    assert entry["logger"] == "uvicorn.access" and entry["level"] == "INFO"
    assert (entry["client"], entry["method"], entry["path"], entry["status"]) == (
        "10.0.0.5:5123", "POST", "/api/v1/tickets", 201)
    assert entry["message"] == '10.0.0.5:5123 - "POST /api/v1/tickets HTTP/1.1" 201'
    assert entry["time"].endswith("+00:00")


def test_exception_is_kept_on_the_same_line():
    """A traceback travels inside the JSON object, so one record stays one line."""
    try:
        raise RuntimeError("database gone")
    except RuntimeError:
        record = _record("frontyard", "unhandled error on %s", ("GET /",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "unhandled error on GET /"
    assert "RuntimeError: database gone" in entry["exception"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_config_routes_frontyard_and_uvicorn_loggers(log_format, monkeypatch):
    """The dictConfig uvicorn receives writes Frontyard's own warnings in the chosen format."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in ("frontyard", "uvicorn",
                                                                    "uvicorn.access")}
    try:
        logging.config.dictConfig(log_config(log_format))
        logging.getLogger("frontyard.realtime").warning("listener lost its connection: %s", "x")
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.level, logger.propagate = handlers, level, propagate
    line = stream.getvalue().strip()
    if log_format == "json":
        entry = json.loads(line)
        assert entry["logger"] == "frontyard.realtime" and entry["level"] == "WARNING"
        assert entry["message"] == "listener lost its connection: x"
    else:
        assert "frontyard.realtime: listener lost its connection: x" in line


def test_serve_passes_the_log_format_to_uvicorn(monkeypatch, tmp_path):
    """`frontyard serve` hands uvicorn the JSON configuration when the setting asks for it."""
    import uvicorn
    from click.testing import CliRunner

    from composition.cli import main
    from frontyard import database

    url = f"sqlite:///{tmp_path / 'f.sqlite3'}"
    database.upgrade(url)
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(main, ["serve"], env={
        "FRONTYARD_DATABASE_URL": url, "FRONTYARD_DATA_DIR": str(tmp_path),
        "FRONTYARD_LOG_FORMAT": "json"})
    assert result.exit_code == 0, result.output
    formatter = seen["log_config"]["formatters"]["default"]["()"]
    assert formatter is JsonFormatter
