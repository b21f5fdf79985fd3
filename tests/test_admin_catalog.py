"""The catalog's admin pages: upload (good, broken with line numbers, every unreadable file),
download, publish, rollback, the alert when the published version stops validating, edits
without YAML, the preview on kiosk screens, the role matrix — and kiosks unaffected by a bad
upload, even mid-way through a resident's session."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from counter.models import Office, Visit
from frontyard import database
from frontyard.audit import AuditEntry
from frontyard.auth import DeviceKind, create_device
from kiosk import catalog_serving
from kiosk.catalog_versions import CatalogVersion
from tests.catalog_support import GOOD, broken, make_city, switch_off, with_locales
from tests.conftest import make_client

BASE = "/admin/offices/kita/catalog"


@pytest.fixture(autouse=True)
def city(engine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Office `kita` with its own services; its catalog needs ja, ja_easy and en."""
    with_locales(monkeypatch)
    catalog_serving._logged.clear()
    with database.session_scope(engine) as session:
        make_city(session)


@pytest.fixture(autouse=True)
def english(admin_client) -> None:  # type: ignore[no-untyped-def]
    """The admin reads the pages in English."""
    admin_client.headers["Accept-Language"] = "en"


def _upload(client, data: bytes, publish: bool = False, note: str = ""):  # type: ignore[no-untyped-def]
    form = {"note": note, **({"publish": "on"} if publish else {})}
    return client.post(BASE, data=form, files={"file": ("catalog.yaml", data, "application/yaml")},
                       follow_redirects=False)


def _states(engine) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [(row.number, row.state) for row in session.exec(
            select(CatalogVersion).order_by(CatalogVersion.number))]


@pytest.fixture
def kiosk(app, engine):  # type: ignore[no-untyped-def]
    """A paired kiosk of office `kita`."""
    with database.session_scope(engine) as session:
        office = session.exec(select(Office).where(Office.code == "kita")).one()
        _, token, _ = create_device(session, "kita-1", DeviceKind.KIOSK, office_id=office.id)
    with make_client(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        client.headers["Accept-Language"] = "en"
        yield client


def test_a_new_office_invites_an_upload_and_its_kiosk_has_no_guide(admin_client, kiosk):
    """No catalog: the admin page invites an upload, the kiosk says there is no guide yet."""
    page = admin_client.get(BASE)
    assert page.status_code == 200 and 'id="catalog-empty"' in page.text
    response = kiosk.post("/kiosk/start", data={"locale": "en"}, follow_redirects=False)
    assert response.status_code == 503 and "no procedure guide yet" in response.text


def test_upload_publish_download(admin_client, kiosk, engine):
    """A good upload is a draft; publishing puts it on the kiosk; download gives it back."""
    response = _upload(admin_client, GOOD.encode(), note="first catalog")
    assert response.status_code == 303 and response.headers["location"] == f"{BASE}/1"
    page = admin_client.get(f"{BASE}/1")
    assert 'id="version-valid"' in page.text and "Publish this version" in page.text
    assert admin_client.post(f"{BASE}/1/publish", follow_redirects=False).status_code == 303
    assert _states(engine) == [(1, "published")]
    download = admin_client.get(f"{BASE}/1/download")
    assert download.text == GOOD and "catalog-kita-v1.yaml" in download.headers[
        "content-disposition"]
    kiosk.post("/kiosk/start", data={"locale": "en"})
    assert "Moving in" in kiosk.get("/kiosk/events").text
    listing = admin_client.get(BASE).text
    assert "first catalog" in listing and "On the kiosks" in listing


def test_broken_upload_is_refused_with_lines_and_kiosks_keep_going(admin_client, kiosk, engine):
    """A broken catalog with "publish": kept as a draft, refused with its lines; a resident
    mid-way on the kiosk finishes with the published catalog and gets a ticket."""
    assert _upload(admin_client, GOOD.encode(), publish=True).status_code == 303
    kiosk.post("/kiosk/start", data={"locale": "en"})
    kiosk.post("/kiosk/events", data={"event": ["birth"]})
    response = _upload(admin_client, broken().encode(), publish=True)
    assert response.status_code == 422
    assert "not published" in response.text and "unknown service &#39;nowhere&#39;" in \
        response.text
    line = GOOD.splitlines().index("    service: childcare", 40) + 1
    assert f"<td>{line}</td>" in response.text and "service: nowhere" in response.text
    assert _states(engine) == [(1, "published"), (2, "draft")]
    assert admin_client.post(f"{BASE}/2/publish").status_code == 409
    assert "Publish this version" not in admin_client.get(f"{BASE}/2").text
    assert kiosk.get("/kiosk/guide", follow_redirects=False).status_code == 200
    issued = kiosk.post("/kiosk/ticket", data={"without_details": "1"}, follow_redirects=False)
    assert issued.headers["location"] == "/kiosk/ticket"
    with Session(engine) as session:
        assert len(session.exec(select(Visit)).all()) == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"\xff\xfe\x00f\x00o", "not UTF-8 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    (b"x" * 1_600_001, "too large"),
    (b"a: [1, 2\n", "YAML syntax"),
    (b"- a\n- b\n", "must be a YAML mapping"),
    (b'a: &a ["l","l"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n', "anchors and aliases"),
])
def test_every_bad_upload_is_a_clear_message_and_nothing_is_saved(admin_client, engine, data,
                                                                   message):
    """Empty, not UTF-8, binary, huge, syntax, not a mapping, a YAML bomb: 422, nothing saved."""
    response = _upload(admin_client, data, publish=True)
    assert response.status_code == 422 and message in response.text
    assert "Nothing was saved." in response.text
    assert _states(engine) == []


