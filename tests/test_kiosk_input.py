"""What a resident can throw at the kiosk's forms: a value of megabytes, a control character,
a Latin name without katakana. Each comes back in the form, in the resident's language, and
the kiosk session (with its progress) is kept."""

from __future__ import annotations

import pytest

from frontyard import i18n
from kiosk.routes.common import FORM_PART_LIMIT, UNREADABLE_FORM
from tests import test_kiosk_routes as routes
from tests.test_kiosk_routes import PERSON, _reach_details, kiosk_row

office_id, kiosk = routes.office_id, routes.kiosk  # the kiosk's fixtures: a paired kiosk

MEGABYTE = "x" * (1024 * 1024 + 1)  # one past Starlette's default limit per value


def in_language(locale: str, message: str, **values: object) -> str:
    """A message as the resident reads it in `locale`."""
    with i18n.use_locale(locale):
        text = i18n.gettext(message)
    return text % values if values else text


def _in_vietnamese(kiosk) -> None:  # type: ignore[no-untyped-def]
    _reach_details(kiosk)
    kiosk.post("/kiosk/start", data={"locale": "vi", "keep": "1", "next": "/kiosk/details"})


def _session_kept(kiosk) -> None:  # type: ignore[no-untyped-def]
    """The resident is still where they were: the details form, in their language."""
    page = kiosk.get("/kiosk/details", follow_redirects=False)
    assert page.status_code == 200 and '<html lang="vi"' in page.text


def test_a_megabyte_value_comes_back_in_the_form_with_the_other_entries(kiosk, engine):
    """Not a technical English 400: the field says how long it may be, in Vietnamese; the rest
    of what was typed is still there; nothing is stored."""
    _in_vietnamese(kiosk)
    response = kiosk.post("/kiosk/details", data={**PERSON, "name": MEGABYTE})
    assert response.status_code == 422
    assert 'action="/kiosk/details"' in response.text and '<html lang="vi"' in response.text
    assert 'id="f-name-error">' + in_language(
        "vi", "Please use at most %(max)d characters.", max=100) in response.text
    assert 'value="本町1-2-3"' in response.text  # the address typed with it
    assert kiosk_row(engine).details is None
    _session_kept(kiosk)


def test_a_value_too_large_to_read_answers_in_the_form_and_keeps_the_session(kiosk, engine):
    """Past what the kiosk reads at all: the same form with a message in Vietnamese."""
    _in_vietnamese(kiosk)
    kiosk_id = kiosk_row(engine).id
    response = kiosk.post("/kiosk/details",
                          data={**PERSON, "address": "x" * (FORM_PART_LIMIT + 1)})
    assert response.status_code == 422
    assert 'action="/kiosk/details"' in response.text
    with i18n.use_locale("vi"):
        message = str(UNREADABLE_FORM)
    assert message != str(UNREADABLE_FORM) and message in response.text
    assert kiosk_row(engine).id == kiosk_id and kiosk_row(engine).details is None
    _session_kept(kiosk)


@pytest.mark.parametrize("path", ["/kiosk/events", "/kiosk/questions", "/kiosk/ticket"])
def test_every_kiosk_form_answers_an_unreadable_value_on_its_own_screen(kiosk, path):
    """Life events, questions and consent too: their own page, the message, no 400."""
    _reach_details(kiosk)
    if path == "/kiosk/ticket":
        kiosk.post("/kiosk/details", data=PERSON)
    response = kiosk.post(path, data={"x": "y" * (FORM_PART_LIMIT + 1)},
                          headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.text[:300]
    assert "too long to be read" in response.text
    assert 'class="kiosk-bar' in response.text  # a kiosk screen, not the error page


@pytest.mark.parametrize(("field", "character"), [
    ("name", "\x00"), ("address", "\x1b"),
    ("household_members.0.name", "\ufffd")])  # what a browser sends back for an echoed NUL
def test_a_control_character_is_refused_with_a_message_not_dropped(kiosk, engine, field,
                                                                   character):
    """A NUL is not silently stripped: the field says why, in the resident's language."""
    _in_vietnamese(kiosk)
    response = kiosk.post("/kiosk/details", data={**PERSON, field: f"本町{character}1"})
    assert response.status_code == 422
    message = in_language("vi", "This entry contains a control character (such as NUL) "
                                "that cannot be used. Please type it again.")
    assert message in response.text
    assert kiosk_row(engine).details is None
    _session_kept(kiosk)


def test_a_name_in_latin_letters_needs_no_katakana(kiosk, engine):
    """Foreign residents give their name as on the residence card; the reading is optional."""
    _reach_details(kiosk)
    latin = {**PERSON, "name": "Nguyễn Văn An", "furigana": ""}
    response = kiosk.post("/kiosk/details", data=latin, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/confirm"
    assert kiosk_row(engine).details["name"] == "Nguyễn Văn An"  # type: ignore[index]
    assert "furigana" not in kiosk_row(engine).details  # type: ignore[operator]


def test_a_name_in_japanese_still_needs_its_reading(kiosk):
    """Staff cannot guess how 山田 太郎 is read: the reading stays required for it."""
    _reach_details(kiosk)
    response = kiosk.post("/kiosk/details", data={**PERSON, "furigana": ""})
    assert response.status_code == 422
    assert 'id="f-furigana-error">Please fill in this field.' in response.text
    form = kiosk.get("/kiosk/details").text
    assert "leave it empty if your name is in Latin letters" in form
