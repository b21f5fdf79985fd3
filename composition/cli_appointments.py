"""`frontyard appointments show / set`: which services residents may book and their weekly
hours, through the same rules and audit as the admin page (`admin.appointments`)."""

from __future__ import annotations

import sys

import click

from admin import appointments
from admin import offices as office_domain
from admin import services as service_domain
from frontyard import database
from frontyard.exceptions import DomainError
from frontyard.i18n import use_locale


@click.group("appointments")
def appointments_group() -> None:
    """Appointments: which services residents may book, and when (weekly hours)."""


def _run(office_code: str, service_code: str, work):  # type: ignore[no-untyped-def]
    from composition.cli import load_settings, migrated_engine

    engine = migrated_engine(load_settings())
    try:
        with use_locale("en"), database.session_scope(engine) as session:
            office = office_domain.office_by_code(session, office_code)
            service = service_domain.service_by_code(session, office, service_code)
            return work(session, office, service)
    except DomainError as error:
        click.echo(f"Refused: {error}", err=True)
        sys.exit(1)
    finally:
        engine.dispose()


@appointments_group.command("show")
@click.argument("office")
@click.argument("service")
def appointments_show(office: str, service: str) -> None:
    """Show whether SERVICE of OFFICE takes bookings, and its weekly hours."""
    data = _run(office, service, lambda s, o, v: appointments.input_of(s, v))
    click.echo(f"bookable: {'yes' if data.enabled else 'no'}")
    if data.hours:
        click.echo(data.hours)


@appointments_group.command("set")
@click.argument("office")
@click.argument("service")
@click.option("--hours", default=None, help='Weekly hours, one range a line or separated by ";": '
              '"mon-fri 09:00-12:00 15 2" (days, hours, slot minutes, places per slot).')
@click.option("--on/--off", "enabled", default=True, help="Take bookings (default) or not.")
def appointments_set(office: str, service: str, hours: str | None, enabled: bool) -> None:
    """Make SERVICE of OFFICE bookable (or not) with its weekly hours; audited."""
    def work(session, office_row, service_row):  # type: ignore[no-untyped-def]
        current = appointments.input_of(session, service_row)
        text = current.hours if hours is None else hours.replace(";", "\n")
        return appointments.save_appointments(
            session, None, office_row, service_row,
            appointments.AppointmentsInput(enabled=enabled, hours=text))

    data = _run(office, service, work)
    ranges = len([line for line in data.hours.splitlines() if line.strip()])
    click.echo(f"{service}: bookable {'yes' if data.enabled else 'no'}, {ranges} weekly range(s).")


def register(main: click.Group) -> None:
    """Add `frontyard appointments` to the `frontyard` command."""
    main.add_command(appointments_group)
