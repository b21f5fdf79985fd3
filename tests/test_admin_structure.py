"""The admin's pages for offices, services, counters and staff's services: every form's bad
input is a clear message in the page with nothing written, every change is audited, and a
city unlike the demo (its own codes, prefixes and names) is set up through them."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from counter.models import (
    Counter,
    CounterAllowedService,
    Office,
    Service,
    ServiceKind,
    StaffService,
)
from frontyard.audit import AuditEntry

NAMES = {"name_ja": "北支所", "name_en": "North branch"}


@pytest.fixture(autouse=True)
def english(admin_client) -> None:  # type: ignore[no-untyped-def]
    """The admin reads the pages in English (the messages below are the English ones)."""
    admin_client.headers["Accept-Language"] = "en"


def _post(client, url: str, data: dict):  # type: ignore[no-untyped-def]
    return client.post(url, data=data, follow_redirects=False)


def _count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return len(session.exec(select(model)).all())


def _add_office(client, code: str = "kita") -> None:  # type: ignore[no-untyped-def]
    response = _post(client, "/admin/offices", {"code": code, **NAMES, "address": "北町1-1"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/admin/offices/{code}"


def _add_service(client, code: str, prefix: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {"code": code, "prefix": prefix, "name_ja": f"{code}係", "sort_order": "1",
            "kind": "queue", "active": "on", **extra}
    return _post(client, "/admin/offices/kita/services/new", data)


def test_admin_home_links_every_admin_page_and_home_links_it(admin_client, staff_client):
    """/admin links offices, staff and the audit log; `/` shows admins (only) the way there."""
    page = admin_client.get("/admin")
    assert page.status_code == 200
    for target in ("/admin/offices", "/admin/staff", "/admin/audit"):
        assert f'href="{target}"' in page.text
    assert 'href="/admin"' in admin_client.get("/").text
    assert 'href="/admin"' not in staff_client.get("/").text


def test_a_city_unlike_the_demo_is_set_up_through_the_pages(admin_client, engine):
    """Own codes, prefixes and names: an office, two services and a counter, all audited."""
    _add_office(admin_client)
    assert _add_service(admin_client, "zei", "Z", colour="#AA3300").status_code == 303
    assert _add_service(admin_client, "soudan", "SD", kind="information").status_code == 303
    response = _post(admin_client, "/admin/offices/kita/counters/new", {
        "number": "7", "name_ja": "七番", "zone": "2F", "services": ["zei"]})
    assert response.status_code == 303, response.text
    page = admin_client.get("/admin/offices/kita")
    assert "北支所" in page.text and "zei" in page.text and "SD" in page.text
    with Session(engine) as session:
        office = session.exec(select(Office).where(Office.code == "kita")).one()
        assert office.address == "北町1-1" and office.names["en"] == "North branch"
        services = {s.code: s for s in session.exec(select(Service))}
        assert services["zei"].colour == "#aa3300"
        assert services["soudan"].kind == ServiceKind.INFORMATION
        counter = session.exec(select(Counter)).one()
        assert (counter.number, counter.zone) == ("7", "2F")
        allowed = session.exec(select(CounterAllowedService)).all()
        assert [link.service_id for link in allowed] == [services["zei"].id]
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
    assert actions.count("service_created") == 2
    assert {"office_created", "counter_created"} <= set(actions)


def test_edits_are_audited_with_before_and_after(admin_client, engine):
    """Renaming a service records what it was and what it became."""
    _add_office(admin_client)
    _add_service(admin_client, "zei", "Z")
    response = _post(admin_client, "/admin/offices/kita/services/zei", {
        "code": "zei", "prefix": "T", "name_ja": "税務", "sort_order": "3", "kind": "queue"})
    assert response.status_code == 303, response.text
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(
            AuditEntry.action == "service_changed")).one()
        service = session.exec(select(Service)).one()
    assert entry.detail["before"]["prefix"] == "Z" and entry.detail["before"]["active"] is True
    assert entry.detail["after"]["prefix"] == "T" and entry.detail["after"]["active"] is False
    assert (service.prefix, service.names, service.active) == ("T", {"ja": "税務"}, False)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"code": "", **NAMES}, "code", "lower-case letters"),
    ({"code": "Kita!", **NAMES}, "code", "lower-case letters"),
    ({"code": "x" * 33, **NAMES}, "code", "lower-case letters"),
    ({"code": "kita", "name_en": "North"}, "names", "Japanese"),
    ({"code": "kita", "name_ja": "北" * 101}, "names", "at most 100"),
    ({"code": "kita", **NAMES, "address": "a" * 201}, "address", "At most 200"),
])
def test_bad_office_input_is_shown_in_the_page(admin_client, engine, data, field, message):
    """A refused office form says what is wrong next to the field and writes nothing."""
    response = _post(admin_client, "/admin/offices", data)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="f-{field}-error"' in response.text
    assert "Nothing was saved." in response.text
    assert _count(engine, Office) == 0 and _count(engine, AuditEntry) == 0


def test_office_codes_are_unique(admin_client, engine):
    """A second office with the same code is refused in the page."""
    _add_office(admin_client)
    response = _post(admin_client, "/admin/offices", {"code": "kita", **NAMES})
    assert response.status_code == 422 and "already has the code kita" in response.text
    assert _count(engine, Office) == 1


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"prefix": ""}, "prefix", "ticket prefix"),
    ({"prefix": "a"}, "prefix", "ticket prefix"),
    ({"prefix": "1A"}, "prefix", "ticket prefix"),
    ({"prefix": "ABCDE"}, "prefix", "ticket prefix"),
    ({"prefix": "Z"}, "prefix", "already uses the prefix Z"),
    ({"code": "zei"}, "code", "already has the code zei"),
    ({"code": "-x"}, "code", "lower-case letters"),
    ({"name_ja": ""}, "names", "Japanese"),
    ({"sort_order": "-1"}, "sort_order", "from 0 to 9999"),
    ({"sort_order": "10000"}, "sort_order", "from 0 to 9999"),
    ({"sort_order": "two"}, "sort_order", "from 0 to 9999"),
    ({"colour": "red"}, "colour", "hexadecimal"),
    ({"colour": "#12345"}, "colour", "hexadecimal"),
    ({"kind": "walk-in"}, "kind", "how residents reach"),
])
def test_bad_service_input_is_shown_in_the_page(admin_client, engine, extra, field, message):
    """Each bad service entry: a message by its field, the entries kept, nothing written."""
    _add_office(admin_client)
    _add_service(admin_client, "zei", "Z")
    before = _count(engine, AuditEntry)
    data = {"code": "soudan", "prefix": "S", **extra}
    response = _add_service(admin_client, **data)
    assert response.status_code == 422
    assert message.lower() in response.text.lower()
    assert f'id="f-{field}-error"' in response.text
    assert _count(engine, Service) == 1 and _count(engine, AuditEntry) == before


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"number": ""}, "number", "1 to 16"),
    ({"number": "7 7"}, "number", "1 to 16"),
    ({"number": "1"}, "number", "already has a counter 1"),
    ({"number": "2", "services": ["nope"]}, "services", "Unknown service: nope"),
    ({"number": "2", "name_ja": ""}, "names", "Japanese"),
    ({"number": "2", "zone": "z" * 65}, "zone", "At most 64"),
])
def test_bad_counter_input_is_shown_in_the_page(admin_client, engine, data, field, message):
    """Each bad counter entry is refused in the page and nothing is written."""
    _add_office(admin_client)
    _post(admin_client, "/admin/offices/kita/counters/new", {"number": "1", "name_ja": "一番"})
    response = _post(admin_client, "/admin/offices/kita/counters/new",
                     {"name_ja": "二番", **data})
    assert response.status_code == 422
    assert message in response.text
    assert _count(engine, Counter) == 1 and _count(engine, CounterAllowedService) == 0


def test_unknown_office_service_counter_or_user_is_a_404(admin_client):
    """Addresses naming nothing are a translated 404, not a 500."""
    _add_office(admin_client)
    for url in ("/admin/offices/nope", "/admin/offices/kita/services/nope",
                "/admin/offices/kita/counters/99", "/admin/staff/nobody"):
        assert admin_client.get(url).status_code == 404
        assert _post(admin_client, url, {}).status_code == 404


def test_admin_assigns_staff_services(admin_client, engine, users):
    """The person page stores the chosen services; an unknown one is refused."""
    _add_office(admin_client)
    _add_service(admin_client, "zei", "Z")
    _add_service(admin_client, "soudan", "S")
    url = f"/admin/staff/{users['staff']}"
    assert "kita/zei" in admin_client.get(url).text
    response = _post(admin_client, url, {"services": ["kita/zei"]})
    assert response.status_code == 303
    assert "kita/zei" in admin_client.get("/admin/staff").text
    response = _post(admin_client, url, {"services": ["kita/nope"]})
    assert response.status_code == 422 and "Unknown service: nope" in response.text
    with Session(engine) as session:
        assert len(session.exec(select(StaffService)).all()) == 1
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "staff_services")).one()
    assert (entry.detail["before"], entry.detail["after"]) == ([], ["kita/zei"])
