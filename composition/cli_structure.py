"""The `frontyard office`, `service` and `counter` commands and `frontyard user services`:
the city's structure from scripts, through the same rules and audit as the admin's pages."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlmodel import Session

from admin import counters as counter_domain
from admin import offices as office_domain
from admin import services as service_domain
from counter.models import Office, ServiceKind
from frontyard import database, i18n
from frontyard.errors import DomainError

#: How to open the migrated database (`register` gets it from the main command's module).
_open_engine: list[Callable[[], Any]] = []

NAME_HELP = "A name as LANG=TEXT (repeat: --name ja=本庁舎 --name en='City Hall'); ja is required."


@contextmanager
def _session() -> Iterator[Session]:
    """A transaction on the migrated database; a refused change prints its problems, exit 2."""
    engine = _open_engine[0]()
    try:
        with i18n.use_locale("en"), database.session_scope(engine) as session:
            yield session
    except DomainError as error:
        for field, message in (error.fields or {"": error.message}).items():
            click.echo(f"{field + ': ' if field else ''}{message}", err=True)
        sys.exit(2)


def _names(pairs: tuple[str, ...], current: dict[str, str] | None = None) -> dict[str, str]:
    """--name LANG=TEXT options over the current names (an empty TEXT removes a language)."""
    names = dict(current or {})
    for pair in pairs:
        locale, equals, text = pair.partition("=")
        if not equals:
            raise click.BadParameter(f"{pair!r}: write LANG=TEXT", param_hint="--name")
        names[locale.strip()] = text
    return {locale: text for locale, text in names.items() if text}


def _codes(value: str) -> list[str]:
    """A comma-separated list of codes ('' is none)."""
    return [code.strip() for code in value.split(",") if code.strip()]


def _office(session: Session, code: str | None) -> Office:
    """The office --office names, or the only one."""
    if code is None:
        offices = office_domain.offices(session)
        if len(offices) != 1:
            codes = ", ".join(office.code for office in offices) or "none yet"
            raise DomainError(f"Name the office with --office (offices: {codes}).")
        return offices[0]
    return office_domain.office_by_code(session, code)


OFFICE_OPTION = click.option("--office", "office_code", default=None,
                             help="Code of the office (default: the only office).")


def _changes(**options: Any) -> dict[str, Any]:
    """The options that were given (None: keep the current value)."""
    return {key: value for key, value in options.items() if value is not None}


@click.group()
def office() -> None:
    """Offices: code, names, address."""


@office.command("add")
@click.argument("code")
@click.option("--name", "names", multiple=True, help=NAME_HELP)
@click.option("--address", default="")
def office_add(code: str, names: tuple[str, ...], address: str) -> None:
    """Add an office."""
    with _session() as session:
        office_domain.save_office(session, None, office_domain.OfficeInput(
            code=code, names=_names(names), address=address))
    click.echo(f"Added office {code}.")


@office.command("list")
def office_list() -> None:
    """List the offices: code, Japanese name, address."""
    with _session() as session:
        for row in office_domain.offices(session):
            click.echo(f"{row.code}\t{row.names.get('ja', '')}\t{row.address}")


@office.command("edit")
@click.argument("code")
@click.option("--code", "new_code", default=None, help="A new code.")
@click.option("--name", "names", multiple=True, help=NAME_HELP)
@click.option("--address", default=None)
def office_edit(code: str, new_code: str | None, names: tuple[str, ...],
                address: str | None) -> None:
    """Change an office (only the options given)."""
    with _session() as session:
        row = office_domain.office_by_code(session, code)
        data = office_domain.input_of(row)
        data.names = _names(names, data.names)
        for key, value in _changes(code=new_code, address=address).items():
            setattr(data, key, value)
        office_domain.save_office(session, None, data, row)
    click.echo(f"Changed office {new_code or code}.")


@click.group()
def service() -> None:
    """Services of an office: code, ticket prefix, names, order, colour, kind, on/off."""


KINDS = click.Choice([kind.value for kind in ServiceKind])


@service.command("add")
@click.argument("code")
@OFFICE_OPTION
@click.option("--prefix", required=True, help="Ticket prefix: 1-4 capitals or digits, e.g. A.")
@click.option("--name", "names", multiple=True, help=NAME_HELP)
@click.option("--order", "sort_order", default=None, type=int, help="Display order (0-9999).")
@click.option("--colour", default="", help="#RRGGBB (default: none).")
@click.option("--kind", type=KINDS, default="queue", show_default=True)
@click.option("--inactive", is_flag=True, help="Add it switched off.")
def service_add(code: str, office_code: str | None, prefix: str, names: tuple[str, ...],
                sort_order: int | None, colour: str, kind: str, inactive: bool) -> None:
    """Add a service to an office."""
    with _session() as session:
        row = _office(session, office_code)
        order = sort_order if sort_order is not None else len(service_domain.services(session,
                                                                                      row))
        service_domain.save_service(session, None, row, service_domain.ServiceInput(
            code=code, prefix=prefix, names=_names(names), sort_order=order, colour=colour,
            kind=kind, active=not inactive))
    click.echo(f"Added service {code} ({prefix}).")


@service.command("list")
@OFFICE_OPTION
def service_list(office_code: str | None) -> None:
    """List an office's services: order, code, prefix, kind, on/off, Japanese name."""
    with _session() as session:
        for row in service_domain.services(session, _office(session, office_code)):
            state = "on" if row.active else "off"
            click.echo(f"{row.sort_order}\t{row.code}\t{row.prefix}\t{ServiceKind(row.kind)}\t"
                       f"{state}\t{row.names.get('ja', '')}")


