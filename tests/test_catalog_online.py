"""The catalog's optional online alternative of a procedure: its link and its condition."""

from __future__ import annotations

from pathlib import Path

import pytest

from composition.demo import SERVICES
from kiosk.catalog import KIOSK_LOCALES, catalog_path, check_catalog, load_catalog

DATA = Path(__file__).parent / "data" / "catalogs"
TEST_SERVICES = {"residents", "childcare", "insurance"}
FIXTURE_LOCALES = ("ja", "ja_easy", "en")
#: Inserted after the allowance procedure of the good fixture (its last line before events).
ANCHOR = "    duration_minutes: 20\nlife_events:\n"


def with_online(tmp_path: Path, block: str) -> Path:
    """The good fixture whose allowance procedure has `block` (YAML under `online:`)."""
    text = (DATA / "good.yaml").read_text(encoding="utf-8")
    assert text.count(ANCHOR) == 1
    indented = "".join(f"      {line}\n" for line in block.strip("\n").splitlines())
    path = tmp_path / "online.yaml"
    path.write_text(text.replace(ANCHOR, "    duration_minutes: 20\n    online:\n"
                                 + indented + "life_events:\n"), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    """Every problem of a file, as printed, without the folder."""
    result = check_catalog(path, service_codes=TEST_SERVICES, required_locales=FIXTURE_LOCALES)
    return [str(problem).replace(str(path.parent) + "/", "") for problem in result.problems]


GOOD = """
url: https://example.org/apply?form=1
name: {ja: 電子申請, ja_easy: 電子《でんし》申請《しんせい》, en: The city's e-form}
condition: {ja: マイナンバーカードが必要, ja_easy: マイナンバーカードが いります,
            en: Needs a My Number card}
"""


def test_an_online_alternative_loads_with_its_link_and_condition(tmp_path):
    """The fields are read as written; a procedure without one has none."""
    catalog = load_catalog(with_online(tmp_path, GOOD), service_codes=TEST_SERVICES,
                           required_locales=FIXTURE_LOCALES)
    online = catalog.procedure("allowance").online
    assert online is not None
    assert online.url == "https://example.org/apply?form=1"
    assert online.name["en"] == "The city's e-form"
    assert online.condition is not None and online.condition["en"] == "Needs a My Number card"
    assert catalog.procedure("move_in").online is None


def test_the_condition_is_optional(tmp_path):
    """A link without conditions (anyone may use it) is fine."""
    path = with_online(tmp_path, "\n".join(GOOD.strip().splitlines()[:2]))
    assert problems(path) == []


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "ftp://example.org/form", "/apply", "example.org/apply",
    "https://", "https://exa mple.org/", "http://[::1/", "mailto:city@example.org",
])
def test_a_link_that_is_not_a_web_address_is_refused(tmp_path, url):
    """Residents open the link as it is: only absolute http(s) addresses with a host."""
    block = GOOD.replace("https://example.org/apply?form=1", f'"{url}"')
    found = problems(with_online(tmp_path, block))
    assert len(found) == 1, found
    assert found[0].endswith("procedures[1].online.url: an online alternative's url must be an "
                             "http:// or https:// address")


def test_texts_of_the_alternative_are_checked_like_every_text(tmp_path):
    """A missing translation, bad ruby and an unknown locale are each reported in place."""
    block = """
url: https://example.org/
name: {ja: 電子申請, en: The city's e-form}
condition: {ja: 必要, ja_easy: 必要, en: Needs a card, xx: x}
"""
    found = problems(with_online(tmp_path, block))
    assert any("procedures[1].online.name: missing translation for ja_easy" in p for p in found)
    assert any("procedures[1].online.condition: unknown locale xx" in p for p in found)


def test_missing_url_and_unknown_fields_are_schema_errors(tmp_path):
    """The url is required; a misspelt field is refused, with its line."""
    block = """
name: {ja: 電子申請, ja_easy: 電子《でんし》申請《しんせい》, en: E-form}
conditon: {ja: 必要, ja_easy: いります, en: Needed}
"""
    found = problems(with_online(tmp_path, block))
    assert any(p.endswith("procedures[1].online: missing field 'url'") for p in found), found
    assert any("unknown field 'conditon'" in p for p in found), found


def test_the_seed_catalog_offers_online_alternatives_in_every_language():
    """The bundled catalog's examples: 転出届 and 児童手当 through マイナポータル, with the
    My Number card's PIN as the condition, in every kiosk language."""
    seed = load_catalog(catalog_path("main"), service_codes={code for code, *_ in SERVICES})
    for procedure_id in ("moving_out_notice", "child_allowance_claim"):
        online = seed.procedure(procedure_id).online
        assert online is not None and online.url.startswith("https://")
        assert online.condition is not None
        assert set(KIOSK_LOCALES) <= set(online.name) and set(KIOSK_LOCALES) <= set(
            online.condition)
        assert "PIN" in online.condition["en"] and "暗証番号" in online.condition["ja"]


# --- on the kiosk's guide ---------------------------------------------------------------------

from tests.test_kiosk_routes import (  # noqa: E402  (the kiosk's fixtures and steps)
    answer_all,
    begin,
    choose,
    kiosk,  # noqa: F401
    office_id,  # noqa: F401
)


def test_the_kiosks_guide_names_the_online_alternative_without_a_link(kiosk):  # noqa: F811
    """Moving out on the kiosk: the guide says 転出届 can be done through マイナポータル and
    what it needs, but offers no link to leave the kiosk by; the ticket does not repeat it."""
    begin(kiosk, "en")
    choose(kiosk, "moving_out")
    answer_all(kiosk, {"household_ages": "40", "seal_registered": "no",
                       "national_health_insurance": "no", "longterm_care_certified": "no"})
    guide = kiosk.get("/kiosk/guide")
    assert guide.status_code == 200
    assert "Can be done online instead" in guide.text
    assert "Mynaportal (moving one-stop service)" in guide.text
    assert "Needs a My Number card and its signature PIN" in guide.text
    assert "myna.go.jp" not in guide.text
