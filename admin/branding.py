"""The city's name and logos, changed by an admin: checked, stored, audited.

The name is city-wide (one per language, Japanese required); the logo is city-wide too, and an
office may have its own, shown instead on its kiosks and boards. The audit log keeps the
names before and after, and of a logo only its type, size and digest, never its bytes.
"""

from __future__ import annotations

from sqlmodel import Session

from admin import checks
from counter.models import Office
from frontyard import audit, branding, images, ruby
from frontyard.i18n import RUBY_LOCALES
from frontyard.i18n import gettext as _


def check_names(values: dict[str, str], problems: checks.Problems,
                field: str = "names") -> dict[str, str]:
    """Names per language (Japanese required); easy Japanese needs a reading over every kanji."""
    clean = checks.names(values, problems, field)
    for code in sorted(RUBY_LOCALES & set(clean)):
        found = ruby.problems(clean[code], every_kanji=True)
        if found and field not in problems:
            problems[field] = _("Easy Japanese: write a reading after each kanji, e.g. "
                                "市役所《しやくしょ》 (%(problem)s).") % {"problem": found[0]}
    return clean


def save_city_names(session: Session, user_id: int | None, values: dict[str, str]) -> None:
    """Store the city's name per language; ValidationFailed lists the problem, nothing written."""
    problems: checks.Problems = {}
    names = check_names(values, problems)
    checks.raise_if(problems)
    before = branding.city_names(session)
    if before == names:
        return
    branding.set_city_names(session, names)
    audit.record(session, user_id, "city_name_changed", None, before=before, after=names)


def _where(office: Office | None) -> str:
    return office.code if office else "city"


def upload_logo(session: Session, user_id: int | None, office: Office | None,
                data: bytes) -> branding.Logo:
    """Make an uploaded image the city's logo (office None) or the office's own, re-encoded;
    ValidationFailed (field `logo`) for anything that is not a clean PNG or WebP image."""
    image = images.clean_logo(data)
    office_id = office.id if office else None
    old = branding.own_logo(session, office_id)
    before = old.describe() if old else None
    logo = branding.store_logo(session, office_id, image)
    audit.record(session, user_id, "logo_changed", None, logo_of=_where(office),
                 before=before, after=logo.describe())
    return logo


def remove_logo(session: Session, user_id: int | None, office: Office | None) -> bool:
    """Remove the city's logo or an office's own; whether there was one."""
    removed = branding.remove_logo(session, office.id if office else None)
    if removed is None:
        return False
    audit.record(session, user_id, "logo_removed", None, logo_of=_where(office),
                 before=removed.describe(), after=None)
    return True
