"""The catalog in the database: versions, publishing (never a broken one), rollback, the last
good version served when the published one stops validating, and the bundled seed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import yaml
from sqlmodel import Session, select

from admin import catalogs
from counter.models import Office
from frontyard import database
from frontyard.audit import AuditEntry
from frontyard.exceptions import Conflict, ValidationFailed
from frontyard.i18n import use_locale
from kiosk import catalog_serving, flow
from kiosk.catalog_serving import served_catalog
from kiosk.catalog_versions import CatalogVersion, dump_yaml, published_version, versions
from tests.catalog_support import GOOD, broken, make_city, switch_off, with_locales


@pytest.fixture(autouse=True)
def three_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test office requires ja, ja_easy and en."""
    with_locales(monkeypatch)


@pytest.fixture(autouse=True)
def fresh_log() -> None:
    """Each test sees its own "logged once" lines."""
    catalog_serving._logged.clear()


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are matched in English."""
    with use_locale("en"):
        yield


@pytest.fixture
def session(engine):  # type: ignore[no-untyped-def]
    """A session on the test database with office `kita` (committed at the end)."""
    with database.session_scope(engine) as session:
        make_city(session)
        yield session


def _office(session: Session) -> Office:
    return session.exec(select(Office).where(Office.code == "kita")).one()


def test_an_office_without_a_catalog_has_no_guide(session):
    """No version and nothing bundled for the code: the kiosk's "no guide yet" message."""
    with pytest.raises(flow.KioskUnavailable, match="no procedure guide yet"):
        flow.office_catalog(session, _office(session))


def test_upload_publish_and_version_numbers(session):
    """Uploads are drafts numbered 1, 2…; publishing makes one live, the old one superseded."""
    office = _office(session)
    first = catalogs.upload(session, None, office, GOOD.encode(), "first", publish_now=True)
    assert (first.version.number, first.version.state, first.published) == (1, "published", True)
    second = catalogs.upload(session, None, office, GOOD.replace("Moving in", "Moving").encode())
    assert (second.version.number, second.version.state) == (2, "draft")
    assert flow.office_catalog(session, office).life_event("moving_in").title["en"] == "Moving in"
    catalogs.publish_number(session, None, office, 2)
    assert [(v.number, v.state) for v in versions(session, office)] == [
        (2, "published"), (1, "superseded")]
    assert flow.office_catalog(session, office).life_event("moving_in").title["en"] == "Moving"
    actions = [entry.action for entry in session.exec(select(AuditEntry))]
    assert actions.count("catalog_published") == 2
    detail = session.exec(select(AuditEntry).where(
        AuditEntry.action == "catalog_published")).all()[-1].detail
    assert detail["before"]["number"] == 1 and detail["after"]["number"] == 2
    assert "yaml_text" not in str(detail) and "life_events" not in str(detail)


def test_a_broken_draft_is_kept_but_never_published(session):
    """A draft with problems is saved for fixing; publishing it is refused, nothing changes."""
    office = _office(session)
    catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
    saved = catalogs.upload(session, None, office, broken().encode(), publish_now=True)
    assert not saved.published and saved.version.state == "draft"
    assert saved.result.problems[0].line is not None
    assert "unknown service 'nowhere'" in saved.result.problems[0].message
    with pytest.raises(Conflict):
        catalogs.publish_number(session, None, office, saved.version.number)
    assert published_version(session, office).number == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"\xff\xfe\x00f\x00o", "UTF-8"),
    (b"format: 1\x00", "UTF-8"),
    (b"\x89PNG\r\n\x1a\n", "UTF-8"),
    (b"x" * 1_600_000, "too large"),
])
def test_unreadable_uploads_are_refused_and_nothing_is_saved(session, data, message):
    """Empty, binary, not UTF-8, huge: a clear message; no version is written."""
    with pytest.raises(ValidationFailed, match=message):
        catalogs.upload(session, None, _office(session), data)
    assert versions(session, _office(session)) == []


