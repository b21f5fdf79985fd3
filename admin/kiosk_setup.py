"""An office's kiosk, set by an admin: its languages in order, welcome text and privacy notice.

Checked in full before anything is written: every offered language must be a kiosk language
(Japanese always among them), listed once, and the office's procedure guide must have its
texts in it (else the kiosk would stop); texts have length limits, and easy-Japanese texts a
reading over every kanji. Every change is audited with before and after.

Also the "kiosk" section of the configuration file (`CONFIG_SECTION`, `export_config`,
`import_config`): the office's kiosk settings and the city's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from admin import branding as branding_admin
from admin import checks
from counter.models import Office
from frontyard import audit, branding
from frontyard.errors import ValidationFailed
from frontyard.i18n import BY_CODE
from frontyard.i18n import gettext as _
from kiosk import flow, offer
from kiosk.catalog import KIOSK_LOCALES

MAX_WELCOME = 200
MAX_PRIVACY = 5000


@dataclass
class KioskInput:
    """What a form, a command or a configuration file gives for an office's kiosk."""

    languages: list[str]
    welcome: dict[str, str] = field(default_factory=dict)
    privacy: dict[str, str] = field(default_factory=dict)


def input_of(row: offer.KioskSettings) -> KioskInput:
    """An office's current settings, to edit."""
    return KioskInput(list(row.languages), dict(row.welcome), dict(row.privacy))


def check_languages(codes: Iterable[str], problems: checks.Problems,
                    name: str = "languages") -> list[str]:
    """Kiosk languages, in order, each once, Japanese among them."""
    languages = [str(code).strip() for code in codes]
    unknown = [code for code in languages if code not in KIOSK_LOCALES]
    repeated = sorted({code for code in languages if languages.count(code) > 1})
    if unknown:
        problems[name] = _("Not a kiosk language: %(codes)s. Choose from %(known)s.") % {
            "codes": ", ".join(unknown)[:60], "known": ", ".join(KIOSK_LOCALES)}
    elif repeated:
        problems[name] = _("Each language is listed once: %(codes)s.") % {
            "codes": ", ".join(repeated)}
    elif offer.ALWAYS not in languages:
        problems[name] = _("Japanese is always offered.")
    return languages


def _texts(values: Mapping[str, str], limit: int, prefix: str,
           problems: checks.Problems) -> dict[str, str]:
    """Texts per kiosk language: within `limit`, easy Japanese with its readings."""
    clean = {}
    for code, text in values.items():
        text = str(text).replace("\r\n", "\n").strip()
        if not text:
            continue
        where = f"{prefix}_{code}"
        if code not in KIOSK_LOCALES:
            problems[where] = _("Not a kiosk language: %(codes)s. Choose from %(known)s.") % {
                "codes": str(code)[:20], "known": ", ".join(KIOSK_LOCALES)}
        elif len(text) > limit:
            problems[where] = _("At most %(max)d characters.") % {"max": limit}
        elif offer.text_problem(text, code):
            problems[where] = _("Easy Japanese: write a reading after each kanji, e.g. "
                                "市役所《しやくしょ》 (%(problem)s).") % {
                "problem": offer.text_problem(text, code)}
        clean[code] = text
    return clean


def _checked(session: Session, office: Office, data: KioskInput, *,
             with_catalog: bool) -> KioskInput:
    problems: checks.Problems = {}
    languages = check_languages(data.languages, problems)
    welcome = _texts(data.welcome, MAX_WELCOME, "welcome", problems)
    privacy = _texts(data.privacy, MAX_PRIVACY, "privacy", problems)
    if with_catalog and "languages" not in problems:
        missing = flow.untranslated_languages(session, office, languages)
        if missing:
            problems["languages"] = _(
                "The procedure guide has no texts in %(names)s yet: the kiosk could not offer "
                "it. Translate the guide first, or leave the language out.") % {
                "names": ", ".join(BY_CODE[code].native_name for code in missing)}
    checks.raise_if(problems)
    return KioskInput(languages, welcome, privacy)


def save_kiosk(session: Session, user_id: int | None, office: Office, data: KioskInput, *,
               with_catalog: bool = True) -> offer.KioskSettings:
    """Check and store an office's kiosk settings; ValidationFailed lists every problem and
    nothing is written."""
    clean = _checked(session, office, data, with_catalog=with_catalog)
    current = offer.settings_of(session, office.id)  # type: ignore[arg-type]
    before = offer.snapshot(current)
    row = offer.save(session, office.id, languages=clean.languages,  # type: ignore[arg-type]
                     welcome=clean.welcome, privacy=clean.privacy)
    after = offer.snapshot(row)
    if after != before:
        audit.record(session, user_id, "kiosk_changed", None, office=office.code,
                     before=before, after=after)
    return row


# --- the configuration file -----------------------------------------------------------------

CONFIG_SECTION = "kiosk"
_KEYS = ("city_name", "languages", "welcome", "privacy")


def export_config(session: Session, office: Office) -> Any:
    """The office's kiosk settings and the city's name, as plain data in a stable order."""
    row = offer.settings_of(session, office.id)  # type: ignore[arg-type]
    return {"city_name": _ordered(branding.city_names(session)),
            "languages": list(offer.offered_languages(session, office.id)),  # type: ignore[arg-type]
            "welcome": _ordered(row.welcome), "privacy": _ordered(row.privacy)}


def _ordered(texts: Mapping[str, str]) -> dict[str, str]:
    """Texts per language in the platform's order of languages."""
    order = {code: index for index, code in enumerate(BY_CODE)}
    return {code: texts[code] for code in sorted(texts, key=lambda code: order.get(code, 99))}


def _mapping(data: Any, key: str) -> dict[str, str]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(
            isinstance(code, str) and isinstance(text, str) for code, text in value.items()):
        raise ValidationFailed(_("%(where)s: give a mapping of language code to text, e.g. "
                                 "ja: …") % {"where": f"{CONFIG_SECTION}.{key}"})
    return value


def import_config(session: Session, office: Office, data: Any) -> None:
    """Check `data` (messages name the place, e.g. kiosk.languages) and make it the office's
    kiosk settings and the city's name; flushes, never commits. The catalog is not checked
    here: a configuration file may bring it in the same import."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("%(where)s: give a mapping with %(keys)s") % {
            "where": CONFIG_SECTION, "keys": ", ".join(_KEYS)})
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ValidationFailed(_("%(where)s: unknown key %(keys)s") % {
            "where": CONFIG_SECTION, "keys": ", ".join(map(str, unknown))})
    languages = data.get("languages")
    if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages):
        raise ValidationFailed(_("%(where)s: give a list of language codes, e.g. [ja, en]") % {
            "where": f"{CONFIG_SECTION}.languages"})
    city, welcome, privacy = (_mapping(data, key) for key in ("city_name", "welcome", "privacy"))
    try:
        if city:
            branding_admin.save_city_names(session, None, city)
        save_kiosk(session, None, office, KioskInput(languages, welcome, privacy),
                   with_catalog=False)
    except ValidationFailed as error:
        place, message = next(iter(error.fields.items()), ("", error.message))
        raise ValidationFailed(f"{CONFIG_SECTION}.{_place(place)}: {message}") from None


def _place(form_field: str) -> str:
    """Where a form field's problem is in the section: names → city_name, welcome_vi →
    welcome.vi."""
    if form_field == "names":
        return "city_name"
    for prefix in ("welcome_", "privacy_"):
        if form_field.startswith(prefix):
            return f"{prefix[:-1]}.{form_field.removeprefix(prefix)}"
    return form_field
