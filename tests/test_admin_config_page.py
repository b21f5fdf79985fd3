"""The admin's page for the set-up as a file: download, upload with a preview that writes
nothing, apply (audited with the admin's name), and bad files refused in the page."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, select

from counter.models import Office, Service
from frontyard.audit import AuditEntry
from frontyard.auth import User

CITY = """\
offices:
- code: minami
  names: {ja: 南庁舎, en: South office}
  services:
  - {code: nenkin, prefix: N, names: {ja: 年金}}
  counters:
  - {number: '3', names: {ja: 3番}, services: [nenkin]}
"""


@pytest.fixture(autouse=True)
def english(admin_client) -> None:  # type: ignore[no-untyped-def]
    """The admin reads the pages in English."""
    admin_client.headers["Accept-Language"] = "en"


def _upload(client, text: str | bytes, **fields: str):  # type: ignore[no-untyped-def]
    body = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/admin/config", data=fields,
                       files={"file": ("city.yaml", body, "application/yaml")})


def test_preview_writes_nothing_and_apply_makes_the_changes(admin_client, engine):
    """The preview lists the changes with an Apply button; applying stores them, audited
    under the admin's name; the download is then that set-up."""
    preview = _upload(admin_client, CITY)
    assert preview.status_code == 200
    page = html.unescape(preview.text)
    assert "+ office minami" in page and "office minami: + counter 3" in page
    assert "Apply 3 changes" in page
    with Session(engine) as session:
        assert session.exec(select(Office)).all() == []
    text = html.unescape(preview.text.split('<textarea name="text" hidden>')[1]
                         .split("</textarea>")[0])
    assert text == CITY
    applied = admin_client.post("/admin/config/apply", data={"text": text})
    assert applied.status_code == 200 and "Applied 3 changes." in applied.text
    with Session(engine) as session:
        assert session.exec(select(Service.code)).all() == ["nenkin"]
        entry = session.exec(select(AuditEntry).where(
            AuditEntry.action == "config_imported")).one()
        assert session.get(User, entry.user_id).username == "admin1"  # type: ignore[union-attr]
    download = admin_client.get("/admin/config.yaml")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert "code: nenkin" in download.text and "南庁舎" in download.text
    again = _upload(admin_client, download.text)
    assert "Nothing to change" in html.unescape(again.text) and "/admin/config/apply" not in \
        again.text


@pytest.mark.parametrize(("body", "expected"), [
    (CITY.replace("prefix: N", "prefix: n"), "line 5: offices[0].services[0].prefix"),
    ("offices: [", "not a YAML file"),
    (b"", "Choose a YAML file to upload."),
    ("offices: []".encode("utf-16"), "The file is not UTF-8 text."),
    (b"#" * (600 * 1024), "The file is larger than 512 kB."),
])
def test_a_bad_upload_is_refused_in_the_page(admin_client, engine, body, expected):
    """A clear message (422), nothing written."""
    response = _upload(admin_client, body)
    assert response.status_code == 422
    assert expected in html.unescape(response.text)
    with Session(engine) as session:
        assert session.exec(select(Office)).all() == []


def test_apply_refuses_a_file_that_no_longer_fits(admin_client, engine):
    """A text posted to apply is checked again, whole: a bad one changes nothing."""
    response = admin_client.post("/admin/config/apply",
                                 data={"text": CITY.replace("[nenkin]", "[nenkin, zz]")})
    assert response.status_code == 422
    assert "Unknown service: zz" in html.unescape(response.text)
    with Session(engine) as session:
        assert session.exec(select(Office)).all() == []


def test_problems_are_shown_in_the_admins_language(admin_client, engine):
    """An admin reading in Japanese reads each problem of the file in Japanese, with its line
    and its place; the catalog section's problems too."""
    admin_client.headers["Accept-Language"] = "ja"
    response = _upload(admin_client, CITY.replace("  services:\n", "  colour: red\n  services:\n"))
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "4 行目: offices[0].colour: 不明なキーです（使えるキー: code, names, address" in page
    assert "unknown key" not in page
    response = _upload(admin_client, CITY + "  catalog: {format: 1}\n")
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "8 行目: offices[0].catalog.catalog: catalog: 項目 'office' がありません" in page
    with Session(engine) as session:
        assert session.exec(select(Office)).all() == []
