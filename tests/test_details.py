"""Once-only details: era dates, kana, every field's validation and message (en and ja)."""

from __future__ import annotations

from datetime import date

import jaconv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontyard.exceptions import ValidationFailed
from frontyard.i18n import use_locale
from kiosk.details import (
    DETAIL_FIELDS,
    FIELD_LABELS,
    MAX_MEMBERS,
    RELATIONSHIP_LABELS,
    RESIDENCE_STATUS_LABELS,
    SEX_LABELS,
    Details,
    DetailsSource,
    HouseholdMember,
    ManualEntry,
    Relationship,
    ResidenceStatus,
    Sex,
    nationality_codes,
    normalise_furigana,
    normalise_name,
    normalise_text,
    validate_details,
)
from kiosk.eras import DateInputError, format_era, format_era_short, parse_date

TODAY = date(2026, 11, 24)
HIRAGANA = st.characters(min_codepoint=0x3041, max_codepoint=0x3096)
# Katakana that have a half-width form (ヰ, ヱ, ヮ, ヵ, ヶ have none).
HALF_WIDTH_ABLE = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨ" \
                  "ラリルレロワヲンガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴァィゥェォャュョッー"


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1990-04-01", date(1990, 4, 1)),
    ("1990/4/1", date(1990, 4, 1)),
    ("1990.04.01", date(1990, 4, 1)),
    ("1990年4月1日", date(1990, 4, 1)),
    ("19900401", date(1990, 4, 1)),
    ("１９９０／４／１", date(1990, 4, 1)),
    ("令和7年4月1日", date(2025, 4, 1)),
    ("R7.4.1", date(2025, 4, 1)),
    ("r07.04.01", date(2025, 4, 1)),
    ("Ｒ７．４．１", date(2025, 4, 1)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("平成2年4月1日", date(1990, 4, 1)),
    ("H2/4/1", date(1990, 4, 1)),
    ("平2.4.1", date(1990, 4, 1)),
    ("㍻2年4月1日", date(1990, 4, 1)),
    ("平成元年1月8日", date(1989, 1, 8)),
    ("平成31年4月30日", date(2019, 4, 30)),
    ("昭和64年1月7日", date(1989, 1, 7)),
    ("昭和元年12月25日", date(1926, 12, 25)),
    ("S50.1.1", date(1975, 1, 1)),
    ("大正15年12月24日", date(1926, 12, 24)),
    ("大正元年7月30日", date(1912, 7, 30)),
    ("T1.7.30", date(1912, 7, 30)),
    ("明治45年7月29日", date(1912, 7, 29)),
    ("明治44年1月1日", date(1911, 1, 1)),
    ("M6.1.1", date(1873, 1, 1)),
    (" 令和 7 年 4 月 1 日 ", date(2025, 4, 1)),
])
def test_dates_in_every_accepted_notation(text, expected):
    """Western and era dates, full-width digits, era letters and one-character era signs."""
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "english", "japanese"), [
    ("平成31年5月1日",
     "There is no such date in the Heisei era: did you mean 令和元年5月1日 (2019-05-01)?",
     "平成にはこの日付がありません。令和元年5月1日 (2019-05-01)ではありませんか。"),
    ("昭和64年1月8日",
     "There is no such date in the Showa era: did you mean 平成元年1月8日 (1989-01-08)?",
     "昭和にはこの日付がありません。平成元年1月8日 (1989-01-08)ではありませんか。"),
    ("令和元年4月30日",
     "There is no such date in the Reiwa era: did you mean 平成31年4月30日 (2019-04-30)?",
     "令和にはこの日付がありません。平成31年4月30日 (2019-04-30)ではありませんか。"),
    ("明治45年7月30日",
     "There is no such date in the Meiji era: did you mean 大正元年7月30日 (1912-07-30)?",
     "明治にはこの日付がありません。大正元年7月30日 (1912-07-30)ではありませんか。"),
    ("T15.12.25",
     "There is no such date in the Taisho era: did you mean 昭和元年12月25日 (1926-12-25)?",
     "大正にはこの日付がありません。昭和元年12月25日 (1926-12-25)ではありませんか。"),
    ("平成2年2月30日", "This date does not exist in the calendar.",
     "この日付は暦にありません。"),
    ("2023-02-29", "This date does not exist in the calendar.", "この日付は暦にありません。"),
    ("R0.1.1", "This date does not exist in the calendar.", "この日付は暦にありません。"),
    ("平成2年", "Enter the month and the day as well.", "月と日も入力してください。"),
    ("1990", "Enter the month and the day as well.", "月と日も入力してください。"),
    ("明治5年1月1日", "Dates before 1873 cannot be entered.",
     "1873年（明治6年）より前の日付は入力できません。"),
    ("1850-01-01", "Dates before 1873 cannot be entered.",
     "1873年（明治6年）より前の日付は入力できません。"),
    ("next Tuesday", "Enter a date such as 1990-04-01 or 平成2年4月1日.",
     "1990-04-01 や 平成2年4月1日 のように入力してください。"),
    ("90/4/1", "Enter a date such as 1990-04-01 or 平成2年4月1日.",
     "1990-04-01 や 平成2年4月1日 のように入力してください。"),
    ("  ", "Please fill in this field.", "入力してください。"),
])
def test_refused_dates_say_why_in_each_language(text, english, japanese):
    """Dates outside their era are refused (see kiosk.eras) with the right spelling offered."""
    for locale, message in (("en", english), ("ja", japanese)):
        with use_locale(locale), pytest.raises(DateInputError) as caught:
            parse_date(text)
        assert str(caught.value) == message


