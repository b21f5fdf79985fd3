"""`frontyard hours` and `frontyard closure`: opening hours, the holiday switch, services' own
hours and ticket cut-offs, and closures from scripts, with the same rules and audit as the
admin's pages (admin/hours.py)."""

from __future__ import annotations

import click

from admin import hours as hours_domain
from admin import services as service_domain
from composition.cli_structure import OFFICE_OPTION, _office, _session
from counter import hours

SERVICE_OPTION = click.option("--service", "service_code", default=None,
                              help="A service's own hours instead of the office's.")


@click.group("hours")
def hours_group() -> None:
    """Opening hours: weekdays, occurrence rules, national holidays, services' cut-offs."""


@hours_group.command("show")
@OFFICE_OPTION
def hours_show(office_code: str | None) -> None:
    """Print the office's hours, holiday switch, closures and each service's own hours."""
    with _session() as session:
        office = _office(session, office_code)
        week = hours_domain.as_text(hours_domain.hours_of(session, office))
        click.echo(f"office\t{office.code}")
        if not week:
            click.echo("hours\tnone: open at all times (closures apply)")
        for key, text in week.items():
            click.echo(f"{key}\t{text}")
        switch = hours.calendar(session, office.id).closed_on_national_holidays  # type: ignore[arg-type]
        click.echo(f"holidays\t{'closed' if switch else 'open'}")
        for closure in hours.closures(session, office.id):  # type: ignore[arg-type]
            click.echo(f"closure\t{closure.first_day}\t{closure.last_day}\t{closure.name}")
        for service in service_domain.services(session, office):
            own = hours_domain.as_text(hours_domain.hours_of(session, office, service))
            cutoff = hours.cutoff_minutes(session, service.id)  # type: ignore[arg-type]
            if own or cutoff:
                ranges = "; ".join(f"{key} {text}" for key, text in own.items()) or "office"
                click.echo(f"service\t{service.code}\t{ranges}\tcutoff {cutoff}")


@hours_group.command("set")
@click.argument("day")
@click.argument("ranges")
@OFFICE_OPTION
@SERVICE_OPTION
def hours_set(day: str, ranges: str, office_code: str | None, service_code: str | None) -> None:
    """Set one day's ranges: DAY is mon … sun (every week) or e.g. sat#1 (the first Saturday
    of the month), or several with commas (mon,tue,wed); RANGES like '08:30-12:00,13:00-17:15',
    or '' for closed that day."""
    with _session() as session:
        office = _office(session, office_code)
        service = service_domain.service_by_code(session, office, service_code) \
            if service_code else None
        week = hours_domain.as_text(hours_domain.hours_of(session, office, service))
        for key in day.split(","):
            week[key.strip().lower()] = ranges
        hours_domain.set_hours(session, None, office, week, service)
    click.echo(f"{day}: {ranges or 'closed'}")


@hours_group.command("holidays")
@click.argument("state", type=click.Choice(["closed", "open"]))
@OFFICE_OPTION
def hours_holidays(state: str, office_code: str | None) -> None:
    """Whether the office is closed (the default) or open on national holidays."""
    with _session() as session:
        office = _office(session, office_code)
        hours_domain.set_holiday_switch(session, None, office, state == "closed")
    click.echo(f"National holidays: {state}.")


@hours_group.command("cutoff")
@click.argument("service_code")
@click.argument("minutes")
@OFFICE_OPTION
def hours_cutoff(service_code: str, minutes: str, office_code: str | None) -> None:
    """Stop a service's tickets MINUTES before each of its closing times (0: until closing)."""
    with _session() as session:
        office = _office(session, office_code)
        service = service_domain.service_by_code(session, office, service_code)
        value = hours_domain.set_cutoff(session, None, service, minutes)
    click.echo(f"{service_code}: tickets stop {value} minute(s) before closing.")


@click.group("closure")
def closure_group() -> None:
    """Closures: the city's own closed days and date ranges (e.g. year-end holidays)."""


@closure_group.command("add")
@click.argument("first")
@click.argument("last", required=False, default="")
@click.option("--name", required=True, help="What the closure is, e.g. 'Year-end holidays'.")
@OFFICE_OPTION
def closure_add(first: str, last: str, name: str, office_code: str | None) -> None:
    """Close the office from FIRST to LAST (YYYY-MM-DD, both included; no LAST: one day)."""
    with _session() as session:
        office = _office(session, office_code)
        closure = hours_domain.add_closure(session, None, office, first, last, name)
        click.echo(f"{closure.id}\t{closure.first_day}\t{closure.last_day}\t{closure.name}")


@closure_group.command("list")
@OFFICE_OPTION
def closure_list(office_code: str | None) -> None:
    """List the office's closures: id, first day, last day, name."""
    with _session() as session:
        office = _office(session, office_code)
        for closure in hours.closures(session, office.id):  # type: ignore[arg-type]
            click.echo(f"{closure.id}\t{closure.first_day}\t{closure.last_day}\t{closure.name}")


@closure_group.command("remove")
@click.argument("closure_id", type=int)
@OFFICE_OPTION
def closure_remove(closure_id: int, office_code: str | None) -> None:
    """Remove a closure by the id `closure list` shows."""
    with _session() as session:
        office = _office(session, office_code)
        hours_domain.remove_closure(session, None, office, closure_id)
    click.echo(f"Removed closure {closure_id}.")


def register(main: click.Group) -> None:
    """Add `hours` and `closure` to the `frontyard` command (after cli_structure.register,
    whose database opener they share)."""
    main.add_command(hours_group)
    main.add_command(closure_group)
