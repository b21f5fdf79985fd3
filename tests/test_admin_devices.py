"""The admin's device pages in a city unlike the demo: add with a pairing code, last seen,
revoke (requests refused and open screens closed at once), re-pair (old token dead); bad
inputs and the audit trail (never a token or code)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select
from starlette.websockets import WebSocketDisconnect

from counter.models import Office
from frontyard.audit import AuditEntry
from frontyard.auth import Device, DeviceKind, create_device
from frontyard.database import session_scope
from tests.conftest import make_client
from tests.screens_support import receive, receive_state

EN = {"Accept-Language": "en"}


@pytest.fixture
def city(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Two offices of a city of its own (codes the demo never uses)."""
    with session_scope(engine) as session:
        offices = [Office(code=code, names={"ja": name, "en": code}) for code, name in
                   (("kita-branch", "北支所"), ("honcho", "本庁舎"))]
        session.add_all(offices)
        session.flush()
        return {office.code: office.id for office in offices}  # type: ignore[misc]


def _board(engine, office_id: int, name: str = "hall-screen-7") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        device, token, _ = create_device(session, name, DeviceKind.BOARD, office_id=office_id)
        return device.id, token  # type: ignore[return-value]


def _audit(engine, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def _code(page: str) -> str:
    found = re.search(r'id="pairing-code">([^<]+)<', page)
    assert found, page
    return found.group(1)


def test_role_matrix(client, staff_client, manager_client, admin_client, engine, city, users):
    """Anonymous → sign-in, staff and managers → 403, admins through."""
    device_id, _ = _board(engine, city["honcho"])
    for method, path in [("GET", "/admin/devices"), ("POST", "/admin/devices"),
                         ("POST", f"/admin/devices/{device_id}/revoke"),
                         ("POST", f"/admin/devices/{device_id}/repair")]:
        anonymous = client.request(method, path, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        for other in (staff_client, manager_client):
            assert other.request(method, path, follow_redirects=False).status_code == 403
    assert admin_client.get("/admin/devices").status_code == 200
    assert admin_client.post("/admin/devices/999999/revoke").status_code == 404


def test_added_device_pairs_with_its_code_and_shows_when_last_seen(app, admin_client, engine,
                                                                   city, users):
    """The code from the page pairs the screen by a POST; its requests show as last seen,
    written at most once a minute."""
    page = admin_client.post("/admin/devices", headers=EN, data={
        "name": "Kita lobby board", "kind": "board", "office": "kita-branch"})
    assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in page.text
    code = _code(page.text)
    assert f"/device/pair/{code}" in page.text
    listing = admin_client.get("/admin/devices", headers=EN)
    assert code not in listing.text and "Waiting to be paired" in listing.text
    with make_client(app) as screen:
        paired = screen.post("/device/pair", data={"code": code}, follow_redirects=False)
        assert paired.headers["location"] == "/board"
        assert screen.get("/board").status_code == 200
        with session_scope(engine) as session:
            device = session.exec(select(Device).where(Device.name == "Kita lobby board")).one()
        assert device.office_id == city["kita-branch"] and device.last_seen_at is not None
        screen.get("/board")
        with session_scope(engine) as session:
            again = session.get(Device, device.id)
        assert again.last_seen_at == device.last_seen_at  # type: ignore[union-attr]
    listing = admin_client.get("/admin/devices", headers=EN)
    assert "Never" not in listing.text and "Paired" in listing.text
    [entry] = _audit(engine, "device_added")
    assert entry.detail["after"]["name"] == "Kita lobby board" and code not in str(entry.detail)


@pytest.mark.parametrize(("form", "message"), [
    ({"name": "", "kind": "board", "office": "honcho"}, "A device name has 1 to 64"),
    ({"name": "x" * 65, "kind": "board", "office": "honcho"}, "A device name has 1 to 64"),
    ({"name": "HALL-SCREEN-7", "kind": "board", "office": "honcho"}, "exists already"),
    ({"name": "new", "kind": "tv", "office": "honcho"}, "Choose kiosk or call board."),
    ({"name": "new", "kind": "kiosk", "office": "main"}, "Choose one of the offices."),
    ({"name": "new", "kind": "kiosk"}, "Choose one of the offices."),
])
def test_bad_new_device_is_explained_and_nothing_is_written(admin_client, engine, city, users,
                                                            form, message):
    """Each bad input: 422 with its message in the page, no device, no audit."""
    _board(engine, city["honcho"])
    response = admin_client.post("/admin/devices", headers=EN, data=form)
    assert response.status_code == 422
    assert message in response.text and 'aria-invalid="true"' in response.text
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Device)).one() == 1
    assert _audit(engine, "device_added") == []


def test_revoke_refuses_requests_and_closes_open_screens_at_once(admin_client, engine, city,
                                                                 users):
    """A revoked board's open socket closes and its token opens nothing any more."""
    device_id, token = _board(engine, city["honcho"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert admin_client.get("/board", headers=bearer).status_code == 200
    with admin_client.websocket_connect("/ws/board", headers=bearer) as socket:
        receive_state(socket)
        revoked = admin_client.post(f"/admin/devices/{device_id}/revoke", headers=EN)
        assert revoked.status_code == 200 and "is revoked" in revoked.text
        with pytest.raises(WebSocketDisconnect):
            while True:
                receive(socket)
    with make_client(admin_client.app) as device:
        assert device.get("/board", headers=bearer, follow_redirects=False).status_code == 403
    [entry] = _audit(engine, "device_revoked")
    assert entry.detail["before"]["revoked"] is False and entry.detail["after"]["revoked"]
    assert token not in str(entry.detail)


def test_repair_kills_the_old_token_and_the_new_code_pairs(app, admin_client, engine, city,
                                                          users):
    """Re-pairing (also of a revoked device) makes the old token useless at once."""
    device_id, token = _board(engine, city["kita-branch"])
    admin_client.post(f"/admin/devices/{device_id}/revoke")
    page = admin_client.post(f"/admin/devices/{device_id}/repair", headers=EN)
    code = _code(page.text)
    with make_client(app) as device:
        old = device.get("/board", headers={"Authorization": f"Bearer {token}"},
                         follow_redirects=False)
        assert old.status_code == 403
        assert device.post("/device/pair", data={"code": code},
                           follow_redirects=False).status_code == 303
        assert device.get("/board", follow_redirects=False).status_code == 200
    [entry] = _audit(engine, "device_repaired")
    assert entry.detail["before"]["revoked"] and not entry.detail["after"]["revoked"]
    assert code not in str(entry.detail)
