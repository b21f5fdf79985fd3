"""`frontyard config export / import`: the whole city's set-up as one YAML file
(admin.config_file), to move a tested set-up from staging to production and for backups."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from admin import config_file
from frontyard import database, i18n

#: How to open the migrated database (`register` gets it from the main command's module).
_open_engine: list[Callable[[], Any]] = []


@click.group()
def config() -> None:
    """The city's set-up as a YAML file: offices, services, counters, staff's services."""


@config.command("export")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
def config_export(output: Path | None) -> None:
    """Write the set-up as YAML (no user accounts, passwords or devices)."""
    engine = _open_engine[0]()
    try:
        with database.read_session(engine) as session:
            text = config_file.export_text(session)
    finally:
        engine.dispose()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote the set-up to {output}.", err=True)


class _DryRun(Exception):
    """Raised to roll a dry run's transaction back after it has been reported."""


def _read(file: Path) -> str:
    """The file's text, or a clear message and exit code 2."""
    try:
        return file.read_bytes().decode("utf-8-sig")
    except OSError as error:
        click.echo(f"{file}: cannot read it ({error.strerror}).", err=True)
    except UnicodeDecodeError as error:
        click.echo(f"{file}: not a UTF-8 text file (byte {error.start}).", err=True)
    sys.exit(2)


@config.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="Switch off the services of the file's offices that the file lacks "
                   "(otherwise they are kept and reported).")
def config_import(file: Path, dry_run: bool, deactivate_missing: bool) -> None:
    """Create and change what FILE describes, all or nothing; never deletes anything."""
    text = _read(file)
    engine = _open_engine[0]()
    report: config_file.ImportReport | None = None
    try:
        # The command line speaks English, like the rest of this tool's output.
        with i18n.use_locale("en"), database.session_scope(engine) as session:
            report = config_file.import_text(session, text,
                                             deactivate_missing=deactivate_missing)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except config_file.FileRejected as rejected:
        for message in rejected.messages:
            click.echo(f"{file}: {message}", err=True)
        click.echo(f"{file}: {len(rejected.messages)} problem(s); nothing was changed.",
                   err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    assert report is not None
    for line in report.changes:
        click.echo(line)
    for line in report.missing:
        click.echo(line)
    count = len(report.changes)
    if dry_run:
        click.echo(f"Dry run: {count} change(s) would be made; nothing was changed.")
    elif count:
        click.echo(f"Imported {file}: {count} change(s), each in the audit log.")
    else:
        click.echo(f"Nothing to change: the database already has the set-up of {file}.")


def register(main: click.Group, open_engine: Callable[[], Any]) -> None:
    """Add the `config` commands; `open_engine` opens the migrated database or exits."""
    _open_engine[:] = [open_engine]
    main.add_command(config)
