"""The procedure catalog: the seed catalog, good and bad files with their exact errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from composition.demo import SERVICES, seed_structure
from frontyard import database
from kiosk.catalog import (
    KIOSK_LOCALES,
    SEED_LOCALES,
    CatalogError,
    catalog_path,
    check_catalog,
    iter_texts,
    load_catalog,
    localized,
    localized_html,
    missing_translations,
    service_codes_in_database,
)

DATA = Path(__file__).parent / "data" / "catalogs"
DEMO_SERVICES = {code for code, *_ in SERVICES}
TEST_SERVICES = {"residents", "childcare", "insurance"}
#: The test files are written in these only; the seed catalog must have every kiosk language.
FIXTURE_LOCALES = ("ja", "ja_easy", "en")


@pytest.fixture(scope="module")
def seed():  # type: ignore[no-untyped-def]
    """The demo office's catalog, loaded once."""
    return load_catalog(catalog_path("main"), service_codes=DEMO_SERVICES)


def problems_of(name: str, **options) -> list[str]:  # type: ignore[no-untyped-def]
    """The problems of a fixture, as printed, with the file name shortened."""
    options.setdefault("service_codes", TEST_SERVICES)
    options.setdefault("required_locales", FIXTURE_LOCALES)
    result = check_catalog(DATA / name, **options)
    return [str(problem).replace(str(DATA) + "/", "") for problem in result.problems]


# --- the seed catalog ------------------------------------------------------------------------


def test_seed_catalog_is_valid_without_warnings():
    """The shipped catalog passes every check and leaves nothing unused."""
    result = check_catalog(catalog_path("main"), service_codes=DEMO_SERVICES)
    assert result.problems == []
    assert result.warnings == []


def test_seed_has_the_life_events_of_the_product(seed):
    """The nine life events of PRODUCT.md, each leading somewhere."""
    assert [event.id for event in seed.life_events] == [
        "moving_in", "moving_out", "moving_within", "birth", "death", "marriage", "divorce",
        "arriving_from_abroad", "certificates",
    ]
    assert len(seed.procedures) >= 25


def test_seed_uses_every_demo_service(seed):
    """Every queue of the demo office has procedures, and sections follow the register first."""
    assert {procedure.service for procedure in seed.procedures} == DEMO_SERVICES
    assert seed.sections[0].service == "residents"


@pytest.mark.parametrize(("procedure_id", "service", "days"), [
    ("moving_in_notice", "residents", 14),
    ("moving_out_notice", "residents", 14),
    ("moving_within_notice", "residents", 14),
    ("birth_notice", "residents", 14),
    ("death_notice", "residents", 7),
    ("child_allowance_claim", "childcare", 15),
    ("nhi_join", "insurance", 14),
    ("dog_registration_transfer", "environment", 30),
])
def test_seed_legal_deadlines(seed, procedure_id, service, days):
    """The deadlines the law sets (転入届 14 days, 死亡届 7 days, 児童手当 15 days…)."""
    procedure = seed.procedure(procedure_id)
    assert procedure.service == service
    assert procedure.deadline is not None and procedure.deadline.days == days
    assert f"{days}日" in procedure.deadline.text["ja"]


def test_seed_moving_in_names_and_documents(seed):
    """Real procedure names and documents, in every seed language."""
    procedure = seed.procedure("moving_in_notice")
    assert procedure.name["ja"] == "転入届（住民異動届）"
    assert "転入届《てんにゅうとどけ》" in procedure.name["ja_easy"]
    assert procedure.documents[:2] == ["id_document", "moving_out_certificate"]
    assert seed.document("moving_out_certificate").name["ja"].startswith("転出証明書")


def test_seed_requires_every_kiosk_language():
    """Validation requires all eleven kiosk languages by default, as the seed has them all."""
    assert SEED_LOCALES == KIOSK_LOCALES
    assert len(KIOSK_LOCALES) == 11


@pytest.mark.parametrize("locale", KIOSK_LOCALES)
def test_seed_is_translated_in_every_kiosk_language(seed, locale):
    """Every text of the seed catalog exists, non-empty, in every kiosk language."""
    assert missing_translations(seed, [locale]) == {}
    assert all(text[locale].strip() for _, text in iter_texts(seed))


def test_seed_texts_keep_the_japanese_procedure_names(seed):
    """Translations name a procedure with its Japanese name in parentheses, for the counter."""
    for code in (code for code in KIOSK_LOCALES if code != "ja_easy"):  # ja_easy has readings
        for procedure_id, japanese in [("moving_in_notice", "転入届"), ("birth_notice", "出生届"),
                                       ("death_notice", "死亡届"), ("nhi_join", "国民健康保険")]:
            assert japanese in seed.procedure(procedure_id).name[code], (code, procedure_id)


def drop_line(tmp_path: Path, line: str) -> Path:
    """A copy of the seed catalog without one line (which must occur exactly once)."""
    text = catalog_path("main").read_text(encoding="utf-8")
    assert text.count(f"\n{line}\n") == 1
    path = tmp_path / "main.yaml"
    path.write_text(text.replace(f"\n{line}\n", "\n"), encoding="utf-8")
    return path


