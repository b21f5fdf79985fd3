"""The admin's pages for the city's name and logo and an office's kiosk: every bad input is a
clear message in the page with nothing written, every change is audited (a logo by its type,
size and digest, never its bytes), and what is saved is what kiosks and boards show."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from sqlmodel import Session, select

from frontyard.audit import AuditEntry
from frontyard.branding import CityBranding, Logo
from kiosk.offer import KioskSettings

READING = "write a reading after each kanji"
OFFICE = {"code": "kita", "name_ja": "北支所", "name_en": "North branch"}


@pytest.fixture(autouse=True)
def english(admin_client) -> None:  # type: ignore[no-untyped-def]
    """The admin reads the pages in English (the messages below are the English ones)."""
    admin_client.headers["Accept-Language"] = "en"
    response = admin_client.post("/admin/offices", data=OFFICE, follow_redirects=False)
    assert response.status_code == 303, response.text


def _post(client, url: str, data: dict | None = None, **extra):  # type: ignore[no-untyped-def]
    return client.post(url, data=data or {}, follow_redirects=False, **extra)


def _rows(engine, model) -> list:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(model)))


def _audit(engine, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return [entry for entry in _rows(engine, AuditEntry) if entry.action == action]


def _image(kind: str = "PNG", size: tuple[int, int] = (120, 60), colour: str = "navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def _upload(client, url: str, data: bytes, name: str = "logo.png"):  # type: ignore[no-untyped-def]
    return client.post(url, files={"logo": (name, data, "image/png")}, follow_redirects=False)


def test_admin_home_and_office_page_link_the_new_pages(admin_client):
    """The admin's home links /admin/branding; an office's page links its kiosk page."""
    assert 'href="/admin/branding"' in admin_client.get("/admin").text
    assert 'href="/admin/offices/kita/kiosk"' in admin_client.get("/admin/offices/kita").text
    assert 'href="/admin/offices/kita/kiosk"' in admin_client.get("/admin/branding").text


def test_the_city_name_is_saved_and_audited(admin_client, engine):
    """Names per language; the audit entry holds before and after."""
    response = _post(admin_client, "/admin/branding", {"name_ja": "北山市",
                                                       "name_en": "Kitayama City"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/branding"
    _post(admin_client, "/admin/branding", {"name_ja": "北山市", "name_en": "Kitayama"})
    entries = _audit(engine, "city_name_changed")
    assert [entry.detail["after"]["en"] for entry in entries] == ["Kitayama City", "Kitayama"]
    assert entries[1].detail["before"] == {"ja": "北山市", "en": "Kitayama City"}
    assert 'value="Kitayama"' in admin_client.get("/admin/branding").text


@pytest.mark.parametrize(("data", "message"), [
    ({"name_en": "Kitayama"}, "Give the name in Japanese."),
    ({"name_ja": "北" * 101}, "at most 100"),
    ({"name_ja": "北山市", "name_ja_easy": "北山市"}, READING),
    ({"name_ja": "北山市", "name_ja_easy": "北山市《きたやまし"}, READING),
])
def test_bad_city_names_are_refused_in_the_page(admin_client, engine, data, message):
    """A message by the names, the entries kept, nothing written."""
    response = _post(admin_client, "/admin/branding", data)
    assert response.status_code == 422
    assert message in response.text and 'id="f-names-error"' in response.text
    assert "Nothing was saved." in response.text
    assert _rows(engine, CityBranding) == [] and _audit(engine, "city_name_changed") == []


def test_a_logo_is_re_encoded_served_with_caching_and_audited_without_its_bytes(
        admin_client, client, engine):
    """Upload → a content address with ETag and a long Cache-Control (304 on revalidation);
    the audit keeps type, size and digest; removal makes the address 404."""
    response = _upload(admin_client, "/admin/branding/logo", _image())
    assert response.status_code == 303, response.text
    page = admin_client.get("/admin/branding").text
    url = re.search(r'src="(/branding/logos/[0-9a-f]{64})"', page)[1]  # type: ignore[index]
    served = client.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert "immutable" in served.headers["cache-control"]
    assert served.headers["etag"] == f'"{url.rsplit("/", 1)[1]}"'
    assert "set-cookie" not in served.headers
    assert client.get(url, headers={"If-None-Match": served.headers["etag"]}).status_code == 304
    (entry,) = _audit(engine, "logo_changed")
    assert entry.detail["after"]["media_type"] == "image/png"
    assert entry.detail["after"]["width"] == 120 and entry.detail["before"] is None
    assert len(json.dumps(entry.detail)) < 400  # a description, not the picture
    assert _post(admin_client, "/admin/branding/logo/remove").status_code == 303
    assert _rows(engine, Logo) == [] and _audit(engine, "logo_removed")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("data", "message"), [
    (b"", "Choose an image file"),
    (b"GIF89a\x01\x00\x01\x00", "Upload a PNG or WebP image."),
    (b"%PDF-1.4 not an image", "Upload a PNG or WebP image."),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "damaged"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024), "larger than 1 MB"),
])
def test_bad_logo_uploads_are_refused_in_the_page(admin_client, engine, data, message):
    """Each bad upload: 422, the message by the file field, nothing stored or audited."""
    for url in ("/admin/branding/logo", "/admin/offices/kita/logo"):
        response = _upload(admin_client, url, data)
        assert response.status_code == 422, url
        assert message in response.text and 'id="f-logo-error"' in response.text
    assert _rows(engine, Logo) == [] and _audit(engine, "logo_changed") == []


def test_an_office_logo_replaces_the_city_logo_on_its_screens(admin_client, engine):
    """The kiosk's start screen and the board show the office's own logo, else the city's,
    and the city's name."""
    _post(admin_client, "/admin/branding", {"name_ja": "北山市", "name_en": "Kitayama City"})
    _upload(admin_client, "/admin/branding/logo", _image(colour="navy"))
    assert _upload(admin_client, "/admin/offices/kita/logo",
                   _image("WEBP", colour="green")).status_code == 303
    with Session(engine) as session:
        logos = {logo.office_id: logo.url for logo in session.exec(select(Logo))}
    office_id = next(key for key in logos if key is not None)
    board = admin_client.get(f"/board?office={office_id}").text
    assert logos[office_id] in board and logos[None] not in board
    assert "北山市" in board and "Kitayama City" in board
    assert logos[office_id] in admin_client.get("/admin/offices/kita/kiosk").text
    assert _post(admin_client, "/admin/offices/kita/logo/remove").status_code == 303
    assert logos[None] in admin_client.get(f"/board?office={office_id}").text


