"""`frontyard catalog check FILE`: a summary and exit 0, or one line per problem and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from frontyard import database
from frontyard.cli import main
from frontyard.demo import seed_structure
from kiosk.catalog import catalog_path

DATA = Path(__file__).parent / "data" / "catalogs"


def run(*args: str) -> tuple[int, str, str]:
    """Run the command; returns exit code, standard output and standard error."""
    result = CliRunner().invoke(main, ["catalog", "check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_seed_catalog_is_valid():
    """The shipped catalog: exit 0, what it holds, and which languages still lack texts."""
    code, out, err = run(str(catalog_path("main")))
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == (f"{catalog_path('main')}: valid catalog of office 'main': "
                        "9 life events, 51 procedures, 22 questions, 34 documents, 6 forms.")
    assert lines[1] == "Complete in: ja, ja_easy, en."
    assert lines[2].startswith("Not yet translated: zh_Hans (215 texts), ko (215 texts)")
    assert err == ""


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
    assert run(str(path), "--services", "residents,childcare")[0] == 0
    code, out, _ = run(str(path), "--services", "residents")
    assert code == 1
    assert out.splitlines() == [
        f"{path}:8: sections[1].service: unknown service 'childcare'",
        f"{path}:48: procedures[1].service: unknown service 'childcare'",
    ]


def test_locales_all_requires_every_kiosk_language():
    """--locales all refuses the seed until every kiosk language is translated."""
    code, out, _ = run(str(catalog_path("main")), "--locales", "all")
    assert code == 1
    assert out.splitlines()[0].endswith(
        "sections[0].name: missing translation for zh_Hans, ko, vi, pt_BR, es, tl, ne, id")


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
    code, out, _ = run(str(DATA / "good.yaml"), "--from-database")
    assert code == 0, out


@pytest.mark.parametrize("options", [["--services", "residents", "--from-database"]])
def test_services_and_database_are_exclusive(options):
    """Both sources at once is a usage error."""
    code, _, err = run(str(DATA / "good.yaml"), *options)
    assert code == 2
    assert err == "Give either --services or --from-database, not both.\n"