def test_a_missing_translation_refuses_the_catalog(tmp_path):
    """One text without its Vietnamese is refused by default, at its line and place."""
    path = drop_line(tmp_path, "      vi: Thông báo chuyển đến (転入届)")
    result = check_catalog(path, service_codes=DEMO_SERVICES)
    assert result.catalog is None
    assert [(problem.place, problem.message) for problem in result.problems] == [
        ("procedures[5].name", "missing translation for vi"),
    ]
    assert result.problems[0].line is not None
    assert check_catalog(path, service_codes=DEMO_SERVICES,
                         required_locales=FIXTURE_LOCALES).catalog is not None


# --- good and bad files ----------------------------------------------------------------------


def test_good_catalog_loads_with_lookups():
    """A valid file gives a catalog with lookups by id and by service."""
    catalog = load_catalog(DATA / "good.yaml", service_codes=TEST_SERVICES,
                           required_locales=FIXTURE_LOCALES)
    assert catalog.office == "test"
    assert catalog.procedure("allowance").documents == ["id_document", "bank_details"]
    assert catalog.question("colour").options[1].label["en"] == "Blue"
    assert catalog.section("childcare").name["ja"] == "子育て支援課"
    assert catalog.section_rank("residents") == 0
    assert catalog.section_rank("childcare") == 1
    assert catalog.form("move").fields == ["name", "furigana", "address"]
    assert catalog.has("life_events", "moving_in")
    assert not catalog.has("life_events", "moving_out")


def test_bad_references_are_all_reported_with_line_and_place():
    """Cross-reference, translation and ruby problems are collected, not just the first."""
    assert problems_of("bad_references.yaml") == [
        "bad_references.yaml:6: sections[1].service: unknown service 'parking'",
        "bad_references.yaml:10: documents[0].name: missing translation for ja_easy",
        "bad_references.yaml:14: forms[0].fields[1]: unknown detail field 'shoe_size'",
        "bad_references.yaml:18: questions[0].text: ja_easy: kanji without a reading: 犬",
        "bad_references.yaml:21: questions[1].text: unknown locale jp",
        "bad_references.yaml:22: questions[1].options: "
        "a choice question needs at least two options",
        "bad_references.yaml:25: questions[2].id: duplicate id 'has_dog' (first at questions[0])",
        "bad_references.yaml:27: questions[2].text: empty translation for en",
        "bad_references.yaml:31: procedures[0].name: ja_easy: '《' is never closed "
        "(at character 4)",
        "bad_references.yaml:32: procedures[0].documents[1]: unknown document 'passport'",
        "bad_references.yaml:32: procedures[0].documents[2]: "
        "document 'id_document' is listed twice",
        "bad_references.yaml:35: procedures[1].service: unknown service 'tax'",
        "bad_references.yaml:38: procedures[1].deadline: give either days or months, not both",
        "bad_references.yaml:45: life_events[0].procedures[1]: unknown procedure 'move_out'",
        "bad_references.yaml:47: life_events[0].rules[0].when[0].question: "
        "unknown question 'has_cat'",
        "bad_references.yaml:49: life_events[0].rules[1].when[0]: "
        "a condition on yes_no question 'has_dog' takes 'equals'",
        "bad_references.yaml:49: life_events[0].rules[1].when[1].one_of: "
        "'green' is not an option of 'colour'",
        "bad_references.yaml:50: life_events[0].rules[1].add[0]: unknown procedure 'ghost'",
        "bad_references.yaml:51: life_events[1]: life event 'empty' leads to no procedure",
        "bad_references.yaml:53: life_events[1].title: duplicate key 'title'",
    ]


def test_bad_types_are_reported_with_what_yaml_read():
    """Schema errors name the field and explain YAML's surprises (`no` is a boolean)."""
    assert problems_of("bad_types.yaml") == [
        "bad_types.yaml:5: sections[0].name.en: Input should be a valid string, not the boolean "
        "false (quote yes/no/on/off to keep them as text)",
        "bad_types.yaml:8: questions[0].kind: Input should be 'yes_no', 'choice' or 'number', "
        "not text 'radio'",
        "bad_types.yaml:14: procedures[0].duration_minutes: Input should be a valid integer, "
        "not text '30'",
        "bad_types.yaml:15: procedures[0].colour: unknown field 'colour'",
        "bad_types.yaml:17: life_events[0].id: an id is lower-case letters, digits and '_', "
        "starting with a letter, not 'Moving-In'",
        "bad_types.yaml:17: life_events[0]: missing field 'title'",
    ]


