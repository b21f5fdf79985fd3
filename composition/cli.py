"""The `frontyard` command: serve, migrate, users and devices, demo data, catalogs, purge."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import click
from pydantic import ValidationError

# Every table must be known before any command writes a row (a device row refers to an office).
import composition.schema  # noqa: F401
from composition import cli_accounts, wiring
from frontyard import database
from frontyard.auth import DeviceKind, Role, create_device, create_user
from frontyard.settings import Settings

#: How long a worker keeps an idle HTTP connection (longer than the Caddyfile's keepalive).
KEEP_ALIVE_SECONDS = 75


def load_settings() -> Settings:
    """Settings from the environment, or a clear message and exit code 2."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            click.echo(f"Configuration error: {problem['msg']}", err=True)
        sys.exit(2)


def migrated_engine(settings: Settings):  # type: ignore[no-untyped-def]
    """An engine on a migrated database, or a clear message and exit code 2."""
    engine = database.make_engine(settings.resolved_database_url())
    try:
        database.ensure_migrated(engine)
    except database.DatabaseNotMigrated as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    except Exception as error:  # unreachable server, bad credentials…
        click.echo(f"Cannot open the database: {error}", err=True)
        sys.exit(2)
    return engine


@click.group()
def main() -> None:
    """Frontyard: resident counters for a city hall."""
    wiring.connect_features()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True,
              help="Worker processes (use PostgreSQL for more than one).")
@click.option("--proxy-headers/--no-proxy-headers", default=False,
              help="Trust X-Forwarded-* from the reverse proxy (Caddy).")
def serve(host: str, port: int, workers: int, proxy_headers: bool) -> None:
    """Run the web service with uvicorn."""
    import uvicorn

    from frontyard.logs import log_config

    settings = load_settings()
    migrated_engine(settings).dispose()
    if workers > 1 and settings.resolved_database_url().startswith("sqlite"):
        click.echo("Several workers need PostgreSQL: SQLite runs one worker.", err=True)
        sys.exit(2)
    base = f"http://{host}:{port}"
    click.echo(f"Frontyard on {base}")
    for label, path in [("Kiosk", "/kiosk"), ("Staff terminal", "/counter"),
                        ("Call board", "/board"), ("Crowding (public)", "/crowding"),
                        ("Analytics", "/analytics"), ("Administration", "/admin")]:
        click.echo(f"  {label:<18} {base}{path}")
    uvicorn.run(
        "composition.asgi:app", host=host, port=port, workers=workers,
        proxy_headers=proxy_headers, forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
        # Sends never wait for a slow client's socket to drain (frontyard.live relies on it).
        ws="websockets-sansio", ws_per_message_deflate=False, log_level="info",
        # Longer than Caddy's upstream keepalive (60 s): the proxy, not the worker, closes an
        # idle connection, so no request races a closing socket (a 502 at the kiosk).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        log_config=log_config(settings.log_format),
    )


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create or migrate the database schema."""
    settings = load_settings()
    database.upgrade(settings.resolved_database_url(), revision)
    click.echo(f"Database is at revision {revision}.")


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([role.value for role in Role]), default="staff",
              show_default=True)
@click.option("--display-name", default="", help="Name shown on screens.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(name: str, role: str, display_name: str, password_stdin: bool) -> None:
    """Add a staff account (asks for the password, or reads it from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        click.echo("The password must have at least 8 characters.", err=True)
        sys.exit(2)
    engine = migrated_engine(load_settings())
    from sqlalchemy.exc import IntegrityError

    try:
        with database.session_scope(engine) as session:
            create_user(session, name, password, Role(role), display_name=display_name)
    except IntegrityError:
        click.echo(f"A user named {name!r} exists already.", err=True)
        sys.exit(2)
    click.echo(f"Added {role} {name}.")


@main.group()
def device() -> None:
    """Kiosks and call boards."""


@device.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice([kind.value for kind in DeviceKind]), required=True)
@click.option("--office", default=None,
              help="Code of the device's office (default: the only office, if just one).")
