"""The `frontyard kiosk` and `frontyard branding` commands: an office's kiosk languages and
texts, the city's name and logos, from scripts, through the same rules and audit as the
admin's pages (/admin/offices/{code}/kiosk, /admin/branding)."""

from __future__ import annotations

from pathlib import Path

import click

from admin import branding as branding_domain
from admin import kiosk_setup
from admin import offices as office_domain
from composition.cli_structure import OFFICE_OPTION, _codes, _names, _office, _session
from frontyard import branding, images
from frontyard.errors import ValidationFailed
from kiosk import offer

PAIR_HELP = "LANG=TEXT (repeatable); an empty TEXT removes that language's text."


@click.group()
def kiosk() -> None:
    """An office's kiosk: languages in order, welcome text, privacy notice."""


def _update(office_code: str | None, **changes: object) -> None:
    """Change some of an office's kiosk settings, keep the rest; print the result."""
    with _session() as session:
        office = _office(session, office_code)
        current = kiosk_setup.input_of(offer.settings_of(session, office.id))  # type: ignore[arg-type]
        current.languages = list(offer.offered_languages(session, office.id))  # type: ignore[arg-type]
        for key, value in changes.items():
            setattr(current, key, value)
        kiosk_setup.save_kiosk(session, None, office, current)
        click.echo(f"{office.code}: {', '.join(current.languages)}")


@kiosk.command("show")
@OFFICE_OPTION
def kiosk_show(office_code: str | None) -> None:
    """Print the office's kiosk languages in order, and which have their own texts."""
    with _session() as session:
        office = _office(session, office_code)
        row = offer.settings_of(session, office.id)  # type: ignore[arg-type]
        languages = offer.offered_languages(session, office.id)  # type: ignore[arg-type]
        click.echo(f"languages\t{','.join(languages)}")
        click.echo(f"welcome\t{','.join(sorted(row.welcome)) or '-'}")
        click.echo(f"privacy\t{','.join(sorted(row.privacy)) or '-'}")


@kiosk.command("languages")
@click.argument("codes")
@OFFICE_OPTION
def kiosk_languages(codes: str, office_code: str | None) -> None:
    """Set the languages the kiosk offers, in order, e.g. ja,en,vi,pt_BR (ja is required)."""
    _update(office_code, languages=_codes(codes))


@kiosk.command("welcome")
@click.argument("pairs", nargs=-1, required=True)
@OFFICE_OPTION
def kiosk_welcome(pairs: tuple[str, ...], office_code: str | None) -> None:
    """Set the start screen's welcome text per language: LANG=TEXT…"""
    with _session() as session:
        current = offer.settings_of(session, _office(session, office_code).id).welcome  # type: ignore[arg-type]
    _update(office_code, welcome=_names(pairs, current))


@kiosk.command("privacy")
@click.argument("language")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@OFFICE_OPTION
def kiosk_privacy(language: str, file: click.utils.LazyFile, office_code: str | None) -> None:
    """Set the privacy notice in one language from a text or Markdown FILE ('-' reads
    standard input; an empty file removes the notice in that language)."""
    text = file.read()
    with _session() as session:
        current = dict(offer.settings_of(session, _office(session, office_code).id).privacy)  # type: ignore[arg-type]
    current[language] = text
    _update(office_code, privacy={code: value for code, value in current.items() if value.strip()})


@click.group("branding")
def branding_group() -> None:
    """The city's name and logo, and an office's own logo."""


@branding_group.command("show")
def branding_show() -> None:
    """Print the city's name per language and the logos stored."""
    with _session() as session:
        for code, name in branding.city_names(session).items():
            click.echo(f"name\t{code}\t{name}")
        for office in [None, *office_domain.offices(session)]:
            logo = branding.own_logo(session, office.id if office else None)
            if logo is not None:
                click.echo(f"logo\t{office.code if office else 'city'}\t{logo.media_type}\t"
                           f"{logo.width}x{logo.height}\t{len(logo.data)} bytes\t{logo.url}")


@branding_group.command("name")
@click.argument("pairs", nargs=-1, required=True)
def branding_name(pairs: tuple[str, ...]) -> None:
    """Set the city's name per language: LANG=TEXT… (ja is required; other languages kept)."""
    with _session() as session:
        names = _names(pairs, branding.city_names(session))
        branding_domain.save_city_names(session, None, names)
        click.echo(", ".join(f"{code}={name}" for code, name in names.items()))


@branding_group.command("logo")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--office", "office_code", default=None,
              help="An office's own logo instead of the city's.")
@click.option("--remove", is_flag=True, help="Remove the logo instead.")
def branding_logo(file: Path | None, office_code: str | None, remove: bool) -> None:
    """Upload the city's logo (or an office's own) from a PNG or WebP FILE, or --remove it."""
    if remove == (file is not None):
        raise click.UsageError("Give a FILE, or --remove.")
    data = b""
    if file is not None:
        try:
            with file.open("rb") as handle:
                data = handle.read(images.MAX_BYTES + 1)
        except OSError as error:
            raise click.BadParameter(str(error), param_hint="FILE") from None
    with _session() as session:
        office = _office(session, office_code) if office_code else None
        if remove:
            removed = branding_domain.remove_logo(session, None, office)
            click.echo("Removed." if removed else "There was no logo.")
            return
        try:
            logo = branding_domain.upload_logo(session, None, office, data)
        except ValidationFailed as error:
            raise ValidationFailed(f"{file}: {error.message}") from None
        click.echo(f"{logo.media_type} {logo.width}x{logo.height}, {len(logo.data)} bytes: "
                   f"{logo.url}")


def register(main: click.Group) -> None:
    """Add these commands to the `frontyard` command (after `cli_structure.register`, whose
    database opener they share)."""
    main.add_command(kiosk)
    main.add_command(branding_group)
