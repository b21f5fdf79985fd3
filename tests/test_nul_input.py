"""A NUL character in any input is refused as invalid (422), never a 500 from PostgreSQL, and
nothing of the request is written (found by the form fuzzing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from counter.models import Visit
from frontyard.auth import DeviceKind, User, create_device
from frontyard.database import session_scope
from frontyard.exceptions import ValidationFailed


def test_login_with_nul_is_invalid_input(client, users):
    """The sign-in form answers 422 with a message, in the page's language."""
    response = client.post("/login", data={"username": "staff\x001", "password": "x"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "cannot be stored" in response.text


def test_api_ticket_with_nul_is_refused_and_not_written(client, engine, world):
    """A NUL in a service code: 422 JSON, no visit. (In the personal details it travels
    escaped inside JSON, which both databases store as it is.)"""
    with session_scope(engine) as session:
        _, token, _ = create_device(session, "nul-kiosk", DeviceKind.KIOSK,
                                    office_id=world.office_id)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "ja"}
    response = client.post("/api/v1/tickets", json={"services": ["resi\u0000dents"]},
                           headers=headers)
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["detail"] and "保存できない" in response.json()["detail"]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Visit)).one() == 0


def test_engine_refuses_nul_on_every_backend(engine):
    """The guard sits on the engine: SQLite, which could store it, refuses it too."""
    with pytest.raises(ValidationFailed), session_scope(engine) as session:
        session.add(User(username="nul\x00user", password_hash="!"))
        session.flush()
    with Session(engine) as session:
        assert session.exec(select(User).where(User.username.startswith("nul"))).all() == []  # type: ignore[attr-defined]
