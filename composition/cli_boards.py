"""`frontyard board list / set`: what each call board shows and its languages, from scripts,
through the same rules and audit as the board's admin page (`admin.boards`).

On PostgreSQL a change reaches an open board at once (its socket closes and it reconnects with
the new settings); on SQLite the running service cannot hear the command line, so an open
board shows the change when it next reconnects (or is reloaded).
"""

from __future__ import annotations

import sys

import click

from admin import boards
from counter.board_settings import BoardScope
from frontyard import database
from frontyard.exceptions import DomainError
from frontyard.i18n import use_locale
from frontyard.realtime import Hub


def _codes(value: str) -> list[str]:
    """A comma-separated list of codes."""
    return [code.strip() for code in value.split(",") if code.strip()]


def _shows(data: boards.BoardInput) -> str:
    if data.scope == BoardScope.SERVICES:
        return "services:" + ",".join(data.services)
    if data.scope == BoardScope.ZONE:
        return f"zone:{data.zone}"
    return "all"


@click.group()
def board() -> None:
    """Call boards: which calls each shows (all, some services, one zone) and its languages."""


@board.command("list")
def board_list() -> None:
    """List call boards: name, office, what it shows, its languages after Japanese."""
    from composition.cli import load_settings, migrated_engine

    engine = migrated_engine(load_settings())
    try:
        with database.session_scope(engine) as session:
            for device, office, data in boards.board_rows(session):
                click.echo(f"{device.name}\t{office or '-'}\t{_shows(data)}\t"
                           f"ja,{','.join(data.languages)}")
    finally:
        engine.dispose()


@board.command("set")
@click.argument("name")
@click.option("--all", "show_all", is_flag=True, help="Show every call of the office.")
@click.option("--services", default=None,
              help="Show only the calls of these services: codes, comma-separated.")
@click.option("--zone", default=None, help="Show only the calls to the counters of this zone.")
@click.option("--languages", default=None,
              help="Languages after Japanese, in the order they take turns, e.g. en,zh_Hans.")
def board_set(name: str, show_all: bool, services: str | None, zone: str | None,
              languages: str | None) -> None:
    """Change a call board's settings (only the options given)."""
    from composition.cli import load_settings, migrated_engine

    if sum((show_all, services is not None, zone is not None)) > 1:
        raise click.UsageError("Give at most one of --all, --services and --zone.")
    engine = migrated_engine(load_settings())
    try:
        with use_locale("en"), database.session_scope(engine) as session:
            device = boards.board_by(session, name=name)
            data = boards.input_of(session, device)
            if show_all:
                data.scope, data.services, data.zone = BoardScope.ALL.value, [], ""
            elif services is not None:
                data.scope, data.services = BoardScope.SERVICES.value, _codes(services)
            elif zone is not None:
                data.scope, data.zone = BoardScope.ZONE.value, zone
            if languages is not None:
                data.languages = _codes(languages)
            boards.save_board(session, Hub(), None, device, data)
            click.echo(f"{device.name}: {_shows(data)}; languages ja,{','.join(data.languages)}")
    except DomainError as error:
        for field, message in (error.fields or {"": error.message}).items():
            click.echo(f"{field + ': ' if field else ''}{message}", err=True)
        sys.exit(2)
    finally:
        engine.dispose()


def register(main: click.Group) -> None:
    """Add the `board` group to the `frontyard` command."""
    main.add_command(board)
