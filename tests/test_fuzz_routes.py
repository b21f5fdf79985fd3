"""Hypothesis against every entry point of the app, found from its router so that none is
missed: each GET with made-up query strings, each POST with forms of its own field names (read
off the app's pages, or its handler) or JSON bodies, as the role allowed to use it, at real and
bogus addresses. Never a 5xx, never a redirect off the site, and a refused request writes
nothing (tests/consistency.py, and every table but the ones a refusal may touch)."""

from __future__ import annotations

import inspect
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select
from starlette.routing import Route
from starlette.testclient import TestClient

from composition.factory import create_app
from composition.schema import metadata
from frontyard.auth import DeviceKind, Role, create_device, create_user
from frontyard.database import session_scope, utcnow
from frontyard.guards import DEVICE_COOKIE
from tests.conftest import PASSWORDS, log_in, make_client
from tests.consistency import problems
from tests.route_forms import PageForm, forms_of, path_pattern
from tests.test_authorization import EXPECTED, OWN_401, Access, app_routes
from tests.test_fuzz_forms import assert_stays_here, field_text, tricky
from tests.test_jsonbody import bodies

#: Routes not fuzzed here, each with the reason.
EXEMPT = {
    "GET /static/{path}": "files from disk: no query string or body is read",
    **{f"WS {path}": "a websocket: its query string and first message are fuzzed in "
                     "test_every_socket_survives_any_query_and_hello"
       for path in ("/ws/counter", "/ws/board", "/ws/crowding", "/ws/status")},
}
#: Who fuzzes a route: the least of the principals allowed to use it.
PRINCIPAL = {Access.PUBLIC: "anonymous", Access.KIOSK: "kiosk", Access.BOARD: "board",
             Access.STAFF: "staff", Access.MANAGER: "manager", Access.ADMIN: "admin"}
#: Tables a refused request may still write: who looked (audit), a kiosk's screen state,
#: failed sign-ins counted against an account, when a device was last seen.
AMBIENT_TABLES = {"auditentry", "kiosksession", "user", "device"}
#: Tables of whole files (catalog versions, logos): counted, not read, to keep it fast.
COUNTED_TABLES = {"catalog_version", "logo"}
#: Examples per route; FRONTYARD_FUZZ_SCALE=10 (say) fuzzes ten times as long.
SCALE = int(os.environ.get("FRONTYARD_FUZZ_SCALE", "1"))
EXAMPLES = {"GET": 4 * SCALE, "POST": 8 * SCALE}
#: FRONTYARD_FUZZ_ROUTES=catalog (say) fuzzes only the routes whose row contains it.
ONLY = os.environ.get("FRONTYARD_FUZZ_ROUTES", "")
#: Routes given fewer examples: each request reads and checks the office's whole catalog or
#: set-up (0.5-1 s of CPU here), and a few examples still reach every field.
SLOW = {"/admin/offices/{code}/catalog/visibility", "/admin/offices/{code}/catalog/procedures",
        "/admin/offices/{code}/catalog/procedures/{procedure}", "/admin/config.yaml",
        "/admin/offices/{code}/kiosk"}
FEW = 3 * SCALE
# No shrinking: a failure is reported as found (shrinking a request costs many more).
FUZZ = settings(deadline=None, database=None, derandomize=True, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))
# Values for path parameters that name nothing: huge, negative, odd.
BOGUS = ["0", "-1", "2147483648", "9" * 20, "9" * 5000, "%00", "ｘ", "..", "x" * 300]
value = st.one_of(field_text, tricky)


