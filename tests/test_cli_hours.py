"""`frontyard hours` and `frontyard closure`, each in a fresh process on a fresh database, with
the same rules and audit as the admin's pages."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from counter.hours import Closure, OfficeCalendar, OpeningRange, ServiceCutoff
from frontyard import database
from frontyard.audit import AuditEntry
from tests.test_cli_structure import _frontyard


@pytest.mark.timeout(900)  # a dozen fresh processes on a busy machine
def test_hours_and_closures_from_the_command_line(tmp_path, migrated):
    """Weekdays with a lunch gap, first Saturdays, the holiday switch, a service's own hours
    and cut-off, a year-end closure; then shown, listed and removed."""
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    run("office", "add", "minami", "--name", "ja=南庁舎")
    run("service", "add", "nenkin", "--prefix", "N", "--name", "ja=年金")
    run("hours", "set", "mon,tue,wed,thu,fri", "08:30-12:00,13:00-17:15")
    run("hours", "set", "sat#1", "09:00-12:00")
    run("hours", "holidays", "open")
    run("hours", "set", "mon", "08:30-11:00", "--service", "nenkin")
    run("hours", "cutoff", "nenkin", "30")
    added = run("closure", "add", "2026-12-29", "2027-01-03", "--name", "年末年始").stdout
    closure_id = added.split("\t")[0]
    shown = run("hours", "show").stdout
    assert "mon\t08:30-12:00, 13:00-17:15" in shown and "sat#1\t09:00-12:00" in shown
    assert "holidays\topen" in shown and "closure\t2026-12-29\t2027-01-03\t年末年始" in shown
    assert "service\tnenkin\tmon 08:30-11:00\tcutoff 30" in shown
    assert f"{closure_id}\t2026-12-29\t2027-01-03\t年末年始" in run("closure", "list").stdout
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        assert len(session.exec(select(OpeningRange)).all()) == 12
        assert session.exec(select(OfficeCalendar)).one().closed_on_national_holidays is False
        assert session.exec(select(ServiceCutoff)).one().minutes == 30
        actions = {entry.action for entry in session.exec(select(AuditEntry))}
    assert {"hours_changed", "holidays_changed", "cutoff_changed", "closure_added"} <= actions
    run("closure", "remove", closure_id)
    run("hours", "set", "sat#1", "")
    with Session(engine) as session:
        assert session.exec(select(Closure)).first() is None
        assert {row.nth for row in session.exec(select(OpeningRange))} == {0}
    engine.dispose()


@pytest.mark.timeout(900)
def test_bad_hours_and_closures_are_refused_with_a_message(tmp_path, migrated):
    """Exit 2 with the problem; nothing written."""
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    run("office", "add", "minami", "--name", "ja=南庁舎")
    refusals = [
        (("hours", "set", "mon", "17:00-09:00"), "ends before it starts"),
        (("hours", "set", "mon", "08:00-12:00,11:00-13:00"), "overlap"),
        (("hours", "set", "mon", "08:00-25:00"), "HH:MM-HH:MM"),
        (("hours", "set", "funday", "08:00-12:00"), "Unknown day"),
        (("hours", "cutoff", "nope", "30"), "no service"),
        (("closure", "add", "2027-01-03", "2026-12-29", "--name", "x"), "before the start"),
        (("closure", "add", "soon", "--name", "x"), "YYYY-MM-DD"),
        (("closure", "remove", "99"), "does not exist"),
    ]
    for args, message in refusals:
        result = run(*args, ok=False)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        assert session.exec(select(OpeningRange)).first() is None
        assert session.exec(select(Closure)).first() is None
    engine.dispose()
