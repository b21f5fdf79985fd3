"""An office's kiosk languages, welcome text and privacy notice, over HTTP and in the domain:
the start screen offers exactly the office's languages in its order, the catalog is required
only in them (for the kiosk and for `catalog check`), the city's name welcomes residents,
the privacy notice is the city's own per language with the built-in text as fallback."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from admin import kiosk_setup
from composition.cli import main
from counter.models import Office
from frontyard import branding, database
from frontyard.errors import ValidationFailed
from frontyard.i18n import use_locale
from kiosk import flow, offer
from kiosk.catalog import KIOSK_LOCALES, catalog_path
from kiosk.catalog_versions import CatalogVersion
from kiosk.models import KioskSession
from tests.test_kiosk_routes import kiosk as kiosk  # fixtures, used by name
from tests.test_kiosk_routes import office_id as office_id

FOUR = ["ja", "vi", "en", "pt_BR"]


def configure(engine, office_id: int, languages: list[str], **texts: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Set the office's kiosk through the admin's rules (catalog coverage not checked)."""
    with database.session_scope(engine) as session:
        office = session.get(Office, office_id)
        kiosk_setup.save_kiosk(session, None, office, kiosk_setup.KioskInput(  # type: ignore[arg-type]
            languages, texts.get("welcome", {}), texts.get("privacy", {})), with_catalog=False)


def offered_codes(page: str) -> list[str]:
    return re.findall(r'name="locale" value="([A-Za-z_]+)"', page)


@pytest.fixture
def catalog_without_nepali(tmp_path, engine, office_id) -> Path:  # type: ignore[no-untyped-def]
    """The seed catalog with every Nepali text taken out, as the office's only catalog
    version (rewritten in place: no earlier good version for the kiosk to fall back on)."""
    path = tmp_path / "main.yaml"
    text = catalog_path("main").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^\s+ne: .*\n", "", text)
    path.write_text(text, encoding="utf-8")
    with database.session_scope(engine) as session:
        version = session.exec(select(CatalogVersion)).one()
        version.yaml_text, version.sha256 = text, hashlib.sha256(text.encode()).hexdigest()
        session.add(version)
    return path


def test_an_office_without_settings_offers_every_kiosk_language(engine, office_id):
    """Today's behaviour for an existing office: every kiosk language, the platform's order."""
    with Session(engine) as session:
        assert offer.offered_languages(session, office_id) == KIOSK_LOCALES
        assert flow.catalog_locales(session, session.get(Office, office_id)) == KIOSK_LOCALES  # type: ignore[arg-type]