def test_upload_without_a_file(admin_client, engine):
    """The form sent with no file: a message, nothing saved."""
    response = admin_client.post(BASE, data={"note": "x"}, follow_redirects=False)
    assert response.status_code == 422 and "Choose a YAML file" in response.text
    assert _states(engine) == []


def test_rollback_and_the_alert_when_the_published_version_breaks(admin_client, engine, kiosk):
    """Rollback publishes the previous version again as a new one. A service switched off
    after publishing: the kiosk serves the last good version, the admin sees alerts."""
    only_first = GOOD.replace("Moving in", "Old title")
    _upload(admin_client, only_first.encode(), publish=True)
    _upload(admin_client, GOOD.encode(), publish=True)
    assert admin_client.post(f"{BASE}/rollback", follow_redirects=False).headers[
        "location"] == f"{BASE}/3"
    assert _states(engine) == [(1, "superseded"), (2, "superseded"), (3, "published")]
    with Session(engine) as session:
        audit = [entry.action for entry in session.exec(select(AuditEntry))]
    assert audit.count("catalog_published") == 3
    assert 'id="catalog-alert-kita"' not in admin_client.get("/admin").text
    with database.session_scope(engine) as session:
        switch_off(session, "childcare")
    home = admin_client.get("/admin").text
    assert 'id="catalog-alert-kita"' in home
    page = admin_client.get(BASE).text
    assert 'id="catalog-alert"' in page and "unknown service &#39;childcare&#39;" in page
    response = kiosk.post("/kiosk/start", data={"locale": "en"}, follow_redirects=False)
    assert response.status_code == 503  # every version names childcare


