"""Live screens over websockets: the fan-out itself (one rendering per audience, nothing sent
when nothing changed, heartbeat, bad messages) and every screen's socket (full state on
connect, update after an action, refusals)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from frontyard.live import Fanout
from frontyard.realtime import RESYNC, Hub
from tests.aio import run_async
from tests.conftest import make_client
from tests.screens_support import (
    HTMX,
    assert_silent,
    issue,
    open_counter,
    receive,
    receive_state,
)
from tests.screens_support import office as office  # a fixture, used by name

# --- The fan-out, with a fake screen ---------------------------------------------------------


@dataclass(frozen=True)
class FakeScreen:
    """An audience whose state is whatever `CONTENT` holds for its name."""

    name: str
    topic: str = "office:1"
    CONTENT: ClassVar[dict[str, str]] = {}
    calls: ClassVar[list[list[str]]] = []

    @classmethod
    def render_many(cls, app: Any, audiences: Any) -> dict[Any, str]:
        """Record the call; the state is CONTENT[name]."""
        cls.calls.append([audience.name for audience in audiences])
        return {audience: json.dumps({"type": "state", "parts": {"x": cls.CONTENT[audience.name]}})
                for audience in audiences}


@contextmanager
def _serving(screen: type[FakeScreen]) -> Iterator[tuple[TestClient, Hub, Fanout]]:
    """A tiny app serving `screen` sockets at /ws/{name}, its hub and its fan-out."""
    FakeScreen.CONTENT.clear()
    FakeScreen.calls.clear()
    hub = Hub()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await fanout.serve(websocket, screen(websocket.path_params["name"]))

    app = Starlette(routes=[WebSocketRoute("/ws/{name}", endpoint)])
    fanout = Fanout(hub, app, ping_interval=3600)
    with TestClient(app) as client:
        yield client, hub, fanout
        client.portal.call(fanout.stop)


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    """A tiny app serving FakeScreen sockets at /ws/{name}, and its fan-out."""
    with _serving(FakeScreen) as served:
        yield served


def _publish(client: TestClient, hub: Hub, message: dict[str, Any]) -> None:
    client.portal.call(hub.publish, "office:1", message)


def _part(message: dict[str, Any]) -> str:
    return message["parts"]["x"]  # type: ignore[no-any-return]


def test_one_rendering_per_audience_sent_to_all_its_sockets(fake):
    """Two sockets of one audience share one rendering; another audience gets its own."""
    client, hub, fanout = fake
    FakeScreen.CONTENT.update(a="a1", b="b1")
    with client.websocket_connect("/ws/a") as first, client.websocket_connect("/ws/a") as second, \
            client.websocket_connect("/ws/b") as other:
        assert _part(receive(first)) == _part(receive(second)) == "a1"
        assert _part(receive(other)) == "b1"
        assert fanout.renders == 2  # the second socket of "a" was served from the cache
        FakeScreen.CONTENT.update(a="a2", b="b2")
        _publish(client, hub, {"type": "task"})
        assert _part(receive(first)) == _part(receive(second)) == "a2"
        assert _part(receive(other)) == "b2"
        assert fanout.renders == 4 and sorted(FakeScreen.calls[-1]) == ["a", "b"]
        assert fanout.socket_count() == 3


class DeferredScreen(FakeScreen):
    """A FakeScreen whose states are made only when sent (`live.Payload` as a function)."""

    made: ClassVar[list[str]] = []

    @classmethod
    def render_many(cls, app: Any, audiences: Any) -> dict[Any, Any]:
        """Functions that record when they run and read CONTENT then."""
        def make(name: str) -> str:
            cls.made.append(name)
            return json.dumps({"type": "state", "parts": {"x": cls.CONTENT[name]}})
        return {audience: partial(make, audience.name) for audience in audiences}


def test_deferred_states_are_made_at_send_time_in_the_event_loop():
    """A function payload is made once per audience, on connect and after a change, and what
    it returns is what the sockets get."""
    DeferredScreen.made.clear()
    with _serving(DeferredScreen) as (client, hub, _):
        FakeScreen.CONTENT.update(a="a1", b="b1")
        with client.websocket_connect("/ws/a") as first, \
                client.websocket_connect("/ws/a") as second:
            assert _part(receive(first)) == _part(receive(second)) == "a1"
            assert DeferredScreen.made == ["a"]  # the second socket got the cached text
            FakeScreen.CONTENT.update(a="a2")
            _publish(client, hub, {"type": "task"})
            assert _part(receive(first)) == _part(receive(second)) == "a2"
            assert DeferredScreen.made == ["a", "a"]


def test_unchanged_state_is_not_sent_again(fake):
    """A change that leaves a screen as it was sends that screen nothing."""
    client, hub, _ = fake
    FakeScreen.CONTENT.update(a="same")
    with client.websocket_connect("/ws/a") as socket:
        assert _part(receive(socket)) == "same"
        _publish(client, hub, {"type": "task"})
        assert_silent(socket)
        FakeScreen.CONTENT.update(a="new")
        _publish(client, hub, {"type": "task"})
        assert _part(receive(socket)) == "new"


def test_resync_from_the_bridge_re_renders(fake):
    """After the PostgreSQL listener reconnects it publishes resync: screens get fresh state."""
    client, hub, _ = fake
    FakeScreen.CONTENT.update(a="before")
    with client.websocket_connect("/ws/a") as socket:
        receive(socket)
        FakeScreen.CONTENT.update(a="missed while away")
        client.portal.call(hub.publish_everywhere, RESYNC)
        assert _part(receive(socket)) == "missed while away"


def test_bad_client_messages_get_an_error_and_the_socket_lives_on(fake):
    """Non-JSON, unknown types, binary and oversized frames are answered, never fatal."""
    client, hub, _ = fake
    FakeScreen.CONTENT.update(a="a1")
    with client.websocket_connect("/ws/a") as socket:
        receive(socket)
        for bad in ["not json", '{"type": "explode"}', "[1, 2]", "x" * 5000]:
            socket.send_text(bad)
            assert receive(socket)["type"] == "error"
        socket.send_bytes(b"\x00\x01")
        assert receive(socket)["type"] == "error"
        socket.send_text('{"type": "pong"}')
        assert_silent(socket)
        socket.send_text('{"type": "resync"}')
        assert _part(receive(socket)) == "a1"
        FakeScreen.CONTENT.update(a="a2")
        _publish(client, hub, {"type": "task"})
        assert _part(receive(socket)) == "a2"


def test_heartbeat_pings_and_closes_silent_sockets(fake):
    """Every socket is pinged; one that stayed silent past the limit is closed."""
    client, _, fanout = fake
    FakeScreen.CONTENT.update(a="a1")
    with client.websocket_connect("/ws/a") as socket:
        receive(socket)
        client.portal.call(fanout.ping)
        assert receive(socket) == {"type": "ping"}
        socket.send_text('{"type": "pong"}')
        fanout.dead_after = 0.0
        client.portal.call(fanout.ping)
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(socket)
        assert closed.value.code == 1001
    assert fanout.socket_count() == 0


def _pinged(socket: Any) -> bool:
    """Whether a ping arrives within a short while."""
    try:
        return receive(socket, 0.15) == {"type": "ping"}
    except TimeoutError:
        return False


def test_heartbeat_pings_one_slice_at_a_time_and_every_socket_once(fake):
    """The heartbeat spreads its pings over the interval: each slice pings its own sockets
    only, and the slices together ping every socket exactly once."""
    client, _, fanout = fake
    FakeScreen.CONTENT.update(a="a1", b="b1", c="c1")
    with client.websocket_connect("/ws/a") as a, client.websocket_connect("/ws/b") as b, \
            client.websocket_connect("/ws/c") as c:
        sockets = [a, b, c]
        for socket in sockets:
            receive(socket)
        pinged = []
        for part in range(3):
            client.portal.call(fanout.ping, part, 3)
            got = [index for index, socket in enumerate(sockets) if _pinged(socket)]
            assert len(got) == 1, (part, got)  # one socket per slice (three slices here)
            pinged += got
        for part in range(3):  # none has been silent for a minute: no ping needed yet
            client.portal.call(partial(fanout.ping, part, 3, silent_for=60.0))
        assert not any(_pinged(socket) for socket in sockets)
        assert sorted(pinged) == [0, 1, 2]


def test_a_failing_renderer_closes_the_socket_without_crashing(fake):
    """An audience that cannot render is closed (the client reconnects); others carry on."""
    client, hub, fanout = fake
    FakeScreen.CONTENT.update(b="b1")
    with client.websocket_connect("/ws/b") as healthy:
        receive(healthy)
        with client.websocket_connect("/ws/missing") as broken, \
                pytest.raises(WebSocketDisconnect):
            receive(broken)
        FakeScreen.CONTENT.update(b="b2")
        _publish(client, hub, {"type": "task"})
        assert _part(receive(healthy)) == "b2"
    assert fanout.socket_count() == 0


@dataclass(frozen=True)
class UrgentScreen(FakeScreen):
    """A fake screen rendered before FakeScreen after every change."""

    render_priority: ClassVar[int] = -1


def test_the_most_urgent_kind_of_screen_is_rendered_and_sent_first(fake):
    """After a change, kinds of screen are rendered in `render_priority` order (the board
    before fifty terminals)."""
    client, hub, fanout = fake
    FakeScreen.CONTENT.update(a="a1", u="u1")

    async def serve_urgent(websocket: WebSocket) -> None:
        await websocket.accept()
        await fanout.serve(websocket, UrgentScreen("u"))

    client.app.router.routes.append(WebSocketRoute("/urgent", serve_urgent))
    with client.websocket_connect("/ws/a") as plain, client.websocket_connect("/urgent") as urgent:
        receive(plain), receive(urgent)
        FakeScreen.calls.clear()
        FakeScreen.CONTENT.update(a="a2", u="u2")
        _publish(client, hub, {"type": "task"})
        assert _part(receive(plain)) == "a2" and _part(receive(urgent)) == "u2"
        assert FakeScreen.calls == [["u"], ["a"]]


def test_settled_waits_until_published_changes_were_rendered_and_sent(fake):
    """A staff action's HTTP answer waits for `settled`: the change it published has been
    rendered and offered to every screen by then, and a silent hub returns at once."""
    client, hub, fanout = fake
    FakeScreen.CONTENT.update(a="a1")

    async def publish_then_settle() -> list[str]:
        hub.publish("office:1", {"type": "task"})
        await fanout.settled(timeout=5)
        return list(FakeScreen.calls[-1])

    with client.websocket_connect("/ws/a") as socket:
        receive(socket)
        FakeScreen.calls.clear()
        FakeScreen.CONTENT.update(a="a2")
        assert client.portal.call(publish_then_settle) == ["a"]
        assert _part(receive(socket)) == "a2"
        started = time.monotonic()
        client.portal.call(fanout.settled)
        assert time.monotonic() - started < 0.4  # nothing pending: no wait


def test_settled_gives_up_after_its_timeout(fake):
    """A rendering that hangs never holds up a staff member's answer for long."""
    client, hub, fanout = fake
    FakeScreen.CONTENT.update(a="a1")
    with client.websocket_connect("/ws/a") as socket:
        receive(socket)
        release = threading.Event()
        original = FakeScreen.render_many

        def slow(app: Any, audiences: Any) -> dict[Any, str]:
            release.wait(10)
            return original(app, audiences)

        FakeScreen.render_many = slow  # type: ignore[method-assign,assignment]
        FakeScreen.CONTENT.update(a="a2")
        try:
            async def publish_then_settle() -> float:
                hub.publish("office:1", {"type": "task"})
                begun = time.monotonic()
                await fanout.settled(timeout=0.2)
                return time.monotonic() - begun

            waited = client.portal.call(publish_then_settle)
            assert 0.15 <= waited < 2
        finally:
            release.set()
            FakeScreen.render_many = original  # type: ignore[method-assign]
        assert _part(receive(socket)) == "a2"  # the slow rendering still arrives


