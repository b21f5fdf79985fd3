"""The `frontyard` command line, run in-process with click's runner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from composition.cli import main
from frontyard import database
from frontyard.auth import Device, Role, User, device_for_token, verify_password


@pytest.fixture
def run(tmp_path):  # type: ignore[no-untyped-def]
    """Run a CLI command against a SQLite database in tmp_path."""
    env = {"FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": ""}

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), input=stdin, env=env)

    return invoke


@pytest.fixture
def cli_engine(tmp_path):  # type: ignore[no-untyped-def]
    """The engine of the CLI's database (for checking what commands wrote)."""
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    yield engine
    engine.dispose()


def test_commands_refuse_an_unmigrated_database(run):
    """Every command that needs the schema says to run `db upgrade` first."""
    result = run("user", "add", "someone", "--password-stdin", stdin="long-password\n")
    assert result.exit_code == 2
    assert "frontyard db upgrade" in result.output


def test_db_upgrade_then_user_add(run, cli_engine):
    """`db upgrade` migrates; `user add` stores an argon2 hash, not the password."""
    assert run("db", "upgrade").exit_code == 0
    result = run("user", "add", "sato", "--role", "manager", "--password-stdin",
                 stdin="correct horse battery\n")
    assert result.exit_code == 0, result.output
    with Session(cli_engine) as session:
        user = session.exec(select(User).where(User.username == "sato")).one()
    assert user.role == Role.MANAGER
    assert user.password_hash.startswith("$argon2")
    assert verify_password(user.password_hash, "correct horse battery")


def test_user_add_prompts_for_password(run, cli_engine, tmp_path, migrated):
    """Without --password-stdin the password is asked twice, hidden."""
    migrated(tmp_path)
    result = run("user", "add", "tanaka", stdin="secret-pass-1\nsecret-pass-1\n")
    assert result.exit_code == 0, result.output


def test_user_add_refuses_short_password_and_duplicates(run, tmp_path, migrated):
    """Clear messages, exit code 2, nothing written twice."""
    migrated(tmp_path)
    short = run("user", "add", "x", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "at least 8" in short.output
    run("user", "add", "dup", "--password-stdin", stdin="long-enough-1\n")
    again = run("user", "add", "dup", "--password-stdin", stdin="long-enough-1\n")
    assert again.exit_code == 2 and "exists already" in again.output


def test_device_add_prints_token_and_pairing_link(run, cli_engine, tmp_path, migrated):
    """The token is shown once and works; only its hash is stored."""
    migrated(tmp_path)
    result = run("device", "add", "lobby-board", "--kind", "board")
    assert result.exit_code == 0, result.output
    token = result.output.split("Token (send as 'Authorization: Bearer …'): ")[1].split()[0]
    assert "/device/pair/" in result.output
    with Session(cli_engine) as session:
        device = device_for_token(session, token)
        assert device is not None and device.name == "lobby-board"
        assert token not in {d.token_hash for d in session.exec(select(Device))}


def test_device_add_with_office_in_a_fresh_process(tmp_path):
    """On a fresh install, in a process of its own (which imports no model of the queue up
    front): a device with no office yet, then one of the office named, or a clear refusal."""
    import os
    import subprocess
    import sys

    from counter.models import Office
    from frontyard import PROJECT_ROOT

    env = {**os.environ, "FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": ""}

    def frontyard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "composition.cli", *args], env=env,
                              cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)

    assert frontyard("db", "upgrade").returncode == 0
    first = frontyard("device", "add", "early-kiosk", "--kind", "kiosk")
    assert first.returncode == 0, first.stderr
    assert "there is no office yet" in first.stdout
    assert frontyard("demo").returncode == 0
    added = frontyard("device", "add", "lobby-board", "--kind", "board", "--office", "main")
    assert added.returncode == 0, added.stderr
    assert "Office: main" in added.stdout and "Traceback" not in added.stderr
    unknown = frontyard("device", "add", "other", "--kind", "kiosk", "--office", "nowhere")
    assert unknown.returncode == 2
    assert "No office with the code 'nowhere' (offices: main)." in unknown.stderr
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        office = session.exec(select(Office).where(Office.code == "main")).one()
        devices = {d.name: d.office_id for d in session.exec(select(Device))}
    engine.dispose()
    assert devices["early-kiosk"] is None and devices["lobby-board"] == office.id
    assert "other" not in devices


def test_demo_is_idempotent_and_prints_logins(run, cli_engine, tmp_path, migrated):
    """Running `demo` twice seeds once and prints the demo logins."""
    migrated(tmp_path)
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "admin" in first.output and "manager" in first.output and "staff" in first.output
    assert run("demo").exit_code == 0
    with Session(cli_engine) as session:
        assert len(session.exec(select(User)).all()) == 3


def test_bad_database_url_is_a_clear_error(tmp_path):
    """A malformed URL is reported in one line, exit code 2, no traceback."""
    result = CliRunner().invoke(main, ["db", "upgrade"],
                                env={"FRONTYARD_DATABASE_URL": "nonsense",
                                     "FRONTYARD_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "FRONTYARD_DATABASE_URL" in result.output
    assert "Traceback" not in result.output


def test_purge_reports_count(run, tmp_path, migrated):
    """`purge` runs the retention rule and says how much it deleted."""
    migrated(tmp_path)
    result = run("purge")
    assert result.exit_code == 0 and "Purged the personal details of 0 visit(s)." in result.output


def test_backup_copies_a_consistent_sqlite_file(run, tmp_path, migrated):
    """`backup` writes a complete copy that opens as a migrated database."""
    migrated(tmp_path)
    run("user", "add", "kept", "--password-stdin", stdin="long-enough-1\n")
    target = tmp_path / "copy.sqlite3"
    result = run("backup", "--output", str(target))
    assert result.exit_code == 0, result.output
    engine = database.make_engine(f"sqlite:///{target}")
    database.ensure_migrated(engine)
    with Session(engine) as session:
        assert session.exec(select(User).where(User.username == "kept")).one()
    engine.dispose()
