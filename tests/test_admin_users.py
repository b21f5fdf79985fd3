"""The admin's user pages: list, new account with a temporary password, name and role,
temporary password, deactivation (sessions end at once), unlocking a lockout; bad inputs and
the audit trail."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from frontyard.audit import AuditEntry
from frontyard.auth import Role, User
from frontyard.database import session_scope
from tests.conftest import PASSWORDS, log_in, make_client
from tests.screens_support import office as office  # a fixture, used by name

EN = {"Accept-Language": "en"}
ROUTES = [("GET", "/admin/users"), ("POST", "/admin/users"), ("GET", "/admin/users/{id}"),
          ("POST", "/admin/users/{id}"), ("POST", "/admin/users/{id}/password"),
          ("POST", "/admin/users/{id}/active"), ("POST", "/admin/users/{id}/unlock")]


def _user(engine, username: str) -> User:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return session.exec(select(User).where(User.username == username)).one()


def _temporary(page: str) -> str:
    found = re.search(r'id="temporary-password">([^<]+)<', page)
    assert found, page
    return found.group(1)


def _audit(engine, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_role_matrix(client, staff_client, manager_client, admin_client, engine, users):
    """Anonymous → sign-in, staff and managers → 403, admins through."""
    target = _user(engine, users[Role.STAFF]).id
    for method, path in ROUTES:
        url = path.format(id=target)
        anonymous = client.request(method, url, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        for other in (staff_client, manager_client):
            assert other.request(method, url, follow_redirects=False).status_code == 403
    assert admin_client.get("/admin/users").status_code == 200
    assert admin_client.get(f"/admin/users/{target}").status_code == 200
    assert admin_client.get("/admin/users/999999").status_code == 404


def test_new_account_signs_in_once_with_its_temporary_password(app, admin_client, engine, users):
    """A city's own account (not a demo name): temporary password shown once, forced change,
    audited without the password."""
    page = admin_client.post("/admin/users", headers=EN, data={
        "username": "tanaka.h", "display_name": "  田中  花子 ", "role": "manager"})
    assert page.status_code == 200
    temporary = _temporary(page.text)
    assert "tanaka.h" in page.text
    listing = admin_client.get("/admin/users", headers=EN)
    assert temporary not in listing.text and "Temporary password" in listing.text
    with make_client(app) as person:
        log_in(person, "tanaka.h", temporary)
        assert person.get("/analytics", follow_redirects=False).headers["location"] \
            .startswith("/account/password")
    created = _user(engine, "tanaka.h")
    assert created.display_name == "田中 花子" and created.role == Role.MANAGER
    [entry] = _audit(engine, "user_created")
    assert entry.detail["after"]["role"] == "manager" and entry.detail["before"] is None
    assert temporary not in str(entry.detail)


@pytest.mark.parametrize(("form", "message"), [
    ({"username": "", "role": "staff"}, "A user name has 1 to 64"),
    ({"username": "has space", "role": "staff"}, "A user name has 1 to 64"),
    ({"username": "x" * 65, "role": "staff"}, "A user name has 1 to 64"),
    ({"username": "ADMIN1", "role": "staff"}, "exists already"),
    ({"username": "newbie", "role": "superuser"}, "Choose one of the roles."),
    ({"username": "newbie", "role": "staff", "display_name": "y" * 129}, "at most 128"),
    ({"username": "new\x00bie", "role": "staff"}, "A user name has 1 to 64"),
])
def test_bad_new_account_is_explained_and_nothing_is_written(admin_client, engine, users, form,
                                                             message):
    """Each bad input: 422, its message in the page beside the form, no account, no audit."""
    response = admin_client.post("/admin/users", headers=EN, data=form)
    assert response.status_code == 422
    assert message in response.text and 'aria-invalid="true"' in response.text
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 3
    assert _audit(engine, "user_created") == []


def test_role_and_name_change_is_audited_before_and_after(admin_client, engine, users):
    """A staff member becomes a manager; the audit keeps both states."""
    target = _user(engine, users[Role.STAFF])
    response = admin_client.post(f"/admin/users/{target.id}", headers=EN,
                                 data={"display_name": "Sato", "role": "manager"})
    assert response.status_code == 200 and "Saved." in response.text
    [entry] = _audit(engine, "user_changed")
    assert entry.detail["before"]["role"] == "staff"
    assert entry.detail["after"] == {**entry.detail["before"], "role": "manager",
                                     "display_name": "Sato"}
    bad = admin_client.post(f"/admin/users/{target.id}", headers=EN,
                            data={"display_name": "Sato", "role": "root"})
    assert bad.status_code == 422 and "Choose one of the roles." in bad.text
    assert _user(engine, users[Role.STAFF]).role == Role.MANAGER


def test_an_admin_keeps_their_own_rights_and_the_last_admin_stays(admin_client, engine, users):
    """Demoting or deactivating oneself, the last admin, is refused with a clear message."""
    me = _user(engine, users[Role.ADMIN])
    demote = admin_client.post(f"/admin/users/{me.id}", headers=EN,
                               data={"display_name": "", "role": "staff"})
    assert demote.status_code == 409 and "your own admin rights" in demote.text
    off = admin_client.post(f"/admin/users/{me.id}/active", headers=EN, data={"active": "0"})
    assert off.status_code == 409
    after = _user(engine, users[Role.ADMIN])
    assert after.role == Role.ADMIN and after.active
    assert _audit(engine, "user_changed") == [] and _audit(engine, "user_deactivated") == []


def test_deactivation_ends_sessions_at_once_and_reactivation_does_not_revive_them(
        app, admin_client, staff_client, engine, users):
    """The staff member's open session is refused on the next request; after reactivation
    the old session stays ended, a new sign-in works."""
    target = _user(engine, users[Role.STAFF])
    assert staff_client.get("/counter", follow_redirects=False).status_code != 303
    off = admin_client.post(f"/admin/users/{target.id}/active", headers=EN, data={"active": "0"})
    assert off.status_code == 200 and "Deactivated" in off.text
    assert staff_client.get("/counter", follow_redirects=False).status_code == 303
    with make_client(app) as fresh:
        refused = fresh.post("/login", data={"username": target.username,
                                             "password": PASSWORDS[Role.STAFF]})
        assert refused.status_code == 401
    admin_client.post(f"/admin/users/{target.id}/active", data={"active": "1"})
    assert staff_client.get("/counter", follow_redirects=False).status_code == 303
    with make_client(app) as fresh:
        log_in(fresh, target.username, PASSWORDS[Role.STAFF])
    [entry] = _audit(engine, "user_deactivated")
    assert entry.detail["before"]["active"] and not entry.detail["after"]["active"]


def test_temporary_password_replaces_the_old_and_ends_sessions(app, admin_client, staff_client,
                                                               engine, users):
    """An admin's reset: old password and session dead, the temporary one must be changed."""
    target = _user(engine, users[Role.STAFF])
    page = admin_client.post(f"/admin/users/{target.id}/password", headers=EN)
    temporary = _temporary(page.text)
    assert staff_client.get("/counter", follow_redirects=False).status_code == 303
    with make_client(app) as fresh:
        assert fresh.post("/login", data={"username": target.username,
                                          "password": PASSWORDS[Role.STAFF]}).status_code == 401
        log_in(fresh, target.username, temporary)
        assert fresh.get("/counter", follow_redirects=False).headers["location"].startswith(
            "/account/password")
    [entry] = _audit(engine, "password_reset")
    assert temporary not in str(entry.detail)


