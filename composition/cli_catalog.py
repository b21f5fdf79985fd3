"""`frontyard catalog upload|download|versions|publish|rollback`: the catalog kept in the
database, with the same rules, checks and audit as the admin's pages (`admin.catalogs`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from admin import catalogs
from composition.cli_structure import OFFICE_OPTION, _office, _session
from frontyard.exceptions import DomainError
from kiosk.catalog import Problem
from kiosk.catalog_serving import check_version, served_catalog
from kiosk.catalog_versions import published_version, version_by_number, versions


def _print_problems(label: str, problems: list[Problem]) -> None:
    """One line a problem, as `catalog check` prints them: label:line: place: message."""
    for problem in problems:
        where = f"{label}:{problem.line}" if problem.line else label
        place = f" {problem.place}:" if problem.place else ""
        click.echo(f"{where}:{place} {problem.message}")


@click.command("upload")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@OFFICE_OPTION
@click.option("--note", default="", help="What changed, for the version list.")
@click.option("--publish", "publish_now", is_flag=True,
              help="Publish it at once if it has no problems.")
def catalog_upload(file: Path, office_code: str | None, note: str, publish_now: bool) -> None:
    """Store a catalog file as the office's next version (a draft, or published with
    --publish). Exit 0 when stored (and published if asked), 1 with one line per problem."""
    data = file.read_bytes()
    refused: list[Problem] = []
    saved = None
    with _session() as session:
        office = _office(session, office_code)
        try:
            saved = catalogs.upload(session, None, office, data, note, publish_now)
        except catalogs.CatalogRefused as error:
            refused = error.problems
    if saved is None:
        _print_problems(str(file), refused)
        click.echo(f"{file}: not a catalog; nothing was saved.", err=True)
        sys.exit(1)
    number = saved.version.number
    if saved.result.catalog is None:
        _print_problems(str(file), saved.result.problems)
        click.echo(f"Saved as draft version {number} with {len(saved.result.problems)} "
                   f"problem(s); it cannot be published until they are fixed.", err=True)
        sys.exit(1)
    click.echo(f"Saved version {number} ({'published' if saved.published else 'draft'}).")


@click.command("download")
@OFFICE_OPTION
@click.option("--version", "number", type=int, default=None,
              help="Version number (default: the published one).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def catalog_download(office_code: str | None, number: int | None, output: Path | None) -> None:
    """Write a version's YAML exactly as stored."""
    with _session() as session:
        office = _office(session, office_code)
        version = (version_by_number(session, office, number) if number is not None
                   else published_version(session, office))
        if version is None:
            raise DomainError(f"Office {office.code} has no published catalog.")
        text = version.yaml_text
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote version {version.number} to {output}.", err=True)


@click.command("versions")
@OFFICE_OPTION
def catalog_versions(office_code: str | None) -> None:
    """List an office's versions, newest first: number, state, saved at, problems, note;
    `*` marks the one the kiosks serve."""
    with _session() as session:
        office = _office(session, office_code)
        served = served_catalog(session, office)
        rows = []
        for version in versions(session, office):
            count = len(check_version(session, office, version).problems)
            mark = "*" if served.version is not None and served.version.id == version.id else ""
            rows.append(f"{version.number}{mark}\t{version.state}\t"
                        f"{version.created_at:%Y-%m-%d %H:%M}\t"
                        f"{count} problem(s)\t{version.note}")
    if not rows:
        click.echo(f"Office {office.code} has no catalog version.")
    for row in rows:
        click.echo(row)


@click.command("publish")
@click.argument("number", type=int)
@OFFICE_OPTION
def catalog_publish(number: int, office_code: str | None) -> None:
    """Publish version NUMBER (an older one again: as a new version); refused with its
    problems (exit 2) if it does not validate against the office's services."""
    with _session() as session:
        office = _office(session, office_code)
        version = version_by_number(session, office, number)
        result = check_version(session, office, version)
        if result.catalog is not None:
            version = catalogs.publish_number(session, None, office, number)
    if result.catalog is None:
        _print_problems(f"version {number}", result.problems)
        click.echo(f"Version {number} has problems; nothing was published.", err=True)
        sys.exit(2)
    click.echo(f"Published version {version.number}.")


@click.command("rollback")
@OFFICE_OPTION
@click.option("--to", "number", type=int, default=None,
              help="Version to go back to (default: the one live before the current one).")
def catalog_rollback(office_code: str | None, number: int | None) -> None:
    """Publish again the previous live version (or --to N) as a new version."""
    with _session() as session:
        office = _office(session, office_code)
        version = catalogs.rollback(session, None, office, number)
    click.echo(f"Published version {version.number}, a copy of the earlier one.")


def register(catalog: click.Group) -> None:
    """Add these commands to `frontyard catalog`."""
    for command in (catalog_upload, catalog_download, catalog_versions, catalog_publish,
                    catalog_rollback):
        catalog.add_command(command)
