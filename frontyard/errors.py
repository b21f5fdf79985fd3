"""Errors a user can cause, and the one place that turns every error into a page or JSON."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import exc as db_errors
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontyard.exceptions import (  # noqa: F401  (re-exported: the domain's errors)
    Conflict,
    DomainError,
    NotAllowed,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from frontyard.i18n import as_text, lazy_gettext
from frontyard.i18n import gettext as _

log = logging.getLogger("frontyard")

#: Seconds after which the "please wait" page reloads itself (and `Retry-After` for API
#: clients): short, so that a kiosk is back within moments of the database.
RETRY_SECONDS = 3
#: What SQLAlchemy raises when the database cannot be reached or drops the connection (or is
#: too busy to hand out one): transient, so the request is worth repeating, not a bug.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    db_errors.OperationalError, db_errors.InterfaceError, db_errors.DisconnectionError,
    db_errors.TimeoutError,
)


TITLES = {
    400: lazy_gettext("The request could not be understood"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("You do not have access to this page"),
    404: lazy_gettext("Page not found"),
    405: lazy_gettext("This action is not allowed here"),
    409: lazy_gettext("This action does not fit the current state"),
    413: lazy_gettext("The request is too large"),
    422: lazy_gettext("Some of the input is not valid"),
    429: lazy_gettext("Too many attempts"),
    500: lazy_gettext("Something went wrong on our side"),
    503: lazy_gettext("The service is not available right now"),
}

DEFAULT_DETAILS = {
    403: lazy_gettext("Your account or device does not have the role this page needs."),
    404: lazy_gettext("Check the address, or go back to the start page."),
    500: lazy_gettext("The error has been logged. Please try again in a moment."),
}


def wants_json(request: Request) -> bool:
    """API clients get JSON errors; browsers get pages."""
    return request.url.path.startswith("/api/") or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def error_response(
    request: Request, status_code: int, detail: Any = None, fields: dict[str, Any] | None = None
) -> Response:
    """A translated error page, or JSON, for any status."""
    # as_text, not str: the page shows easy Japanese's readings; JSON encodes the plain text.
    title = as_text(TITLES.get(status_code, TITLES[400 if status_code < 500 else 500]))
    message = as_text(detail) if detail else as_text(DEFAULT_DETAILS.get(status_code, ""))
    if wants_json(request):
        body: dict[str, Any] = {"error": title, "detail": message or title}
        if fields:
            body["fields"] = {key: str(value) for key, value in fields.items()}
        return JSONResponse(body, status_code=status_code)
    from frontyard.templating import render

    context = {"status_code": status_code, "title": title, "message": message,
               "fields": {key: as_text(value) for key, value in (fields or {}).items()}}
    return render(request, "errors/error.html", context, status_code=status_code)


#: Instead of Starlette's English reason when a form cannot be parsed (a part over its size,
#: too many fields or files, a broken multipart body).
UNREADABLE_FORM = lazy_gettext("The form could not be read. Please try again.")


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's HTTPException (404, 405…) as a translated page."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail and exc.status_code not in {404, 405} else None
    if isinstance(exc.__context__, MultiPartException):  # raised by Request.form()
        detail = UNREADABLE_FORM
    response = error_response(request, exc.status_code, detail)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    """A refused action as a 4xx with its message."""
    assert isinstance(exc, DomainError)
    response = error_response(request, exc.status_code, exc.message, exc.fields)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:  # a rate limit: say when to come back (whole seconds)
        response.headers["Retry-After"] = str(retry_after)
    return response


def is_database_outage(exc: BaseException) -> bool:
    """Whether `exc`, or what caused it, is the database dropping out rather than a bug: a
    connection lost mid-transaction surfaces as SQLAlchemy's "rollback first"
    (`PendingRollbackError`), an invalidated connection or the driver's own OperationalError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (*DATABASE_UNAVAILABLE, db_errors.PendingRollbackError)):
            return True
        if isinstance(current, db_errors.DBAPIError) and current.connection_invalidated:
            return True
        kind = type(current)
        if kind.__name__ == "OperationalError" and kind.__module__.startswith("psycopg"):
            return True
        current = current.__cause__ or current.__context__
    return False


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """Anything unexpected: log it with the traceback, show the user no details."""
    if is_database_outage(exc):
        return await database_unavailable_handler(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500)


async def database_unavailable_handler(request: Request, exc: Exception) -> Response:
    """The database is out of reach: a 503 "please wait" page that retries by itself."""
    # One line, no traceback: an outage fails every request alike and says nothing new.
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, reason)
    headers = {"Retry-After": str(RETRY_SECONDS), "Cache-Control": "no-store"}
    title = as_text(lazy_gettext("Please wait a moment"))
    message = as_text(lazy_gettext(
        "The system is reconnecting. This page tries again by itself in a few seconds; "
        "nothing you entered is lost."))
    if wants_json(request):
        return JSONResponse({"error": title, "detail": message}, status_code=503,
                            headers=headers)
    from frontyard.templating import render

    context = {"title": title, "message": message, "retry_seconds": RETRY_SECONDS}
    response = render(request, "errors/unavailable.html", context, status_code=503)
    response.headers.update(headers)
    return response


async def client_gone_handler(request: Request, exc: Exception) -> Response:
    """The client left mid-request (an aborted upload): nobody to answer, nothing broken."""
    log.info("client disconnected during %s %s", request.method, request.url.path)
    return PlainTextResponse("client disconnected", status_code=400)


async def cross_site_response(scope: Scope) -> Response:
    """The 403 for a state-changing request that did not come from our own pages."""
    request = Request(scope)
    return error_response(
        request,
        403,
        _("This request could not be verified as coming from Frontyard. "
          "Reload the page and try again."),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: http_exception_handler,
    DomainError: domain_error_handler,
    ClientDisconnect: client_gone_handler,
    **dict.fromkeys(DATABASE_UNAVAILABLE, database_unavailable_handler),
    Exception: server_error_handler,
}


class ContainErrors:
    """Outermost ASGI wrapper: an error stays inside its request, the connection lives on.

    Starlette re-raises an unhandled error after its 500 page (`server_error_handler` has
    logged it by then) so that servers may log it; uvicorn then closes the connection, and
    Caddy counts that as a failed upstream. Here the error ends with the request instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        """The wrapped app's attributes (`state`, `routes`…), for tools and tests."""
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; swallow what escapes an HTTP request once its answer is out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if not started:  # the 500 page itself failed: a plain one
                log.exception("error page failed on %s", scope.get("path"))
                await PlainTextResponse("500", status_code=500)(scope, receive, send)
