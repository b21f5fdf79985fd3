"""The authorisation matrix: every route of the app (HTTP and websocket, through every Mount)
× anonymous / kiosk device / board device / staff / manager / admin, against an explicit table.

A route added without a row in `EXPECTED` fails `test_every_route_has_an_expected_access`, so
nobody ships a page without deciding who may open it. "Refused" means 401, 403, a redirect to
the sign-in page, or a websocket closed before it was accepted; anything else (200, 404 for a
made-up id, 409, 422…) means the guard let the caller through to the endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any

import pytest
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from frontyard.auth import DeviceKind, Role, create_device
from frontyard.database import session_scope
from frontyard.guards import DEVICE_COOKIE
from tests.conftest import PASSWORDS, log_in, make_client
from tests.screens_support import office as office  # a fixture, used by name
from tests.screens_support import open_counter


class Access(Enum):
    """Who a route lets through."""

    PUBLIC = "anyone"
    KIOSK = "a kiosk device or any staff"
    BOARD = "a board device or any staff"
    STAFF = "staff, managers and admins"
    MANAGER = "managers and admins"
    ADMIN = "admins"


PRINCIPALS = ("anonymous", "kiosk", "board", "staff", "manager", "admin")
ALLOWED = {
    Access.PUBLIC: set(PRINCIPALS),
    Access.KIOSK: {"kiosk", "staff", "manager", "admin"},
    Access.BOARD: {"board", "staff", "manager", "admin"},
    Access.STAFF: {"staff", "manager", "admin"},
    Access.MANAGER: {"manager", "admin"},
    Access.ADMIN: {"admin"},
}

#: "METHOD path" (WS for websockets) → who may use it. HEAD follows GET.
EXPECTED: dict[str, Access] = {
    "GET /": Access.PUBLIC,
    "GET /login": Access.PUBLIC,
    "POST /login": Access.PUBLIC,
    "POST /logout": Access.PUBLIC,
    "GET /locale/{code}": Access.PUBLIC,
    "GET /device/pair/{code}": Access.PUBLIC,
    "GET /device/pair": Access.PUBLIC,
    "POST /device/pair": Access.PUBLIC,
    # One's own password: anyone signed in.
    "GET /account/password": Access.STAFF,
    "POST /account/password": Access.STAFF,
    "GET /healthz": Access.PUBLIC,
    "GET /livez": Access.PUBLIC,
    "GET /admin/audit": Access.ADMIN,
    "GET /admin/audit.csv": Access.ADMIN,
    # The city's structure: offices, services, counters, who serves what.
    **{f"{method} {path}": Access.ADMIN
       for path in ("/admin", "/admin/staff")
       for method in ("GET",)},
    **{f"{method} {path}": Access.ADMIN
       for path in ("/admin/offices", "/admin/offices/{code}",
                    "/admin/offices/{code}/services/{service}",
                    "/admin/offices/{code}/counters/{number}", "/admin/staff/{username}")
       for method in ("GET", "POST")},
    # The city's name and logo, an office's kiosk and own logo.
    "GET /admin/branding": Access.ADMIN,
    "POST /admin/branding": Access.ADMIN,
    "POST /admin/branding/logo": Access.ADMIN,
    "POST /admin/branding/logo/remove": Access.ADMIN,
    "GET /admin/offices/{code}/kiosk": Access.ADMIN,
    "POST /admin/offices/{code}/kiosk": Access.ADMIN,
    "POST /admin/offices/{code}/logo": Access.ADMIN,
    "POST /admin/offices/{code}/logo/remove": Access.ADMIN,
    # Logos are public pictures (no personal data), addressed by their content.
    "GET /branding/logos/{digest}": Access.PUBLIC,
    # Opening hours, closures, services' hours and cut-offs.
    **{f"{method} {path}": Access.ADMIN
       for path in ("/admin/offices/{code}/hours", "/admin/offices/{code}/closures",
                    "/admin/offices/{code}/services/{service}/hours")
       for method in ("GET", "POST")},
    "POST /admin/offices/{code}/closures/{closure}/remove": Access.ADMIN,
    "GET /admin/users": Access.ADMIN,
    "POST /admin/users": Access.ADMIN,
    "GET /admin/users/{user_id:int}": Access.ADMIN,
    "POST /admin/users/{user_id:int}": Access.ADMIN,
    "POST /admin/users/{user_id:int}/password": Access.ADMIN,
    "POST /admin/users/{user_id:int}/active": Access.ADMIN,
    "POST /admin/users/{user_id:int}/unlock": Access.ADMIN,
    "GET /admin/devices": Access.ADMIN,
    "POST /admin/devices": Access.ADMIN,
    "POST /admin/devices/{device_id:int}/revoke": Access.ADMIN,
    "POST /admin/devices/{device_id:int}/repair": Access.ADMIN,
    # The set-up as a file: download, preview, apply.
    "GET /admin/config": Access.ADMIN,
    "POST /admin/config": Access.ADMIN,
    "GET /admin/config.yaml": Access.ADMIN,
    "POST /admin/config/apply": Access.ADMIN,
    # The procedure catalog's versions, edits and preview.
    **{f"{method} /admin/offices/{{code}}/catalog{path}": Access.ADMIN
       for method, path in [
           ("GET", ""), ("POST", ""), ("POST", "/rollback"), ("GET", "/{number:int}"),
           ("GET", "/{number:int}/download"), ("POST", "/{number:int}/publish"),
           ("GET", "/visibility"), ("POST", "/visibility"), ("GET", "/procedures"),
           ("GET", "/procedures/{procedure}"), ("POST", "/procedures/{procedure}"),
           ("GET", "/{number:int}/preview"), ("GET", "/{number:int}/preview/events"),
           ("POST", "/{number:int}/preview/events"), ("GET", "/{number:int}/preview/questions"),
           ("POST", "/{number:int}/preview/questions"),
           ("POST", "/{number:int}/preview/questions/reset"),
           ("GET", "/{number:int}/preview/guide")]},
    "GET /admin/devices/{device_id:int}/board": Access.ADMIN,
    "POST /admin/devices/{device_id:int}/board": Access.ADMIN,
    "GET /kiosk": Access.KIOSK,
    "POST /kiosk/start": Access.KIOSK,
    "GET /kiosk/closed": Access.KIOSK,
    "POST /kiosk/display": Access.KIOSK,
    "POST /kiosk/reset": Access.KIOSK,
    "GET /kiosk/events": Access.KIOSK,
    "POST /kiosk/events": Access.KIOSK,
    "GET /kiosk/questions": Access.KIOSK,
    "POST /kiosk/questions": Access.KIOSK,
    "POST /kiosk/questions/reset": Access.KIOSK,
    "GET /kiosk/guide": Access.KIOSK,
    "GET /kiosk/details": Access.KIOSK,
    "POST /kiosk/details": Access.KIOSK,
    "GET /kiosk/confirm": Access.KIOSK,
    "GET /kiosk/ticket": Access.KIOSK,
    "POST /kiosk/ticket": Access.KIOSK,
    # Details entered at home: the kiosk redeems codes; the resident's phone needs no account.
    "GET /kiosk/code": Access.KIOSK,
    "POST /kiosk/code": Access.KIOSK,
    "GET /navigator/{office}/details": Access.PUBLIC,
    "POST /navigator/{office}/details": Access.PUBLIC,
    "GET /navigator/{office}/details/code": Access.PUBLIC,
    "POST /navigator/{office}/details/code/delete": Access.PUBLIC,
    # A code's details before the kiosk: staff only, every view audited.
    "GET /forms/code": Access.STAFF,
    "POST /forms/code": Access.STAFF,
    # A visit's personal details and filled-in forms: staff only (every view is audited).
    "GET /forms/visit/{public_id}": Access.STAFF,
    "GET /forms/visit/{public_id}/details/edit": Access.STAFF,
    "POST /forms/visit/{public_id}/details": Access.STAFF,
    "GET /forms/visit/{public_id}/print/{form_id}": Access.STAFF,
    "GET /counter": Access.STAFF,
    "POST /counter/open": Access.STAFF,
    "POST /counter/close": Access.STAFF,
    "POST /counter/call-next": Access.STAFF,
    "GET /counter/tasks/{task_id}/details": Access.STAFF,
    "POST /counter/tasks/{task_id}/{action}": Access.STAFF,
    "GET /board": Access.BOARD,
    "GET /crowding": Access.PUBLIC,
    "GET /status/{token}": Access.PUBLIC,
    # The procedure navigator: residents' phones, no sign-in, answers in the address.
    # Appointments: the public booking pages (the manage link is the resident's key), the
    # kiosk's check-in and the admin's booking hours of a service.
    "GET /book": Access.PUBLIC,
    "GET /book/{office}/{service}": Access.PUBLIC,
    "POST /book/{office}/{service}": Access.PUBLIC,
    "GET /booking/{token}": Access.PUBLIC,
    "POST /booking/{token}/cancel": Access.PUBLIC,
    "POST /booking/{token}/move": Access.PUBLIC,
    "GET /booking/{token}/appointment.ics": Access.PUBLIC,
    "GET /kiosk/checkin": Access.KIOSK,
    "POST /kiosk/checkin": Access.KIOSK,
    "GET /admin/offices/{code}/services/{service}/appointments": Access.ADMIN,
    "POST /admin/offices/{code}/services/{service}/appointments": Access.ADMIN,
    "GET /navigator": Access.PUBLIC,
    "GET /navigator/{office}": Access.PUBLIC,
    "GET /navigator/{office}/questions": Access.PUBLIC,
    "GET /navigator/{office}/procedures": Access.PUBLIC,
    "WS /ws/counter": Access.STAFF,
    "WS /ws/board": Access.BOARD,
    "WS /ws/crowding": Access.PUBLIC,
    "WS /ws/status": Access.PUBLIC,
    "POST /api/v1/tickets": Access.KIOSK,
    "GET /api/v1/tickets/{token}": Access.PUBLIC,
    "GET /api/v1/offices/{office}/queue": Access.PUBLIC,
    "GET /api/v1/counters/{counter_id:int}": Access.STAFF,
    "POST /api/v1/counters/{counter_id:int}/open": Access.STAFF,
    "POST /api/v1/counters/{counter_id:int}/close": Access.STAFF,
    "POST /api/v1/counters/{counter_id:int}/call-next": Access.STAFF,
    **{f"POST /api/v1/tasks/{{task_id:int}}/{action}": Access.STAFF
       for action in ("call", "recall", "start", "advance", "complete", "no-show", "return",
                      "hold", "release", "transfer", "cancel")},
    "GET /api/openapi.json": Access.PUBLIC,
    "GET /analytics": Access.MANAGER,
    "GET /analytics/whatif": Access.MANAGER,
    "GET /analytics/export/{file}": Access.MANAGER,
    # Importing history rewrites the analytics: admins only.
    "GET /analytics/import": Access.ADMIN,
    "POST /analytics/import": Access.ADMIN,
    # Loopback scrapers are let in too; the test client is not on loopback.
    "GET /metrics": Access.ADMIN,
    "GET /static/{path}": Access.PUBLIC,
}

#: Values for path parameters: made-up ids and tokens, so an allowed call reaches the
#: endpoint and at worst finds nothing.
PATH_VALUES = {"code": "xx", "token": "no-such-ticket-token-000000000000", "task_id": "999999",
               "task_id:int": "999999", "counter_id:int": "999999", "office": "main",
               "action": "call", "path": "css/frontyard.css", "public_id": "no-such-visit",
               "user_id:int": "999999", "device_id:int": "999999",
               "form_id": "no-such-form", "file": "no-such-export.csv",
               "service": "new", "number": "new", "username": "nobody", "digest": "0" * 64,
               "closure": "999999", "number:int": "1", "procedure": "no-such-procedure"}


def _walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in routes:
        if isinstance(route, Mount):
            inner = list(route.routes)
            if inner:
                yield from _walk(inner, prefix + route.path)
            else:  # an app mounted whole (static files): every path under it
                yield f"GET {prefix}{route.path}/{{path}}"
        elif isinstance(route, WebSocketRoute):
            yield f"WS {prefix}{route.path}"
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield f"{method} {prefix}{route.path}"
        else:
            raise AssertionError(f"unknown kind of route: {route!r}")


def app_routes(app: Any) -> list[str]:
    """Every route of the app as "METHOD path", recursively through mounts."""
    return list(_walk(app.routes))


def _url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no test value for a parameter of {path}"
    return path


def test_every_route_has_an_expected_access(app):
    """No route without a decision, and no row for a route that is gone."""
    routes = set(app_routes(app))
    assert sorted(routes - EXPECTED.keys()) == [], "add these routes to EXPECTED"
    assert sorted(EXPECTED.keys() - routes) == [], "these rows name no route any more"


@pytest.fixture
def identities(app, engine, users, office) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """One client and, per principal, the cookies that make it that principal. Staff members
    are signed in to a counter each (the terminal's socket needs one)."""
    tokens = {}
    with session_scope(engine) as session:
        for kind in (DeviceKind.KIOSK, DeviceKind.BOARD):
            _, tokens[kind.value], _ = create_device(session, f"matrix-{kind}", kind,
                                                     office_id=office.id)
    cookies: dict[str, dict[str, str]] = {"anonymous": {}}
    cookies.update({kind: {DEVICE_COOKIE: token} for kind, token in tokens.items()})
    with make_client(app) as client:
        for role, number in [(Role.STAFF, "1"), (Role.MANAGER, "2"), (Role.ADMIN, "3")]:
            client.cookies.clear()
            log_in(client, users[role], PASSWORDS[role])
            open_counter(client, office, number, ["residents"])
            cookies[role.value] = dict(client.cookies.items())
        client.cookies.clear()
        yield client, cookies


def _as(client: TestClient, cookies: dict[str, str]) -> None:
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)


