"""Faults that are nobody's input: the database out of reach, a client leaving mid-upload, a
bug after the answer went out. Each ends as a clear answer (or none), never a dropped line."""

from __future__ import annotations

import logging
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from composition.factory import create_app
from frontyard.errors import EXCEPTION_HANDLERS, RETRY_SECONDS, ContainErrors
from frontyard.settings import Settings
from tests.aio import run_async

#: Nothing listens on port 1: every connection is refused at once, like a stopped server.
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"


@pytest.fixture
def outage_client(tmp_path):  # type: ignore[no-untyped-def]
    """The app on a database that refuses every connection."""
    settings = Settings(database_url=UNREACHABLE, data_dir=tmp_path, secret_key="k",
                        check_migrations=False)
    with TestClient(create_app(settings), headers={"Sec-Fetch-Site": "same-origin"}) as client:
        yield client


@pytest.mark.parametrize(("language", "title"), [("en", "Please wait a moment"),
                                                 ("ja", "しばらくお待ちください"),
                                                 ("vi", "Vui lòng chờ trong giây lát")])
def test_database_outage_is_a_translated_page_that_retries(outage_client, caplog, language,
                                                           title):
    """A page that needs the database: 503 in the visitor's language, reloading itself
    (a meta refresh: the CSP forbids inline scripts), and one log line, no traceback."""
    outage_client.cookies.set("fy_locale", language)
    with caplog.at_level(logging.WARNING, logger="frontyard"):
        response = outage_client.get("/crowding")
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(RETRY_SECONDS)
    assert title in response.text
    assert f'<meta http-equiv="refresh" content="{RETRY_SECONDS}">' in response.text
    assert "<script>" not in response.text
    # (The start-up's retention purge logs its own failure: not this request's.)
    logged = [r for r in caplog.records if "/crowding" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in logged] == [(logging.WARNING, None)]
    assert "database unavailable on GET /crowding" in logged[0].getMessage()


def test_database_outage_in_the_api_is_json_503(outage_client):
    """API clients get JSON with Retry-After, also for a POST (a kiosk issuing a ticket)."""
    response = outage_client.post("/api/v1/tickets", json={"services": ["residents"]},
                                  headers={"Authorization": "Bearer some-kiosk"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(RETRY_SECONDS)
    assert set(response.json()) == {"error", "detail"}


def test_a_client_leaving_mid_upload_is_no_error(app, caplog):
    """Content-Length 100, ten bytes, then gone: a quiet log line, no traceback."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"x" * 10, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/login", "raw_path": b"/login",
             "query_string": b"", "root_path": "", "server": ("testserver", 80),
             "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"testserver"), (b"content-length", b"100"),
                         (b"content-type", b"application/x-www-form-urlencoded"),
                         (b"sec-fetch-site", b"same-origin")]}
    with caplog.at_level(logging.INFO, logger="frontyard"), TestClient(app):
        run_async(ContainErrors(app)(scope, receive, send))
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert any("client disconnected" in r.getMessage() for r in caplog.records)


def _broken_app() -> Starlette:
    """A Starlette app with Frontyard's error handlers and a route with a bug."""

    async def fails(request: Request) -> Response:
        raise RuntimeError("a bug")

    async def fine(request: Request) -> Response:
        return PlainTextResponse("fine")

    return Starlette(routes=[Route("/api/fails", fails), Route("/api/fine", fine)],
                     exception_handlers=EXCEPTION_HANDLERS)


def test_an_unhandled_error_ends_with_its_request(caplog):
    """Starlette re-raises after the 500 page; ContainErrors ends it there, so the server
    keeps the connection (uvicorn drops it on an escaped error) and the next request on it
    works."""

    async def run() -> list[int]:
        transport = httpx2.ASGITransport(app=ContainErrors(_broken_app()))
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
            return [(await client.get(path)).status_code for path in ("/api/fails", "/api/fine")]

    with caplog.at_level(logging.ERROR, logger="frontyard"):
        assert run_async(run()) == [500, 200]
    assert [r.getMessage() for r in caplog.records if r.name == "frontyard"] == [
        "unhandled error on GET /api/fails"]


def test_contain_errors_passes_the_app_through():
    """The wrapper is transparent: lifespan and websockets reach the app, attributes too."""
    app = _broken_app()
    wrapped = ContainErrors(app)
    assert wrapped.state is app.state and wrapped.routes is app.routes
    with TestClient(wrapped) as client:
        assert client.get("/api/fine").text == "fine"


def test_a_connection_lost_mid_transaction_counts_as_an_outage_not_a_bug():
    """What a dropped PostgreSQL connection surfaces as, directly or as a cause, is an outage."""
    import psycopg
    from sqlalchemy import exc as db_errors

    from frontyard.errors import is_database_outage

    assert is_database_outage(db_errors.PendingRollbackError("rollback first"))
    dropped = db_errors.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_database_outage(dropped)
    try:
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError as cause:
            raise RuntimeError("while reading the visit") from cause
    except RuntimeError as wrapped:
        assert is_database_outage(wrapped)
    assert not is_database_outage(ValueError("a bug"))
    assert not is_database_outage(db_errors.IntegrityError("INSERT", {}, Exception("dup")))


@pytest.mark.parametrize(("language", "message"), [
    ("en", "The form could not be read. Please try again."),
    ("ja", "フォームを読み取れませんでした。もう一度お試しください。")])
def test_a_form_too_large_to_read_is_explained_in_the_users_language(staff_client, language,
                                                                      message):
    """Starlette's own reason ("Part exceeded maximum size of 1024KB.") is English: a form
    that cannot be read says so in the user's language, with a 400."""
    headers = {"Accept-Language": language}
    for files in ({"counter_id": (None, "x" * (1024 * 1024 + 1))},
                  [("counter_id", (None, "1")) for _ in range(1001)]):
        response = staff_client.post("/counter/open", files=files, headers=headers)
        assert response.status_code == 400
        assert message in response.text and "Part exceeded" not in response.text
        assert "Maximum number of fields" not in response.text