class RecordingSocket:
    """Stands in for a websocket: records what is sent to it."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(text)


def test_a_socket_busy_sending_gets_the_new_state_in_its_mailbox():
    """Idle sockets are sent to straight from the fan-out loop; one whose sender is writing
    (a ping, an earlier state) gets only the newest state, from its own sender."""
    from frontyard.live import Channel

    async def scenario() -> tuple[Channel, Channel]:
        fanout = Fanout(Hub(), app=None)
        idle = Channel(RecordingSocket(), FakeScreen("a"))  # type: ignore[arg-type]
        busy = Channel(RecordingSocket(), FakeScreen("a"))  # type: ignore[arg-type]
        busy.sending = True
        fanout._channels[FakeScreen("a")] = {idle, busy}
        await fanout._deliver(1, {FakeScreen("a"): "first"})
        await fanout._deliver(2, {FakeScreen("a"): "second"})
        return idle, busy

    idle, busy = run_async(scenario())
    assert idle.websocket.sent == ["first", "second"]  # type: ignore[attr-defined]
    assert busy.websocket.sent == []  # type: ignore[attr-defined]
    assert busy.state == "second" and busy.wakeup.is_set()


# --- The real screens ------------------------------------------------------------------------


def _html(message: dict[str, Any], part: str) -> str:
    assert message["type"] == "state", message
    return message["parts"][part]  # type: ignore[no-any-return]


def test_board_gets_full_state_on_connect_and_each_call(app, staff_client, office):
    """A board sees the waiting count at once and the call (with what to say) right after."""
    ticket = issue(app, office, ["insurance"])
    open_counter(staff_client, office, "4", ["insurance"])
    with staff_client.websocket_connect("/ws/board?lang=en") as board:
        first = receive_state(board)
        assert ticket.number not in _html(first, "board-live").split("board-recent")[0]
        assert first["calls"] == []
        staff_client.post("/counter/call-next", headers=HTMX)
        update = receive_state(board)
        calling = _html(update, "board-live").split("board-recent")[0]
        assert ticket.number in calling and "Counter 4" in calling
        [call] = update["calls"]
        assert call["number"] == ticket.number and call["counter"] == "4"
        assert [u["lang"] for u in call["utterances"]] == ["ja-JP", "en-US"]
        assert "4" in call["utterances"][0]["text"]
        staff_client.post(f"/counter/tasks/{ticket.task_ids[0]}/recall", headers=HTMX)
        recalled = receive_state(board)
        assert len(recalled["calls"]) == 2 and recalled["calls"][1]["id"] > call["id"]


def test_board_socket_refuses_strangers_and_other_sites(app, staff_client, office):
    """No device or sign-in: refused. A signed-in browser on another site: refused."""
    with make_client(app) as anonymous, pytest.raises(WebSocketDisconnect) as refused, \
            anonymous.websocket_connect("/ws/board"):
        pass
    assert refused.value.code == 1008
    with pytest.raises(WebSocketDisconnect), staff_client.websocket_connect(
            "/ws/board", headers={"Origin": "https://evil.example"}):
        pass


def test_terminal_socket_follows_the_counter(app, staff_client, office):
    """The terminal's socket: refused without a counter; then new tickets and calls arrive."""
    with pytest.raises(WebSocketDisconnect), staff_client.websocket_connect("/ws/counter"):
        pass
    open_counter(staff_client, office, "4", ["insurance"])
    with staff_client.websocket_connect("/ws/counter") as terminal:
        assert "data-current-task=\"\"" in _html(receive_state(terminal), "terminal-live")
        ticket = issue(app, office, ["insurance"])
        assert ticket.number in _html(receive_state(terminal), "terminal-live")
        issue(app, office, ["tax"])  # another service: this terminal's view does not change
        assert_silent(terminal)
        staff_client.post("/counter/call-next", headers=HTMX)
        live = _html(receive_state(terminal), "terminal-live")
        assert f'data-current-task="{ticket.task_ids[0]}"' in live


