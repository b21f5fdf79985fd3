"""Hypothesis against the HTML forms: whatever a browser (or a script) posts, the answer is a
page or a redirect below 500, never a half-written record, and redirects stay on this site."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from composition.factory import create_app
from tests.conftest import PASSWORDS, log_in, make_client
from tests.consistency import problems
from tests.screens_support import office as office  # a fixture, used by name

FORM_SETTINGS = settings(max_examples=25, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
# Anything a form field can carry (no lone surrogates: they cannot be encoded in UTF-8).
field_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
tricky = st.sampled_from(["", " ", "0", "-1", "2**31", "99999999999999999999", "null", "<b>",
                          "'; DROP TABLE visit; --", "../../etc/passwd", "//evil.example/",
                          "https://evil.example/", "/\\evil.example", "%00", "\u202e", "ａｄｍｉｎ",
                          "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "1e9",
                          # Past Python's 4,300-digit limit for int() (longer values make
                          # Hypothesis warn about its reports; the JSON tests cover sizes).
                          "9" * 5000, "-" + "1" * 4400, "3, " + "7" * 4400, "1e99999"])
value = st.one_of(field_text, tricky)


def assert_stays_here(response) -> None:  # type: ignore[no-untyped-def]
    """A redirect never leaves the site (open redirects are a phishing tool): a path on this
    site, or (Starlette's trailing-slash redirect) an absolute URL of the host asked."""
    if response.is_redirect:
        location = response.headers["location"]
        target = urlsplit(location)
        if target.scheme or target.netloc:
            assert response.status_code == 307, location
            asked = response.request.url
            assert (target.scheme, target.netloc) == (asked.scheme, asked.netloc.decode()), location
            return
        assert location.startswith("/")
        assert not location.startswith(("//", "/\\"))


@pytest.fixture
def roomy_app(settings):  # type: ignore[no-untyped-def]
    """The app with sign-in limits high enough that fuzzing reaches the password check."""
    return create_app(settings.model_copy(update={
        "login_max_failures": 10_000, "login_max_failures_per_address": 10_000,
        "login_max_failures_per_account": 10_000}))


def test_login_form(roomy_app, users, engine):
    """Any user name, password and return path: 303, 401 or 422-ish pages, never a 5xx."""
    with make_client(roomy_app) as client:

        @FORM_SETTINGS
        @given(username=value, password=value, target=value,
               extra=st.dictionaries(field_text, value, max_size=3))
        def post(username: str, password: str, target: str, extra: dict[str, str]) -> None:
            data = {**extra, "username": username, "password": password, "next": target}
            response = client.post("/login", data=data, follow_redirects=False)
            assert response.status_code in {303, 401, 422}, response.text[:500]
            assert_stays_here(response)

        post()
        # A real sign-in with a hostile return path still lands on this site.
        client.cookies.clear()
        response = client.post("/login", data={"username": users[next(iter(users))],
                                                "password": PASSWORDS[next(iter(users))],
                                                "next": "//evil.example/"},
                               follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/"
    assert problems(engine) == []


def test_locale_switch(client):
    """Any language code and return path: a redirect on this site or a 404 page."""

    @FORM_SETTINGS
    @given(code=value, target=value)
    def switch(code: str, target: str) -> None:
        response = client.get("/locale/x", params={"next": target}, follow_redirects=False)
        assert response.status_code == 404
        response = client.get("/locale/" + quote(code, safe=""), params={"next": target},
                              follow_redirects=False)
        # 307: Starlette adds or drops a trailing slash (an encoded "/" at the end of the code)
        assert response.status_code in {303, 307, 404}, response.text[:500]
        assert_stays_here(response)

    switch()


def test_audit_filters(admin_client):
    """Any dates in the audit filters: the page or the CSV, or a 422 saying how to write dates."""

    @FORM_SETTINGS
    @given(first=value, last=value, path=st.sampled_from(["/admin/audit", "/admin/audit.csv"]))
    def filter_audit(first: str, last: str, path: str) -> None:
        response = admin_client.get(path, params={"from": first, "to": last})
        assert response.status_code in {200, 422}, response.text[:500]

    filter_audit()


def test_forms_are_refused_to_the_wrong_roles(roomy_app, users):
    """Fuzzing signed in as staff: the admin filters stay closed whatever is sent."""
    with make_client(roomy_app) as client:
        staff = next(role for role in users if role.value == "staff")
        log_in(client, users[staff], PASSWORDS[staff])

        @FORM_SETTINGS
        @given(first=value, last=value)
        def filter_audit(first: str, last: str) -> None:
            response = client.get("/admin/audit", params={"from": first, "to": last})
            assert response.status_code == 403

        filter_audit()


def test_staff_terminal_forms(app, staff_client, office, engine):
    """Any counter, services, ticket, action, reason or target service posted to the staff
    terminal: a page, a redirect or a refusal below 500, and the queue stays whole."""
    from tests.screens_support import HTMX, issue, open_counter

    for codes in (["residents", "insurance"], ["residents"], ["tax"]):
        issue(app, office, codes)
    open_counter(staff_client, office, "1", ["residents", "insurance", "tax"])
    ids = st.one_of(st.integers(-2, 40).map(str), value)
    actions = st.one_of(st.sampled_from(["call", "recall", "start", "advance", "complete",
                                         "no-show", "return", "hold", "release", "transfer",
                                         "cancel"]), field_text.filter(lambda t: "/" not in t))

    accepted: set[str] = set()

    @settings(FORM_SETTINGS, max_examples=60)
    @given(form=st.sampled_from(["open", "close", "call-next", "task"]), counter_id=ids,
           service_ids=st.lists(ids, max_size=4), task_id=ids, action=actions, reason=value,
           whole_visit=st.sampled_from(["1", "0", "", "yes"]), htmx=st.booleans())
    def post(form: str, counter_id: str, service_ids: list[str], task_id: str, action: str,
             reason: str, whole_visit: str, htmx: bool) -> None:
        headers = HTMX if htmx else {}
        if form != "open":  # at a counter, so that actions can succeed as well as fail
            open_counter(staff_client, office, "1", ["residents", "insurance", "tax"])
        if form == "open":
            response = staff_client.post("/counter/open", headers=headers, data={
                "counter_id": counter_id, "service_id": service_ids}, follow_redirects=False)
        elif form == "task":
            response = staff_client.post(
                f"/counter/tasks/{quote(task_id, safe='')}/{quote(action, safe='')}",
                headers=headers, follow_redirects=False,
                data={"reason": reason, "whole_visit": whole_visit,
                      "service_id": service_ids[0] if service_ids else counter_id})
        else:
            response = staff_client.post(f"/counter/{form}", headers=headers,
                                         follow_redirects=False)
        assert response.status_code < 500, response.text[:500]
        assert_stays_here(response)
        assert problems(engine) == []
        if response.status_code in {200, 303}:
            accepted.add(form)

    post()
    assert accepted & {"task", "call-next"}, "no action got through: the fuzzing is blind"


# --- The kiosk, the visit's forms, the analytics pages ----------------------------------------


@pytest.fixture
def kiosk_client(app, engine):  # type: ignore[no-untyped-def]
    """A paired kiosk of the demo office, with the ticket limit out of the way."""
    from composition.demo import seed_structure
    from frontyard.auth import DeviceKind, create_device
    from frontyard.database import session_scope

    with session_scope(engine) as session:
        office_id = seed_structure(session).id
        _, token, _ = create_device(session, "fuzz-lobby", DeviceKind.KIOSK, office_id=office_id)
    roomy = create_app(app.state.settings.model_copy(update={"ticket_rate_limit": 100_000}))
    with make_client(roomy) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def test_kiosk_forms(kiosk_client, engine):
    """A resident (or a script) posting anything at each kiosk step, in any order: pages and
    redirects below 500, and no visit without its tasks, events or a unique number."""
    import re

    from tests.test_kiosk_routes import MOVING_IN_ANSWERS, PERSON

    kiosk_client.post("/kiosk/start", data={"locale": "en"})
    events = re.findall(r'name="event" value="([a-z_]+)"', kiosk_client.get("/kiosk/events").text)
    assert events, "the events screen lists no life event"
    field = st.one_of(st.sampled_from([*PERSON, *MOVING_IN_ANSWERS, "asked", "action",
                                       "consent", "without_details", "toggle", "next", "keep"]),
                      field_text)
    forms = st.dictionaries(field, st.one_of(value, st.lists(value, max_size=3)), max_size=6)
    steps = st.sampled_from(["/kiosk/start", "/kiosk/events", "/kiosk/questions",
                             "/kiosk/questions/reset", "/kiosk/details", "/kiosk/ticket",
                             "/kiosk/display", "/kiosk/reset"])
    accepted: set[str] = set()

    # The first examples start a session and choose an event, so the fuzzing always reaches
    # the screens behind them (random draws alone sometimes never did).
    @settings(FORM_SETTINGS, max_examples=60)
    @example(path="/kiosk/start", data={}, locale="en", chosen=[], answers={})
    @example(path="/kiosk/events", data={}, locale="en", chosen=[events[0]], answers={})
    @given(path=steps, data=forms, locale=st.one_of(st.sampled_from(["en", "ja", "vi"]), value),
           chosen=st.lists(st.sampled_from(events), max_size=3),
           answers=st.fixed_dictionaries({}, optional={key: st.one_of(
               st.just(answer), value) for key, answer in MOVING_IN_ANSWERS.items()}))
    def post(path: str, data: dict, locale: str, chosen: list[str],  # type: ignore[type-arg]
             answers: dict[str, str]) -> None:
        if path == "/kiosk/start":
            data = {**data, "locale": locale}
        elif path == "/kiosk/events":
            data = {**data, "event": chosen}
        elif path == "/kiosk/questions":
            data = {**data, **answers, "asked": list(answers)}
        elif path == "/kiosk/details":
            data = {**PERSON, **data}
        response = kiosk_client.post(path, data=data, follow_redirects=False)
        assert response.status_code < 500, response.text[:500]
        assert_stays_here(response)
        if response.status_code == 303:
            accepted.add(path)

    post()
    assert problems(engine) == []
    assert {"/kiosk/start", "/kiosk/events"} <= accepted, accepted


@pytest.mark.parametrize("ages", ["9" * 5000, "34, " + "1" * 4400, "-" + "9" * 5000,
                                  "９" * 5000, "00000000000000000000034"])
def test_kiosk_household_ages_of_any_length(kiosk_client, engine, ages):
    """The issue's 5,000-digit age: a 422 naming the allowed range, not int()'s ValueError."""
    from tests.test_kiosk_routes import answer, begin, choose

    begin(kiosk_client)
    choose(kiosk_client, "moving_in")
    response = answer(kiosk_client, {"household_ages": ages})
    if ages.startswith("0000"):  # leading zeros are still 34
        assert response.status_code in {200, 303}, response.text[:500]
    else:
        assert response.status_code == 422, response.text[:500]
        assert "Enter a number from 0 to 120." in response.text
    assert problems(engine) == []


def test_visit_details_form(app, staff_client, engine):
    """Staff correcting a visit's details with anything typed: a page, never a 5xx; a refused
    correction leaves the stored details exactly as they were."""
    from composition.demo import seed_structure
    from counter import queue
    from counter.models import VisitDetails
    from frontyard.database import session_scope
    from tests.test_kiosk_routes import PERSON

    with session_scope(engine) as session:
        office_id = seed_structure(session).id
        visit = queue.issue_ticket(session, office_id=office_id, service_codes=["residents"],
                                   details={"name": "山田 太郎"})
        visit_id, public_id = visit.id, visit.public_id

    def stored() -> dict:  # type: ignore[type-arg]
        from sqlmodel import Session

        with Session(engine) as session:
            details = session.get(VisitDetails, visit_id)
            return dict(details.data) if details else {}

    @FORM_SETTINGS
    @given(data=st.dictionaries(st.one_of(st.sampled_from(list(PERSON)), field_text), value,
                                max_size=6), base=st.booleans())
    def save(data: dict, base: bool) -> None:  # type: ignore[type-arg]
        before = stored()
        form = {**PERSON, **data} if base else data
        response = staff_client.post(f"/forms/visit/{public_id}/details", data=form,
                                     follow_redirects=False)
        assert response.status_code < 500, response.text[:500]
        if response.status_code >= 400:
            assert stored() == before
        assert_stays_here(response)
        seen.add(response.status_code)

    seen: set[int] = set()
    save()
    assert seen & {200, 303} and seen & {400, 422}, seen
    assert problems(engine) == []


def test_analytics_filters(manager_client):
    """Any period, office, service, step, weekdays, target or plan on the analytics pages and
    exports: a page, a file or a 4xx explaining what to fix."""
    names = st.sampled_from(["start", "end", "office", "service", "step", "weekday", "level",
                             "minutes", "date", "run", "plan-1-9", "plan-x-y"])

    @FORM_SETTINGS
    @example(params=[("office", "9" * 5000), ("service", "99999999999999999999")],
             path="/analytics")
    @example(params=[("office", "²"), ("service", "9" * 5000)], path="/analytics/whatif")
    @given(params=st.lists(st.tuples(names, value), max_size=5),
           path=st.sampled_from(["/analytics", "/analytics/whatif",
                                 "/analytics/export/waits.csv", "/analytics/export/waits.xlsx",
                                 "/analytics/export/x.csv"]))
    def view(params: list[tuple[str, str]], path: str) -> None:
        response = manager_client.get(path, params=params)
        assert response.status_code < 500, response.text[:500]
        seen.add(response.status_code)

    seen: set[int] = set()
    view()
    assert 200 in seen and seen & {400, 404, 422}, seen


def test_analytics_import_upload(admin_client, engine):
    """Any uploaded file: imported whole (200) or refused whole (422), never half."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from counter.models import Event

    header = "at,kind,office,ticket,service,counter,step\n"

    def events() -> int:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(Event)).one()

    @settings(FORM_SETTINGS, max_examples=15)
    @given(body=st.one_of(st.binary(max_size=300), value.map(lambda text: header + text)))
    def upload(body: bytes | str) -> None:
        before = events()
        content = body.encode() if isinstance(body, str) else body
        response = admin_client.post("/analytics/import",
                                     files={"file": ("events.csv", content, "text/csv")})
        assert response.status_code in {200, 422}, response.text[:500]
        if response.status_code == 422:
            assert events() == before
        seen.add(response.status_code)

    seen: set[int] = set()
    upload()
    assert 422 in seen, seen
    assert problems(engine) == []