def device_add(name: str, kind: str, office: str | None) -> None:
    """Add a device; prints its token and a one-time pairing link (shown only now)."""
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import select

    # Also registers the office table, which a device's office_id refers to.
    from counter.models import Office

    settings = load_settings()
    engine = migrated_engine(settings)
    try:
        with database.session_scope(engine) as session:
            offices = session.exec(select(Office).order_by(Office.code)).all()  # type: ignore[arg-type]
            chosen = _device_office(offices, office)
            _, token, code = create_device(session, name, DeviceKind(kind),
                                           office_id=chosen.id if chosen else None)
    except IntegrityError:
        click.echo(f"A device named {name!r} exists already.", err=True)
        sys.exit(2)
    if chosen is None:
        click.echo("Note: there is no office yet, so the device has none: kiosks then need "
                   "the office named in each request and boards need ?office=.")
    else:
        click.echo(f"Office: {chosen.code}")
    click.echo(f"Token (send as 'Authorization: Bearer …'): {token}")
    click.echo(f"Pairing link (open on the device and confirm): "
               f"{settings.base_url}/device/pair/{code}")


cli_accounts.register(user, device)


def _device_office(offices, code: str | None):  # type: ignore[no-untyped-def]
    """The office `--office` names (or the only one), or a clear message and exit code 2."""
    if code is None and len(offices) <= 1:
        return offices[0] if offices else None
    found = [office for office in offices if office.code == code]
    if not found:
        codes = ", ".join(office.code for office in offices) or "none yet"
        problem = "Name the office with --office" if code is None else \
            f"No office with the code {code!r}"
        click.echo(f"{problem} (offices: {codes}).", err=True)
        sys.exit(2)
    return found[0]


@main.command()
@click.option("--days", default=0, show_default=True, type=click.IntRange(0, 3660),
              help="Also play this many past days (weekdays) of history through the queue "
                   "engine, for the analytics.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the demo history.")
@click.option("--force", is_flag=True,
              help="Seed even a database that holds offices or accounts of a real city.")
def demo(days: int, seed: int, force: bool) -> None:
    """Seed demo offices, services, counters, users and devices (safe to run again).
    Not for production: the demo accounts have known passwords."""
    from composition.demo import not_the_demo, seed_demo

    click.echo("Warning: the demo creates accounts with known passwords (admin, manager, "
               "staff) and a demo city hall. It is for trying Frontyard out, never for "
               "production: set up a real installation with `frontyard init`.", err=True)
    settings = load_settings()
    engine = migrated_engine(settings)
    with database.read_session(engine) as session:
        foreign = not_the_demo(session)
    if foreign and not force:
        click.echo(f"Refused: this database holds a city that is not the demo's "
                   f"({'; '.join(foreign)}). The demo would add accounts with known "
                   "passwords to it. Use a fresh database (FRONTYARD_DATA_DIR or "
                   "FRONTYARD_DATABASE_URL), or --force if you really mean it.", err=True)
        sys.exit(2)
    for line in seed_demo(engine, settings, days=days, seed=seed):
        click.echo(line)


@main.group()
def analytics() -> None:
    """Processing-time and staffing analytics."""


@analytics.command("rebuild")
@click.option("--office", default=None, help="Rebuild one office (its code); default: all.")
def analytics_rebuild(office: str | None) -> None:
    """Recompute the analytics rollups from the event log (in FRONTYARD_TIMEZONE)."""
    from sqlmodel import select

    from analytics.rollups import rebuild_rollups
    from counter.models import Office

    settings = load_settings()
    engine = migrated_engine(settings)
    with database.session_scope(engine) as session:
        office_id = None
        if office is not None:
            found = session.exec(select(Office).where(Office.code == office)).first()
            if found is None:
                click.echo(f"No office with the code {office!r}.", err=True)
                sys.exit(2)
            office_id = found.id
        rebuild_rollups(session, office_id, settings.tz)
    click.echo(f"Rebuilt the analytics of {office or 'every office'} from the event log "
               f"(time zone {settings.timezone}).")


@analytics.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def analytics_import(file: Path) -> None:
    """Import past events from another ticket system (CSV, see docs/analytics.md): all rows
    or, if any is wrong, none (each problem is listed with its line number)."""
    from analytics.importer import ImportRejected, import_events
    from frontyard.i18n import use_locale

    settings = load_settings()
    engine = migrated_engine(settings)
    # A one-shot command: the import's objects form no cycles, but the collector would walk
    # its growing tables (a ticket and a rollup row per visit) again and again: 5 % of a year.
    collecting = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        # The command line speaks English, like the rest of this tool's output.
        with use_locale("en"), database.session_scope(engine) as session, \
                file.open("rb") as stream:  # read a line at a time, twice
            result = import_events(session, stream, settings.tz)
    except ImportRejected as rejected:
        for problem in rejected.problems:
            click.echo(f"{file}:{problem.line}: {problem.message}")
        click.echo(f"{file}: {len(rejected.problems)} problem(s); nothing was imported.",
                   err=True)
        sys.exit(1)
    finally:  # as it was: tests run commands inside their own process
        gc.unfreeze()
        if collecting:
            gc.enable()
    for problem in result.repeated:
        click.echo(f"{file}:{problem.line}: {problem.message}")
    click.echo(f"Imported {result.events} events of {result.visits} visits "
               f"({result.first:%Y-%m-%d} – {result.last:%Y-%m-%d}); {result.repeats} "
               f"repeated row(s) counted once.")


