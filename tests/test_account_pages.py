"""One's own password: the change form, its bad inputs, and the forced change after a
temporary password."""

from __future__ import annotations

from sqlmodel import select

from frontyard.auth import Role, User
from frontyard.database import session_scope
from frontyard.passwords import set_password
from tests.conftest import PASSWORDS, log_in, make_client

EN = {"Accept-Language": "en"}


def _change(client, current: str, new: str, confirmation: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/account/password", headers=EN, follow_redirects=False, data={
        "current_password": current, "new_password": new,
        "confirmation": new if confirmation is None else confirmation, "next": "/counter"})


def test_password_page_needs_a_signed_in_person(client, staff_client):
    """Anonymous visitors are sent to sign in; any role may change their own password."""
    response = client.get("/account/password", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert staff_client.get("/account/password").status_code == 200


def test_every_bad_input_is_explained_and_changes_nothing(app, staff_client, engine, users):
    """Wrong current password, mismatch, too short, too long, control codes, the user name,
    the same password: each a 422 with its message; the old password still works."""
    old = PASSWORDS[Role.STAFF]
    cases = [
        (("wrong-password", "new-password-1"), "The current password is not correct."),
        ((old, "new-password-1", "new-password-2"), "The two new passwords are not the same."),
        ((old, "short"), "at least 8 characters"),
        ((old, "x" * 129), "at most 128 characters"),
        ((old, "new-pass\x00word"), "may not contain control characters"),
        ((old, "STAFF1"), "may not be the user name"),
        ((old, old), "different from the current one"),
    ]
    for args, message in cases:
        response = _change(staff_client, *args)
        assert response.status_code == 422, args
        assert message in response.text and 'aria-invalid="true"' in response.text
    with make_client(app) as other:
        log_in(other, users[Role.STAFF], old)


def test_a_change_keeps_this_session_and_ends_the_others(app, staff_client, users, engine):
    """The new password works, the old does not, and another browser's session ends."""
    with make_client(app) as elsewhere:
        log_in(elsewhere, users[Role.STAFF], PASSWORDS[Role.STAFF])
        response = _change(staff_client, PASSWORDS[Role.STAFF], "brand-new-secret")
        assert response.status_code == 303 and response.headers["location"] == "/counter"
        assert staff_client.get("/account/password").status_code == 200
        assert elsewhere.get("/account/password", follow_redirects=False).status_code == 303
    with make_client(app) as fresh:
        refused = fresh.post("/login", data={"username": users[Role.STAFF],
                                             "password": PASSWORDS[Role.STAFF]})
        assert refused.status_code == 401
        log_in(fresh, users[Role.STAFF], "brand-new-secret")
    with session_scope(engine) as session:
        from frontyard.audit import AuditEntry

        entry = session.exec(select(AuditEntry).where(
            AuditEntry.action == "password_changed")).one()
        assert entry.detail == {"user": users[Role.STAFF]}  # never the password


def test_temporary_password_forces_a_change_first(app, engine, users):
    """With a temporary password every page leads to the change form until it is changed."""
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == users[Role.MANAGER])).one()
        set_password(session, user, "temporary-pw-1", temporary=True)
    with make_client(app) as client:
        log_in(client, users[Role.MANAGER], "temporary-pw-1")
        page = client.get("/analytics", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/account/password?next=/analytics"
        form = client.get("/account/password?next=/analytics", headers=EN)
        assert "temporary password" in form.text
        assert client.get("/api/v1/counters/1", follow_redirects=False).status_code == 403
        done = _change(client, "temporary-pw-1", "my-own-password")
        assert done.status_code == 303
        assert client.get("/analytics", follow_redirects=False).status_code == 200