def test_status_socket_needs_a_valid_token_first(app, client, office):
    """A wrong token or a missing hello gets "gone" and a close."""
    for hello in [{"type": "hello", "token": "x" * 43}, {"type": "hi"}, "garbage"]:
        with client.websocket_connect("/ws/status") as socket:
            socket.send_text(json.dumps(hello) if isinstance(hello, dict) else hello)
            assert receive(socket) == {"type": "gone"}
            with pytest.raises(WebSocketDisconnect):
                receive(socket)


def test_status_socket_tells_the_resident_where_to_go(app, client, staff_client, office):
    """State on connect (people ahead), then "please go to counter 4" after the call."""
    first = issue(app, office, ["insurance"])
    second = issue(app, office, ["insurance"], locale="ja")
    open_counter(staff_client, office, "4", ["insurance"])
    with client.websocket_connect("/ws/status") as socket:
        socket.send_text(json.dumps({"type": "hello", "token": second.token}))
        initial = _html(receive_state(socket), "status-live")
        assert 'data-people-ahead="1"' in initial and "あなたの前" in initial
        staff_client.post("/counter/call-next", headers=HTMX)  # calls the first ticket
        assert 'data-people-ahead="0"' in _html(receive_state(socket), "status-live")
        staff_client.post(f"/counter/tasks/{first.task_ids[0]}/start", headers=HTMX)
        assert_silent(socket)  # nothing changed for the second ticket
        staff_client.post(f"/counter/tasks/{first.task_ids[0]}/complete", headers=HTMX)
        staff_client.post("/counter/call-next", headers=HTMX)
        called = _html(receive_state(socket), "status-live")
        assert "4番窓口へお越しください" in called  # in the visit's language
        assert 'data-state="called"' in called
        assert f'data-call-key="{second.task_ids[0]}.1"' in called


