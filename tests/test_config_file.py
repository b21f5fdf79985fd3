"""`frontyard config export / import`: a city's set-up as one YAML file, moved from one
installation to another, checked with --dry-run, refused whole when anything is wrong."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from admin import config_file
from composition.cli import main
from counter.models import Office, Service
from frontyard import database
from frontyard.audit import AuditEntry
from frontyard.i18n import use_locale
from tests.cli_process import run_frontyard


def _frontyard(data_dir: Path):  # type: ignore[no-untyped-def]
    """Run `frontyard …` in a fresh process on the SQLite database in `data_dir`."""
    env = {**os.environ, "FRONTYARD_DATA_DIR": str(data_dir), "FRONTYARD_DATABASE_URL": ""}

    def run(*args: str, ok: bool = True, stdin: str | None = None) -> \
            subprocess.CompletedProcess[str]:
        result = run_frontyard(*args, env=env, input=stdin)
        if ok:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


def _in_process(data_dir: Path):  # type: ignore[no-untyped-def]
    """Run `frontyard …` in this process (quicker, for setting a database up)."""
    env = {"FRONTYARD_DATA_DIR": str(data_dir), "FRONTYARD_DATABASE_URL": ""}

    def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(main, list(args), input=stdin, env=env)
        assert result.exit_code == 0, result.output
        return result

    return run


def _a_city(data_dir: Path) -> None:
    """Two offices of a city that is not the demo, set up from the command line."""
    run = _in_process(data_dir)
    run("db", "upgrade")
    run("user", "add", "ito", "--password-stdin", stdin="long-password-1\n")
    run("office", "add", "minami", "--name", "ja=南庁舎", "--name", "en=South office",
        "--address", "南町2-2")
    run("office", "add", "kita", "--name", "ja=北支所")
    run("service", "add", "nenkin", "--office", "minami", "--prefix", "N",
        "--name", "ja=年金", "--name", "en=Pension", "--colour", "#00aa00")
    run("service", "add", "soudan", "--office", "minami", "--prefix", "S", "--name", "ja=相談",
        "--kind", "appointment")
    run("service", "add", "juumin", "--office", "kita", "--prefix", "J", "--name", "ja=住民")
    run("counter", "add", "12", "--office", "minami", "--name", "ja=12番", "--zone", "3F",
        "--services", "nenkin")
    run("counter", "add", "1", "--office", "kita", "--name", "ja=1番")
    run("user", "services", "ito", "--office", "minami", "--set", "nenkin")


def test_export_import_export_gives_the_same_file(tmp_path):
    """Staging → production: the file imported into a fresh installation (its people added
    first) exports as the same text, and importing it again changes nothing."""
    staging, production = tmp_path / "staging", tmp_path / "production"
    staging.mkdir(), production.mkdir()
    run = _frontyard(staging)
    _a_city(staging)
    exported = run("config", "export").stdout
    assert "南庁舎" in exported and "long-password-1" not in exported and "ito:" in exported
    assert "\n    - nenkin" in exported and "kind: appointment" in exported
    (tmp_path / "city.yaml").write_text(exported, encoding="utf-8")
    prepare = _in_process(production)
    prepare("db", "upgrade")
    prepare("user", "add", "ito", "--password-stdin", stdin="other-password-2\n")
    target = _frontyard(production)
    imported = target("config", "import", str(tmp_path / "city.yaml")).stdout
    assert "+ office minami" in imported and "office minami: + service nenkin" in imported
    assert "office minami: + counter 12" in imported
    target("config", "export", "--output", str(tmp_path / "again.yaml"))
    assert (tmp_path / "again.yaml").read_text(encoding="utf-8") == exported
    assert "Nothing to change" in target("config", "import", str(tmp_path / "city.yaml")).stdout


def _database(data_dir: Path):  # type: ignore[no-untyped-def]
    return database.make_engine(f"sqlite:///{data_dir / 'frontyard.sqlite3'}")


def test_dry_run_shows_the_changes_and_changes_nothing(tmp_path):
    """--dry-run prints one readable line per change; the real import then makes exactly
    those changes, each in the audit log; a service the file lacks is kept and reported,
    or switched off with --deactivate-missing."""
    run = _frontyard(tmp_path)
    _a_city(tmp_path)
    before = run("config", "export").stdout
    changed = (before.replace("en: Pension", "en: Pensions")
               .replace("  - number: '12'", "  - number: '7'\n    names:\n      ja: 7番\n"
                        "  - number: '12'"))
    cut = changed.index("  - code: soudan")
    changed = changed[:cut] + changed[changed.index("  counters:", cut):]
    (tmp_path / "new.yaml").write_text(changed, encoding="utf-8")
    dry = run("config", "import", str(tmp_path / "new.yaml"), "--dry-run").stdout
    assert "office minami: service nenkin: names.en: 'Pension' → 'Pensions'" in dry
    assert "office minami: + counter 7" in dry
    assert "office minami: service soudan is not in the file: kept" in dry
    assert "Dry run: 2 change(s)" in dry
    assert run("config", "export").stdout == before
    with Session(_database(tmp_path)) as session:
        audited = len(session.exec(select(AuditEntry)).all())
    done = run("config", "import", str(tmp_path / "new.yaml"), "--deactivate-missing").stdout
    assert "service soudan is not in the file: switched off" in done
    with Session(_database(tmp_path)) as session:
        actions = [entry.action for entry in session.exec(select(AuditEntry))][audited:]
        nenkin = session.exec(select(Service).where(Service.code == "nenkin")).one()
    assert nenkin.names["en"] == "Pensions"
    assert sorted(actions) == ["config_imported", "counter_created", "service_changed",
                               "service_changed"]
    assert "active: false" in run("config", "export").stdout.split("code: soudan")[1]


@pytest.fixture
def cli(tmp_path):  # type: ignore[no-untyped-def]
    """In-process `frontyard` on a database with one office, two services and a counter."""
    env = {"FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": ""}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), env=env)

    for command in (["db", "upgrade"], ["office", "add", "minami", "--name", "ja=南"],
                    ["service", "add", "nenkin", "--prefix", "N", "--name", "ja=年金"],
                    ["service", "add", "zei", "--prefix", "Z", "--name", "ja=税"],
                    ["counter", "add", "1", "--name", "ja=1番", "--services", "nenkin"]):
        assert invoke(*command).exit_code == 0
    return invoke


GOOD = """\
format: 1
offices:
- code: minami
  names: {ja: 南}
  services:
  - {code: nenkin, prefix: N, names: {ja: 年金}}
  - {code: zei, prefix: Z, names: {ja: 税}}
  counters:
  - {number: '1', names: {ja: 1番}, services: [nenkin]}
  - {number: '99', names: {ja: 99番}}
