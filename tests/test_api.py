"""The JSON API over HTTP: tickets, status, queue state, staff actions, errors, OpenAPI,
and a restart that rebuilds the app from the same database."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from openapi_spec_validator import validate
from sqlmodel import Session, select

from composition.factory import create_app
from counter import queue
from counter.api import OPERATIONS, openapi_document
from counter.models import Task
from frontyard.auth import DeviceKind, Role, User, create_device
from frontyard.database import session_scope
from tests.conftest import make_client

STATUS_FIELDS = {
    "ticket_number", "closed", "state", "service_name", "step_name", "step_number",
    "step_count", "task_number", "task_count", "people_ahead", "estimated_wait_minutes",
    "counter_number", "counter_name", "remaining_services",
}
PERSONAL = {"name": "山田 花子", "phone": "090-1234-5678", "address": "東京都港区芝公園4-2-8"}


@pytest.fixture
def kiosk_token(engine, world) -> str:
    """A kiosk of the test office."""
    with session_scope(engine) as session:
        _, token, _ = create_device(session, "api-kiosk", DeviceKind.KIOSK,
                                    office_id=world.office_id)
    return token


@pytest.fixture
def staff_id(engine, users) -> int:
    """The id of the staff member `staff_client` is signed in as."""
    with Session(engine) as session:
        return session.exec(select(User.id).where(User.username == users[Role.STAFF])).one()


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for a device token."""
    return {"Authorization": f"Bearer {token}"}


