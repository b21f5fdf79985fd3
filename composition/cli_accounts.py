"""`frontyard user list / passwd / disable / enable` and `frontyard device list / revoke /
repair`: the admin pages' account and device changes for IT staff's scripts.

The rules and the audit trail are the admin pages' own (`admin.users`, `admin.devices`);
changes are audited without a user (the command line has no signed-in person). On
PostgreSQL a revocation also closes the open screens in every running worker; on SQLite the
running service refuses the device's or user's next request, and a board already open stays
until it reconnects (see docs/admin.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlmodel import Session

from frontyard import database
from frontyard.exceptions import DomainError
from frontyard.i18n import use_locale
from frontyard.realtime import Hub


@contextmanager
def _changing() -> Iterator[Session]:
    """A transaction on the migrated database; a refused change prints why and exits 2."""
    from composition.cli import load_settings, migrated_engine

    engine = migrated_engine(load_settings())
    try:
        # The command line speaks English, like the rest of this tool's output.
        with use_locale("en"), database.session_scope(engine) as session:
            yield session
    except DomainError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    finally:
        engine.dispose()


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


@click.command("list")
def user_list() -> None:
    """List staff accounts: name, role, state and display name."""
    from admin.users import list_users

    with _changing() as session:
        for user in list_users(session):
            state = "active" if user.active else "disabled"
            if user.must_change_password:
                state += ",temporary-password"
            click.echo(f"{user.username:<24} {user.role.value:<8} {state:<28} "
                       f"{user.display_name}")


@click.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from standard input; without it a temporary "
                   "password is generated and printed (changed at the next sign-in).")
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set a user's password; their open sessions end."""
    from admin.users import find_user, reset_password
    from frontyard.revocation import announce_revoked, user_owner

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        click.echo("No password on standard input.", err=True)
        sys.exit(2)
    with _changing() as session:
        user = find_user(session, username=name)
        temporary = reset_password(session, None, user, password)
        announce_revoked(session, Hub(), user_owner(user.id))  # type: ignore[arg-type]
    if temporary:
        click.echo(f"Temporary password of {name} (to be changed at the next sign-in): "
                   f"{temporary}")
    else:
        click.echo(f"Changed the password of {name}.")


def _set_active(name: str, active: bool) -> None:
    from admin.users import find_user, set_active
    from frontyard.revocation import announce_revoked, user_owner

    with _changing() as session:
        user = find_user(session, username=name)
        changed = set_active(session, None, user, active)
        if changed and not active:
            announce_revoked(session, Hub(), user_owner(user.id))  # type: ignore[arg-type]
    word = "enabled" if active else "disabled (their sessions have ended)"
    click.echo(f"{name} is {word}." if changed else f"{name} was already "
               f"{'enabled' if active else 'disabled'}.")


@click.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable an account: it cannot sign in and its sessions end."""
    _set_active(name, False)


@click.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Enable a disabled account again (old sessions stay ended)."""
    _set_active(name, True)


@click.command("list")
def device_list() -> None:
    """List devices: name, kind, office, state and when each was last seen."""
    from admin.devices import list_devices

    with _changing() as session:
        for row in list_devices(session):
            state = "revoked" if row.revoked else "unpaired" if row.waiting_to_pair else "paired"
            click.echo(f"{row.name:<24} {row.kind.value:<6} {row.office or '-':<12} "
                       f"{state:<9} last seen {_when(row.last_seen_at)}")


@click.command("revoke")
@click.argument("name")
def device_revoke(name: str) -> None:
    """Revoke a device: its token and pairing code stop working."""
    from admin.devices import find_device, revoke

    with _changing() as session:
        changed = revoke(session, Hub(), None, find_device(session, name=name))
    click.echo(f"Revoked {name}." if changed else f"{name} was already revoked.")


@click.command("repair")
@click.argument("name")
def device_repair(name: str) -> None:
    """Give a device a new one-time pairing link; its old token stops working."""
    from admin.devices import find_device, repair
    from composition.cli import load_settings

    with _changing() as session:
        code = repair(session, Hub(), None, find_device(session, name=name))
    click.echo(f"Pairing code: {code}")
    click.echo(f"Pairing link (open on the device and confirm): "
               f"{load_settings().base_url.rstrip('/')}/device/pair/{code}")


def register(user: click.Group, device: click.Group) -> None:
    """Add these commands to the main command's `user` and `device` groups."""
    commands: list[tuple[click.Group, Callable[..., Any]]] = [
        (user, user_list), (user, user_passwd), (user, user_disable), (user, user_enable),
        (device, device_list), (device, device_revoke), (device, device_repair)]
    for group, command in commands:
        group.add_command(command)  # type: ignore[arg-type]