class Principals:
    """One client (one event loop: live screens and sockets need it) that acts as each
    principal in turn, with the principal's own cookies."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.jars: dict[str, list[Any]] = {}
        self.current = ""

    def __getitem__(self, name: str) -> TestClient:
        """The client, as `name`."""
        if name != self.current:
            jar = self.client.cookies.jar
            self.jars[self.current] = list(jar)
            jar.clear()
            for cookie in self.jars.get(name, []):
                jar.set_cookie(cookie)
            self.current = name
        return self.client


@dataclass
class Site:
    """The seeded city and a client per principal."""

    clients: Principals
    params: dict[str, list[str]]
    forms: dict[str, list[PageForm]] = field(default_factory=dict)
    query_names: dict[str, set[str]] = field(default_factory=dict)
    #: Per route, the answers it gave ("login" for a redirect to the sign-in page).
    seen: dict[str, set[Any]] = field(default_factory=dict)

    def note(self, row: str, response: Any) -> None:
        """Remember an answer: a route only ever refused was fuzzed blind."""
        location = response.headers.get("location", "")
        self.seen.setdefault(row, set()).add(
            "login" if location.startswith("/login") else response.status_code)


def _roomy(app_settings):  # type: ignore[no-untyped-def]
    """Limits out of the way, so that fuzzing reaches the handlers, not the rate limiter."""
    high = 1_000_000
    return app_settings.model_copy(update={
        name: high for name in type(app_settings).model_fields
        if name.endswith(("_limit", "_max_failures", "_per_address", "_per_account",
                          "_max_open"))})


def _seed(app: Any, engine: Any, clients: Principals) -> dict[str, list[str]]:
    """An office with its catalog, a visit with details, a booking, a closure, devices and a
    user to act on; returns real values for each path parameter."""
    from composition.demo import seed_structure
    from counter import queue
    from counter.hours import Closure
    from counter.models import Counter, Service, Task
    from frontyard.auth import User
    from tests.appointments_helpers import make_bookable

    with session_scope(engine) as session:
        office = seed_structure(session)
        services = {s.code: s.id for s in session.exec(select(Service))}
        counters = {c.number: c.id for c in session.exec(select(Counter))}
        visit = queue.issue_ticket(session, office_id=office.id,
                                   service_codes=["residents", "insurance"],
                                   details={"name": "山田 太郎"})
        queue.issue_ticket(session, office_id=office.id, service_codes=["residents"])
        tasks = [str(t.id) for t in session.exec(select(Task))]
        public_id, status_token = visit.public_id, visit.status_token
        target = create_user(session, "fuzz-target", "target-password-1", Role.STAFF)
        kiosk_target, _, _ = create_device(session, "fuzz-target-kiosk", DeviceKind.KIOSK,
                                           office_id=office.id)
        board_target, _, _ = create_device(session, "fuzz-target-board", DeviceKind.BOARD,
                                           office_id=office.id)
        today = utcnow().date()
        closure = Closure(office_id=office.id, first_day=today + timedelta(days=300),
                          last_day=today + timedelta(days=301), name="fuzz")
        session.add(closure)
        session.flush()
        ids = {"user": target.id, "kiosk": kiosk_target.id, "board": board_target.id,
               "closure": closure.id, "office": office.id}
        staff_id = session.exec(select(User).where(User.username == "staff1")).one().id
    make_bookable(engine, services["insurance"], "mon-sun 09:00-17:00 30 5")
    staff = clients["staff"]
    staff.post("/counter/open", data={"counter_id": str(counters["1"]),
                                      "service_id": [str(services["residents"])]})
    staff.post("/counter/call-next")
    booking = _book(clients["anonymous"])
    return {
        "code": ["main"], "office": ["main", str(ids["office"])],
        "service": ["residents", "insurance", "new"], "number": ["1", "new"],
        "username": ["staff1"], "user_id:int": [str(ids["user"]), str(staff_id)],
        "device_id:int": [str(ids["kiosk"]), str(ids["board"])],
        "closure": [str(ids["closure"])], "number:int": ["1"],
        "procedure": _procedures(clients["admin"]), "token": [booking, status_token],
        "task_id": tasks, "task_id:int": tasks, "counter_id:int": [str(counters["1"])],
        "action": ["call", "start", "advance", "complete", "hold", "transfer"],
        "public_id": [public_id], "form_id": ["moving_in"], "digest": ["0" * 64],
        "file": ["waits.csv", "waits.xlsx"], "path": ["css/frontyard.css"],
    }


def _procedures(admin: TestClient) -> list[str]:
    """Two procedures of the office's catalog, as its admin page links them."""
    page = admin.get("/admin/offices/main/catalog/procedures").text
    found = sorted(set(re.findall(r'/catalog/procedures/([^/"?]+)"', page)))
    assert found, "the catalog lists no procedure: its pages would be fuzzed blind"
    return found[:2]


