"""`frontyard appointments show / set` in a fresh process on a fresh database, audited."""

from __future__ import annotations

from sqlmodel import Session, select

from counter.appointments.models import BookableService, BookingHours
from frontyard import database
from frontyard.audit import AuditEntry
from tests.test_cli_structure import _frontyard


def test_a_service_is_made_bookable_from_the_command_line(tmp_path, migrated):
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    run("office", "add", "kita", "--name", "ja=北庁舎")
    run("service", "add", "soudan", "--prefix", "S", "--name", "ja=相談", "--kind", "appointment")
    assert "bookable: no" in run("appointments", "show", "kita", "soudan").stdout
    out = run("appointments", "set", "kita", "soudan", "--hours",
              "mon-fri 09:00-12:00 15 2; sat 09:00-10:00 30 1").stdout
    assert "bookable yes, 6 weekly range(s)" in out
    shown = run("appointments", "show", "kita", "soudan").stdout
    assert "bookable: yes" in shown and "mon 09:00-12:00 15 2" in shown
    bad = run("appointments", "set", "kita", "soudan", "--hours", "mon 09:00-12:00 7 2", ok=False)
    assert bad.returncode == 1 and "line 1" in bad.stderr and "divide" in bad.stderr
    missing = run("appointments", "show", "kita", "nothing", ok=False)
    assert missing.returncode == 1 and "Refused" in missing.stderr
    run("appointments", "set", "kita", "soudan", "--off")
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        assert not session.exec(select(BookableService)).one().enabled
        assert len(session.exec(select(BookingHours)).all()) == 6  # --off keeps the hours
        entries = [e for e in session.exec(select(AuditEntry))
                   if e.action == "appointments_changed"]
    engine.dispose()
    assert len(entries) == 2
    assert entries[0].detail["before"]["bookable"] is False
    assert entries[0].detail["after"]["hours"][0] == "mon 09:00-12:00 15 2"
