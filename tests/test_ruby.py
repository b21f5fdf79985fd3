"""Furigana markup (Aozora Bunko notation): parsing, errors, safe HTML, plain text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import ruby
from kiosk.ruby import RubyError, Segment


def test_reading_goes_over_the_kanji_run_before_it():
    """Without a bar, the base is the run of kanji just before 《."""
    assert ruby.parse("引《ひ》っ越《こ》して 市民課《しみんか》へ") == [
        Segment("引", "ひ"), Segment("っ"), Segment("越", "こ"), Segment("して "),
        Segment("市民課", "しみんか"), Segment("へ"),
    ]


def test_bar_marks_the_start_of_a_base():
    """｜ lets the base hold digits or other signs, and splits runs of kanji."""
    assert ruby.parse("あと｜10日《とおか》") == [Segment("あと"), Segment("10日", "とおか")]
    assert ruby.parse("市民｜課長《かちょう》") == [Segment("市民"), Segment("課長", "かちょう")]


def test_iteration_mark_and_small_ke_count_as_kanji():
    """々 and ヶ belong to the kanji run (人々, 霞ヶ関)."""
    assert ruby.parse("人々《ひとびと》") == [Segment("人々", "ひとびと")]
    assert ruby.parse("霞ヶ関《かすみがせき》") == [Segment("霞ヶ関", "かすみがせき")]


@pytest.mark.parametrize(("text", "message"), [
    ("転入《てんにゅう", "'《' is never closed (at character 3)"),
    ("転入》", "'》' without '《' (at character 3)"),
    ("ひらがな《よみ》", "no kanji before '《' (mark the base with '｜') (at character 5)"),
    ("漢字《kanji》", "a reading must be kana (at character 3)"),
    ("漢字《》", "a reading must be kana (at character 3)"),
    ("｜漢字", "'｜' without a reading after it (at character 1)"),
    ("｜漢｜字《かんじ》", "second '｜' before a reading (at character 3)"),
])
def test_malformed_markup_is_refused_with_its_position(text, message):
    """Each kind of mistake has its own message and position."""
    with pytest.raises(RubyError) as caught:
        ruby.parse(text)
    assert str(caught.value) == message
    assert ruby.problems(text) == [message]


def test_html_is_escaped_and_uses_rp_fallback():
    """Text and readings are escaped; <rp> shows parentheses where ruby is unsupported."""
    html = ruby.to_html("<script>漢字《かんじ》&")
    assert str(html) == ("&lt;script&gt;<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>&amp;")


def test_plain_text_keeps_kanji_or_readings():
    """For print the kanji stay; for speech the readings replace them."""
    text = "転入届《てんにゅうとどけ》を 出《だ》す"
    assert ruby.to_plain(text) == "転入届を 出す"
    assert ruby.to_plain(text, readings=True) == "てんにゅうとどけを だす"


@settings(max_examples=60)
@given(st.text(alphabet=st.characters(blacklist_characters="《》｜")))
def test_text_without_markup_is_one_plain_segment(text):
    """Any text free of the three markup signs is returned unchanged."""
    assert ruby.to_plain(text) == text
    assert ruby.problems(text) == []