def _book(client: TestClient) -> str:
    """Book tomorrow's first free time at the insurance counter; the manage link's token."""
    day = (date.today() + timedelta(days=1)).isoformat()
    page = client.get(f"/book/main/insurance?day={day}").text
    slots = re.findall(r'name="slot" value="([^"]+)"', page)
    assert slots, "no free time to book: the booking fuzzing would be blind"
    response = client.post("/book/main/insurance", follow_redirects=False, data={
        "slot": slots[0], "name": "Hanako", "contact": "090-1111-2222"})
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"].split("?")[0].rsplit("/", 1)[1]


@pytest.fixture
def site(settings, engine, users) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    """One app, a client per principal (signed in, or a paired device), a seeded city."""
    app = create_app(_roomy(settings))
    with make_client(app) as client:
        clients = Principals(client)
        for role in (Role.STAFF, Role.MANAGER, Role.ADMIN):
            log_in(clients[role.value], users[role], PASSWORDS[role])
        params = _seed(app, engine, clients)
        with session_scope(engine) as session:
            office_id = int(params["office"][1])
            for kind in (DeviceKind.KIOSK, DeviceKind.BOARD):
                _, token, _ = create_device(session, f"fuzz-{kind}", kind, office_id=office_id)
                clients[kind.value].cookies.set(DEVICE_COOKIE, token)
        clients["kiosk"].post("/kiosk/start", data={"locale": "en"})
        yield Site(clients, params)


def _routes(app: Any) -> list[str]:
    """The app's routes, checked against the authorisation table."""
    routes = app_routes(app)
    assert sorted(set(routes) - EXPECTED.keys()) == [], "add these routes to EXPECTED"
    return routes


def _addresses(path: str, params: dict[str, list[str]], cap: int = 4) -> list[str]:
    """Addresses of a route with real values for its parameters (a few combinations)."""
    names = re.findall(r"\{([^}]+)\}", path)
    choices = [params[name] for name in names]
    found = []
    for combination in itertools.islice(itertools.product(*choices), cap):
        address = path
        for name, real in zip(names, combination, strict=True):
            address = address.replace("{" + name + "}", quote(real, safe=""), 1)
        found.append(address)
    return found


def _bogus(path: str, params: dict[str, list[str]]) -> list[str]:
    """Addresses of a route with one parameter swapped for a value that names nothing."""
    names = re.findall(r"\{([^}]+)\}", path)
    real = _addresses(path, params, cap=1)[0] if names else path
    found = []
    for name, wrong in itertools.product(names, BOGUS):
        address = path
        for other in names:
            use = wrong if other == name else params[other][0]
            address = address.replace("{" + other + "}", quote(use, safe=""), 1)
        found.append(address)
    return found or [real]