def test_admin_unlocks_a_locked_out_account(app, admin_client, engine, users):
    """After too many failures the right password is refused (429) until an admin unlocks."""
    target = _user(engine, users[Role.MANAGER])
    settings = app.state.settings
    with make_client(app) as person:
        for _ in range(settings.login_max_failures):
            person.post("/login", data={"username": target.username, "password": "wrong-guess"})
        locked = person.post("/login", data={"username": target.username,
                                             "password": PASSWORDS[Role.MANAGER]})
        assert locked.status_code == 429
        page = admin_client.get(f"/admin/users/{target.id}", headers=EN)
        assert "Locked out" in page.text and "Clear the sign-in lockout" in page.text
        unlocked = admin_client.post(f"/admin/users/{target.id}/unlock", headers=EN)
        assert unlocked.status_code == 200 and "Locked out" not in unlocked.text
        log_in(person, target.username, PASSWORDS[Role.MANAGER])
    assert len(_audit(engine, "user_unlocked")) == 1


def test_deactivation_closes_the_staff_terminal_at_once(app, engine, users, office):
    """The deactivated person's open terminal socket is closed by the server."""
    from starlette.websockets import WebSocketDisconnect

    from tests.screens_support import open_counter, receive, receive_state

    target = _user(engine, users[Role.STAFF])
    with make_client(app) as browser:
        log_in(browser, target.username, PASSWORDS[Role.STAFF])
        open_counter(browser, office, "4", ["insurance"])
        with browser.websocket_connect("/ws/counter") as terminal:
            receive_state(terminal)
            log_in(browser, users[Role.ADMIN], PASSWORDS[Role.ADMIN])  # same browser, admin
            off = browser.post(f"/admin/users/{target.id}/active", data={"active": "0"})
            assert off.status_code == 200
            with pytest.raises(WebSocketDisconnect):
                while True:
                    receive(terminal)