def test_era_formatting_uses_gannen():
    """The first year of an era prints as 元年."""
    assert format_era(date(2019, 5, 1)) == "令和元年5月1日"
    assert format_era(date(2019, 4, 30)) == "平成31年4月30日"
    assert format_era_short(date(1989, 1, 7)) == "S64.1.7"


@settings(max_examples=150)
@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2200, 12, 31)))
def test_every_date_reads_back_from_each_notation(value):
    """Era (long and short, full-width too), ISO and slashed forms all give the same date."""
    short = format_era_short(value)
    for text in (format_era(value), short, jaconv.h2z(short, ascii=True, digit=True),
                 value.isoformat(), f"{value.year}/{value.month}/{value.day}",
                 f"{value.year}年{value.month}月{value.day}日"):
        assert parse_date(text) == value


@settings(max_examples=150)
@given(st.text(max_size=24))
def test_any_input_gives_a_date_or_a_date_error(text):
    """Whatever is typed, the parser answers with a date or a DateInputError, nothing else."""
    try:
        result = parse_date(text)
    except DateInputError:
        return
    assert isinstance(result, date)


@settings(max_examples=100)
@given(st.integers(min_value=0, max_value=4), st.integers(min_value=1, max_value=70),
       st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=31))
def test_accepted_era_dates_lie_inside_their_era(era_index, year, month, day):
    """An era date is accepted only when it falls between its era's first and last day."""
    from kiosk.eras import ERAS, GREGORIAN_ADOPTION

    era = ERAS[era_index]
    try:
        result = parse_date(f"{era.kanji}{year}年{month}月{day}日")
    except DateInputError:
        return
    end = ERAS[era_index + 1].start if era_index + 1 < len(ERAS) else date.max
    assert max(era.start, GREGORIAN_ADOPTION) <= result < end
    assert format_era(result) == f"{era.kanji}{'元' if year == 1 else year}年{month}月{day}日"


# --- kana and text ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("やまだ たろう", "ヤマダ　タロウ"),
    ("ﾔﾏﾀﾞ  ﾀﾛｳ", "ヤマダ　タロウ"),
    ("  ヤマダ　　タロウ ", "ヤマダ　タロウ"),
    ("ぐえん・ゔぁん・あ", "グエン・ヴァン・ア"),
    ("こ-ひ-", "コーヒー"),
    ("ｺｰﾋｰ", "コーヒー"),
    ("ぱぴぷぺぽ", "パピプペポ"),
])
def test_furigana_examples(text, expected):
    """Hiragana and half-width kana become full-width katakana; spaces become one 　."""
    assert normalise_furigana(text) == expected