def _crawl(site: Site, routes: list[str]) -> list[str]:
    """Open every GET page (real addresses) as its principal; keep each form by its route.
    Returns the pages that failed."""
    failures = []
    posts = {row.split(" ", 1)[1]: path_pattern(row.split(" ", 1)[1])
             for row in routes if row.startswith("POST ")}
    for row in routes:
        method, path = row.split(" ", 1)
        if method != "GET" or row in EXEMPT:
            continue
        client = site.clients[PRINCIPAL[EXPECTED[row]]]
        for address in _addresses(path, site.params):
            try:
                response = client.get(address)
                assert response.status_code < 500, response.text[:300]
            except Exception as error:  # every page's failure, not only the first
                failures.append(f"{row} at {address}: {error!s:.300}")
                continue
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            for form in forms_of(str(response.url.path), response.text):
                if form.method == "get":
                    site.query_names.setdefault(form.action, set()).update(form.fields)
                    continue
                for post_path, pattern in posts.items():
                    if pattern.match(form.action):
                        site.forms.setdefault(post_path, []).append(form)
    return failures


def _handler_fields(app: Any, path: str) -> set[str]:
    """Names the handler's module reads from a form (for routes no page shows a form of)."""
    names: set[str] = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path == path:
            source = inspect.getsource(sys.modules[route.endpoint.__module__])
            names.update(re.findall(r"""form(?:\.get|\.getlist)?[\(\[]\s*["']([\w.]+)["']""",
                                    source))
    return names


def _api_fields(path: str) -> set[str]:
    """The property names of an API operation's body, as its OpenAPI document gives them."""
    from counter.api.openapi import openapi_document

    document = openapi_document()
    body = document["paths"].get(path, {}).get("post", {}).get("requestBody", {})
    reference = body.get("content", {}).get("application/json", {}).get("schema", {})
    schema = document["components"]["schemas"].get(reference.get("$ref", "").split("/")[-1], {})
    return set(schema.get("properties", {}))


def _fingerprint(engine: Any) -> dict[str, Any]:
    """Each table's rows (a digest), the ambient ones aside; of the tables holding whole
    files, the number of rows (they only grow by a version or a picture at a time)."""
    prints: dict[str, Any] = {}
    with engine.connect() as connection:
        for table in metadata().sorted_tables:
            if table.name in AMBIENT_TABLES:
                continue
            if table.name in COUNTED_TABLES:
                prints[table.name] = connection.execute(
                    text(f'SELECT count(*) FROM "{table.name}"')).scalar()
                continue
            rows = connection.execute(text(f'SELECT * FROM "{table.name}"')).all()
            prints[table.name] = hash(repr(sorted(map(repr, rows))))
    return prints


@dataclass(repr=False)
class Case:
    """One request to send (shown short: Hypothesis warns about reports of many KB)."""

    address: str
    kind: str
    htmx: bool
    pairs: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    document: Any = None
    body: str = ""

    def __repr__(self) -> str:
        pairs = [(key[:30], one[:30]) for key, one in self.pairs[:12]]
        return (f"Case({self.address[:80]!r}, {self.kind}, htmx={self.htmx}, pairs={pairs!r}, "
                f"files={list(self.files)}, document={repr(self.document)[:200]}, "
                f"body={self.body[:60]!r})")


def _json_value() -> st.SearchStrategy[Any]:
    """JSON values of the wrong type, size or depth."""
    return st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(
        [10**30, -(10**30), 1e308, "9" * 5000, "", "\x00", [], {}, [[[[[]]]]]]), field_text)


