"""A small city for the catalog-version tests: office `kita`, two services of its own, the
small fixture catalog, checked in three languages (what `required_locales` answers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from counter.models import Office, Service
from kiosk import catalog_serving

DATA = Path(__file__).parent / "data" / "catalogs"
#: The small fixture catalog with a second life event.
GOOD = (DATA / "good.yaml").read_text(encoding="utf-8") + (
    "  - id: birth\n"
    "    title: {ja: 出生, ja_easy: 出生《しゅっせい》, en: Birth}\n"
    "    procedures: [allowance]\n")
LOCALES = ("ja", "ja_easy", "en")
OFFICE = "kita"


def with_locales(monkeypatch: pytest.MonkeyPatch) -> None:
    """The office requires three languages (the hook per-office kiosk languages use)."""
    monkeypatch.setattr(catalog_serving, "required_locales", lambda session, office: LOCALES)


def make_city(session: Session) -> Office:
    """Office `kita` with the services the fixture catalog names, nothing bundled for it."""
    office = Office(code=OFFICE, names={"ja": "北支所", "en": "North branch"})
    session.add(office)
    session.flush()
    for order, (code, prefix) in enumerate((("residents", "R"), ("childcare", "K"))):
        session.add(Service(office_id=office.id, code=code, prefix=prefix,  # type: ignore[arg-type]
                            names={"ja": code, "en": code}, sort_order=order))
    session.flush()
    return office


def switch_off(session: Session, code: str) -> None:
    """Switch a service off (a published catalog naming it no longer validates)."""
    service = session.exec(select(Service).where(Service.code == code)).one()
    service.active = False
    session.add(service)
    session.flush()


def broken(text: str = GOOD) -> str:
    """The good catalog with a procedure's service changed to one that does not exist."""
    return text.replace("service: childcare\n    name: {ja: 児童手当",
                        "service: nowhere\n    name: {ja: 児童手当", 1)


def in_every_language(text: str) -> str:
    """The catalog with each text's English copied into the kiosk languages it lacks (for a
    process that checks every kiosk language, as the kiosk does by default)."""
    import yaml

    from kiosk.catalog import KIOSK_LOCALES
    from kiosk.catalog_versions import dump_yaml

    def fill(item: object) -> object:
        if isinstance(item, dict):
            if "ja" in item and all(isinstance(value, str) for value in item.values()):
                return {**{code: item["en"] for code in KIOSK_LOCALES}, **item}
            return {key: fill(value) for key, value in item.items()}
        if isinstance(item, list):
            return [fill(value) for value in item]
        return item

    return dump_yaml(fill(yaml.safe_load(text)))