def test_status_socket_can_switch_language(app, client, office):
    """The hello's language beats the visit's."""
    ticket = issue(app, office, ["insurance"], locale="ja")
    with client.websocket_connect("/ws/status") as socket:
        socket.send_text(json.dumps({"type": "hello", "token": ticket.token, "lang": "en"}))
        assert "People ahead of you" in _html(receive_state(socket), "status-live")


def test_crowding_socket_updates_counts(app, client, office):
    """The public page's socket: counts change as tickets are issued."""
    with client.websocket_connect("/ws/crowding", headers={"Accept-Language": "en"}) as socket:
        before = _html(receive_state(socket), "crowding-live")
        assert "Taxation" in before
        issue(app, office, ["tax"])
        after = _html(receive_state(socket), "crowding-live")
        assert after.split("Taxation")[1].split("</li>")[0].count("1 person") == 1


# --- Two workers on PostgreSQL ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_call_on_worker_a_reaches_screens_on_worker_b(settings, users, office):
    """Two app instances on one database, as two uvicorn workers: LISTEN/NOTIFY carries a
    change made through A to the board and the status page connected to B."""
    from composition.factory import create_app
    from tests.conftest import PASSWORDS, log_in

    worker_a, worker_b = create_app(settings), create_app(settings)
    with make_client(worker_a) as staff_a, make_client(worker_b) as viewer_b:
        log_in(staff_a, "staff1", PASSWORDS[users_role("staff1")])
        log_in(viewer_b, "manager1", PASSWORDS[users_role("manager1")])
        staff_a.headers["Accept-Language"] = viewer_b.headers["Accept-Language"] = "en"
        open_counter(staff_a, office, "4", ["insurance"])
        with viewer_b.websocket_connect("/ws/board?lang=en") as board, \
                viewer_b.websocket_connect("/ws/status") as phone:
            receive_state(board)
            ticket = issue(worker_a, office, ["insurance"], locale="en")
            waiting = _html(receive_state(board), "board-live").split('data-service="insurance"')
            assert '<span class="count">1</span>' in waiting[1].split("</li>")[0]
            phone.send_text(json.dumps({"type": "hello", "token": ticket.token}))
            assert 'data-people-ahead="0"' in _html(receive_state(phone), "status-live")

            staff_a.post("/counter/call-next", headers=HTMX)
            update = receive_state(board)
            assert [call["number"] for call in update["calls"]] == [ticket.number]
            assert "Please go to counter 4." in _html(receive_state(phone), "status-live")
        assert worker_b.state.bridge is not None and worker_b.state.bridge.connected.is_set()


def users_role(username: str):  # type: ignore[no-untyped-def]
    """The role of a fixture user, from its name (staff1 → staff)."""
    from frontyard.auth import Role

    return Role(username.rstrip("1"))