@st.composite
def _cases(draw: st.DrawFn, addresses: tuple[list[str], list[str]], forms: list[PageForm],
           names: set[str], is_api: bool) -> Case:
    """A request: a form of the page's fields (each its page's value, a tricky one, two, or
    missing; plus strangers; files when the form uploads), a JSON document of the same names
    with values of any type, or a hostile body."""
    kinds = ["json", "json", "hostile"] if is_api else ["form"] * 3 + ["multipart", "json",
                                                                       "hostile"]
    real, bogus = addresses  # real addresses twice as often as bogus ones
    address = draw(st.sampled_from(real if draw(st.integers(0, 2)) else bogus))
    case = Case(address, draw(st.sampled_from(kinds)), draw(st.booleans()))
    known = sorted(names) or ["x"]
    if case.kind == "json":
        case.document = draw(st.one_of(
            st.dictionaries(st.sampled_from(known), _json_value(), max_size=4), _json_value()))
    elif case.kind == "hostile":
        case.body = draw(bodies)
    else:
        form = draw(st.sampled_from(forms)) if forms else PageForm("", "post", False)
        fields = dict(form.fields) or {name: [""] for name in names}
        for name, offered in fields.items():
            pick = draw(st.sampled_from(["page", "page", "tricky", "two", "none"]))
            if pick == "page" and offered:
                case.pairs.append((name, draw(st.sampled_from(offered))))
            elif pick == "tricky":
                case.pairs.append((name, draw(value)))
            elif pick == "two":
                case.pairs.extend((name, draw(value)) for _ in range(2))
        strangers = st.one_of(st.sampled_from(sorted(names | set(fields)) or ["x"]), field_text)
        case.pairs += draw(st.lists(st.tuples(strangers, value), max_size=2))
        case.files = {name: (draw(st.sampled_from(["a.png", "c.yaml", "e.csv", ""])),
                             draw(st.binary(max_size=200)), "application/octet-stream")
                      for name in form.files if draw(st.booleans())}
        if case.kind == "multipart" and not case.files:  # multipart even without a file
            case.files = {"": ("", b"", "text/plain")}
    return case


def _send(client: TestClient, case: Case, is_api: bool) -> Any:
    """Post a case."""
    headers = {"HX-Request": "true"} if case.htmx else {}
    if case.kind == "json":
        return client.post(case.address, json=case.document, headers=headers,
                           follow_redirects=False)
    if case.kind == "hostile":
        headers["Content-Type"] = ("application/json" if is_api
                                   else "application/x-www-form-urlencoded")
        return client.post(case.address, content=case.body.encode("utf-8", "surrogatepass"),
                           headers=headers, follow_redirects=False)
    data: dict[str, list[str]] = {}
    for name, one in case.pairs:
        data.setdefault(name, []).append(one)
    return client.post(case.address, data=data, files=case.files or None, headers=headers,
                       follow_redirects=False)


def _post(site: Site, app: Any, engine: Any, path: str) -> None:
    """Fuzz one POST route as its principal; raises on a 5xx or a half-written refusal."""
    row = f"POST {path}"
    client = site.clients[PRINCIPAL[EXPECTED[row]]]
    forms = site.forms.get(path, [])
    names = _handler_fields(app, path) | {name for form in forms for name in form.fields}
    is_api = path.startswith("/api/")
    if is_api:  # the JSON API's field names are in its document
        names |= _api_fields(path.replace(":int}", "}"))
    addresses = _addresses(path, site.params), _bogus(path, site.params)
    last = [_fingerprint(engine)]

    @settings(FUZZ, max_examples=FEW if path in SLOW else EXAMPLES["POST"])
    @given(case=_cases(addresses, forms, names, is_api))
    def post(case: Case) -> None:
        response = _send(client, case, is_api)
        site.note(row, response)
        assert response.status_code < 500, f"{response.status_code} {case!r}"
        assert_stays_here(response)
        before, last[0] = last[0], _fingerprint(engine)
        if response.status_code >= 400:
            changed = [name for name in before if last[0][name] != before[name]]
            assert changed == [], f"{response.status_code} but wrote {changed}: {case!r}"

    post()
    assert problems(engine) == [], row


def _get(site: Site, path: str) -> None:
    """Fuzz one GET route's query string as its principal."""
    row = f"GET {path}"
    client = site.clients[PRINCIPAL[EXPECTED[row]]]
    addresses = _addresses(path, site.params)
    names = {"lang", "next", "office", "counter", "day", "from", "to", "saved", "keep", "new",
             "event", "start", "end", "service", "asked"}
    for address in addresses:
        names |= site.query_names.get(address, set())

    @settings(FUZZ, max_examples=FEW if path in SLOW else EXAMPLES["GET"])
    @given(address=st.sampled_from(addresses),
           query=st.lists(st.tuples(st.one_of(st.sampled_from(sorted(names)), field_text),
                                    value), max_size=5))
    def get(address: str, query: list[tuple[str, str]]) -> None:
        response = client.get(address, params=query, follow_redirects=False)
        site.note(row, response)
        assert response.status_code < 500, f"{row} {query!r:.200}: {response.text[:300]}"
        assert_stays_here(response)

    get()


