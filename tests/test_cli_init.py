"""`frontyard init` and the demo's guard, each in a fresh process on a fresh database, as a
city's IT person runs them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlmodel import Session, select

from counter.models import Office
from frontyard import database
from frontyard.auth import Role, User, verify_password
from tests.cli_process import run_frontyard


def _frontyard(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": "",
           "FRONTYARD_BASE_URL": "https://madoguchi.example.jp"}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = run_frontyard(*args, env=env, input=stdin)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


def _users(tmp_path: Path) -> list[User]:
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        users = list(session.exec(select(User)))
        assert not session.exec(select(Office)).all()  # init creates no city
    engine.dispose()
    return users


def test_init_on_an_empty_database_creates_only_an_admin(tmp_path):
    """Migrates a never-migrated database, creates one admin with a temporary password (to be
    changed at the first sign-in) and says where to sign in and what comes next."""
    run = _frontyard(tmp_path)
    result = run("init", "--admin", "kanri", "--display-name", "情報政策課")
    assert result.returncode == 0, result.stderr
    assert "Migrated the database" in result.stdout
    temporary = result.stdout.split("sign-in): ")[1].split()[0]
    assert "https://madoguchi.example.jp/login" in result.stdout
    assert "https://madoguchi.example.jp/admin" in result.stdout
    assert "office, services, counters, devices, users" in result.stdout
    [admin] = _users(tmp_path)
    assert (admin.username, admin.role, admin.display_name) == ("kanri", Role.ADMIN, "情報政策課")
    assert admin.must_change_password and verify_password(admin.password_hash, temporary)
    assert run("serve", "--help").returncode == 0


def test_init_on_a_migrated_database_with_a_password_from_stdin(tmp_path, migrated):
    """After `db upgrade` it only adds the admin; a password given is final."""
    migrated(tmp_path)
    run = _frontyard(tmp_path)
    result = run("init", "--password-stdin", stdin="a long admin password\n")
    assert result.returncode == 0, result.stderr
    assert "Migrated" not in result.stdout and "Temporary password" not in result.stdout
    [admin] = _users(tmp_path)
    assert admin.username == "admin" and not admin.must_change_password
    assert verify_password(admin.password_hash, "a long admin password")


def test_init_refuses_when_an_admin_exists_and_bad_passwords(tmp_path):
    """A second init, or one on a database with an admin, changes nothing and exits 2."""
    run = _frontyard(tmp_path)
    short = run("init", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    empty = run("init", "--password-stdin", stdin="\n")
    assert empty.returncode == 2 and "No password" in empty.stderr
    assert run("init", "--admin", "bad name").returncode == 2
    assert _users(tmp_path) == []
    assert run("init", "--admin", "kanri").returncode == 0
    again = run("init", "--admin", "other")
    assert again.returncode == 2
    assert "set up already" in again.stderr and "kanri" in again.stderr
    assert [user.username for user in _users(tmp_path)] == ["kanri"]


def test_the_demo_warns_and_refuses_a_real_city_without_force(tmp_path, migrated):
    """The demo says it creates known passwords; on a database set up with `init` it refuses
    (nothing added) unless --force; on a demo-only database it runs again."""
    run = _frontyard(tmp_path)
    assert run("init", "--admin", "kanri").returncode == 0
    refused = run("demo")
    assert refused.returncode == 2
    assert "known passwords" in refused.stderr and "not for production" not in refused.stdout
    assert "accounts kanri" in refused.stderr and "--force" in refused.stderr
    assert [user.username for user in _users(tmp_path)] == ["kanri"]
    demo_only = tmp_path / "demo"
    migrated(demo_only)
    run_demo = _frontyard(demo_only)
    first = run_demo("demo")
    assert first.returncode == 0 and "never for production" in first.stderr
    assert run_demo("demo").returncode == 0
    assert run_demo("office", "add", "kita", "--name", "ja=北").returncode == 0
    other_city = run_demo("demo")
    assert other_city.returncode == 2 and "offices kita" in other_city.stderr
    assert run_demo("demo", "--force").returncode == 0
