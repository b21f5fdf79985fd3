"""`frontyard user list/passwd/disable/enable` and `frontyard device list/revoke/repair`, each
in a fresh process on a fresh database, as IT staff would script them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlmodel import Session, select

from frontyard import database
from frontyard.audit import AuditEntry
from frontyard.auth import Device, User, device_for_token, verify_password
from tests.cli_process import run_frontyard


def _run(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRONTYARD_DATA_DIR": str(data_dir), "FRONTYARD_DATABASE_URL": "",
           "FRONTYARD_BASE_URL": "https://frontyard.city.example"}
    return run_frontyard(*args, env=env, input=stdin)


def _user(data_dir: Path, name: str) -> User:
    engine = database.make_engine(f"sqlite:///{data_dir / 'frontyard.sqlite3'}")
    try:
        with Session(engine) as session:
            return session.exec(select(User).where(User.username == name)).one()
    finally:
        engine.dispose()


def test_user_commands(tmp_path: Path, migrated) -> None:
    """list, passwd (stdin and temporary), disable, enable; refusals exit 2 with a reason."""
    migrated(tmp_path)
    for name, role in (("yamada.t", "admin"), ("kido", "staff")):
        added = _run(tmp_path, "user", "add", name, "--role", role, "--password-stdin",
                     stdin="first-password-1\n")
        assert added.returncode == 0, added.stderr
    listed = _run(tmp_path, "user", "list")
    assert listed.returncode == 0
    assert [line.split()[:3] for line in listed.stdout.splitlines()] == [
        ["kido", "staff", "active"], ["yamada.t", "admin", "active"]]

    typed = _run(tmp_path, "user", "passwd", "kido", "--password-stdin", stdin="kido-second-pw\n")
    assert typed.returncode == 0 and "kido-second-pw" not in typed.stdout
    kido = _user(tmp_path, "kido")
    assert verify_password(kido.password_hash, "kido-second-pw") and kido.session_version == 1
    assert not kido.must_change_password

    temporary = _run(tmp_path, "user", "passwd", "kido")
    password = temporary.stdout.strip().rsplit(" ", 1)[1]
    kido = _user(tmp_path, "kido")
    assert verify_password(kido.password_hash, password) and kido.must_change_password
    assert "temporary-password" in _run(tmp_path, "user", "list").stdout

    short = _run(tmp_path, "user", "passwd", "kido", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    unknown = _run(tmp_path, "user", "disable", "nobody")
    assert unknown.returncode == 2 and "There is no such user." in unknown.stderr
    last_admin = _run(tmp_path, "user", "disable", "yamada.t")
    assert last_admin.returncode == 2 and "last active admin" in last_admin.stderr

    assert _run(tmp_path, "user", "disable", "kido").returncode == 0
    assert not _user(tmp_path, "kido").active
    assert "already disabled" in _run(tmp_path, "user", "disable", "kido").stdout
    assert _run(tmp_path, "user", "enable", "kido").returncode == 0
    assert _user(tmp_path, "kido").active


def test_device_commands(tmp_path: Path, migrated) -> None:
    """list with last seen, revoke, repair: the old token dies, the new link asks first."""
    migrated(tmp_path)
    added = _run(tmp_path, "device", "add", "minami-kiosk-2", "--kind", "kiosk")
    token = added.stdout.split("Bearer …'): ")[1].split()[0]
    listed = _run(tmp_path, "device", "list")
    assert listed.stdout.split() == ["minami-kiosk-2", "kiosk", "-", "unpaired", "last", "seen",
                                     "never"]
    repaired = _run(tmp_path, "device", "repair", "minami-kiosk-2")
    assert repaired.returncode == 0
    assert "https://frontyard.city.example/device/pair/" in repaired.stdout
    assert _run(tmp_path, "device", "revoke", "minami-kiosk-2").returncode == 0
    assert "revoked" in _run(tmp_path, "device", "list").stdout
    missing = _run(tmp_path, "device", "revoke", "no-such-device")
    assert missing.returncode == 2 and "There is no such device." in missing.stderr
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    try:
        with Session(engine) as session:
            assert device_for_token(session, token) is None
            assert session.exec(select(Device)).one().revoked
            actions = [entry.action for entry in session.exec(select(AuditEntry))]
            assert actions == ["device_repaired", "device_revoked"]
    finally:
        engine.dispose()