@pytest.mark.parametrize(("text", "message", "line"), [
    ("a: [1, 2\n", "YAML syntax", 2),
    ("- just\n- a list\n", "must be a YAML mapping", 1),
    ("plain text\n", "must be a YAML mapping", 1),
    ("format: 1\nx: &a [1]\ny: *a\n", "anchors and aliases", 2),
    ('a: &a ["l","l"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n', "anchors and aliases", 1),
    ("format: 1\nformat: 1\n", "duplicate key", 2),
    ("[" * 5000 + "]" * 5000, "", None),
])
def test_uploads_that_are_no_catalog_are_refused_with_lines(session, text, message, line):
    """Syntax errors, non-mapping roots, YAML bombs (anchors/aliases), duplicate keys, deep
    nesting: refused with the line, nothing saved."""
    with pytest.raises(catalogs.CatalogRefused) as refused:
        catalogs.upload(session, None, _office(session), text.encode())
    problem = refused.value.problems[0]
    assert message in problem.message
    if line is not None:
        assert problem.line == line
    assert versions(session, _office(session)) == []


def test_no_valid_version_is_the_503_logged_once(session, caplog):
    """Every live version stops validating (a service switched off): the kiosk's 503 page,
    one ERROR line per broken version with the office and the problems, not one a request."""
    office = _office(session)
    catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
    catalogs.upload(session, None, office, GOOD.replace("Moving in", "Moving").encode(),
                    publish_now=True)
    with caplog.at_level(logging.ERROR, logger="frontyard.catalog"):
        switch_off(session, "childcare")
        served = served_catalog(session, office)
        for _ in range(3):
            with pytest.raises(flow.KioskUnavailable, match="has errors"):
                flow.office_catalog(session, office)
    assert served.catalog is None and served.published is not None
    assert served.problems and served.problems[0].line
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "kita" in errors[0] and "unknown service 'childcare'" in errors[0]


def test_fallback_to_an_older_version_that_still_validates(session, caplog):
    """Version 2 uses a service that is then switched off; version 1 does not: it is served."""
    office = _office(session)
    only_residents = _without_childcare(GOOD)
    catalogs.upload(session, None, office, only_residents.encode(), publish_now=True)
    catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
    assert flow.office_catalog(session, office).has("procedures", "allowance")
    with caplog.at_level(logging.ERROR, logger="frontyard.catalog"):
        switch_off(session, "childcare")
        served = served_catalog(session, office)
        served_again = served_catalog(session, office)
    assert served.version is not None and served.version.number == 1 and served.fallback
    assert served_again.version.number == 1  # type: ignore[union-attr]
    assert not flow.office_catalog(session, office).has("procedures", "allowance")
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


def _without_childcare(text: str) -> str:
    """The good catalog with only the residents' section, procedure and life event."""
    data = yaml.safe_load(text)
    data["sections"] = [item for item in data["sections"] if item["service"] == "residents"]
    data["procedures"] = [item for item in data["procedures"] if item["id"] == "move_in"]
    data["life_events"] = [{**data["life_events"][0], "rules": []}]
    return dump_yaml(data)


def test_rollback_publishes_the_previous_version_as_a_new_one(session):
    """Rollback copies the version live before into a new version and publishes it."""
    office = _office(session)
    catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
    catalogs.upload(session, None, office, GOOD.replace("Moving in", "New").encode(),
                    publish_now=True)
    back = catalogs.rollback(session, None, office)
    assert (back.number, back.state) == (3, "published")
    assert back.yaml_text == GOOD and "version 1" in back.note
    assert flow.office_catalog(session, office).life_event("moving_in").title["en"] == "Moving in"
    again = catalogs.rollback(session, None, office)  # back to "New"
    assert again.number == 4 and "New" in again.yaml_text


def test_rollback_without_history_is_refused(session):
    """Nothing published before: a clear refusal."""
    office = _office(session)
    catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
    with pytest.raises(Conflict):
        catalogs.rollback(session, None, office)


