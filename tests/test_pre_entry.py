"""Details entered at home, the domain: codes (alphabet, format, uniqueness), single use (also
with two kiosks at once, SQLite and PostgreSQL), expiry, the per-client cap, and retention."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from composition.demo import seed_structure
from counter import queue
from counter.models import Visit, VisitDetails
from frontyard import database
from frontyard.exceptions import TooManyRequests, ValidationFailed
from frontyard.i18n import use_locale
from kiosk import pre_entry
from kiosk.details import validate_details
from kiosk.pre_entry import ALPHABET, PreEntry
from tests.test_queue_concurrency import _in_threads

ANSWERS = {"household_ages": [34, 1], "mynumber_card": True, "register_seal": False,
           "national_health_insurance": True, "longterm_care_certified": False,
           "daycare": False, "pregnant": False, "dog": False}
DETAILS = validate_details({"name": "山田 太郎", "furigana": "ヤマダ タロウ",
                            "date_of_birth": "1990-04-01", "address": "本町1-2-3"})
RULES = queue.QueueRules()


@pytest.fixture
def office(engine):  # type: ignore[no-untyped-def]
    """An office with the services of its catalog, and that catalog."""
    with database.session_scope(engine) as session:
        seeded = seed_structure(session)
        return seeded.id, pre_entry.office_and_catalog(session, seeded.code)[1]


def make_entry(engine, office, client: str = "192.0.2.1", **extra) -> PreEntry:  # type: ignore[no-untyped-def]
    """One entry of details at home for the moving-in answers."""
    office_id, catalog = office
    with database.session_scope(engine) as session:
        entry = pre_entry.create(session, office_id=office_id, catalog=catalog, locale="en",
                                 events=["moving_in"], answers=ANSWERS, details=DETAILS,
                                 client=client, open_limit=extra.pop("open_limit", 5),
                                 retention_days=14, **extra)
        session.expunge(entry)
        return entry


def redeem(engine, office, code: str, **extra):  # type: ignore[no-untyped-def]
    """Redeem a code at the office's kiosk (no device)."""
    with database.session_scope(engine) as session:
        entry, _kiosk = pre_entry.redeem(session, code, office_id=office[0], device_id=None,
                                         rules=RULES, retention_days=14, **extra)
        return entry.visit_id


# --- codes -------------------------------------------------------------------------------------


def test_alphabet_has_no_ambiguous_symbols_and_enough_entropy():
    """31 symbols without 0/O, 1/I/L; 8 of them: more than 39 bits."""
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("01OIL") & set(ALPHABET)
    assert pre_entry.CODE_LENGTH * math.log2(len(ALPHABET)) > 39
    codes = {pre_entry.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(f"[{ALPHABET}]{{8}}", code) for code in codes)


@pytest.mark.parametrize(("typed", "expected"), [
    ("ABCD-EFGH", "ABCDEFGH"), ("abcd efgh", "ABCDEFGH"), (" ab cd-ef gh ", "ABCDEFGH"),
    ("ＡＢＣＤ－ＥＦＧＨ", "ABCDEFGH"), ("ABCDEFGH", "ABCDEFGH"), ("abcd\u3000efgh", "ABCDEFGH"),
    ("ABCD-EFG0", None), ("ABCD-EFGI", None), ("ABCD-EFG", None), ("ABCD-EFGHJ", None),
    ("", None), ("ABCD-EFG\x00", None),
])
def test_typed_codes_are_read_case_space_and_dash_insensitively(typed, expected):
    """What a resident types or a camera reads becomes the stored form, or nothing."""
    assert pre_entry.normalise_code(typed) == expected


def test_codes_are_shown_in_two_groups():
    """`ABCD-EFGH`: easy to read aloud."""
    assert pre_entry.format_code("ABCDEFGH") == "ABCD-EFGH"


def test_each_entry_gets_its_own_code_and_keeps_only_a_hash_of_the_address(engine, office):
    """Unique codes; the client's address is not stored as such."""
    entries = [make_entry(engine, office, client=f"198.51.100.{n}") for n in range(5)]
    assert len({entry.code for entry in entries}) == 5
    assert all("198.51.100" not in entry.client_key for entry in entries)
    assert entries[0].procedures and entries[0].details["name"] == "山田\u3000太郎"


def test_an_unfinished_guide_or_unknown_event_is_refused(engine, office):
    """Questions left, or no life event: nothing is kept."""
    office_id, catalog = office
    with database.session_scope(engine) as session:
        with pytest.raises(pre_entry.Conflict):
            pre_entry.create(session, office_id=office_id, catalog=catalog, locale="en",
                             events=["moving_in"], answers={}, details=DETAILS, client="x",
                             open_limit=5, retention_days=14)
        with pytest.raises(ValidationFailed):
            pre_entry.create(session, office_id=office_id, catalog=catalog, locale="en",
                             events=["nothing"], answers={}, details=DETAILS, client="x",
                             open_limit=5, retention_days=14)
    with Session(engine) as session:
        assert session.exec(select(PreEntry)).all() == []


