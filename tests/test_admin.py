"""The admins' audit log page and its CSV export."""

from __future__ import annotations

from sqlmodel import select

from frontyard.audit import record
from frontyard.auth import User
from frontyard.database import session_scope


def _log_view(engine, username: str, visit_id: int) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        record(session, user.id, "view_details", visit_id, fields=["name"])


def test_only_admins_see_the_audit_log(staff_client, manager_client):
    """Staff and managers get 403."""
    assert staff_client.get("/admin/audit").status_code == 403
    assert manager_client.get("/admin/audit").status_code == 403


def test_audit_log_lists_entries_and_exports_csv(admin_client, engine, users):
    """A recorded view appears on the page and in the CSV."""
    _log_view(engine, "staff1", 42)
    page = admin_client.get("/admin/audit", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "view_details" in page.text and "staff1" in page.text
    export = admin_client.get("/admin/audit.csv")
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "at_utc,user,action,visit_id,detail"
    assert lines[1].split(",")[1:4] == ["staff1", "view_details", "42"]


def test_bad_dates_are_a_clear_422(admin_client):
    """Malformed or reversed dates are explained, not a 500."""
    response = admin_client.get("/admin/audit?from=yesterday", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.text
    reversed_range = admin_client.get("/admin/audit?from=2026-05-02&to=2026-05-01",
                                      headers={"Accept-Language": "en"})
    assert reversed_range.status_code == 422


def test_audit_dates_out_of_range_are_invalid_input(admin_client):
    """The last representable day (found by fuzzing: a day after it overflowed) is a 422."""
    for dates in ({"from": "2026-01-01", "to": "9999-12-31"}, {"from": "0001-01-01"}):
        response = admin_client.get("/admin/audit.csv", params=dates,
                                    headers={"Accept-Language": "en"})
        assert response.status_code == 422
        assert "Choose a date between 2000-01-01 and 2999-12-31." in response.text
