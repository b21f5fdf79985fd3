"""`frontyard office/service/counter add|list|edit` and `frontyard user services`, each in a
fresh process on a fresh database, with the same rules and audit as the admin's pages."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlmodel import Session, select

from counter.models import Counter, Service, ServiceKind, StaffService
from frontyard import database
from frontyard.audit import AuditEntry
from tests.cli_process import run_frontyard


def _frontyard(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": ""}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = run_frontyard(*args, env=env)
        if ok:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return result

    return run


def test_a_city_is_set_up_from_the_command_line(tmp_path, migrated):
    """An office, two services, a counter and a staff member's services, then edits."""
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    run("office", "add", "minami", "--name", "ja=南庁舎", "--name", "en=South office",
        "--address", "南町2-2")
    run("service", "add", "nenkin", "--prefix", "N", "--name", "ja=年金", "--colour", "#00aa00")
    run("service", "add", "yoyaku", "--prefix", "Y", "--name", "ja=予約相談",
        "--kind", "appointment")
    run("counter", "add", "12", "--name", "ja=12番", "--zone", "3F", "--services", "nenkin")
    assert "minami\t南庁舎\t南町2-2" in run("office", "list").stdout
    listing = run("service", "list").stdout
    assert "0\tnenkin\tN\tqueue\ton\t年金" in listing and "yoyaku\tY\tappointment" in listing
    assert "12\t3F\tnenkin\t12番" in run("counter", "list", "--office", "minami").stdout
    run("service", "edit", "nenkin", "--prefix", "P", "--inactive", "--name", "en=Pension")
    run("counter", "edit", "12", "--services", "", "--zone", "4F")
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        services = {s.code: s for s in session.exec(select(Service))}
        counter = session.exec(select(Counter)).one()
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
    engine.dispose()
    assert services["nenkin"].prefix == "P" and not services["nenkin"].active
    assert services["nenkin"].names == {"ja": "年金", "en": "Pension"}
    assert services["yoyaku"].kind == ServiceKind.APPOINTMENT
    assert counter.zone == "4F"
    assert actions.count("service_changed") == 1 and actions.count("counter_changed") == 1


def test_bad_input_is_a_clear_message_and_exit_2(tmp_path, migrated):
    """Refusals name the problem, write nothing, and never print a traceback."""
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    refused = run("office", "add", "Bad Code", "--name", "ja=x", ok=False)
    assert refused.returncode == 2 and "code: Use 1 to 32 lower-case" in refused.stderr
    assert "names: Give the name in Japanese" in run("office", "add", "a", ok=False).stderr
    run("office", "add", "a", "--name", "ja=甲")
    run("office", "add", "b", "--name", "ja=乙")
    ambiguous = run("service", "add", "x", "--prefix", "X", "--name", "ja=x", ok=False)
    assert "Name the office with --office (offices: a, b)" in ambiguous.stderr
    bad = run("service", "add", "x", "--office", "a", "--prefix", "x1", "--name", "ja=x",
              "--colour", "blue", ok=False)
    assert "prefix: A ticket prefix" in bad.stderr and "colour: Write the colour" in bad.stderr
    assert run("service", "edit", "nope", "--office", "a", ok=False).returncode == 2
    assert "--name" in run("office", "add", "c", "--name", "oops", ok=False).stderr
    assert run("service", "list", "--office", "a").stdout == ""


def test_user_services_shows_and_sets(tmp_path, migrated):
    """`user services NAME --set a,b` restricts; `--set ''` lifts the restriction."""
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    run("office", "add", "a", "--name", "ja=甲")
    run("service", "add", "p", "--prefix", "P", "--name", "ja=ぴ")
    run("service", "add", "q", "--prefix", "Q", "--name", "ja=きゅ")
    run_frontyard("user", "add", "ito", "--password-stdin", input="long-password\n",
                  env={**os.environ, "FRONTYARD_DATA_DIR": str(tmp_path),
                       "FRONTYARD_DATABASE_URL": ""}).check_returncode()
    assert run("user", "services", "ito").stdout.strip() == "ito: every service"
    assert run("user", "services", "ito", "--set", "p,q").stdout.strip() == "ito: a/p, a/q"
    unknown = run("user", "services", "ito", "--set", "p,zz", ok=False)
    assert "Unknown service: zz" in unknown.stderr
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        assert len(session.exec(select(StaffService)).all()) == 2
    engine.dispose()
    assert run("user", "services", "ito", "--set", "").stdout.strip() == "ito: every service"
    assert "nobody" in run("user", "services", "nobody", ok=False).stderr