def test_unused_entries_per_client_are_capped(engine, office):
    """The cap counts a client's unused entries; another client is not affected."""
    for _ in range(2):
        make_entry(engine, office, open_limit=2)
    with pytest.raises(TooManyRequests):
        make_entry(engine, office, open_limit=2)
    make_entry(engine, office, client="203.0.113.9", open_limit=2)


# --- at the kiosk ------------------------------------------------------------------------------


def test_a_code_issues_one_ticket_once(engine, office):
    """The ticket has the details (source pre_entry); the entry keeps none; a second use fails."""
    entry = make_entry(engine, office)
    visit_id = redeem(engine, office, entry.code)
    with Session(engine) as session:
        stored = session.get(VisitDetails, visit_id)
        after = session.get(PreEntry, entry.id)
    assert stored is not None and stored.source == "pre_entry" and stored.data["name"]
    assert after is not None and after.details is None and after.visit_id == visit_id
    with use_locale("en"), pytest.raises(pre_entry.CodeRefused, match="already been used"):
        redeem(engine, office, entry.code)


def test_expired_unknown_and_other_office_codes_are_refused(engine, office):
    """Each refusal says why, in the language the resident chose at home."""
    entry = make_entry(engine, office)
    later = entry.created_at + timedelta(days=15)
    with pytest.raises(pre_entry.CodeRefused, match="expired"):
        redeem(engine, office, entry.code, now=later)
    with use_locale("en"), pytest.raises(pre_entry.CodeRefused, match="not known"):
        redeem(engine, office, "ABCDEFGH")
    with database.session_scope(engine) as session, pytest.raises(
            pre_entry.CodeRefused, match="another office"):
        pre_entry.redeem(session, entry.code, office_id=office[0] + 1000, device_id=None,
                         rules=RULES, retention_days=14)
    with Session(engine) as session:
        assert session.exec(select(Visit)).all() == []


def test_two_kiosks_redeeming_one_code_at_once_issue_one_ticket(engine, office):
    """Both threads start together; exactly one gets the ticket, the other a refusal."""
    entry = make_entry(engine, office)

    def kiosk(_index: int) -> str:
        try:
            redeem(engine, office, entry.code)
        except pre_entry.CodeRefused:
            return "refused"
        return "issued"

    for _ in range(3):  # a few rounds: the race must never let both through
        outcomes = sorted(_in_threads(2, kiosk))
        assert outcomes in (["issued", "refused"], ["refused", "refused"])
    with Session(engine) as session:
        assert len(session.exec(select(Visit)).all()) == 1


# --- retention ---------------------------------------------------------------------------------


def test_purge_deletes_old_entries_with_their_details(engine, office):
    """Unused entries past the retention go; recent ones stay; redeemed ones go with no detail
    left behind (the visit's own retention rule covers the details)."""
    old, recent, used = make_entry(engine, office), make_entry(engine, office), \
        make_entry(engine, office)
    redeem(engine, office, used.code)
    with database.session_scope(engine) as session:
        for entry_id in (old.id, used.id):
            row = session.get(PreEntry, entry_id)
            row.created_at -= timedelta(days=15)
            session.add(row)
    with database.session_scope(engine) as session:
        assert pre_entry.purge(session, database.utcnow(), 14) == 2
    with Session(engine) as session:
        assert [row.id for row in session.exec(select(PreEntry)).all()] == [recent.id]
        assert len(session.exec(select(VisitDetails)).all()) == 1  # the visit's, untouched


def test_cli_purge_deletes_expired_entries(engine, office, settings):
    """`frontyard purge`, in a fresh process, applies both retention rules."""
    entry = make_entry(engine, office)
    with database.session_scope(engine) as session:
        row = session.get(PreEntry, entry.id)
        row.created_at -= timedelta(days=30)
        session.add(row)
    env = {**os.environ, "FRONTYARD_DATA_DIR": str(settings.data_dir),
           "FRONTYARD_DATABASE_URL": settings.resolved_database_url()}
    result = subprocess.run([sys.executable, "-m", "composition.cli", "purge"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Deleted 1 entry(ies) of details entered at home." in result.stdout
    with Session(engine) as session:
        assert session.exec(select(PreEntry)).all() == []


def test_redeemed_details_follow_the_visits_retention(engine, office):
    """Once redeemed, nothing personal is left on the entry; the visit's purge takes the rest."""
    from zoneinfo import ZoneInfo

    from counter.retention import purge_personal_data

    entry = make_entry(engine, office)
    visit_id = redeem(engine, office, entry.code)
    later = database.utcnow() + timedelta(days=3)
    with database.session_scope(engine) as session:
        assert purge_personal_data(session, later, 48, ZoneInfo("Asia/Tokyo")) == 1
    with Session(engine) as session:
        assert session.get(VisitDetails, visit_id) is None
        left = session.get(PreEntry, entry.id)
        assert left is not None and left.details is None and left.visit_id == visit_id