"""

BAD_FILES = [
    ("not yaml", "offices: [\n  - {code: a", "line 2: not a YAML file"),
    ("not a mapping", "- a\n- b\n", "(the whole file): expected a mapping"),
    ("empty", "", "the file is empty"),
    ("unknown top key", GOOD + "boards: []\n", "line 11: boards: unknown key"),
    ("unknown office key", GOOD.replace("  names: {ja: 南}", "  name: {ja: 南}"),
     "line 4: offices[0].name: unknown key"),
    ("wrong shape", GOOD.replace("  services:\n", "  services: nenkin\n  x:\n"),
     "offices[0].x: unknown key"),
    ("services not a list", GOOD.replace("- {code: zei, prefix: Z, names: {ja: 税}}", ""
                                         ).replace("  - {code: nenkin, prefix: N, names: "
                                                   "{ja: 年金}}\n", "    code: nenkin\n"),
     "offices[0].services: expected a list"),
    ("bad office code", GOOD.replace("code: minami", "code: Minami Office"),
     "line 3: offices[0].code: Use 1 to 32 lower-case"),
    ("bad prefix", GOOD.replace("prefix: Z", "prefix: z9"),
     "line 7: offices[0].services[1].prefix: A ticket prefix is 1 to 4 capital"),
    ("duplicate prefix", GOOD.replace("prefix: Z", "prefix: N"),
     "line 7: offices[0].services[1].prefix: Another service of this office already uses"),
    ("duplicate code", GOOD.replace("code: zei", "code: nenkin"),
     "line 7: offices[0].services[1]: code 'nenkin' appears twice"),
    ("duplicate key", GOOD.replace("names: {ja: 税}", "names: {ja: 税}, prefix: Y"),
     "offices[0].services[1].prefix: this key is written twice"),
    ("wrong type", GOOD.replace("{code: zei,", "{code: zei, active: yes please,"),
     "offices[0].services[1].active: expected true or false"),
    ("counter allowed an unknown service", GOOD.replace("[nenkin]", "[nenkin, kosodate]"),
     "line 9: offices[0].counters[0].services: Unknown service: kosodate"),
    ("unknown user", GOOD + "  staff:\n    nobody: [nenkin]\n",
     "line 12: offices[0].staff.nobody: There is no user nobody"),
    ("a NUL character", GOOD.replace("{ja: 税}", '{ja: "税\\0"}'),
     "line 7: offices[0].services[1].names.ja: the text contains a NUL character"),
    ("unknown format", "format: 2\n" + GOOD.removeprefix("format: 1\n"),
     "line 1: format: this version reads format 1"),
    # Values YAML itself cannot make (it raised ValueError: a 500 in the admin console).
    ("a day that does not exist", GOOD + "  opened: 2026-02-30\n",
     "not a YAML file: day is out of range for month"),
    ("a number past Python's digit limit", GOOD.replace("format: 1", "format: " + "9" * 5000),
     "not a YAML file: Exceeds the limit (4300 digits)"),
    ("nested too deeply", "[" * 5000, "not a YAML file: "),
    # A "billion laughs" file grows exponentially when walked: refused before it is built.
    ("anchors and aliases", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n"
     "c: [*b, *b, *b, *b, *b, *b]\n" + GOOD,
     "line 1: anchors and aliases (& and *) are not allowed in a configuration file"),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_refused_with_its_place_and_nothing_is_written(cli, tmp_path, text,
                                                                     expected):
    """Each problem names the line and the place in the file; exit 2; the set-up is as it
    was (the file also adds a counter 99 that must not appear)."""
    before = cli("config", "export").output
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    result = cli("config", "import", str(tmp_path / "bad.yaml"))
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "nothing was changed" in result.output
    assert cli("config", "export").output == before


def test_all_or_nothing_when_the_second_office_is_wrong(cli, tmp_path):
    """A new office and a changed service are not kept when a later office fails."""
    before = cli("config", "export").output
    text = GOOD.replace("names: {ja: 年金}", "names: {ja: 年金, en: Pension}") + (
        "- code: kita\n  names: {ja: 北}\n  services:\n  - {code: a, prefix: A, names: {ja: あ}}\n"
        "- code: nishi\n  names: {ja: 西}\n  services:\n  - {code: b, prefix: '1', names: {}}\n")
    (tmp_path / "half.yaml").write_text(text, encoding="utf-8")
    result = cli("config", "import", str(tmp_path / "half.yaml"))
    assert result.exit_code == 2
    assert "line 18: offices[2].services[0].prefix" in result.output
    assert "offices[2].services[0].names: Give the name in Japanese" in result.output
    assert cli("config", "export").output == before
    assert cli("config", "import", str(tmp_path / "missing.yaml")).exit_code == 2
    (tmp_path / "latin1.yaml").write_bytes("offices: [{code: café}]".encode("latin-1"))
    latin1 = cli("config", "import", str(tmp_path / "latin1.yaml"))
    assert latin1.exit_code == 2 and "not a UTF-8 text file" in latin1.output


def test_the_engine_on_each_database(engine):
    """Import, the change list and export on SQLite and PostgreSQL alike."""
    with use_locale("en"), database.session_scope(engine) as session:
        report = config_file.import_text(session, GOOD)
    assert report.changes[:2] == ["+ office minami", "office minami: + service nenkin"]
    with database.session_scope(engine) as session:
        text = config_file.export_text(session)
    with use_locale("en"), database.session_scope(engine) as session:
        again = config_file.import_text(session, text.replace("ja: 税", "ja: 税務"))
    assert again.changes == ["office minami: service zei: names.ja: '税' → '税務'"]


def test_the_boards_section_goes_through_the_same_file(engine):
    """A board's settings (the boards feature's section) are imported, listed as changes
    and exported with the rest; a bad one is refused with its place, nothing written."""
    from frontyard.auth import DeviceKind, create_device

    with use_locale("en"), database.session_scope(engine) as session:
        config_file.import_text(session, GOOD)
        office = session.exec(select(Office).where(Office.code == "minami")).one()
        create_device(session, "lobby", DeviceKind.BOARD, office_id=office.id)
    boards = "  boards:\n  - {device: lobby, shows: services, services: [zei], languages: [en]}\n"
    with use_locale("en"), database.session_scope(engine) as session:
        report = config_file.import_text(session, GOOD + boards)
    assert report.changes == ["office minami: + board lobby"]
    with database.session_scope(engine) as session:
        assert "- device: lobby\n    shows: services" in config_file.export_text(session)
    with use_locale("en"), database.session_scope(engine) as session:
        with pytest.raises(config_file.FileRejected) as rejected:
            config_file.import_text(session, GOOD.replace("{ja: 税}", "{ja: 税務}")
                                    + boards.replace("[zei]", "[nope]"))
        session.rollback()
    assert rejected.value.messages == [
        "line 11: offices[0].boards: boards[0].services: nope: not a service of office minami."]
    with database.session_scope(engine) as session:
        assert "ja: 税務" not in config_file.export_text(session)