def test_hidden_life_events_and_procedures_are_not_offered(session):
    """Hide/show without YAML: a new version; the kiosk no longer offers what is hidden."""
    office = _office(session)
    catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
    catalog = flow.office_catalog(session, office)
    events = {event.id for event in catalog.life_events}
    saved = catalogs.set_visibility(session, None, office, events, {"move_in"})
    assert saved.published and saved.version.number == 2
    catalog = flow.office_catalog(session, office)
    assert catalog.has("procedures", "allowance")  # still known by id (issued tickets)
    assert all("allowance" not in rule.add for event in catalog.life_events
               for rule in event.rules)
    saved = catalogs.set_visibility(session, None, office, events - {"moving_in"},
                                    {"move_in", "allowance"})
    assert not flow.office_catalog(session, office).has("life_events", "moving_in")
    with pytest.raises(ValidationFailed, match="Nothing was changed"):
        catalogs.set_visibility(session, None, office, events - {"moving_in"},
                                {"move_in", "allowance"})
    with pytest.raises(ValidationFailed, match="at least one life event"):
        catalogs.set_visibility(session, None, office, set(), {"move_in", "allowance"})


def test_edit_what_to_bring_and_counter_hint(session):
    """A procedure's documents and counter hint per language, and a new document."""
    office = _office(session)
    catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
    saved = catalogs.edit_procedure(
        session, None, office, "allowance", ["bank_details"],
        {"ja": "5番窓口", "ja_easy": "5番《ばん》", "en": "Counter 5"},
        {"ja": "印鑑", "ja_easy": "はんこ", "en": "Seal"})
    assert saved.published, saved.result.problems
    procedure = flow.office_catalog(session, office).procedure("allowance")
    assert procedure.documents == ["bank_details", "seal"]
    assert procedure.counter_hint == {"ja": "5番窓口", "ja_easy": "5番《ばん》", "en": "Counter 5"}
    # A hint missing a required language stays a draft with the problem.
    saved = catalogs.edit_procedure(session, None, office, "allowance", ["bank_details"],
                                    {"ja": "6番窓口"}, {})
    assert not saved.published and "missing translation" in saved.result.problems[0].message


def test_the_bundled_catalog_seeds_version_one(engine):
    """An office whose code has a bundled file (the demo) gets it as version 1, published."""
    from composition.demo import seed_structure

    with database.session_scope(engine) as session:
        office = seed_structure(session)
        served = served_catalog(session, office)
    assert served.version is not None and served.version.number == 1
    with Session(engine) as session:
        rows = session.exec(select(CatalogVersion)).all()
    assert [(row.number, row.state) for row in rows] == [(1, "published")]


def test_two_publishers_at_once_leave_one_published(engine, database_url):
    """Two admins publish different drafts at the same moment: exactly one is published
    (PostgreSQL: the office row lock serialises them; the unique index backs it up)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time; the race matters on PostgreSQL")
    with database.session_scope(engine) as session:
        office = make_city(session)
        catalogs.upload(session, None, office, GOOD.encode(), publish_now=True)
        for title in ("A", "B"):
            catalogs.upload(session, None, office, GOOD.replace("Moving in", title).encode())
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def publish(number: int) -> None:
        try:
            with database.session_scope(engine) as session:
                office = session.exec(select(Office).where(Office.code == "kita")).one()
                barrier.wait()
                catalogs.publish_number(session, None, office, number)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(number,)) for number in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        states = [row.state for row in session.exec(select(CatalogVersion))]
    assert states.count("published") == 1
    assert errors == []  # the second waits for the first, then supersedes it


def test_configuration_section_round_trip_and_bad_data(session):
    """export(import(x)) == x; a bad catalog names its place; the same data twice is no-op."""
    from kiosk import catalog_config

    office = _office(session)
    assert catalog_config.export_config(session, office) is None
    data = yaml.safe_load(GOOD)
    catalog_config.import_config(session, office, data)
    assert catalog_config.export_config(session, office) == data
    assert flow.office_catalog(session, office).has("life_events", "birth")
    catalog_config.import_config(session, office, data)
    assert len(versions(session, office)) == 1
    bad = yaml.safe_load(broken())
    with pytest.raises(ValidationFailed, match=r"catalog\.procedures\[1\]\.service: unknown"):
        catalog_config.import_config(session, office, bad)
    with pytest.raises(ValidationFailed, match="must be a mapping"):
        catalog_config.import_config(session, office, ["not", "a", "catalog"])
    assert catalog_config.export_config(session, office) == data
