"""Logs: FRONTYARD_LOG_FORMAT=json gives one JSON object per line; no line holds a status token."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys

import pytest

from frontyard.logs import JsonFormatter, RedactingFilter, log_config, redact


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


# --- Secrets in addresses ---------------------------------------------------------------------

TOKEN = "Zx9-_q" * 7  # shaped like a status token (43 URL-safe characters)


def test_the_counter_hides_status_tokens_in_paths_and_parameters():
    """Both addresses that carry a status token lose it, also percent-encoded in next=; the
    rest of the line, and the issuing endpoint without a token, stay readable."""
    import counter.routes  # noqa: F401  (registers the counter's secret prefixes)

    line = redact(f'"GET /status/{TOKEN}?lang=en HTTP/1.1" /api/v1/tickets/{TOKEN} '
                  f"/locale/ja?next=%2Fstatus%2F{TOKEN}&x=1 POST /api/v1/tickets")
    assert TOKEN not in line
    assert "/status/[redacted]?lang=en" in line and "/api/v1/tickets/[redacted]" in line
    assert "%2Fstatus%2F[redacted]&x=1" in line and line.endswith("POST /api/v1/tickets")


def test_filter_redacts_arguments_messages_and_tracebacks():
    """An access record's arguments, a message, and a traceback's text all lose the token,
    in the text and the JSON formats alike."""
    import counter.routes  # noqa: F401

    access = _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d',
                     ("10.0.0.5:5123", "GET", f"/api/v1/tickets/{TOKEN}", "1.1", 200))
    RedactingFilter().filter(access)
    assert json.loads(JsonFormatter().format(access))["path"] == "/api/v1/tickets/[redacted]"
    try:
        raise RuntimeError(f"no such page /status/{TOKEN}")
    except RuntimeError:
        failed = _record("frontyard", "unhandled error on %s", (f"GET /status/{TOKEN}",),
                         sys.exc_info())
    RedactingFilter().filter(failed)
    for formatter in (JsonFormatter(), logging.Formatter()):
        line = formatter.format(failed)
        assert TOKEN not in line and "/status/[redacted]" in line


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_child_loggers_are_redacted_by_the_handlers(log_format, monkeypatch):
    """A record of a child logger ("frontyard.live"), which no logger filter of "frontyard"
    sees, is redacted by the handler the configuration installs."""
    import counter.routes  # noqa: F401

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logger = logging.getLogger("frontyard")
    saved = logger.handlers[:], logger.level, logger.propagate
    try:
        logging.config.dictConfig(log_config(log_format))
        logging.getLogger("frontyard.live").warning("socket of /status/%s lost", TOKEN)
    finally:
        logger.handlers, logger.level, logger.propagate = saved
    assert TOKEN not in stream.getvalue() and "/status/[redacted]" in stream.getvalue()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_served_logs_never_hold_a_status_token(log_format, tmp_path):
    """A real `frontyard serve` with its access log on: status pages, the API and the
    language switch are requested by token (known and unknown); the log shows every request,
    never a token."""
    import httpx2

    from frontyard import database
    from tests.processes import Processes, issue, seed

    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    database.upgrade(url)
    world = seed(url, kiosks=1, staff=1)
    processes = Processes(url, tmp_path, env={"FRONTYARD_LOG_FORMAT": log_format})
    try:
        worker = processes.start_worker()
        client = processes.keep(httpx2.Client(base_url=worker.url, timeout=30))
        token = issue(client, world["kiosks"][0], ["residents"])["status_token"]
        unknown = "Q" * 43
        assert client.get(f"/status/{token}").status_code == 200
        assert client.get(f"/status/{token}?lang=en").status_code == 200
        assert client.get(f"/api/v1/tickets/{token}").status_code == 200
        assert client.get(f"/status/{unknown}").status_code == 404
        assert client.get(f"/api/v1/tickets/{unknown}").status_code == 404
        client.get(f"/locale/en?next=%2Fstatus%2F{token}")
        processes.close()  # the worker's output is flushed once it is gone
        log = worker.log.read_text()
    finally:
        processes.close()
    assert token not in log and unknown not in log
    lines = [line for line in log.splitlines() if "/status/[redacted]" in line]
    assert len(lines) >= 3, log  # the access log was on and wrote those requests
    assert log.count("/api/v1/tickets/[redacted]") >= 2
    if log_format == "json":
        paths = {json.loads(line).get("path") for line in log.splitlines()
                 if line.startswith("{")}
        assert "/status/[redacted]" in paths and "/api/v1/tickets/[redacted]" in paths
