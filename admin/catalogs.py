"""The procedure catalog's administration: upload, publish, roll back, and the common edits
made without YAML (hide or show a life event or procedure, what to bring, counter hints).

Every change is a new version (`kiosk.catalog_versions`), checked against the office's live
services like any upload; the audit log keeps a summary of each (number, state, hash, size,
note), never the YAML. Edits regenerate the YAML from the published version's data, so the
comments of an uploaded file do not survive an edit (docs/admin.md says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from sqlmodel import Session

from counter.models import Office
from frontyard.exceptions import Conflict, NotFound, ValidationFailed
from frontyard.i18n import gettext as _
from kiosk.catalog import KIOSK_LOCALES, CheckResult, Problem, read_yaml_text
from kiosk.catalog_serving import check_version
from kiosk.catalog_versions import (
    CatalogVersion,
    decode_upload,
    dump_yaml,
    previous_published,
    publish,
    published_version,
    save_version,
    version_by_number,
)

MAX_HINT = 200
MAX_DOCUMENT_NAME = 200


class CatalogRefused(ValidationFailed):
    """An upload that is not a catalog at all (YAML syntax, aliases, not a mapping): nothing
    is saved; `problems` lists what was found, with lines."""

    def __init__(self, problems: list[Problem]) -> None:
        message = _("The file is not a catalog; nothing was saved.")
        super().__init__(message, file=message)
        self.problems = problems


@dataclass
class Saved:
    """A version just stored, its check against the live services, and whether it went live."""

    version: CatalogVersion
    result: CheckResult
    published: bool


def _save_and_maybe_publish(session: Session, user_id: int | None, office: Office, text: str,
                            note: str, publish_now: bool) -> Saved:
    """Store a draft; publish it at once when asked and it validates (else it stays a draft)."""
    version = save_version(session, user_id, office, text, note)
    result = check_version(session, office, version)
    if publish_now and result.catalog is not None:
        publish(session, user_id, office, version, result)
        return Saved(version, result, True)
    return Saved(version, result, False)


def upload(session: Session, user_id: int | None, office: Office, data: bytes, note: str = "",
           publish_now: bool = False) -> Saved:
    """An uploaded YAML file as a new version. Unreadable files are refused (ValidationFailed
    or CatalogRefused, nothing saved); a catalog with problems is kept as a draft."""
    text = decode_upload(data)
    _, _, problems = read_yaml_text(text, "upload")
    if problems:
        raise CatalogRefused(problems)
    return _save_and_maybe_publish(session, user_id, office, text, note, publish_now)


def publish_number(session: Session, user_id: int | None, office: Office,
                   number: int) -> CatalogVersion:
    """Publish version `number` (an older one again: as a new version); refuses a broken one."""
    version = version_by_number(session, office, number)
    return publish(session, user_id, office, version, check_version(session, office, version))


def rollback(session: Session, user_id: int | None, office: Office,
             number: int | None = None) -> CatalogVersion:
    """Go back to version `number`, or to the version live before the current one."""
    target = (version_by_number(session, office, number) if number is not None
              else previous_published(session, office))
    if target is None:
        raise Conflict(_("There is no earlier published version to go back to."))
    return publish(session, user_id, office, target, check_version(session, office, target))


# --- edits without YAML ----------------------------------------------------------------------


def published_data(session: Session, office: Office) -> tuple[CatalogVersion, dict[str, Any]]:
    """The published version and its data, to edit (Conflict when nothing is published)."""
    version = published_version(session, office)
    if version is None:
        raise Conflict(_("This office has no published catalog yet; upload one first."))
    data = yaml.safe_load(version.yaml_text)
    assert isinstance(data, dict)  # a published version passed every check
    return version, data


def _items(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    items = data.get(kind) or []
    return [item for item in items if isinstance(item, dict)]


def set_visibility(session: Session, user_id: int | None, office: Office,
                   shown_events: Iterable[str], shown_procedures: Iterable[str],
                   publish_now: bool = True) -> Saved:
    """Hide every life event and procedure not in the `shown_…` sets, show the others."""
    base, data = published_data(session, office)
    events, procedures = set(shown_events), set(shown_procedures)
    changed = []
    for kind, shown in (("life_events", events), ("procedures", procedures)):
        for item in _items(data, kind):
            hidden = item.get("id") not in shown
            if bool(item.get("hidden", False)) != hidden:
                changed.append(f"{'hid' if hidden else 'showed'} {item.get('id')}")
            if hidden:
                item["hidden"] = True
            else:
                item.pop("hidden", None)
    if not changed:
        raise ValidationFailed(_("Nothing was changed."))
    if not any(not item.get("hidden") for item in _items(data, "life_events")):
        message = _("Keep at least one life event shown.")
        raise ValidationFailed(message, life_events=message)
    note = (f"from version {base.number}: " + ", ".join(changed))[:200]
    return _save_and_maybe_publish(session, user_id, office, dump_yaml(data), note, publish_now)


def _document_id(name: str, taken: set[str]) -> str:
    """A new document's id, from its English or Japanese name where it gives one."""
    stem = "".join(char if char.isascii() and char.isalnum() else "_"
                   for char in name.lower()).strip("_")[:40]
    stem = stem if stem[:1].isalpha() else f"document_{stem}".rstrip("_")
    candidate, number = stem, 2
    while candidate in taken:
        candidate, number = f"{stem}_{number}", number + 1
    return candidate


def edit_procedure(session: Session, user_id: int | None, office: Office, procedure_id: str,
                   documents: list[str], counter_hint: Mapping[str, str],
                   new_document: Mapping[str, str], publish_now: bool = True) -> Saved:
    """Change a procedure's "what to bring" (documents, in order; optionally a new one named
    per language) and its counter hint per language (all empty: none, the section's is used)."""
    base, data = published_data(session, office)
    procedure = next((item for item in _items(data, "procedures")
                      if item.get("id") == procedure_id), None)
    if procedure is None:
        raise NotFound(_("This procedure does not exist."))
    problems: dict[str, str] = {}
    known = {item.get("id") for item in _items(data, "documents")}
    unknown = [doc for doc in documents if doc not in known]
    if unknown:
        problems["documents"] = _("Unknown document: %(id)s") % {"id": unknown[0][:40]}
    hint = {code: text.strip() for code, text in counter_hint.items()
            if code in KIOSK_LOCALES and text.strip()}
    new_names = {code: text.strip() for code, text in new_document.items()
                 if code in KIOSK_LOCALES and text.strip()}
    if any(len(text) > MAX_HINT for text in hint.values()):
        problems["counter_hint"] = _("At most %(max)d characters.") % {"max": MAX_HINT}
    if any(len(text) > MAX_DOCUMENT_NAME for text in new_names.values()):
        problems["new_document"] = _("At most %(max)d characters.") % {"max": MAX_DOCUMENT_NAME}
    elif new_names and not new_names.get("ja"):
        problems["new_document"] = _("Give the name in Japanese.")
    if problems:
        raise ValidationFailed(next(iter(problems.values())), **problems)
    chosen = list(dict.fromkeys(documents))
    if new_names:
        new_id = _document_id(new_names.get("en") or new_names["ja"], {str(k) for k in known})
        data.setdefault("documents", []).append({"id": new_id, "name": new_names})
        chosen.append(new_id)
    procedure["documents"] = chosen
    if hint:
        procedure["counter_hint"] = hint
    else:
        procedure.pop("counter_hint", None)
    note = f"from version {base.number}: edited procedure {procedure_id}"[:200]
    return _save_and_maybe_publish(session, user_id, office, dump_yaml(data), note, publish_now)