@settings(max_examples=100)
@given(st.text(alphabet=HIRAGANA, min_size=1, max_size=20))
def test_hiragana_becomes_katakana_one_for_one(text):
    """Each hiragana maps to its katakana; normalising twice changes nothing."""
    result = normalise_furigana(text)
    assert len(result) == len(text)
    assert all(0x30A1 <= ord(char) <= 0x30FA for char in result)
    assert normalise_furigana(result) == result
    assert jaconv.kata2hira(result) == text


@settings(max_examples=100)
@given(st.text(alphabet=HALF_WIDTH_ABLE, min_size=1, max_size=20))
def test_half_width_kana_reads_like_full_width(text):
    """Typing in half-width katakana gives the same reading as full-width."""
    assert normalise_furigana(jaconv.z2h(text, kana=True)) == text
    assert normalise_furigana(jaconv.kata2hira(text)) == normalise_furigana(text)


@settings(max_examples=100)
@given(st.lists(st.text(alphabet=HIRAGANA, min_size=1, max_size=6), min_size=1, max_size=4),
       st.lists(st.sampled_from([" ", "　", "  ", "\t"]), min_size=4, max_size=4))
def test_spaces_between_name_parts_become_one_full_width_space(parts, spaces):
    """However the parts are separated, one full-width space remains between them."""
    text = spaces[0] + "".join(part + spaces[i % 3 + 1] for i, part in enumerate(parts))
    assert normalise_furigana(text) == "　".join(jaconv.hira2kata(part) for part in parts)


def test_names_and_addresses():
    """Japanese names get a full-width space, Latin names an ASCII one; digits become ASCII."""
    assert normalise_name(" 山田   太郎 ") == "山田　太郎"
    assert normalise_name("ＮＧＵＹＥＮ　VAN  A") == "NGUYEN VAN A"
    assert normalise_text("中央１－２－３　ﾊｲﾂ") == "中央1-2-3 ハイツ"


# --- validation ------------------------------------------------------------------------------


FULL = {
    "name": "山田 太郎", "furigana": "やまだ たろう", "date_of_birth": "S50.1.1", "sex": "male",
    "address": "東京都千代田区中央１－２－３", "building": "ハイツ中央 101",
    "phone": "03-1234-5678",
    "household_head": "山田 太郎", "relationship": "head",
    "household_members": [
        {"name": "山田 花子", "furigana": "ヤマダ ハナコ", "date_of_birth": "1978/6/15",
         "sex": "female", "relationship": "wife"},
        {"name": "", "furigana": "", "date_of_birth": "", "sex": "", "relationship": ""},
    ],
    "moving_date": "令和8年11月20日", "previous_address": "大阪府大阪市北区1-1",
    "nationality": "vn", "residence_card_number": "ab 1234 5678 cd",
    "residence_status": "engineer_humanities", "stay_expiry": "2029-04-01",
}


def test_full_details_are_normalised():
    """Every field of a complete form, normalised."""
    details = validate_details(FULL, today=TODAY)
    assert details == Details(
        name="山田　太郎", furigana="ヤマダ　タロウ", date_of_birth=date(1975, 1, 1), sex=Sex.MALE,
        address="東京都千代田区中央1-2-3", building="ハイツ中央 101", phone="03-1234-5678",
        household_head="山田　太郎", relationship=Relationship.HEAD,
        household_members=(HouseholdMember("山田　花子", "ヤマダ　ハナコ", date(1978, 6, 15),
                                           Sex.FEMALE, Relationship.WIFE),),
        moving_date=date(2026, 11, 20), previous_address="大阪府大阪市北区1-1",
        nationality="VN", residence_card_number="AB12345678CD",
        residence_status=ResidenceStatus.ENGINEER_HUMANITIES, stay_expiry=date(2029, 4, 1),
    )


