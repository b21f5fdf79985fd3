"""Who may serve what, in the queue engine, the terminal and the API: a staff member (or a
counter) restricted by the admin cannot open, call or act on other services; with no
restriction everything is allowed. Only queue services issue tickets."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from counter import queue
from counter.models import CounterAllowedService, Service, ServiceKind, StaffService
from frontyard import database
from frontyard.auth import Role, User
from frontyard.errors import NotAllowed, ValidationFailed
from frontyard.i18n import use_locale


def _restrict(engine, user_id: int, *service_ids: int) -> None:  # type: ignore[no-untyped-def]
    with database.session_scope(engine) as session:
        session.add_all(StaffService(user_id=user_id, service_id=s) for s in service_ids)


def test_no_assignment_means_every_service(engine, world):
    """An upgraded install: nobody is restricted, so anyone opens for anything."""
    with database.session_scope(engine) as session:
        queue.open_counter(session, world.counters[0], world.staff[0], world.services.values())


def test_a_restricted_staff_member_cannot_open_for_other_services(engine, world):
    """Opening for a service not assigned is refused (403) and nothing changes."""
    _restrict(engine, world.staff[0], world.services["residents"])
    with pytest.raises(NotAllowed, match="insurance"), database.session_scope(engine) as session:
        queue.open_counter(session, world.counters[0], world.staff[0],
                           [world.services["residents"], world.services["insurance"]])
    with database.session_scope(engine) as session:
        queue.open_counter(session, world.counters[0], world.staff[0],
                           [world.services["residents"]])


def test_a_counter_serves_only_its_allowed_services(engine, world):
    """A counter restricted by the admin refuses other services, whoever signs in."""
    with database.session_scope(engine) as session:
        session.add(CounterAllowedService(counter_id=world.counters[0],
                                          service_id=world.services["insurance"]))
    with use_locale("en"), pytest.raises(NotAllowed, match="counter"), \
            database.session_scope(engine) as session:
        queue.open_counter(session, world.counters[0], world.staff[0],
                           [world.services["residents"]])


def test_a_restricted_staff_member_cannot_call_or_act_on_other_tickets(engine, world):
    """Calling a ticket of another service, or acting on one, is refused."""
    with database.session_scope(engine) as session:
        queue.open_counter(session, world.counters[0], world.staff[0], world.services.values())
        visit = queue.issue_ticket(session, office_id=world.office_id,
                                   service_codes=["insurance"])
        task_id = queue.visit_tasks(session, visit)[0].id
    _restrict(engine, world.staff[0], world.services["residents"])
    # Restricted after opening: call-next skips the services no longer allowed.
    with database.session_scope(engine) as session:
        assert queue.call_next(session, world.counters[0], world.staff[0]) is None
    with pytest.raises(NotAllowed), database.session_scope(engine) as session:
        queue.call_task(session, task_id, world.counters[0], world.staff[0])
    with pytest.raises(NotAllowed), database.session_scope(engine) as session:
        queue.cancel(session, task_id, world.staff[0])
    with database.session_scope(engine) as session:  # another (unrestricted) member may
        queue.open_counter(session, world.counters[1], world.staff[1], world.services.values())
        assert queue.call_next(session, world.counters[1], world.staff[1]).id == task_id


def test_terminal_offers_and_accepts_only_assigned_services(staff_client, engine, world, users):
    """The terminal lists only the assigned services; a forged form is refused in the page."""
    with Session(engine) as session:
        me = session.exec(select(User).where(User.username == users[Role.STAFF])).one()
    _restrict(engine, me.id, world.services["insurance"])
    staff_client.headers["Accept-Language"] = "en"
    page = staff_client.get(f"/counter?counter={world.counters[0]}")
    assert f'name="service_id" value="{world.services["insurance"]}"' in page.text
    assert f'name="service_id" value="{world.services["residents"]}"' not in page.text
    response = staff_client.post("/counter/open", data={
        "counter_id": str(world.counters[0]), "service_id": [str(world.services["residents"])]},
        follow_redirects=False)
    assert response.status_code == 403
    assert "not assigned to serve: residents" in response.text


def test_api_refuses_opening_for_unassigned_services(staff_client, engine, world, users):
    """The JSON API enforces the same rule."""
    with Session(engine) as session:
        me = session.exec(select(User).where(User.username == users[Role.STAFF])).one()
    _restrict(engine, me.id, world.services["insurance"])
    staff_client.headers["Accept-Language"] = "en"
    response = staff_client.post(f"/api/v1/counters/{world.counters[0]}/open",
                                 json={"services": ["residents"]})
    assert response.status_code == 403
    assert "residents" in response.json()["detail"]


@pytest.mark.parametrize(("kind", "message"), [
    (ServiceKind.APPOINTMENT, "by appointment only"),
    (ServiceKind.INFORMATION, "information only"),
])
def test_only_queue_services_issue_tickets(engine, world, kind, message):
    """Appointment-only and information-only services refuse tickets with a clear message."""
    with database.session_scope(engine) as session:
        service = session.get(Service, world.services["insurance"])
        service.kind = kind
        session.add(service)
    with use_locale("en"), pytest.raises(ValidationFailed, match=message), \
            database.session_scope(engine) as session:
        queue.issue_ticket(session, office_id=world.office_id, service_codes=["insurance"])


def test_api_refuses_tickets_for_an_information_service(client, engine, world):
    """The kiosk API answers 422 with the message, and issues nothing."""
    from frontyard.auth import DeviceKind, create_device

    with database.session_scope(engine) as session:
        service = session.get(Service, world.services["insurance"])
        service.kind = ServiceKind.INFORMATION
        session.add(service)
        _, token, _ = create_device(session, "kiosk", DeviceKind.KIOSK, office_id=world.office_id)
    response = client.post("/api/v1/tickets", json={"services": ["insurance"]},
                           headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert response.status_code == 422
    assert "information only" in response.json()["detail"]
