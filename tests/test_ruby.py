"""Furigana markup (Aozora Bunko notation): parsing, errors, safe HTML, plain text."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from markupsafe import Markup, escape

from frontyard import ruby
from frontyard.ruby import RubyError, Segment


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


def test_every_kanji_mode_reports_kanji_left_without_a_reading():
    """Easy-Japanese texts need a reading over every kanji; each bare kanji is named once."""
    assert ruby.problems("名前《なまえ》を 書《か》く", every_kanji=True) == []
    assert ruby.problems("名前を 書《か》く 名前", every_kanji=True) == [
        "kanji without a reading: 名前"]
    assert ruby.problems("名前を 書く") == []
    assert ruby.problems("名前《なまえ", every_kanji=True) == [
        "'《' is never closed (at character 3)"]


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


# --- Furigana: translated easy-Japanese text ------------------------------------------------


def test_furigana_is_plain_as_a_string_and_ruby_in_html():
    """JSON, logs and speech get the plain text; Jinja and markupsafe get <ruby>."""
    text = ruby.Furigana("名前《なまえ》を 書《か》く")
    assert text == "名前を 書く" and str(text) == "名前を 書く"
    assert str(escape(text)) == ("<ruby>名前<rp>(</rp><rt>なまえ</rt><rp>)</rp></ruby>を "
                                 "<ruby>書<rp>(</rp><rt>か</rt><rp>)</rp></ruby>く")
    rendered = Environment(autoescape=True).from_string("<p>{{ text }}</p>").render(text=text)
    assert rendered == f"<p>{escape(text)}</p>"


def test_formatting_keeps_readings_and_never_parses_values_as_markup():
    """Values are text: escaped in HTML, never joined to a ruby base, never markup."""
    template = ruby.Furigana("%(name)s様《さま》、%(num)d人《にん》")
    formatted = template % {"name": "山田<b>", "num": 3}
    assert isinstance(formatted, ruby.Furigana) and formatted == "山田<b>様、3人"
    assert str(escape(formatted)).startswith("山田&lt;b&gt;<ruby>様<rp>")
    sneaky = ruby.Furigana("名前《なまえ》: %(x)s") % {"x": "悪《わる》"}
    assert not isinstance(sneaky, ruby.Furigana) and sneaky == "名前: 悪《わる》"


def test_values_keep_their_readings_eras_and_dates_included():
    """An era's translated name and a Japanese date inserted into an easy-Japanese message
    carry their readings; the plain text (for attributes and speech) has none."""
    from frontyard import i18n
    from kiosk.eras import DateInputError, parse_date

    with i18n.use_locale("ja_easy"), pytest.raises(DateInputError) as refused:
        parse_date("平成31年5月1日")  # 令和 began on 1 May 2019
    message = refused.value.args[0]
    html = str(escape(message))
    assert "<ruby>平成<rp>(</rp><rt>へいせい</rt><rp>)</rp></ruby>" in html
    assert "<ruby>令和<rp>(</rp><rt>れいわ</rt><rp>)</rp></ruby>" in html
    assert "<ruby>元年<rp>(</rp><rt>がんねん</rt><rp>)</rp></ruby>" in html
    assert "<ruby>1日<rp>(</rp><rt>ついたち</rt><rp>)</rp></ruby>" in html
    assert str(message) == ("平成に この 日は ありません。令和元年5月1日 (2019-05-01) では "
                            "ありませんか？")
    with i18n.use_locale("ja"), pytest.raises(DateInputError) as plain:
        parse_date("平成31年5月1日")
    assert type(plain.value.args[0]) is str and "《" not in plain.value.args[0]


def test_furigana_only_for_well_formed_markup():
    """Text without readings, or with broken markup, stays as it is."""
    assert type(ruby.furigana("ふつうの 文")) is str
    assert type(ruby.furigana("壊《こわ")) is str
    assert isinstance(ruby.furigana("文《ぶん》"), ruby.Furigana)


@pytest.mark.parametrize("value, expected", [
    (ruby.Furigana("名前《なまえ》 &"), "名前 &"),
    (Markup("<ruby>名前<rp>(</rp><rt>なまえ</rt><rp>)</rp></ruby> &amp; <b>x</b>"), "名前 & x"),
    ("plain <text>", "plain <text>"),
])
def test_plain_text_for_attributes_drops_readings_and_tags(value, expected):
    """Attribute values, <title> and <option> get the text without readings or tags."""
    assert ruby.plain_text(value) == expected


def test_easy_japanese_translations_become_furigana():
    """In easy Japanese, gettext gives Furigana for translations with readings; elsewhere the
    same call gives plain strings."""
    from frontyard import i18n

    with i18n.use_locale("ja_easy"):
        translated = [i18n.gettext(m.id) for m in _easy_catalog() if isinstance(m.id, str)
                      and m.id and "《" in (m.string or "")]
    assert translated and all(isinstance(text, ruby.Furigana) for text in translated)
    with i18n.use_locale("ja"):
        assert all(type(i18n.gettext(m.id)) is str for m in _easy_catalog()
                   if isinstance(m.id, str) and m.id)


def _easy_catalog():  # type: ignore[no-untyped-def]
    from babel.messages.pofile import read_po

    from frontyard import i18n

    with open(i18n.po_path("ja_easy"), "rb") as handle:
        return list(read_po(handle))


@pytest.mark.parametrize("text, marked", [
    ("2026年12月3日", "2026年《ねん》12月《がつ》｜3日《みっか》"),
    ("令和元年5月1日", "令和《れいわ》元年《がんねん》5月《がつ》｜1日《ついたち》"),
    ("平成2年4月15日", "平成《へいせい》2年《ねん》4月《がつ》15日《にち》"),
    ("2026年2月20日金曜日", "2026年《ねん》2月《がつ》｜20日《はつか》金曜日《きんようび》"),
    ("受付 10:02", "受付 10:02"),  # no date: unchanged
])
def test_japanese_dates_get_their_readings(text, marked):
    """年, 月 and 日 (irregular days read as words), eras and weekdays."""
    assert ruby.mark_dates(text) == marked


@settings(max_examples=200)
@given(day=st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)))
def test_every_formatted_date_gets_a_reading_over_each_kanji(day):
    """Babel's Japanese long and full dates and the era dates of forms: marked dates read the
    same without their readings and leave no kanji bare."""
    from babel.dates import format_date

    from kiosk.eras import format_era

    texts = [format_date(day, "full", locale="ja"), format_date(day, "long", locale="ja")]
    if day >= date(1868, 10, 23):
        texts.append(format_era(day))
    for text in texts:
        marked = ruby.mark_dates(text)
        assert ruby.problems(marked, every_kanji=True) == [], marked
        assert ruby.to_plain(marked) == text


def test_easy_japanese_dates_show_ruby_and_others_stay_plain():
    """The date filters give ruby in easy Japanese, plain strings in Japanese."""
    from frontyard import i18n

    with i18n.use_locale("ja_easy"):
        long = i18n.fmt_date(date(2026, 12, 3), "long")
    assert long == "2026年12月3日"
    assert "<ruby>3日<rp>(</rp><rt>みっか</rt>" in str(escape(long))
    with i18n.use_locale("ja"):
        assert type(i18n.fmt_date(date(2026, 12, 3), "long")) is str


@pytest.mark.parametrize("number, minutes, people", [
    (1, "1｜分《ぷん》", "｜1人《ひとり》"), (2, "2｜分《ふん》", "｜2人《ふたり》"),
    (3, "3｜分《ぷん》", "3｜人《にん》"), (5, "5｜分《ふん》", "5｜人《にん》"),
    (10, "10｜分《ぷん》", "10｜人《にん》"), (12, "12｜分《ふん》", "12｜人《にん》"),
])
def test_counters_are_read_as_the_number_before_them_wants(number, minutes, people):
    """分 is ぷん after 1, 3, 4, 6, 8 and 10; one and two people are ひとり and ふたり."""
    waited = ruby.Furigana("だいたい %(num)d分《ふん》") % {"num": number}
    ahead = ruby.Furigana("ほかに %(num)d人《にん》 まって います") % {"num": number}
    assert isinstance(waited, ruby.Furigana) and waited.marked == f"だいたい {minutes}"
    assert isinstance(ahead, ruby.Furigana) and ahead.marked == f"ほかに {people} まって います"
    assert str(ahead) == f"ほかに {number}人 まって います"
