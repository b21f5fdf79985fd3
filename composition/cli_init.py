"""`frontyard init`: a new installation without the demo. Migrates the database if needed,
creates only the first admin account and says what to do next (the admin's home then walks
through the set-up: office → services → counters → devices → users)."""

from __future__ import annotations

import sys

import click
from sqlmodel import select

from frontyard import database
from frontyard.auth import Role, User
from frontyard.exceptions import DomainError
from frontyard.i18n import use_locale


@click.command("init")
@click.option("--admin", "admin_name", default="admin", show_default=True,
              help="User name of the first admin account.")
@click.option("--display-name", default="", help="Name shown on screens.")
@click.option("--password-stdin", is_flag=True,
              help="Read the admin's password from standard input; without it a temporary "
                   "password is generated, printed once, and changed at the first sign-in.")
def init(admin_name: str, display_name: str, password_stdin: bool) -> None:
    """Set up a new installation: migrate the database and create the first admin only."""
    from admin.users import add_user
    from composition.cli import load_settings, migrated_engine

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        click.echo("No password on standard input.", err=True)
        sys.exit(2)
    settings = load_settings()
    url = settings.resolved_database_url()
    engine = database.make_engine(url)
    try:
        if database.current_revision(engine) != database.head_revision():
            database.upgrade(url)
            click.echo(f"Migrated the database to revision {database.head_revision()}.")
    except Exception as error:  # unreachable server, bad credentials…
        click.echo(f"Cannot open the database: {error}", err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    engine = migrated_engine(settings)
    try:
        with use_locale("en"), database.session_scope(engine) as session:
            admins = session.exec(select(User.username).where(User.role == Role.ADMIN)).all()
            if admins:
                click.echo(f"This installation is set up already: it has an admin account "
                           f"({', '.join(sorted(admins))}). Sign in as that admin; "
                           "`frontyard user passwd NAME` gives a forgotten password a new one.",
                           err=True)
                sys.exit(2)
            _, temporary = add_user(session, None, admin_name, display_name, Role.ADMIN.value,
                                    password)
    except DomainError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    base = settings.base_url.rstrip("/")
    click.echo(f"Created the admin account {admin_name}.")
    if temporary:
        click.echo(f"Temporary password (shown only now; you choose your own at the first "
                   f"sign-in): {temporary}")
    click.echo("Next:")
    click.echo("  1. Start the service: frontyard serve (see docs/deploy.md).")
    click.echo(f"  2. Sign in at {base}/login as {admin_name}.")
    click.echo(f"  3. The administration page, {base}/admin, walks you through the set-up: "
               "office, services, counters, devices, users (docs/admin.md, \"First run\").")
