"""What each call board shows, set on its admin page: the rules (services of the board's own
office, a zone some counter has, at least one known language), the audit trail, the role
matrix, every bad input explained with nothing written, and the configuration-file hook."""

from __future__ import annotations

import pytest
from sqlmodel import select

from admin import boards
from counter.board_settings import (
    DEFAULT_LANGUAGES,
    EVERYTHING,
    BoardScope,
    BoardService,
    BoardSetting,
    BoardShows,
    board_config,
    languages_from_query,
)
from counter.models import Counter, Office
from frontyard.audit import AuditEntry
from frontyard.database import session_scope
from frontyard.errors import ValidationFailed
from frontyard.i18n import use_locale
from frontyard.realtime import Hub
from tests.boards_support import Town
from tests.boards_support import town as town  # a fixture, used by name

EN = {"Accept-Language": "en"}


def _settings(engine) -> tuple[list[BoardSetting], list[BoardService]]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return (list(session.exec(select(BoardSetting))),
                list(session.exec(select(BoardService))))


def _audit(engine) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == "board_changed")))


# --- Pure rules ------------------------------------------------------------------------------


def test_languages_from_the_address_keep_the_old_parameter_working():
    """One code as before, several in order, unknown ones skipped, English by default."""
    assert languages_from_query("ko") == ("ko",)
    assert languages_from_query("en,zh_Hans,en") == ("en", "zh_Hans")
    assert languages_from_query("xx,vi") == ("vi",)
    assert languages_from_query(None) == languages_from_query("xx") == DEFAULT_LANGUAGES
    assert languages_from_query("ja") == ()  # Japanese only, as `?lang=ja` always gave


def test_what_a_board_shows():
    """Services: only theirs; zone: only its counters'; everything: all."""
    upstairs, downstairs = Counter(id=1, office_id=1, number="1", zone="2F"), \
        Counter(id=2, office_id=1, number="2", zone="1F")
    some = BoardShows(BoardScope.SERVICES, service_ids=frozenset({5, 6}),
                      waiting_ids=frozenset({5, 6}))
    assert some.shows_call(5, downstairs) and not some.shows_call(7, upstairs)
    assert some.shows_waiting(6) and not some.shows_waiting(7)
    zone = BoardShows(BoardScope.ZONE, zone="2F", waiting_ids=None)
    assert zone.shows_call(7, upstairs) and not zone.shows_call(5, downstairs)
    assert not zone.shows_call(5, None) and zone.shows_waiting(99)
    assert EVERYTHING.shows_call(None, None) and EVERYTHING.shows_waiting(1)


def test_saved_settings_are_what_the_board_reads(engine, town: Town):
    """A zone board lists the waiting lines its counters may serve; a services board its own."""
    with session_scope(engine) as session:
        device = boards.board_by(session, town.boards["upstairs"])
        assert board_config(session, device.id, town.office_id) is None  # type: ignore[arg-type]
        boards.save_board(session, Hub(), None, device, boards.BoardInput(
            scope="zone", zone="2F", languages=["vi", "en"]))
        config = board_config(session, device.id, town.office_id)  # type: ignore[arg-type]
    assert config is not None and config.languages == ("vi", "en")
    assert config.shows == BoardShows(BoardScope.ZONE, zone="2F",
                                      waiting_ids=frozenset({town.services["jumin"]}))


# --- The admin page --------------------------------------------------------------------------


