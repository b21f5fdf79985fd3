"""What every navigator page shares: the office and its catalog by code, the language chooser
that keeps the address's answers, the catalog's texts in the page's language, error pages.

Navigator pages are public: no sign-in, no session, nothing written. A page goes through
`navigator_page`, which renders it, and `refusal`, which turns what a resident (or a tampered
link) can get wrong into a clear page in their language: 400 for a link that cannot be read,
404 for an office that does not exist, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound

from counter.models import Office, Service
from frontyard import i18n
from frontyard.database import read_session
from frontyard.errors import is_database_outage
from frontyard.exceptions import DomainError, NotFound
from frontyard.i18n import gettext as _
from frontyard.templating import render
from frontyard.transactions import in_transaction
from kiosk import flow
from kiosk.catalog import Catalog, localized_html
from navigator.link import check_size

#: Live figures are shown: a shared page is read again, not taken from a cache.
NO_CACHE = {"Cache-Control": "no-cache"}
#: What an office code can look like (admin's rule, a little wider): anything else is not
#: looked up at all (a NUL would be refused by PostgreSQL as an error, not as "no office").
OFFICE_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class OfficeGuide:
    """An office as the navigator shows it: its catalog and its services by code."""

    office: Office
    catalog: Catalog
    services: dict[str, Service]


def offices(session: Session) -> list[Office]:
    """Every office, in the order they were set up."""
    return list(session.exec(select(Office).order_by(col(Office.id))).all())


def office_guide(session: Session, code: str) -> OfficeGuide:
    """The office with this code and its checked catalog; NotFound for an unknown office."""
    office = None
    if OFFICE_CODE.fullmatch(code):
        office = session.exec(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFound(_("There is no office at this address. Choose your office again."))
    catalog = flow.office_catalog(session, office)  # 503 while the catalog is unusable
    services = {service.code: service for service in session.exec(
        select(Service).where(Service.office_id == office.id))}
    return OfficeGuide(office, catalog, services)


async def reading(request: Request, work: Callable[[Session], Any]) -> Any:
    """Run `work` on a read-only session in a worker thread: GET pages write nothing."""
    def job() -> Any:
        with read_session(request.app.state.engine) as session:
            return work(session)

    return await run_in_threadpool(job)


async def load_office(request: Request) -> OfficeGuide:
    """The office of the address and its catalog, read without writing. Should serving the
    catalog ever need a first write of its own (a new install's bundled catalog stored as its
    first version), a read-only transaction refuses it: that one load runs in a transaction
    that may write, and every later one reads again."""
    code = str(request.path_params["office"])
    try:
        return await reading(request, lambda session: office_guide(session, code))  # type: ignore[no-any-return]
    except DBAPIError as error:
        if is_database_outage(error):
            raise
        return await in_transaction(request, lambda session: office_guide(session, code))


def query_pairs(request: Request) -> list[tuple[str, str]]:
    """The query's (key, value) pairs, refused (BadLink) when too long to be ours."""
    query = request.url.query
    pairs = request.query_params.multi_items()
    check_size(query, len(pairs))
    return pairs


def route_or_none(request: Request, name: str, **params: str) -> str | None:
    """The path of a page another part of the navigator may provide (details entered at home,
    booking a visit time), or None while it does not exist: links appear once it does."""
    try:
        return str(request.app.router.url_path_for(name, **params))
    except NoMatchFound:
        return None


def navigator_page(request: Request, name: str, context: dict[str, Any],
                   status_code: int = 200) -> Response:
    """A navigator page: every language offered, the chooser keeping the page's address."""
    locale = i18n.current_locale()
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    full = {
        "text": lambda value: localized_html(value, locale) if value else "",
        "offered": [language.code for language in i18n.LANGUAGES],
        "chooser_link": "/locale/{code}?next=" + quote(here, safe=""),
        **context,
    }
    response = render(request, name, full, status_code=status_code)
    response.headers.update(NO_CACHE)
    return response


def refusal(request: Request, error: DomainError) -> Response:
    """A clear page for a link that cannot be read or an office that does not exist."""
    return navigator_page(request, "navigator/error.html", {
        "status_code": error.status_code, "message": i18n.as_text(error.message),
        "office_code": request.path_params.get("office") if error.status_code != 404 else None,
    }, status_code=error.status_code)


Handler = Callable[[Request], Awaitable[Response]]


def public_page(handler: Handler) -> Handler:
    """Turn the domain's refusals into the navigator's error page."""
    @wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except DomainError as error:
            return refusal(request, error)

    return wrapper