@service.command("edit")
@click.argument("code")
@OFFICE_OPTION
@click.option("--code", "new_code", default=None, help="A new code.")
@click.option("--prefix", default=None)
@click.option("--name", "names", multiple=True, help=NAME_HELP)
@click.option("--order", "sort_order", default=None, type=int)
@click.option("--colour", default=None, help="#RRGGBB, or '' for none.")
@click.option("--kind", type=KINDS, default=None)
@click.option("--active/--inactive", default=None, help="Switch it on or off.")
def service_edit(code: str, office_code: str | None, new_code: str | None, prefix: str | None,
                 names: tuple[str, ...], sort_order: int | None, colour: str | None,
                 kind: str | None, active: bool | None) -> None:
    """Change a service (only the options given)."""
    with _session() as session:
        row = _office(session, office_code)
        existing = service_domain.service_by_code(session, row, code)
        data = service_domain.input_of(existing)
        data.names = _names(names, data.names)
        for key, value in _changes(code=new_code, prefix=prefix, sort_order=sort_order,
                                   colour=colour, kind=kind, active=active).items():
            setattr(data, key, value)
        service_domain.save_service(session, None, row, data, existing)
    click.echo(f"Changed service {new_code or code}.")


@click.group()
def counter() -> None:
    """Counters of an office: number, names, floor/zone, the services each may serve."""


SERVICES_HELP = "Codes of the services it may serve, comma-separated ('' for every service)."


@counter.command("add")
@click.argument("number")
@OFFICE_OPTION
@click.option("--name", "names", multiple=True, help=NAME_HELP)
@click.option("--zone", default="", help="Floor or zone, e.g. 2F.")
@click.option("--services", default="", help=SERVICES_HELP)
def counter_add(number: str, office_code: str | None, names: tuple[str, ...], zone: str,
                services: str) -> None:
    """Add a counter to an office."""
    with _session() as session:
        counter_domain.save_counter(session, None, _office(session, office_code),
                                    counter_domain.CounterInput(
                                        number=number, names=_names(names), zone=zone,
                                        services=_codes(services)))
    click.echo(f"Added counter {number}.")


@counter.command("list")
@OFFICE_OPTION
def counter_list(office_code: str | None) -> None:
    """List an office's counters: number, zone, services it may serve, Japanese name."""
    with _session() as session:
        for row in counter_domain.counters(session, _office(session, office_code)):
            allowed = ",".join(counter_domain.allowed_codes(session, row)) or "*"
            click.echo(f"{row.number}\t{row.zone}\t{allowed}\t{row.names.get('ja', '')}")


@counter.command("edit")
@click.argument("number")
@OFFICE_OPTION
@click.option("--number", "new_number", default=None, help="A new number.")
@click.option("--name", "names", multiple=True, help=NAME_HELP)
@click.option("--zone", default=None)
@click.option("--services", default=None, help=SERVICES_HELP)
def counter_edit(number: str, office_code: str | None, new_number: str | None,
                 names: tuple[str, ...], zone: str | None, services: str | None) -> None:
    """Change a counter (only the options given)."""
    with _session() as session:
        row = _office(session, office_code)
        existing = counter_domain.counter_by_number(session, row, number)
        data = counter_domain.input_of(session, existing)
        data.names = _names(names, data.names)
        for key, value in _changes(number=new_number, zone=zone).items():
            setattr(data, key, value)
        if services is not None:
            data.services = _codes(services)
        counter_domain.save_counter(session, None, row, data, existing)
    click.echo(f"Changed counter {new_number or number}.")


@click.command("services")
@click.argument("name")
@OFFICE_OPTION
@click.option("--set", "codes", default=None,
              help="Codes of the services of the office this person may serve, "
                   "comma-separated ('' for every service). Without it: show them.")
def user_services(name: str, office_code: str | None, codes: str | None) -> None:
    """Show or set which services a staff member may serve."""
    with _session() as session:
        person = counter_domain.user_by_name(session, name)
        current = counter_domain.staff_service_codes(session, person)
        if codes is not None:
            current = counter_domain.set_staff_services(session, None, person,
                                                        _office(session, office_code),
                                                        _codes(codes))
    click.echo(f"{name}: {', '.join(current) or 'every service'}")


def register(main: click.Group, user: click.Group, open_engine: Callable[[], Any]) -> None:
    """Add these commands to the `frontyard` command; `open_engine` opens the migrated
    database, or exits with a clear message."""
    _open_engine[:] = [open_engine]
    for group in (office, service, counter):
        main.add_command(group)
    user.add_command(user_services)