#: Rows whose endpoint itself answers 401 to the wrong credentials (not a guard's refusal).
OWN_401 = {"POST /login"}


def _http_allowed(client: TestClient, method: str, url: str, principal: str = "") -> bool:
    data = {"username": f"nobody-{principal}", "password": "wrong"} if url == "/login" else None
    response = client.request(method, url, data=data, follow_redirects=False)
    assert response.status_code < 500, f"{method} {url}: {response.status_code}"
    if response.status_code == 401 and f"{method} {url}" in OWN_401:
        return "/login" in response.text  # the sign-in form again, with its message
    if response.status_code in {401, 403}:
        return False
    location = response.headers.get("location", "")
    return not (response.is_redirect and location.startswith("/login"))


def _socket_allowed(client: TestClient, url: str) -> bool:
    try:
        with client.websocket_connect(url):
            return True
    except WebSocketDisconnect:
        return False


def test_authorization_matrix(app, identities, office):
    """Each principal is let through exactly the routes its row allows."""
    client, cookies = identities
    wrong = []
    # Sockets first: the HTTP rows include signing out of the counter.
    rows = sorted(EXPECTED.items(), key=lambda row: (not row[0].startswith("WS "), row[0]))
    for row, access in rows:
        method, path = row.split(" ", 1)
        url = _url(path)
        if path in {"/ws/board", "/ws/crowding", "/board"}:
            url += f"?office={office.id}"
        for principal in PRINCIPALS:
            _as(client, cookies[principal])
            if method == "WS":
                allowed = _socket_allowed(client, url)
            else:
                allowed = _http_allowed(client, method, url, principal)
            if allowed != (principal in ALLOWED[access]):
                wrong.append(f"{row}: {principal} {'let in' if allowed else 'refused'}, "
                             f"expected {access.value}")
    assert wrong == [], "\n".join(wrong)


def test_a_guard_missing_from_a_route_would_be_caught(app, identities):
    """The check itself is not blind: a staff-only page opened to everyone is reported."""
    client, cookies = identities
    _as(client, cookies["anonymous"])
    assert not _http_allowed(client, "GET", "/counter")
    assert _http_allowed(client, "GET", "/crowding")
    assert not _socket_allowed(client, "/ws/counter")
