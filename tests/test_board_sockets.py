"""Two call boards of one office set up differently: each one's page and socket carry only the
calls it may show (a call it may not show never reaches it), a staff member's browser still
sees everything, and a change of a board's settings reaches the open board without a reload."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from admin import boards
from counter import board_settings
from counter.board_view import board_view
from frontyard.database import session_scope, utcnow
from tests.boards_support import Town, bearer, call
from tests.boards_support import town as town  # a fixture, used by name
from tests.screens_support import receive, receive_state


def _set(app: Any, town: Town, name: str, **data: Any) -> None:
    """Save a board's settings as the admin page does (announcing the change)."""
    with session_scope(app.state.engine) as session:
        boards.save_board(session, app.state.hub, None,
                          boards.board_by(session, town.boards[name]), boards.BoardInput(**data))


def _everything_until_quiet(socket: Any) -> str:
    """Every message the socket receives until it is quiet for half a second, as text."""
    texts = []
    while True:
        try:
            texts.append(json.dumps(receive(socket, 0.5), ensure_ascii=False))
        except TimeoutError:
            return "\n".join(texts)


def _calling(message: dict[str, Any]) -> str:
    return message["parts"]["board-live"].split('class="board-recent"')[0]  # type: ignore[no-any-return]


def test_for_board_keeps_only_the_boards_calls(engine, town: Town, app, client):
    """The office's view narrowed: a services board keeps its calls and waiting lines; a zone
    board the calls to its counters and the lines they may serve (`client` runs the app's
    lifespan, which closes its database connections at the end)."""
    zei = call(app, town, "zei", "1")
    jumin = call(app, town, "jumin", "3")
    with session_scope(engine) as session:
        view = board_view(session, town.office_id, utcnow())
        lobby = board_settings.for_board(view, board_settings.BoardShows(
            board_settings.BoardScope.SERVICES, service_ids=frozenset({town.services["zei"]}),
            waiting_ids=frozenset({town.services["zei"]})))
        upstairs = board_settings.for_board(view, board_settings.BoardShows(
            board_settings.BoardScope.ZONE, zone="2F",
            waiting_ids=board_settings.zone_services(session, town.office_id, "2F")))
    assert {c.ticket_number for c in view.calling} == {zei, jumin}
    assert [c.ticket_number for c in lobby.calling] == [zei]
    assert [r.ticket_number for r in lobby.to_speak] == [zei]
    assert [s.code for s in lobby.services] == ["zei"]
    assert [c.ticket_number for c in upstairs.calling] == [jumin]
    assert [r.ticket_number for r in upstairs.records] == [jumin]
    assert [s.code for s in upstairs.services] == ["jumin"]
    assert board_settings.for_board(view, board_settings.EVERYTHING) is view


def test_each_board_gets_only_its_calls(app, admin_client, town: Town, users):
    """The lobby shows zei and kokuho, upstairs the 2F counters: a call of one never reaches
    the other's socket nor its page; a staff member's board shows both."""
    _set(app, town, "lobby", scope="services", services=["zei", "kokuho"],
         languages=["en", "zh_Hans"])
    _set(app, town, "upstairs", scope="zone", zone="2F", languages=["ko"])
    with admin_client.websocket_connect("/ws/board", headers=bearer(town, "lobby")) as lobby, \
            admin_client.websocket_connect("/ws/board?lang=vi",
                                           headers=bearer(town, "upstairs")) as upstairs:
        first_lobby, first_upstairs = receive_state(lobby), receive_state(upstairs)
        assert 'data-service="zei"' in first_lobby["parts"]["board-live"]
        assert 'data-service="jumin"' not in first_lobby["parts"]["board-live"]
        # the device's own languages, whatever the address says
        assert 'lang="ko"' in first_upstairs["parts"]["board-live"]
        assert 'lang="vi"' not in first_upstairs["parts"]["board-live"]

        jumin = call(app, town, "jumin", "3")  # to the 2F counter
        update = receive_state(upstairs)
        assert jumin in _calling(update) and [c["number"] for c in update["calls"]] == [jumin]
        assert [u["lang"] for u in update["calls"][0]["utterances"]] == ["ja-JP", "ko-KR"]
        assert jumin not in _everything_until_quiet(lobby)

        zei = call(app, town, "zei", "1")  # a 1F counter
        update = receive_state(lobby)
        assert zei in _calling(update) and jumin not in update["parts"]["board-live"]
        [spoken] = update["calls"]
        assert spoken["number"] == zei
        assert [(u["lang"], u["slot"]) for u in spoken["utterances"]] == [
            ("ja-JP", 1), ("en-US", 2), ("zh-CN", 3)]
        assert zei not in _everything_until_quiet(upstairs)

    lobby_page = admin_client.get("/board", headers=bearer(town, "lobby")).text
    upstairs_page = admin_client.get("/board", headers=bearer(town, "upstairs")).text
    staff_page = admin_client.get(f"/board?office={town.office_id}&lang=en").text
    assert zei in lobby_page and jumin not in lobby_page
    assert jumin in upstairs_page and zei not in upstairs_page
    assert zei in staff_page and jumin in staff_page  # no device: everything, as before
    assert 'class="lang-2">Now calling' in lobby_page
    assert 'lang="zh-Hans" class="lang-3"' in lobby_page
    assert 'data-showing="2"' in lobby_page and 'data-rotate-every="8000"' in lobby_page
    assert "&amp;lang=en,zh_Hans" in lobby_page


def test_a_board_without_settings_shows_everything(app, admin_client, town: Town, users):
    """A paired board nobody has set up yet still works as before (?lang= included)."""
    zei, jumin = call(app, town, "zei", "1"), call(app, town, "jumin", "3")
    page = admin_client.get("/board?lang=pt_BR", headers=bearer(town, "lobby")).text
    assert zei in page and jumin in page and 'lang="pt-BR" class="lang-2"' in page


def test_a_change_reaches_the_open_board_without_a_reload(app, admin_client, town: Town, users):
    """Saving a board's settings on the admin page closes its socket at once; the screen
    reconnects (as live.js does) and gets the new settings. Other boards stay connected."""
    zei, jumin = call(app, town, "zei", "1"), call(app, town, "jumin", "3")
    path = f"/admin/devices/{town.boards['lobby']}/board"
    with admin_client.websocket_connect("/ws/board", headers=bearer(town, "lobby")) as lobby, \
            admin_client.websocket_connect("/ws/board",
                                           headers=bearer(town, "upstairs")) as upstairs:
        assert zei in _calling(receive_state(lobby)) and jumin in _calling(receive_state(upstairs))
        saved = admin_client.post(path, data={"scope": "zone", "zone": "2F",
                                              "language": ["es"]}, follow_redirects=False)
        assert saved.status_code == 303
        with pytest.raises(WebSocketDisconnect):
            while True:
                receive(lobby)
        assert "board-live" not in _everything_until_quiet(upstairs)  # still open, unchanged
    with admin_client.websocket_connect("/ws/board", headers=bearer(town, "lobby")) as again:
        state = receive_state(again)
        assert jumin in _calling(state) and zei not in state["parts"]["board-live"]
        assert 'lang="es"' in state["parts"]["board-live"]
    # Saving the same settings again changes nothing and closes nothing.
    with admin_client.websocket_connect("/ws/board", headers=bearer(town, "lobby")) as same:
        receive_state(same)
        admin_client.post(path, data={"scope": "zone", "zone": "2F", "language": ["es"]})
        assert "board-live" not in _everything_until_quiet(same)
