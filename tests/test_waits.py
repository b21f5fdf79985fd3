"""How waits are told to residents (`counter.waits`): honest rounded ranges from the engine's
numbers, and a plain message when no estimate means anything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counter.waits import WaitKind, WaitRange, queue_wait_range, wait_range, wait_words
from frontyard import i18n


def _words(minutes: int, ahead: int = 3, *, counter_open: bool = True,
           locale: str = "en") -> str:
    with i18n.use_locale(locale):
        return str(wait_words(wait_range(timedelta(minutes=minutes), people_ahead=ahead,
                                         counter_open=counter_open)))


@pytest.mark.parametrize(("minutes", "words"), [
    (1, "less than 10 minutes"),
    (9, "less than 10 minutes"),
    (10, "about 5–15 minutes"),
    (25, "about 20–30 minutes"),
    (45, "about 35–55 minutes"),
    (60, "about 45–75 minutes"),
    (61, "about 1–1.5 hours"),
    (90, "about 1–2 hours"),
    (150, "about 2–3 hours"),
    (180, "about 2–4 hours"),
    (181, "more than 3 hours"),
    (397, "more than 3 hours"),  # the examples: never "397 minutes"
    (649, "more than 3 hours"),
])
def test_waits_are_rounded_ranges(minutes, words):
    """The estimate ±20 %, in 5 minutes or half hours; beyond 3 hours no number at all."""
    assert _words(minutes) == words


def test_every_range_holds_the_engines_estimate():
    """A range always contains the engine's number: rounding never hides it."""
    for minutes in range(10, 181):
        shown = wait_range(timedelta(minutes=minutes), people_ahead=2, counter_open=True)
        scale = 1 if shown.kind == WaitKind.MINUTES else 60
        assert shown.low * scale <= minutes <= shown.high * scale, minutes


def test_next_and_no_counter_open():
    """Nobody ahead: "You are next."; no counter open: no estimate, whatever the engine says."""
    assert _words(0, ahead=0) == "You are next."
    assert _words(25, counter_open=False) == (
        "No counter is open for this now, so the wait cannot be estimated.")
    assert _words(0, ahead=0, counter_open=False).startswith("No counter is open")


def test_the_crowding_page_ranges():
    """A service: nobody waiting is "no wait", no counter open says so, else the range."""
    assert queue_wait_range(timedelta(), waiting=0, counters_open=1).kind == WaitKind.NONE
    assert queue_wait_range(timedelta(minutes=25), waiting=5,
                            counters_open=0).kind == WaitKind.NO_COUNTER
    assert queue_wait_range(timedelta(minutes=25), waiting=5, counters_open=1) == WaitRange(
        WaitKind.MINUTES, 20, 30)


@pytest.mark.parametrize(("locale", "minutes", "words"), [
    ("ja", 25, "約20〜30分"),
    ("ja", 90, "約1〜2時間"),
    ("ja", 400, "3時間以上"),
    ("ne", 25, "करिब 20–30 मिनेट"),
    ("id", 150, "sekitar 2–3 jam"),
    ("pt_BR", 61, "cerca de 1–1,5 horas"),
])
def test_ranges_in_other_languages(locale, minutes, words):
    """Numbers with each language's separators (Babel gives Nepali Western digits)."""
    assert _words(minutes, locale=locale) == words


def test_easy_japanese_ranges_carry_readings():
    """The words of a wait are ruby in easy Japanese."""
    with i18n.use_locale("ja_easy"):
        shown = wait_words(WaitRange(WaitKind.MINUTES, 20, 30))
    assert "<ruby>分" in str(shown.__html__())  # type: ignore[attr-defined]