def test_stored_details_read_back_identical():
    """to_data is JSON-ready and from_data gives the same details back."""
    import json

    details = validate_details(FULL, today=TODAY)
    data = json.loads(json.dumps(details.to_data()))
    assert data["date_of_birth"] == "1975-01-01"
    assert data["household_members"][0]["relationship"] == "wife"
    assert type(details.to_data()["sex"]) is str
    assert Details.from_data(data) == details


def test_nothing_is_required_unless_asked():
    """Details are optional; `required` names what the chosen forms need."""
    assert validate_details({}, today=TODAY) == Details()
    with use_locale("en"), pytest.raises(ValidationFailed) as caught:
        validate_details({"name": "山田 太郎"}, required=["name", "address", "household_members"],
                         today=TODAY)
    assert str(caught.value) == "Some of the details are not valid."
    assert caught.value.fields == {"address": "Please fill in this field.",
                                   "household_members": "Please fill in this field."}


BAD_FIELDS = [
    ({"name": "山田 太郎2"}, "name", "A name cannot contain digits.",
     "氏名に数字は使えません。"),
    ({"name": "あ" * 101}, "name", "Please use at most 100 characters.",
     "100文字以内で入力してください。"),
    ({"furigana": "Yamada"}, "furigana", "Write the reading of the name in katakana or hiragana.",
     "フリガナはカタカナかひらがなで入力してください。"),
    ({"furigana": "山田"}, "furigana", "Write the reading of the name in katakana or hiragana.",
     "フリガナはカタカナかひらがなで入力してください。"),
    ({"date_of_birth": "2027-01-01"}, "date_of_birth",
     "The date of birth cannot be in the future.", "生年月日に未来の日付は入力できません。"),
    ({"date_of_birth": "明治20年1月1日"}, "date_of_birth",
     "Check the year: this date is more than 130 years ago.",
     "年を確認してください（130年以上前の日付です）。"),
    ({"date_of_birth": "平成31年5月1日"}, "date_of_birth",
     "There is no such date in the Heisei era: did you mean 令和元年5月1日 (2019-05-01)?",
     "平成にはこの日付がありません。令和元年5月1日 (2019-05-01)ではありませんか。"),
    ({"sex": "unknown"}, "sex", "Choose one of the options.", "選択肢から選んでください。"),
    ({"address": "x" * 201}, "address", "Please use at most 200 characters.",
     "200文字以内で入力してください。"),
    ({"phone": "1234"}, "phone", "Enter a phone number such as 090-1234-5678.",
     "電話番号は 090-1234-5678 のように入力してください。"),
    ({"phone": "090-1234-56789"}, "phone", "Enter a phone number such as 090-1234-5678.",
     "電話番号は 090-1234-5678 のように入力してください。"),
    ({"relationship": "boss"}, "relationship", "Choose one of the options.",
     "選択肢から選んでください。"),
    ({"moving_date": "2025-01-01"}, "moving_date",
     "The moving date must be within the past year or the next 30 days.",
     "異動日は1年前から30日後までの日付を入力してください。"),
    ({"moving_date": "2027-01-01"}, "moving_date",
     "The moving date must be within the past year or the next 30 days.",
     "異動日は1年前から30日後までの日付を入力してください。"),
    ({"nationality": "Atlantis"}, "nationality", "Choose a country or region from the list.",
     "国・地域を一覧から選んでください。"),
    ({"nationality": "JP"}, "nationality", "Choose a country or region from the list.",
     "国・地域を一覧から選んでください。"),
    ({"residence_card_number": "AB1234567CD"}, "residence_card_number",
     "A residence card number has 2 letters, 8 digits and 2 letters, such as AB12345678CD.",
     "在留カード番号は英字2文字・数字8桁・英字2文字です（例：AB12345678CD）。"),
    ({"residence_card_number": "1234567890AB"}, "residence_card_number",
     "A residence card number has 2 letters, 8 digits and 2 letters, such as AB12345678CD.",
     "在留カード番号は英字2文字・数字8桁・英字2文字です（例：AB12345678CD）。"),
    ({"residence_status": "tourist"}, "residence_status", "Choose one of the options.",
     "選択肢から選んでください。"),
    ({"stay_expiry": "2029-13-01"}, "stay_expiry", "This date does not exist in the calendar.",
     "この日付は暦にありません。"),
    ({"household_members": [{"furigana": "はなこ"}]}, "household_members.0.name",
     "Please fill in this field.", "入力してください。"),
    ({"household_members": [{"name": "花子", "sex": "x"}]}, "household_members.0.sex",
     "Choose one of the options.", "選択肢から選んでください。"),
    ({"household_members": [{"name": "花子"}] * (MAX_MEMBERS + 1)}, "household_members",
     "Add at most 15 people.", "15人まで入力できます。"),
    ({"household_members": "花子"}, "household_members", "Choose one of the options.",
     "選択肢から選んでください。"),
    ({"sex": 1}, "sex", "Choose one of the options.", "選択肢から選んでください。"),
]


