"""Errors a user can cause, and the one place that turns every error into a page or JSON."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

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


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's HTTPException (404, 405…) as a translated page."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail and exc.status_code not in {404, 405} else None
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


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """Anything unexpected: log it with the traceback, show the user no details."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500)


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
    Exception: server_error_handler,
}