def test_start_screen_shows_exactly_the_offered_languages_in_order(kiosk, engine, office_id):
    """Four languages, in the office's order; the others are refused with a clear message."""
    configure(engine, office_id, FOUR)
    page = kiosk.get("/kiosk")
    assert offered_codes(page.text) == FOUR
    refused = kiosk.post("/kiosk/start", data={"locale": "ko"}, headers={"Accept-Language": "en"},
                         follow_redirects=False)
    assert refused.status_code == 422
    assert "This kiosk does not offer that language." in refused.text
    with Session(engine) as session:
        assert session.exec(select(KioskSession)).first() is None
    started = kiosk.post("/kiosk/start", data={"locale": "vi"}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == "/kiosk/events"
    switched = kiosk.post("/kiosk/start", data={"locale": "es", "keep": "1"},
                          follow_redirects=False)
    assert switched.status_code == 422
    with Session(engine) as session:
        assert session.exec(select(KioskSession)).one().locale == "vi"


def test_japanese_is_always_offered(engine, office_id):
    """Left out, Japanese is refused by the admin's rules; a row without it still offers it."""
    with database.session_scope(engine) as session, pytest.raises(ValidationFailed) as error:
        office = session.get(Office, office_id)
        kiosk_setup.save_kiosk(session, None, office, kiosk_setup.KioskInput(["en"]),  # type: ignore[arg-type]
                               with_catalog=False)
    assert "languages" in error.value.fields
    with database.session_scope(engine) as session:
        offer.save(session, office_id, languages=["en"], welcome={}, privacy={})
    with Session(engine) as session:
        assert offer.offered_languages(session, office_id) == ("ja", "en")


def test_a_catalog_missing_a_language_not_offered_serves_the_kiosk(
        kiosk, engine, office_id, catalog_without_nepali):
    """Without Nepali texts: every language is 503; without Nepali offered, the kiosk works."""
    assert kiosk.post("/kiosk/start", data={"locale": "en"},
                      follow_redirects=False).status_code == 503
    configure(engine, office_id, [code for code in KIOSK_LOCALES if code != "ne"])
    response = kiosk.post("/kiosk/start", data={"locale": "en"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert kiosk.get("/kiosk/events").status_code == 200


def test_the_admin_may_not_offer_a_language_the_catalog_lacks(engine, office_id,
                                                               catalog_without_nepali):
    """Offering Nepali while the guide has no Nepali texts is refused, naming the language."""
    with database.session_scope(engine) as session, pytest.raises(ValidationFailed) as error:
        office = session.get(Office, office_id)
        kiosk_setup.save_kiosk(session, None, office, kiosk_setup.KioskInput(["ja", "ne"]))  # type: ignore[arg-type]
    assert "नेपाली" in error.value.fields["languages"]
    with Session(engine) as session:
        assert session.get(offer.KioskSettings, office_id) is None


def test_catalog_check_from_the_database_requires_the_offered_languages(
        engine, settings, office_id, monkeypatch, catalog_without_nepali):
    """`catalog check --from-database` agrees with the kiosk: Nepali is required only while
    the office's kiosk offers it; an explicit --locales still wins."""
    monkeypatch.setenv("FRONTYARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FRONTYARD_DATA_DIR", str(settings.data_dir))

    def check(*options: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["catalog", "check", str(catalog_without_nepali),
                                           "--from-database", *options])
        return result.exit_code, result.stdout

    code, out = check()
    assert code == 1 and "missing translation for ne" in out
    configure(engine, office_id, ["ja", "en", "vi"])
    code, out = check()
    assert code == 0, out
    assert "Complete in: ja, en, vi." in out
    assert check("--locales", "all")[0] == 1


def test_welcome_names_the_city_and_the_office_may_write_its_own(kiosk, engine, office_id):
    """Built-in welcome with the city's name per language; the office's own text wins;
    easy Japanese gets ruby only where the name has readings."""
    assert "Welcome to the city hall" in kiosk.get(
        "/kiosk", headers={"Accept-Language": "en"}).text
    with database.session_scope(engine) as session:
        branding.set_city_names(session, {"ja": "北山市", "en": "Kitayama City",
                                          "ja_easy": "北山市《きたやまし》"})
    page = kiosk.get("/kiosk", headers={"Accept-Language": "en"}).text
    assert "Welcome to Kitayama City" in page and 'data-city-name>Kitayama City<' in page
    assert "北山市へようこそ" in kiosk.get("/kiosk").text
    kiosk.cookies.set("fy_locale", "ja_easy")
    easy = kiosk.get("/kiosk").text
    assert "<ruby>北山市<rp>(</rp><rt>きたやまし</rt>" in easy
    configure(engine, office_id, FOUR, welcome={"en": "Hello, neighbours!"})
    kiosk.cookies.set("fy_locale", "en")
    assert "<h1>Hello, neighbours!</h1>" in kiosk.get("/kiosk").text
    kiosk.cookies.set("fy_locale", "vi")
    assert "Kitayama City" in kiosk.get("/kiosk").text  # vi: built-in, name falls back to en


def _reach_confirm(client, locale: str) -> str:  # type: ignore[no-untyped-def]
    """Walk to the confirmation page with details entered; returns its HTML."""
    from tests.test_kiosk_routes import MOVING_IN_ANSWERS, PERSON, answer_all, choose

    assert client.post("/kiosk/start", data={"locale": locale},
                       follow_redirects=False).status_code == 303
    choose(client, "moving_in")
    answer_all(client, MOVING_IN_ANSWERS)
    response = client.post("/kiosk/details", data=PERSON, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.get("/kiosk/confirm").text


def test_privacy_notice_per_language_with_the_built_in_text_as_fallback(kiosk, engine,
                                                                         office_id):
    """The city's notice (safe Markdown) in English; Vietnamese has none: built-in only."""
    configure(engine, office_id, FOUR, privacy={
        "en": "## How we use your details\n\n**Kitayama** keeps them *24 hours*.\n\n"
              "<script>alert(1)</script> [more](javascript:alert(1))"})
    page = _reach_confirm(kiosk, "en")
    assert "data-privacy-notice" in page
    assert "<h4>How we use your details</h4>" in page
    assert "<strong>Kitayama</strong> keeps them <em>24 hours</em>." in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript' not in page
    assert "I agree that the city staff use these details" in page  # the agreement stays
    kiosk.post("/kiosk/reset")
    page = _reach_confirm(kiosk, "vi")
    assert "data-privacy-notice" not in page and "How we use your details" not in page


def test_configuration_section_round_trip_and_bad_data(engine, office_id):
    """export(import(x)) == x; bad data names its place and changes nothing."""
    data = {"city_name": {"ja": "北山市", "en": "Kitayama City"},
            "languages": ["ja", "en", "vi", "pt_BR"],
            "welcome": {"en": "Welcome!"},
            "privacy": {"ja": "個人情報は大切に扱います。", "en": "We care."}}
    with database.session_scope(engine) as session:
        office = session.get(Office, office_id)
        kiosk_setup.import_config(session, office, data)  # type: ignore[arg-type]
    with Session(engine) as session:
        office = session.get(Office, office_id)
        assert kiosk_setup.export_config(session, office) == data  # type: ignore[arg-type]
    assert kiosk_setup.CONFIG_SECTION == "kiosk"
    for bad, place in ((["ja"], "kiosk:"), ({**data, "languages": "ja,en"}, "kiosk.languages"),
                       ({**data, "languages": ["ja", "xx"]}, "kiosk.languages"),
                       ({**data, "welcome": {"en": "x" * 201}}, "kiosk.welcome.en"),
                       ({**data, "privacy": {"ja_easy": "個人情報"}}, "kiosk.privacy.ja_easy"),
                       ({**data, "city_name": {"en": "No Japanese"}}, "kiosk.city_name"),
                       ({**data, "colour": "red"}, "kiosk: unknown key colour")):
        with use_locale("en"), database.session_scope(engine) as session, \
                pytest.raises(ValidationFailed) as error:
            office = session.get(Office, office_id)
            kiosk_setup.import_config(session, office, bad)  # type: ignore[arg-type]
        assert str(error.value).startswith(place), (bad, str(error.value))
    with Session(engine) as session:
        office = session.get(Office, office_id)
        assert kiosk_setup.export_config(session, office) == data  # type: ignore[arg-type]