def issue(client, token: str, **body) -> dict:  # type: ignore[no-untyped-def]
    """Issue a ticket through the API; returns the JSON."""
    response = client.post("/api/v1/tickets", json={"services": ["residents"], **body},
                           headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


def open_counter(client, world, *services: str) -> dict:  # type: ignore[no-untyped-def]
    """Sign the staff client in to counter 1."""
    response = client.post(f"/api/v1/counters/{world.counters[0]}/open",
                           json={"services": list(services or ["residents"])})
    assert response.status_code == 200, response.text
    return response.json()


# --- Tickets ----------------------------------------------------------------------------------


def test_kiosk_issues_a_ticket(client, kiosk_token):
    """A kiosk's token issues a ticket: number, status link, tasks in the resident's language."""
    ticket = issue(client, kiosk_token, services=["residents", "insurance"], locale="en",
                   procedures=["moving_in", None])
    assert ticket["ticket_number"] == "A-001"
    assert len(ticket["status_token"]) >= 32
    assert ticket["status_url"] == f"http://testserver/status/{ticket['status_token']}"
    assert [(t["service"], t["service_name"], t["state"]) for t in ticket["tasks"]] == [
        ("residents", "Residents", "waiting"), ("insurance", "Insurance", "pending")]
    assert (ticket["people_ahead"], ticket["estimated_wait_minutes"]) == (0, 0)
    second = issue(client, kiosk_token)
    assert second["ticket_number"] == "A-002"
    assert (second["people_ahead"], second["estimated_wait_minutes"]) == (1, 5)


def test_issuing_needs_a_kiosk(app, engine, world, kiosk_token):
    """No token is a 401, a wrong or board token a 403; all JSON."""
    with session_scope(engine) as session:
        _, board_token, _ = create_device(session, "api-board", DeviceKind.BOARD,
                                          office_id=world.office_id)
    body = {"services": ["residents"]}
    with make_client(app) as client:
        assert client.post("/api/v1/tickets", json=body).status_code == 401
        for token in ["not-a-token", board_token]:
            response = client.post("/api/v1/tickets", json=body, headers=bearer(token))
            assert response.status_code == 403
            assert response.headers["content-type"] == "application/json"


def test_staff_can_issue_naming_the_office(staff_client, world):
    """Staff (e.g. at a reception desk) may issue; without a kiosk they name the office."""
    response = staff_client.post("/api/v1/tickets", json={"services": ["insurance"]})
    assert response.status_code == 422 and "office" in response.json()["fields"]
    response = staff_client.post("/api/v1/tickets",
                                 json={"services": ["insurance"], "office": "test"})
    assert response.status_code == 201 and response.json()["ticket_number"] == "B-001"


@pytest.mark.parametrize("body, field", [
    ({}, "services"),
    ({"services": []}, "services"),
    ({"services": "residents"}, "services"),
    ({"services": ["residents"], "locale": "xx"}, "locale"),
    ({"services": ["residents"], "priority": "maybe"}, "priority"),
    ({"services": ["residents"], "colour": "red"}, "colour"),
    ({"services": ["residents", "passports"]}, "service_codes"),
    ({"services": ["residents"], "procedures": ["a", "b"]}, "procedure_codes"),
    ({"services": ["residents"], "procedures": ["x" * 65]}, "procedures"),
    ({"services": ["x" * 33]}, "services"),
    ({"services": ["residents"], "office": "elsewhere"}, None),
])
def test_ticket_validation_errors_name_the_field(client, kiosk_token, body, field):
    """Invalid bodies are 422 with a message for the field (404 for an unknown office)."""
    response = client.post("/api/v1/tickets", json=body, headers=bearer(kiosk_token))
    if field is None:
        assert response.status_code == 404
        return
    assert response.status_code == 422, response.text
    fields = response.json()["fields"]
    assert any(key == field or key.startswith(field + ".") for key in fields), fields


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00", b'{"services": ["residents"]'])
def test_malformed_json_is_a_400_not_a_500(client, kiosk_token, raw):
    """Bodies that are not JSON get a clear 400."""
    response = client.post("/api/v1/tickets", content=raw,
                           headers={**bearer(kiosk_token), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"]


def test_json_that_is_not_an_object_is_a_422(client, kiosk_token):
    """A JSON array or string where an object is expected is a validation error."""
    for raw in [b"[1, 2]", b'"residents"', b"null"]:
        response = client.post("/api/v1/tickets", content=raw, headers=bearer(kiosk_token))
        assert response.status_code == 422, raw


def test_oversized_body_is_refused(client, kiosk_token):
    """Bodies past 64 KiB are a 413."""
    body = {"services": ["residents"], "details": {"note": "x" * 70_000}}
    response = client.post("/api/v1/tickets", json=body, headers=bearer(kiosk_token))
    assert response.status_code == 413


# --- Status and queue state -----------------------------------------------------------------------


def test_status_shows_progress_and_no_personal_data(client, staff_client, world, kiosk_token):
    """The status endpoint tells the resident where the ticket stands, and nothing personal."""
    ticket = issue(client, kiosk_token, services=["residents", "insurance"], locale="en",
                   details=PERSONAL)
    url = f"/api/v1/tickets/{ticket['status_token']}"
    response = client.get(url)
    assert response.status_code == 200
    status = response.json()
    assert set(status) == STATUS_FIELDS
    for value in PERSONAL.values():
        assert value not in response.text
    assert status["ticket_number"] == "A-001" and status["state"] == "waiting"
    assert (status["task_number"], status["task_count"]) == (1, 2)
    assert (status["step_name"], status["step_number"], status["step_count"]) == ("受付", 1, 3)
    assert status["service_name"] == "Residents" and status["remaining_services"] == ["Insurance"]
    assert status["people_ahead"] == 0 and status["counter_number"] is None

    open_counter(staff_client, world)
    staff_client.post(f"/api/v1/counters/{world.counters[0]}/call-next")
    status = client.get(url).json()
    assert status["state"] == "called"
    assert (status["counter_number"], status["counter_name"]) == ("1", "Counter 1")
    assert client.get(url + "?lang=ja").json()["counter_name"] == "1番窓口"
    for value in PERSONAL.values():
        assert value not in client.get(url).text


def test_unknown_status_token_is_a_404(client):
    """A guessed token finds nothing."""
    response = client.get("/api/v1/tickets/" + "a" * 43)
    assert response.status_code == 404 and response.json()["detail"]


def test_queue_state_is_public(client, staff_client, world, kiosk_token):
    """Waiting counts, estimates and current calls, for anyone."""
    issue(client, kiosk_token)
    issue(client, kiosk_token)
    issue(client, kiosk_token, services=["insurance"])
    open_counter(staff_client, world)
    staff_client.post(f"/api/v1/counters/{world.counters[0]}/call-next")
    state = client.get("/api/v1/offices/test/queue").json()
    assert [(s["code"], s["waiting"], s["counters_open"]) for s in state["services"]] == [
        ("residents", 1, 1), ("insurance", 1, 0), ("childcare", 0, 0)]
    assert [(c["ticket_number"], c["counter_number"]) for c in state["calls"]] == [("A-001", "1")]
    assert client.get("/api/v1/offices/nowhere/queue").status_code == 404


# --- Staff ----------------------------------------------------------------------------------------


def test_staff_run_a_counter_through_a_visit(staff_client, client, world, kiosk_token,
                                             staff_id):
    """Open, call next, start, advance, complete: the next task is routed; close."""
    ticket = issue(client, kiosk_token, services=["residents", "insurance"])
    counter = open_counter(staff_client, world, "residents", "insurance")
    assert counter["is_open"] and counter["staff_user_id"] == staff_id
    assert [w["ticket_number"] for w in counter["waiting"]] == ["A-001"]
    base = f"/api/v1/counters/{world.counters[0]}"
    task = staff_client.post(f"{base}/call-next").json()["task"]
    assert (task["ticket_number"], task["state"], task["counter_number"]) == ("A-001", "called",
                                                                              "1")
    task_url = f"/api/v1/tasks/{task['id']}"
    assert staff_client.post(f"{task_url}/recall").json()["task"]["call_count"] == 2
    assert staff_client.post(f"{task_url}/start").json()["task"]["step_name"] == "受付"
    assert staff_client.post(f"{task_url}/advance", json={}).json()["task"]["step_number"] == 2
    assert staff_client.get(base).json()["current"]["id"] == task["id"]
    done = staff_client.post(f"{task_url}/complete").json()["task"]
    assert done["state"] == "done"
    status = client.get(f"/api/v1/tickets/{ticket['status_token']}").json()
    assert (status["task_number"], status["state"]) == (2, "waiting")
    second = staff_client.post(f"{base}/call-next").json()["task"]
    assert (second["service"], second["task_number"], second["task_count"]) == ("insurance", 2, 2)
    staff_client.post(f"/api/v1/tasks/{second['id']}/cancel", json={"reason": "left"})
    assert staff_client.post(f"{base}/call-next").json() == {"task": None}
    closed = staff_client.post(f"{base}/close")
    assert closed.status_code == 200 and not closed.json()["is_open"]
    assert client.get(f"/api/v1/tickets/{ticket['status_token']}").json()["closed"]


def test_staff_hold_transfer_and_call_out_of_order(staff_client, client, world, kiosk_token):
    """Actions with bodies: call a chosen ticket, hold with a reason, transfer by code."""
    issue(client, kiosk_token)
    second = issue(client, kiosk_token)
    open_counter(staff_client, world)
    waiting = staff_client.get(f"/api/v1/counters/{world.counters[0]}").json()["waiting"]
    chosen = next(w for w in waiting if w["ticket_number"] == second["ticket_number"])
    url = f"/api/v1/tasks/{chosen['task_id']}"
    called = staff_client.post(f"{url}/call", json={"counter_id": world.counters[0]})
    assert called.json()["task"]["state"] == "called"
    held = staff_client.post(f"{url}/hold", json={"reason": "fetching a document"})
    assert held.json()["task"]["state"] == "on_hold"
    entry = staff_client.get(f"/api/v1/counters/{world.counters[0]}").json()["waiting"][1]
    assert (entry["state"], entry["hold_reason"]) == ("on_hold", "fetching a document")
    staff_client.post(f"{url}/release")
    moved = staff_client.post(f"{url}/transfer", json={"service": "childcare"}).json()["task"]
    assert (moved["service"], moved["state"], moved["ticket_number"]) == ("childcare", "waiting",
                                                                          "A-002")
    response = staff_client.post(f"{url}/transfer", json={"service": "passports"})
    assert response.status_code == 422 and "service" in response.json()["fields"]


def test_illegal_actions_are_translated_409s(staff_client, client, engine, world, kiosk_token):
    """Starting a waiting ticket is refused with the reason, in the staff member's language."""
    issue(client, kiosk_token)
    with Session(engine) as session:
        url = f"/api/v1/tasks/{session.exec(select(Task.id)).one()}/start"
    english = staff_client.post(url, headers={"Accept-Language": "en"})
    assert english.status_code == 409
    assert english.json()["detail"] == (
        "A-001: “start serving” is not possible while the ticket is waiting.")
    japanese = staff_client.post(url, headers={"Accept-Language": "ja"})
    assert japanese.status_code == 409 and "待機中" in japanese.json()["detail"]
    closed = staff_client.post(f"/api/v1/counters/{world.counters[0]}/call-next")
    assert closed.status_code == 409  # not signed in to the counter


@pytest.mark.parametrize("path, body, status", [
    ("/api/v1/tasks/{task}/call", {"counter_id": "one"}, 422),
    ("/api/v1/tasks/{task}/call", {}, 422),
    ("/api/v1/tasks/{task}/hold", {"reason": "x" * 500}, 422),
    ("/api/v1/tasks/{task}/start", {"unexpected": 1}, 422),
    ("/api/v1/tasks/{task}/start", "not json", 400),
    ("/api/v1/tasks/999999/start", {}, 404),
    ("/api/v1/tasks/{task}/dance", {}, 404),
    ("/api/v1/counters/999999/call-next", {}, 404),
    ("/api/v1/counters/{counter}/open", {"services": []}, 422),
    ("/api/v1/counters/{counter}/open", {"services": ["passports"]}, 422),
])
def test_staff_request_errors(staff_client, client, engine, world, kiosk_token, path, body,
                              status):
    """Bad bodies, unknown ids and unknown actions: 400, 404 or 422, never 500."""
    issue(client, kiosk_token)
    with Session(engine) as session:
        task_id = session.exec(select(Task.id)).one()
    url = path.format(task=task_id, counter=world.counters[0])
    if isinstance(body, str):
        response = staff_client.post(url, content=body)
    else:
        response = staff_client.post(url, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"


def test_staff_endpoints_need_a_signed_in_staff_member(client, world):
    """Anonymous requests to staff endpoints are JSON 401s."""
    for method, url in [("get", f"/api/v1/counters/{world.counters[0]}"),
                        ("post", f"/api/v1/counters/{world.counters[0]}/call-next"),
                        ("post", "/api/v1/tasks/1/start")]:
        response = getattr(client, method)(url)
        assert response.status_code == 401 and response.json()["error"]


def test_changes_are_announced_on_the_hub(app, staff_client, world, kiosk_token):
    """Each committed change is announced on the office's topic for the live screens."""
    # One client only: each TestClient runs the app's lifespan, and on PostgreSQL every
    # lifespan starts a listener of its own, which would deliver each message once more.
    published = []
    app.state.hub.publish = lambda topic, message: published.append((topic, message))
    issue(staff_client, kiosk_token)
    open_counter(staff_client, world)
    staff_client.post(f"/api/v1/counters/{world.counters[0]}/call-next")
    topic = f"office:{world.office_id}"
    deadline = time.monotonic() + 5  # delivered after commit: via the loop, or PostgreSQL
    while len(published) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert published == [(topic, {"office_id": world.office_id})] * 3


# --- OpenAPI --------------------------------------------------------------------------------------


def test_openapi_document_is_valid_and_complete():
    """The OpenAPI document is valid OpenAPI 3.1 and describes every API route."""
    document = openapi_document()
    validate(document)
    assert document["openapi"] == "3.1.0"
    described = {(method.upper(), path) for path, item in document["paths"].items()
                 for method in item}
    routed = {(op.method, op.path.replace(":int", "")) for op in OPERATIONS}
    assert described == routed and len(routed) >= 18
    ticket = document["paths"]["/api/v1/tickets"]["post"]
    assert ticket["security"][0] == {"deviceToken": []}
    assert "422" in ticket["responses"] and "201" in ticket["responses"]


def test_openapi_document_is_served(client):
    """/api/openapi.json serves the document to anyone."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.json() == openapi_document()


# --- Restart --------------------------------------------------------------------------------------


def _snapshot(engine, office_id: int, now: datetime) -> dict:
    """Everything the screens read about an office, at a given moment."""
    with Session(engine) as session:
        return {
            "waiting": queue.waiting_list(session, office_id=office_id, now=now),
            "calls": queue.current_calls(session, office_id),
            "counts": queue.waiting_counts(session, office_id),
            "overview": [(o.service.code, o.waiting, o.on_hold, o.counters_open,
                          o.estimated_wait, o.longest_wait)
                         for o in queue.queue_overview(session, office_id, now)],
        }


def _api_view(client, world, tokens: list[str]) -> dict:  # type: ignore[no-untyped-def]
    """What the API shows, without the fields that move with the clock."""
    queue_state = client.get("/api/v1/offices/test/queue").json()
    queue_state.pop("at")
    for service in queue_state["services"]:
        service.pop("longest_wait_minutes")
    counter = client.get(f"/api/v1/counters/{world.counters[0]}").json()
    for entry in counter["waiting"]:
        entry.pop("minutes_waited")
    statuses = [client.get(f"/api/v1/tickets/{token}").json() for token in tokens]
    return {"queue": queue_state, "counter": counter, "statuses": statuses}


def test_the_queue_is_identical_after_a_restart(settings, engine, users, world, kiosk_token):
    """Rebuilding the app from the same database restores the queue exactly, and it goes on."""
    from tests.conftest import PASSWORDS, log_in

    def staff(app):  # type: ignore[no-untyped-def]
        client = make_client(app)
        client.__enter__()
        log_in(client, users[Role.STAFF], PASSWORDS[Role.STAFF])
        return client

    first_app = create_app(settings)
    client = staff(first_app)
    tokens = [issue(client, kiosk_token, services=services, priority=priority)["status_token"]
              for services, priority in [(["residents", "insurance"], False),
                                         (["residents"], True), (["residents"], False),
                                         (["insurance"], False)]]
    open_counter(client, world, "residents")
    called = client.post(f"/api/v1/counters/{world.counters[0]}/call-next").json()["task"]
    waiting = client.get(f"/api/v1/counters/{world.counters[0]}").json()["waiting"]
    client.post(f"/api/v1/tasks/{waiting[-1]['task_id']}/hold", json={"reason": "phone"})
    before = _api_view(client, world, tokens)
    moment = datetime.now(UTC)
    before_domain = _snapshot(engine, world.office_id, moment)
    client.__exit__(None, None, None)  # the first app shuts down and disposes its engine

    second_app = create_app(settings)
    client = staff(second_app)
    try:
        assert _api_view(client, world, tokens) == before
        assert _snapshot(engine, world.office_id, moment) == before_domain
        assert before["counter"]["current"]["id"] == called["id"]
        # The day goes on where it stopped: the next number and the next call follow.
        assert issue(client, kiosk_token)["ticket_number"] == "A-004"
        task_url = f"/api/v1/tasks/{called['id']}"
        client.post(f"{task_url}/start")
        client.post(f"{task_url}/complete")
        after = client.post(f"/api/v1/counters/{world.counters[0]}/call-next").json()["task"]
        assert after["ticket_number"] == "A-001"
    finally:
        client.__exit__(None, None, None)
