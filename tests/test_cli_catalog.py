"""`frontyard catalog check FILE`: a summary and exit 0, or one line per problem and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from composition.cli import main
from composition.demo import seed_structure
from frontyard import database
from frontyard.i18n import use_locale
from kiosk.catalog import catalog_path

DATA = Path(__file__).parent / "data" / "catalogs"
#: The test files are written in these only (the default requires every kiosk language).
DRAFT = ("--locales", "ja,ja_easy,en")


def run(*args: str) -> tuple[int, str, str]:
    """Run the command; returns exit code, standard output and standard error."""
    result = CliRunner().invoke(main, ["catalog", "check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_seed_catalog_is_valid():
    """The shipped catalog: exit 0, what it holds, complete in every kiosk language."""
    code, out, err = run(str(catalog_path("main")))
    assert code == 0, out + err
    assert out.splitlines() == [
        f"{catalog_path('main')}: valid catalog of office 'main': "
        "9 life events, 51 procedures, 22 questions, 34 documents, 6 forms.",
        "Complete in: ja, ja_easy, en, zh_Hans, ko, vi, pt_BR, es, tl, ne, id.",
    ]
    assert err == ""
    assert run(str(catalog_path("main")), "--locales", "all") == (0, out, "")


def test_bad_catalog_prints_one_line_per_problem():
    """Exit 1; each problem on its own line with file, line and place; a count on stderr."""
    path = DATA / "bad_types.yaml"
    code, out, err = run(str(path), "--services", "residents")
    assert code == 1
    assert out.splitlines() == [
        f"{path}:5: sections[0].name.en: Input should be a valid string, not the boolean false "
        "(quote yes/no/on/off to keep them as text)",
        f"{path}:8: questions[0].kind: Input should be 'yes_no', 'choice' or 'number', "
        "not text 'radio'",
        f"{path}:14: procedures[0].duration_minutes: Input should be a valid integer, "
        "not text '30'",
        f"{path}:15: procedures[0].colour: unknown field 'colour'",
        f"{path}:17: life_events[0].id: an id is lower-case letters, digits and '_', "
        "starting with a letter, not 'Moving-In'",
        f"{path}:17: life_events[0]: missing field 'title'",
    ]
    assert err == f"{path}: 6 problem(s); the catalog cannot be used.\n"


def test_services_option_decides_what_is_known():
    """--services replaces the demo office's codes."""
    path = DATA / "good.yaml"
    assert run(str(path), "--services", "residents,childcare", *DRAFT)[0] == 0
    code, out, _ = run(str(path), "--services", "residents", *DRAFT)
    assert code == 1
    assert out.splitlines() == [
        f"{path}:8: sections[1].service: unknown service 'childcare'",
        f"{path}:48: procedures[1].service: unknown service 'childcare'",
    ]


def test_a_missing_translation_fails_by_default(tmp_path):
    """Without --locales every kiosk language is required; a draft check reports the gap."""
    text = catalog_path("main").read_text(encoding="utf-8")
    line = "      ne: नागरिक शाखा (市民課) – बासिन्दा दर्ता\n"
    assert text.count(line) == 1
    path = tmp_path / "main.yaml"
    path.write_text(text.replace(line, ""), encoding="utf-8")
    code, out, err = run(str(path))
    assert code == 1
    name_line = text.splitlines().index("    name:") + 1  # the first section's name map
    assert out.splitlines() == [
        f"{path}:{name_line}: sections[0].name: missing translation for ne"]
    assert err == f"{path}: 1 problem(s); the catalog cannot be used.\n"
    assert run(str(path), "--locales", "all")[0] == 1
    code, out, _ = run(str(path), *DRAFT)
    assert code == 0
    assert out.splitlines()[1:] == ["Complete in: ja, ja_easy, en.",
                                    "Not yet translated: ne (1 texts)."]


def test_unknown_locale_is_a_usage_error():
    """A locale Frontyard does not know is refused before reading the file."""
    code, _, err = run(str(DATA / "good.yaml"), "--locales", "ja,klingon")
    assert code == 2
    assert err == "Unknown locales: klingon.\n"


def test_missing_file_is_reported():
    """A path that does not exist is one problem, exit 1."""
    code, out, _ = run(str(DATA / "nowhere.yaml"))
    assert code == 1
    assert out.startswith(f"{DATA / 'nowhere.yaml'}: cannot read the file")


def test_services_from_the_database(engine, settings, monkeypatch):
    """--from-database checks against the services of the office in the database."""
    monkeypatch.setenv("FRONTYARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FRONTYARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FRONTYARD_SECRET_KEY", "test-secret-key-for-signing-sessions")
    code, _, err = run(str(catalog_path("main")), "--from-database")
    assert code == 2
    assert err == "The database has no services for office 'main'.\n"
    with database.session_scope(engine) as session:
        seed_structure(session)
    assert run(str(catalog_path("main")), "--from-database")[0] == 0
    code, out, _ = run(str(DATA / "good.yaml"), "--from-database", *DRAFT)
    assert code == 0, out


@pytest.mark.parametrize("options", [["--services", "residents", "--from-database"]])
def test_services_and_database_are_exclusive(options):
    """Both sources at once is a usage error."""
    code, _, err = run(str(DATA / "good.yaml"), *options)
    assert code == 2
    assert err == "Give either --services or --from-database, not both.\n"


def test_catalog_names_fill_the_languages_services_lack(engine, settings, monkeypatch):
    """`catalog names` adds the sections' names and step names in every language, keeps the
    names the city set, and says when there is nothing left to do."""
    from sqlmodel import Session, select

    from counter.models import Service

    monkeypatch.setenv("FRONTYARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FRONTYARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FRONTYARD_SECRET_KEY", "test-secret-key-for-signing-sessions")
    with database.session_scope(engine) as session:
        seed_structure(session)
        for service in session.exec(select(Service)):  # as an install from before the names
            service.names = {"ja": service.names["ja"], "en": "Our own English name"}
            service.step_names = {}
            session.add(service)

    def names() -> dict[str, Service]:
        with Session(engine) as session:
            return {service.code: service for service in session.exec(select(Service))}

    assert "vi" not in names()["residents"].names
    result = CliRunner().invoke(main, ["catalog", "names", str(catalog_path("main"))])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Named 9 service(s): residents, insurance")
    residents = names()["residents"]
    assert residents.names["vi"].startswith("Phòng Công dân")
    assert residents.names["en"] == "Our own English name"  # kept
    assert residents.step_names["受付"]["en"] == "Reception"
    again = CliRunner().invoke(main, ["catalog", "names", str(catalog_path("main"))])
    assert again.exit_code == 0 and again.stdout == "Every service already has these names.\n"
    bad = CliRunner().invoke(main, ["catalog", "names", str(DATA / "bad_references.yaml")])
    assert bad.exit_code == 1 and "nothing was changed" in bad.stderr


def test_problems_are_printed_in_english_whatever_the_current_language():
    """The checker's problems are translated on the admin's pages only: the command prints
    them in English even where Japanese is the current language."""
    path = DATA / "good.yaml"
    with use_locale("ja"):
        code, out, _ = run(str(path), "--services", "residents", *DRAFT)
    assert code == 1
    assert out.splitlines()[0] == f"{path}:8: sections[1].service: unknown service 'childcare'"