@main.group()
def catalog() -> None:
    """Procedure catalogs of the kiosk."""


def _catalog_services(services: str | None, from_database: bool, office: str) -> set[str]:
    """The service codes a catalog may use: given, from the database, or the demo office's."""
    if services and from_database:
        click.echo("Give either --services or --from-database, not both.", err=True)
        sys.exit(2)
    if services:
        return {code.strip() for code in services.split(",") if code.strip()}
    if from_database:
        from kiosk.catalog import service_codes_in_database

        engine = migrated_engine(load_settings())
        try:
            with database.session_scope(engine) as session:
                codes = service_codes_in_database(session, office)
        finally:
            engine.dispose()
        if not codes:
            click.echo(f"The database has no services for office {office!r}.", err=True)
            sys.exit(2)
        return codes
    from composition.demo import SERVICES

    return {code for code, *_ in SERVICES}


def _offered_locales(office_code: str) -> tuple[str, ...]:
    """The languages an office's kiosk offers: those its catalog must be complete in."""
    from sqlmodel import select

    from counter.models import Office
    from kiosk.catalog import SEED_LOCALES
    from kiosk.flow import catalog_locales

    engine = migrated_engine(load_settings())
    try:
        with database.session_scope(engine) as session:
            found = session.exec(select(Office).where(Office.code == office_code)).first()
            return catalog_locales(session, found) if found else SEED_LOCALES
    finally:
        engine.dispose()


@catalog.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--services", default=None,
              help="Comma-separated service codes the catalog may use "
                   "(default: those of the demo office).")
@click.option("--from-database", is_flag=True,
              help="Take the service codes from the database instead.")
@click.option("--office", default="main", show_default=True,
              help="Office whose services --from-database reads.")
@click.option("--locales", default=None,
              help="Comma-separated locales every text must have, e.g. ja,ja_easy,en for a "
                   "catalog not translated yet; 'all' for every kiosk language "
                   "(default: with --from-database the languages the office's kiosk offers, "
                   "as the kiosk requires; else every kiosk language).")
def catalog_check(file: Path, services: str | None, from_database: bool, office: str,
                  locales: str | None) -> None:
    """Check a catalog file: exit 0 with a summary, or 1 with one line per problem."""
    from frontyard.i18n import BY_CODE
    from kiosk.catalog import KIOSK_LOCALES, SEED_LOCALES, check_catalog, missing_translations

    codes = _catalog_services(services, from_database, office)
    if locales is None:
        required = _offered_locales(office) if from_database else SEED_LOCALES
    elif locales == "all":
        required = KIOSK_LOCALES
    else:
        required = tuple(code.strip() for code in locales.split(",") if code.strip())
    unknown = [code for code in required if code not in BY_CODE]
    if unknown:
        click.echo(f"Unknown locales: {', '.join(unknown)}.", err=True)
        sys.exit(2)
    result = check_catalog(file, service_codes=codes, required_locales=required)
    if result.catalog is None:
        for problem in result.problems:
            click.echo(str(problem))
        click.echo(f"{file}: {len(result.problems)} problem(s); the catalog cannot be used.",
                   err=True)
        sys.exit(1)
    found = result.catalog
    click.echo(f"{file}: valid catalog of office {found.office!r}: "
               f"{len(found.life_events)} life events, {len(found.procedures)} procedures, "
               f"{len(found.questions)} questions, {len(found.documents)} documents, "
               f"{len(found.forms)} forms.")
    click.echo(f"Complete in: {', '.join(required)}.")
    gaps = missing_translations(found, [code for code in KIOSK_LOCALES if code not in required])
    if gaps:
        click.echo("Not yet translated: " + ", ".join(
            f"{code} ({len(places)} texts)" for code, places in gaps.items()) + ".")
    for warning in result.warnings:
        click.echo(f"warning: {warning}")