def test_yaml_syntax_error_names_the_line():
    """A file that is not YAML is refused with the parser's line and problem."""
    assert problems_of("syntax_error.yaml") == [
        "syntax_error.yaml:6: YAML syntax: expected ',' or ']', but got '<stream end>'",
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("version: 2026-02-30\n", "day is out of range for month"),
    ("version: " + "9" * 5000 + "\n", "Exceeds the limit (4300 digits)"),
    ("version: !!float x\n", "could not convert string to float"),
])
def test_a_value_yaml_cannot_make_is_a_problem_not_a_crash(text, message):
    """YAML's own ValueError (an impossible date, a 5,000-digit number) is reported."""
    from kiosk.catalog.reading import read_yaml_text

    data, _lines, problems = read_yaml_text(text, "bad.yaml")
    assert data is None and len(problems) == 1
    assert "YAML syntax" in str(problems[0].message)
    assert message in str(problems[0].message)


def test_a_list_is_not_a_catalog():
    """The top level must be a mapping."""
    assert problems_of("not_a_mapping.yaml") == [
        "not_a_mapping.yaml:1: the catalog must be a YAML mapping",
    ]


def test_missing_file_is_a_problem_not_a_crash(tmp_path):
    """An unreadable path becomes a problem naming the file."""
    result = check_catalog(tmp_path / "nowhere.yaml", service_codes=TEST_SERVICES)
    assert len(result.problems) == 1
    assert str(result.problems[0]).startswith(f"{tmp_path / 'nowhere.yaml'}: cannot read the file")


def test_load_catalog_raises_with_every_problem():
    """load_catalog refuses a bad file with a CatalogError carrying the list."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(DATA / "bad_types.yaml", service_codes=TEST_SERVICES)
    assert len(caught.value.problems) == 6
    assert caught.value.file.endswith("bad_types.yaml")
    assert "procedures[0].colour: unknown field 'colour'" in str(caught.value)


def test_required_locales_are_a_parameter():
    """Requiring Vietnamese reports every text of the good file, at its own place."""
    problems = problems_of("good.yaml", required_locales=("ja", "vi"))
    assert len(problems) == 15
    assert problems[0] == "good.yaml:6: sections[0].name: missing translation for vi"
    assert problems_of("good.yaml", required_locales=("ja",)) == []


def test_unknown_service_uses_the_given_codes():
    """The same file is valid or not depending on the office's services."""
    assert problems_of("good.yaml", service_codes={"residents"}) == [
        "good.yaml:8: sections[1].service: unknown service 'childcare'",
        "good.yaml:48: procedures[1].service: unknown service 'childcare'",
    ]


def test_unused_items_are_warnings(tmp_path):
    """An unused question or procedure does not refuse the catalog but is reported."""
    text = (DATA / "good.yaml").read_text(encoding="utf-8")
    path = tmp_path / "unused.yaml"
    path.write_text(text.replace("  - id: colour\n", "  - id: colour_unused\n")
                    .replace("question: colour,", "question: has_dog, equals: false,")
                    .replace(" one_of: [red]}", "}"), encoding="utf-8")
    result = check_catalog(path, service_codes=TEST_SERVICES, required_locales=FIXTURE_LOCALES)
    assert result.problems == []
    assert result.catalog is not None
    assert [str(w).split(": ", 1)[1] for w in result.warnings] == [
        "questions[2]: question 'colour_unused' is never used",
    ]


@pytest.mark.usefixtures("engine")
def test_service_codes_come_from_the_database(engine):
    """The known service codes can be read from the office's services."""
    with database.session_scope(engine) as session:
        seed_structure(session)
    with database.session_scope(engine) as session:
        assert service_codes_in_database(session, "main") == DEMO_SERVICES
        assert service_codes_in_database(session, "elsewhere") == set()


# --- texts -----------------------------------------------------------------------------------


def test_localized_falls_back_from_easy_japanese_to_japanese():
    """A text missing in a locale falls back: ja_easy → ja, others → en."""
    text = {"ja": "転入届", "en": "Moving in"}
    assert localized(text, "ja_easy") == "転入届"
    assert localized(text, "vi") == "Moving in"
    assert localized({"ja": "転入届"}, "vi") == "転入届"


def test_localized_html_renders_ruby_only_in_easy_japanese():
    """Ruby markup becomes <ruby> in easy Japanese; every language is escaped."""
    text = {"ja": "転入届《注意》", "ja_easy": "転入届《てんにゅうとどけ》", "en": "<b>Moving</b>"}
    assert str(localized_html(text, "ja_easy")) == (
        "<ruby>転入届<rp>(</rp><rt>てんにゅうとどけ</rt><rp>)</rp></ruby>")
    assert str(localized_html(text, "ja")) == "転入届《注意》"
    assert str(localized_html(text, "en")) == "&lt;b&gt;Moving&lt;/b&gt;"


def test_kiosk_domain_imports_no_starlette():
    """The domain modules stay pure: importing them loads no web framework."""
    import subprocess
    import sys

    code = ("import sys, kiosk.catalog, kiosk.guide, kiosk.details, kiosk.eras, frontyard.ruby; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'starlette'))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).parent.parent).stdout
    assert output.strip() == "[]"