def test_role_matrix(client, staff_client, manager_client, admin_client, town: Town, users):
    """Anonymous → sign-in, staff and managers → 403, admins through; a kiosk is no board."""
    path = f"/admin/devices/{town.boards['lobby']}/board"
    for method in ("GET", "POST"):
        anonymous = client.request(method, path, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        for other in (staff_client, manager_client):
            assert other.request(method, path, follow_redirects=False).status_code == 403
    assert admin_client.get(path).status_code == 200
    assert admin_client.get(f"/admin/devices/{town.boards['entrance']}/board").status_code == 404
    assert admin_client.post("/admin/devices/999999/board").status_code == 404


def test_admin_limits_a_board_and_the_change_is_audited(admin_client, engine, town: Town, users):
    """The list links each board's page; services and languages in order are saved, shown
    again, and audited with before and after."""
    listing = admin_client.get("/admin/devices", headers=EN)
    assert f'href="/admin/devices/{town.boards["lobby"]}/board"' in listing.text
    assert f'href="/admin/devices/{town.boards["entrance"]}/board"' not in listing.text
    path = f"/admin/devices/{town.boards['lobby']}/board"
    page = admin_client.get(path, headers=EN)
    assert 'value="all" checked' in page.text and ">2F</option>" in page.text
    saved = admin_client.post(path, headers=EN, data={
        "scope": "services", "services": ["zei", "kokuho"], "zone": "",
        "language": ["zh_Hans", "", "en", ""]}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?saved=1"
    again = admin_client.get(f"{path}?saved=1", headers=EN)
    assert "settings are saved" in again.text and 'value="services" checked' in again.text
    assert 'id="f-service-zei" name="services" type="checkbox" value="zei" checked' in again.text
    assert 'value="jumin" checked' not in again.text
    first, second = again.text.index('value="zh_Hans" lang="zh-Hans" selected'), \
        again.text.index('value="en" lang="en" selected')
    assert first < second  # the order of the rotation is kept
    [entry] = _audit(engine)
    assert entry.detail["before"] is None and entry.detail["device"] == "lobby"
    assert entry.detail["after"] == {"scope": "services", "services": ["kokuho", "zei"],
                                     "zone": "", "languages": ["zh_Hans", "en"]}
    admin_client.post(path, headers=EN, data={"scope": "zone", "zone": "1F", "language": "en"})
    settings, links = _settings(engine)
    assert [(s.scope, s.zone, s.languages) for s in settings] == [(BoardScope.ZONE, "1F", ["en"])]
    assert links == []
    assert _audit(engine)[-1].detail["before"]["services"] == ["kokuho", "zei"]


BAD_FORMS = [
    ({"scope": "services", "language": "en"}, "Choose at least one service"),
    ({"scope": "services", "services": "nenkin", "language": "en"},
     "nenkin: not a service of office minato"),
    ({"scope": "services", "services": ["zei", "<b>x</b>"], "language": "en"},
     "&lt;b&gt;x&lt;/b&gt;: not a service of office minato"),
    ({"scope": "zone", "zone": "", "language": "en"}, "Choose the zone"),
    ({"scope": "zone", "zone": "9F", "language": "en"},
     "No counter of office minato is in zone 9F"),
    ({"scope": "all", "language": ["", ""]}, "Choose at least one language after Japanese."),
    ({"scope": "all"}, "Choose at least one language after Japanese."),
    ({"scope": "all", "language": ["en", "xx"]}, "Unknown language: xx"),
    ({"scope": "all", "language": ["ja"]}, "Unknown language: ja"),
    ({"scope": "all", "language": ["en", "en"]}, "Each language can be chosen once."),
    ({"scope": "everything", "language": "en"}, "Choose what the board shows"),
    ({"language": "en"}, "Choose what the board shows"),
]


@pytest.mark.parametrize(("form", "message"), BAD_FORMS)
def test_bad_input_is_explained_and_nothing_is_written(admin_client, engine, town: Town, users,
                                                       form, message):
    """Each bad or tampered form: 422 with its message in the page, the entries kept, no
    settings, no audit entry."""
    path = f"/admin/devices/{town.boards['lobby']}/board"
    response = admin_client.post(path, headers=EN, data=form)
    assert response.status_code == 422
    assert message in response.text and "Nothing was saved." in response.text
    assert 'class="field-error"' in response.text
    assert _settings(engine) == ([], []) and _audit(engine) == []


def test_a_failed_change_keeps_the_old_settings(admin_client, engine, town: Town, users):
    """A refused change after a good one leaves the good one whole."""
    path = f"/admin/devices/{town.boards['lobby']}/board"
    admin_client.post(path, data={"scope": "services", "services": "zei", "language": "ko"})
    refused = admin_client.post(path, headers=EN, data={
        "scope": "services", "services": ["kokuho", "nenkin"], "language": "en"})
    assert refused.status_code == 422
    settings, links = _settings(engine)
    assert [s.languages for s in settings] == [["ko"]]
    assert [link.service_id for link in links] == [town.services["zei"]]
    assert len(_audit(engine)) == 1


def test_the_page_speaks_japanese_too(admin_client, town: Town, users):
    """Staff pages are in ja and en."""
    page = admin_client.get(f"/admin/devices/{town.boards['lobby']}/board",
                            headers={"Accept-Language": "ja"})
    assert page.status_code == 200 and "日本語" in page.text and "Which calls" not in page.text


def test_a_zone_no_counter_has_any_more_is_warned(admin_client, engine, town: Town, users):
    """The counters moved: the page says the board shows no calls now."""
    path = f"/admin/devices/{town.boards['upstairs']}/board"
    admin_client.post(path, data={"scope": "zone", "zone": "2F", "language": "en"})
    with session_scope(engine) as session:
        counter = session.get(Counter, town.counters["3"])
        counter.zone = "3F"  # type: ignore[union-attr]
        session.add(counter)
    page = admin_client.get(path, headers=EN)
    assert 'id="zone-warning"' in page.text and "zone 2F" in page.text


# --- The configuration file ------------------------------------------------------------------


def test_configuration_round_trip(engine, town: Town):
    """export(import(x)) == x; boards not listed show everything again; audited."""
    data = [
        {"device": "lobby", "shows": "services", "services": ["kokuho", "zei"],
         "languages": ["en", "pt_BR"]},
        {"device": "upstairs", "shows": "zone", "zone": "2F", "languages": ["zh_Hans"]},
    ]
    with session_scope(engine) as session:
        office = session.exec(select(Office).where(Office.code == "minato")).one()
        assert boards.export_config(session, office) == []
        boards.import_config(session, office, data)
        assert boards.export_config(session, office) == data
        boards.import_config(session, office, data)  # the same again: nothing changes
        assert len(_audit_in(session)) == 2
        boards.import_config(session, office, data[1:])
        assert boards.export_config(session, office) == data[1:]
        [*_, cleared] = _audit_in(session)
        assert cleared.detail["device"] == "lobby" and cleared.detail["after"] is None
        kita = session.exec(select(Office).where(Office.code == "kita")).one()
        assert boards.export_config(session, kita) == []


def _audit_in(session) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    session.flush()
    return list(session.exec(select(AuditEntry).where(AuditEntry.action == "board_changed")
                             .order_by(AuditEntry.id)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("data", "where"), [
    ({"device": "lobby"}, "boards: expected a list"),
    ([{"name": "lobby"}], "boards[0].device: expected text"),
    ([{"device": "kita-hall", "languages": ["en"]}], "boards[0].device"),
    ([{"device": "entrance", "languages": ["en"]}], "boards[0].device"),
    ([{"device": "lobby", "languages": ["en"]}, {"device": "lobby", "languages": ["en"]}],
     "boards[1].device"),
    ([{"device": "lobby", "shows": "zone", "zone": "9F", "languages": ["en"]}],
     "boards[0].zone"),
    ([{"device": "lobby", "shows": "services", "services": ["nenkin"], "languages": ["en"]}],
     "boards[0].services"),
    ([{"device": "lobby", "services": "zei", "languages": ["en"]}], "boards[0].services"),
    ([{"device": "lobby", "languages": []}], "boards[0].languages"),
    ([{"device": "lobby", "languages": ["en"], "colour": "red"}], "unknown key colour"),
])
def test_bad_configuration_names_the_place(engine, town: Town, data, where):
    """Each bad section: ValidationFailed naming where; nothing written."""
    with session_scope(engine) as session, use_locale("en"):
        office = session.exec(select(Office).where(Office.code == "minato")).one()
        with pytest.raises(ValidationFailed) as refused:
            boards.import_config(session, office, data)
        assert where in refused.value.message, refused.value.message
        session.rollback()
    assert _settings(engine) == ([], [])