@pytest.mark.parametrize(("raw", "field", "english", "japanese"), BAD_FIELDS)
def test_each_bad_field_has_a_clear_message(raw, field, english, japanese):
    """Every validation message, in English and Japanese, keyed by the field."""
    for locale, message in (("en", english), ("ja", japanese)):
        with use_locale(locale), pytest.raises(ValidationFailed) as caught:
            validate_details(raw, today=TODAY)
        assert caught.value.fields == {field: message}


def test_all_bad_fields_are_reported_together():
    """One submission with several mistakes names each of them."""
    with use_locale("en"), pytest.raises(ValidationFailed) as caught:
        validate_details({"furigana": "yamada", "phone": "1", "sex": "x"}, today=TODAY)
    assert set(caught.value.fields) == {"furigana", "phone", "sex"}


@pytest.mark.parametrize(("phone", "expected"), [
    ("０９０ (1234) 5678", "090-1234-5678"),
    ("09012345678", "09012345678"),
    ("+81 90 1234 5678", "+81-90-1234-5678"),
])
def test_phone_numbers_are_tidied(phone, expected):
    """Full-width digits, spaces and brackets become ASCII digits and hyphens."""
    assert validate_details({"phone": phone}, today=TODAY).phone == expected


def test_stateless_is_a_nationality():
    """無国籍 has its own value; Taiwan is a region on the list."""
    assert validate_details({"nationality": "Stateless"}, today=TODAY).nationality == "stateless"
    assert "TW" in nationality_codes()


def test_every_field_and_choice_has_a_label():
    """Screens can label every field and every option in both staff languages."""
    assert set(FIELD_LABELS) == set(DETAIL_FIELDS)
    assert set(SEX_LABELS) == set(Sex)
    assert set(RELATIONSHIP_LABELS) == set(Relationship)
    assert set(RESIDENCE_STATUS_LABELS) == set(ResidenceStatus)
    labels = [*FIELD_LABELS.values(), *SEX_LABELS.values(), *RELATIONSHIP_LABELS.values(),
              *RESIDENCE_STATUS_LABELS.values()]
    with use_locale("ja"):
        japanese = [str(label) for label in labels]
    with use_locale("en"):
        english = [str(label) for label in labels]
    untranslated = [en for en, ja in zip(english, japanese, strict=True) if en == ja]
    assert untranslated == []


# --- sources of pre-fill ---------------------------------------------------------------------


def test_manual_entry_prefills_nothing():
    """The manual source gives empty details."""
    source: DetailsSource = ManualEntry()
    assert source.name == "manual"
    assert source.read() == Details()


class FakeCardReader:
    """What a My Number card reader would give: four fields only."""

    name = "mynumber_card"

    def read(self) -> Details:
        """The card's text fields."""
        return Details(name="山田　太郎", address="東京都千代田区中央1-2-3",
                       date_of_birth=date(1975, 1, 1), sex=Sex.MALE)


def test_another_source_plugs_in_and_its_prefill_validates():
    """A new source only implements read(); its pre-fill passes validation unchanged."""
    source: DetailsSource = FakeCardReader()
    prefill = source.read()
    submitted = {**prefill.to_data(), "furigana": "やまだ たろう"}
    details = validate_details(submitted, today=TODAY)
    assert details == prefill.merged(Details(furigana="ヤマダ　タロウ"))