def test_every_route_is_fuzzed_or_exempt(app):
    """A new route is fuzzed by the tests below unless exempted here, with its reason."""
    routes = set(_routes(app))
    assert sorted(EXEMPT.keys() - routes) == [], "these exemptions name no route any more"
    kinds = {row.split(" ", 1)[0] for row in routes - EXEMPT.keys()}
    assert kinds <= {"GET", "POST"}, "a route of another method: teach the fuzzing about it"
    from counter.api.openapi import openapi_document

    documented = set(openapi_document()["paths"])
    api = {row.split(" ", 1)[1].replace(":int}", "}") for row in routes
           if row.startswith("POST /api/")}
    assert sorted(api - documented) == [], "API routes whose body names the fuzzing lacks"


#: Routes fuzzed last, as they may sign a principal out or change the city under the others.
LAST = ("/account/password", "/admin/config/apply", "/logout")
ORDER = ["anonymous", "kiosk", "board", "staff", "manager", "admin"]


def _order(row: str) -> tuple[int, bool, str]:
    return ORDER.index(PRINCIPAL[EXPECTED[row]]), row.endswith(LAST), row


def test_every_route_answers_any_input_below_500(site, engine):
    """Every GET with made-up query strings and every POST with fuzzed forms and JSON, at real
    and bogus addresses, as its principal: never a 5xx, nothing half-written."""
    app = site.clients["admin"].app
    routes = sorted((row for row in _routes(app) if row not in EXEMPT), key=_order)
    if ONLY:
        routes = [row for row in routes if row.startswith("GET") or ONLY in row]
    failures = _crawl(site, routes)
    for row in routes:
        method, path = row.split(" ", 1)
        try:
            _get(site, path) if method == "GET" else _post(site, app, engine, path)
        except Exception as error:  # every route's failure, not only the first
            failures.append(f"{row}: {type(error).__name__}: {error!s:.1000}")
    assert failures == [], "\n\n".join(failures)
    blind = sorted(row for row, answers in site.seen.items()
                   if answers <= {401, 403, "login"} and row not in OWN_401)
    assert blind == [], f"only refused, as the wrong principal: {blind}"


def test_every_socket_survives_any_query_and_hello(site):
    """Each websocket, opened as its principal with a made-up query string and sent a made-up
    first message: accepted or closed, never an error in the server."""
    from starlette.websockets import WebSocketDisconnect

    sockets = [row.split(" ", 1)[1] for row in _routes(site.clients["admin"].app)
               if row.startswith("WS ")]
    assert sockets, "no websocket found: the router changed shape"
    token = site.params["token"][1]
    hellos = st.one_of(value, st.fixed_dictionaries({"type": st.just("hello"), "token": st.one_of(
        st.just(token), value), "lang": value}).map(json.dumps))

    @settings(FUZZ, max_examples=6)
    @given(path=st.sampled_from(sockets), query=st.lists(st.tuples(st.sampled_from(
        ["office", "lang", "counter", "x"]), value), max_size=3), hello=hellos)
    def connect(path: str, query: list[tuple[str, str]], hello: str) -> None:
        client = site.clients[PRINCIPAL[EXPECTED[f"WS {path}"]]]
        address = path + "?" + urlencode(query) if query else path
        try:
            with client.websocket_connect(address) as socket:
                socket.send_text(hello)
        except WebSocketDisconnect:
            pass  # refused or closed: an answer

    connect()