def _kiosk_form(**extra: str) -> dict[str, str]:
    """Four languages: English first, then Japanese, Vietnamese, Portuguese."""
    return {"offer_ja": "on", "order_ja": "2", "offer_en": "on", "order_en": "1",
            "offer_vi": "on", "order_vi": "3", "offer_pt_BR": "on", "order_pt_BR": "4",
            "order_ko": "5", **extra}


def test_the_kiosk_page_saves_languages_in_order_and_texts(admin_client, engine):
    """Ticked languages in the order of their numbers; texts per language; audited."""
    response = _post(admin_client, "/admin/offices/kita/kiosk", _kiosk_form(
        welcome_en="Hello!", privacy_en="**We care.**", privacy_vi="   "))
    assert response.status_code == 303, response.text
    (row,) = _rows(engine, KioskSettings)
    assert row.languages == ["en", "ja", "vi", "pt_BR"]
    assert row.welcome == {"en": "Hello!"} and row.privacy == {"en": "**We care.**"}
    (entry,) = _audit(engine, "kiosk_changed")
    assert entry.detail["office"] == "kita"
    assert entry.detail["before"]["languages"][:3] == ["ja", "ja_easy", "en"]
    assert entry.detail["after"]["languages"] == ["en", "ja", "vi", "pt_BR"]
    page = admin_client.get("/admin/offices/kita/kiosk").text
    assert 'name="order_en" type="number" min="1" max="99" inputmode="numeric" value="1"' in page
    assert re.search(r'id="f-offer_ko" name="offer_ko" type="checkbox"\s+aria', page)


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"order_vi": "three"}, "order_vi", "from 1 to 99"),
    ({"order_vi": "0"}, "order_vi", "from 1 to 99"),
    ({"welcome_en": "x" * 201}, "welcome_en", "At most 200 characters."),
    ({"privacy_en": "x" * 5001}, "privacy_en", "At most 5000 characters."),
    ({"welcome_ja_easy": "ようこそ市役所へ"}, "welcome_ja_easy", READING),
    ({"privacy_ja_easy": "個人情報《こじん"}, "privacy_ja_easy", READING),
])
def test_bad_kiosk_input_is_refused_in_the_page(admin_client, engine, extra, field, message):
    """A message by the field, the entries kept, nothing written or audited."""
    response = _post(admin_client, "/admin/offices/kita/kiosk", _kiosk_form(**extra))
    assert response.status_code == 422
    assert message in response.text and f'id="f-{field}-error"' in response.text
    assert "Nothing was saved." in response.text
    assert _rows(engine, KioskSettings) == [] and _audit(engine, "kiosk_changed") == []


def test_japanese_cannot_be_unticked(admin_client, engine):
    """The form always sends Japanese; a forged form without it still offers Japanese."""
    response = _post(admin_client, "/admin/offices/kita/kiosk",
                     {"offer_en": "on", "order_en": "1"})
    assert response.status_code == 303
    assert _rows(engine, KioskSettings)[0].languages == ["en", "ja"]  # unnumbered: last


def test_unknown_office_is_a_404(admin_client):
    """Pages and actions naming no office are a 404, not a 500."""
    assert admin_client.get("/admin/offices/nope/kiosk").status_code == 404
    assert _post(admin_client, "/admin/offices/nope/kiosk", _kiosk_form()).status_code == 404
    assert _upload(admin_client, "/admin/offices/nope/logo", _image()).status_code == 404
    assert _post(admin_client, "/admin/offices/nope/logo/remove").status_code == 404


def test_any_kiosk_or_branding_form_is_a_page_never_a_500(admin_client, engine):
    """Whatever is posted to the two forms: a redirect or a 422 page, never a 5xx, and a
    refused form writes nothing."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from kiosk.catalog import KIOSK_LOCALES

    names = [f"{kind}_{code}" for code in KIOSK_LOCALES
             for kind in ("offer", "order", "welcome", "privacy", "name")]
    text = st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=80),
                     st.sampled_from(["on", "1", "0", "-3", "99", "100", "《", "市《し》",
                                      "<script>", "\x00", "9" * 5000]))

    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(form=st.dictionaries(st.sampled_from(names), text, max_size=8))
    def post(form: dict[str, str]) -> None:
        for url in ("/admin/offices/kita/kiosk", "/admin/branding"):
            before = len(_rows(engine, AuditEntry))
            response = _post(admin_client, url, form)
            assert response.status_code in {303, 422}, (url, form, response.status_code)
            if response.status_code == 422:
                assert len(_rows(engine, AuditEntry)) == before

    post()