@main.command()
def purge() -> None:
    """Delete personal details of visits that ended over FRONTYARD_RETENTION_HOURS ago, and
    details entered at home older than FRONTYARD_PRE_ENTRY_RETENTION_DAYS.

    The running service also does this every hour; events and analytics are kept.
    """
    from counter.retention import purge_personal_data
    from kiosk import pre_entry

    settings = load_settings()
    engine = migrated_engine(settings)
    with database.session_scope(engine) as session:
        count = purge_personal_data(session, database.utcnow(), settings.retention_hours,
                                    settings.tz)
        entries = pre_entry.purge(session, database.utcnow(), settings.pre_entry_retention_days)
    click.echo(f"Purged the personal details of {count} visit(s).")
    click.echo(f"Deleted {entries} entry(ies) of details entered at home.")


@main.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Backup file (default: <data_dir>/backups/frontyard-<time>.sqlite3, "
                   "or .dump on PostgreSQL).")
def backup(output: Path | None) -> None:
    """Back up the database while the service runs (SQLite's backup API, or pg_dump)."""
    from frontyard.backup import BackupError, default_backup_path
    from frontyard.backup import backup as back_up

    settings = load_settings()
    url = settings.resolved_database_url()
    target = output or default_backup_path(url, settings.data_dir, database.utcnow())
    try:
        back_up(url, target)
    except BackupError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    click.echo(f"Backed up to {target}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-numbers", type=click.IntRange(0, 9999), default=0, show_default=True,
              help="Move today's ticket numbers this much further, when tickets were printed "
                   "after the backup and the replaced database cannot tell how many.")
def restore(file: Path, skip_numbers: int) -> None:
    """Replace the database with a backup (stop the service first; it refuses otherwise).
    Today's ticket numbers continue after the last one already issued."""
    from counter.restored_numbers import TicketNumbers
    from frontyard.backup import BackupError
    from frontyard.backup import restore as restore_from
    from frontyard.service_lock import ServiceLocked

    settings = load_settings()
    try:
        restored = restore_from(settings.resolved_database_url(), file,
                                TicketNumbers(settings.tz, skip_numbers))
    except (BackupError, ServiceLocked) as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    for note in restored.notes:
        click.echo(note, err=note.startswith("warning:"))
    click.echo(f"Restored {file} (revision {restored.revision}).")
    if restored.revision != database.head_revision():
        click.echo("Run `frontyard db upgrade` before starting the service.")


@catalog.command("names")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--office", default="main", show_default=True,
              help="Office whose services get the names.")
def catalog_names(file: Path, office: str) -> None:
    """Name the office's services and their steps in every language of the catalog's
    sections (languages a service already names are kept), e.g. after an upgrade."""
    from kiosk.catalog import CatalogError, apply_section_names, load_catalog

    codes = _catalog_services(None, True, office)
    try:
        found = load_catalog(file, service_codes=codes)
    except CatalogError as error:
        for problem in error.problems:
            click.echo(str(problem))
        click.echo(f"{file}: {len(error.problems)} problem(s); nothing was changed.", err=True)
        sys.exit(1)
    engine = migrated_engine(load_settings())
    try:
        with database.session_scope(engine) as session:
            changed = apply_section_names(session, office, found)
    finally:
        engine.dispose()
    click.echo(f"Named {len(changed)} service(s): {', '.join(changed)}." if changed
               else "Every service already has these names.")


# The commands for offices, services and counters live in their own module.
from composition import cli_structure  # noqa: E402

cli_structure.register(main, user, lambda: migrated_engine(load_settings()))
# An office's kiosk languages and texts, the city's name and logos.
from composition import cli_kiosk  # noqa: E402

cli_kiosk.register(main)

# `frontyard init` (a new installation) and `frontyard config export / import`.
from composition import cli_config, cli_init  # noqa: E402

main.add_command(cli_init.init)
cli_config.register(main, lambda: migrated_engine(load_settings()))

from composition import cli_boards  # noqa: E402

cli_boards.register(main)

from composition import cli_hours  # noqa: E402

cli_hours.register(main)
# The catalog kept in the database: upload, download, versions, publish, rollback.
from composition import cli_catalog  # noqa: E402

cli_catalog.register(catalog)

from composition import cli_appointments  # noqa: E402

cli_appointments.register(main)


if __name__ == "__main__":
    main()