def test_edits_without_yaml(admin_client, engine, kiosk):
    """Hide a life event; change what to bring and the counter hint: new published versions."""
    _upload(admin_client, GOOD.encode(), publish=True)
    page = admin_client.get(f"{BASE}/visibility")
    assert page.status_code == 200 and 'value="birth"' in page.text
    response = admin_client.post(f"{BASE}/visibility", data={
        "event": ["moving_in"], "procedure": ["move_in", "allowance"]}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{BASE}/2"
    kiosk.post("/kiosk/start", data={"locale": "en"})
    events = kiosk.get("/kiosk/events").text
    assert "Moving in" in events and "Birth" not in events
    assert admin_client.post(f"{BASE}/visibility", data={
        "procedure": ["move_in"]}).status_code == 422  # every life event hidden
    response = admin_client.post(f"{BASE}/procedures/move_in", data={
        "documents": ["bank_details"], "hint_ja": "9番窓口", "hint_ja_easy": "9番《ばん》",
        "hint_en": "Counter 9"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert _states(engine)[-1] == (3, "published")
    response = admin_client.post(f"{BASE}/procedures/move_in", data={
        "documents": ["nothing_like_it"]})
    assert response.status_code == 422 and "Unknown document" in response.text
    response = admin_client.post(f"{BASE}/procedures/move_in", data={"hint_ja": "窓口"})
    assert response.status_code == 422 and "missing translation" in response.text
    assert _states(engine)[-1] == (4, "draft")
    assert admin_client.get(f"{BASE}/procedures/nothing").status_code == 404


def test_preview_walks_events_questions_guide_without_a_ticket(admin_client, engine):
    """A draft previewed in a chosen language with the kiosk's templates, clearly marked;
    no kiosk session, no visit; the live kiosk is not changed."""
    _upload(admin_client, GOOD.encode(), publish=True)
    _upload(admin_client, GOOD.replace("Moving in", "Draft moving").encode())
    base = f"{BASE}/2/preview"
    page = admin_client.get(f"{base}?lang=en")
    assert page.status_code == 200 and 'id="preview-bar"' in page.text
    assert "Draft moving" in page.text and f'action="{base}/events"' in page.text
    assert admin_client.post(f"{base}/events", data={}).status_code == 422
    response = admin_client.post(f"{base}/events", data={"event": ["moving_in"]},
                                 follow_redirects=False)
    assert response.headers["location"] == f"{base}/questions"
    questions = admin_client.get(f"{base}/questions")
    asked = re.findall(r'name="asked" value="([a-z_]+)"', questions.text)
    assert "ages" in asked
    answers = {"ages": "30", "has_dog": "no", "colour": "blue"}
    response = admin_client.post(f"{base}/questions", data={
        **{key: answers[key] for key in asked}, "asked": asked}, follow_redirects=False)
    assert response.status_code == 303
    guide = admin_client.get(f"{base}/guide", follow_redirects=True)
    assert guide.status_code == 200 and 'id="preview-bar"' in guide.text
    assert "/kiosk/ticket" not in guide.text and "Get my ticket" not in guide.text
    japanese = admin_client.get(f"{base}/guide?lang=ja_easy")
    assert "<ruby>" in japanese.text
    with Session(engine) as session:
        assert session.exec(select(Visit)).all() == []
    assert _states(engine) == [(1, "published"), (2, "draft")]


def test_a_broken_version_cannot_be_previewed(admin_client):
    """The preview of a version the kiosk could not serve: refused."""
    _upload(admin_client, broken().encode())
    assert admin_client.get(f"{BASE}/1/preview?lang=en").status_code == 409


def test_role_matrix(client, staff_client, manager_client, admin_client, engine):
    """Anonymous → sign-in, staff and managers → 403 on every catalog route."""
    _upload(admin_client, GOOD.encode(), publish=True)
    routes = [("GET", BASE), ("POST", BASE), ("POST", f"{BASE}/rollback"),
              ("GET", f"{BASE}/1"), ("GET", f"{BASE}/1/download"), ("POST", f"{BASE}/1/publish"),
              ("GET", f"{BASE}/visibility"), ("POST", f"{BASE}/visibility"),
              ("GET", f"{BASE}/procedures"), ("GET", f"{BASE}/procedures/move_in"),
              ("POST", f"{BASE}/procedures/move_in"),
              ("GET", f"{BASE}/1/preview"), ("GET", f"{BASE}/1/preview/events"),
              ("POST", f"{BASE}/1/preview/events"), ("GET", f"{BASE}/1/preview/questions"),
              ("POST", f"{BASE}/1/preview/questions"),
              ("POST", f"{BASE}/1/preview/questions/reset"), ("GET", f"{BASE}/1/preview/guide")]
    for method, path in routes:
        anonymous = client.request(method, path, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"], path
        for other in (staff_client, manager_client):
            assert other.request(method, path, follow_redirects=False).status_code == 403, path
    assert _states(engine) == [(1, "published")]
    assert admin_client.get("/admin/offices/nowhere/catalog").status_code == 404
    assert admin_client.get(f"{BASE}/99").status_code == 404


def test_problems_are_shown_in_the_admins_language(admin_client):
    """An admin reading in Japanese reads each problem in Japanese, on its line; the check is
    cached for every reader, so the same version still reads in English for an English one."""
    admin_client.headers["Accept-Language"] = "ja"
    response = _upload(admin_client, broken().encode(), publish=True)
    assert response.status_code == 422
    line = GOOD.splitlines().index("    service: childcare", 40) + 1
    assert f"<td>{line}</td>" in response.text and "service: nowhere" in response.text
    assert "不明な業務 &#39;nowhere&#39;" in response.text
    assert "unknown service" not in response.text
    refused = _upload(admin_client, b"format: 1\noffice: [kita\n")
    assert refused.status_code == 422 and "YAML の構文エラー" in refused.text
    admin_client.headers["Accept-Language"] = "en"
    page = admin_client.get(f"{BASE}/1")
    assert "unknown service &#39;nowhere&#39;" in page.text and "不明な業務" not in page.text
