"""Rate limits: the sliding window itself, and the 429s of ticket issuing, sign-in and status."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.testclient import TestClient

from composition.factory import create_app
from counter.models import Visit
from frontyard.auth import DeviceKind, LoginThrottle, Role, create_device
from frontyard.database import session_scope
from frontyard.i18n import use_locale
from frontyard.ratelimit import try_again_in
from frontyard.settings import Settings
from frontyard.sliding_window import PRUNE_EVERY, SlidingWindow
from tests.conftest import PASSWORDS, TEST_ORIGIN, make_client
from tests.screens_support import office as office  # a fixture, used by name


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- The window -------------------------------------------------------------------------------


def test_window_allows_the_limit_then_says_how_long_to_wait():
    """Three hits fit in ten seconds; the fourth waits until the first leaves the window."""
    clock = FakeClock()
    window = SlidingWindow(3, 10, clock=clock)
    for _ in range(3):
        assert window.hit("k") == 0
        clock.now += 1
    assert window.hit("k") == pytest.approx(7)  # first hit at 1000, window ends at 1010
    assert window.hit("other") == 0  # keys are independent
    clock.now = 1010.0
    assert window.hit("k") == 0
    assert window.hit("k") == pytest.approx(1)


def test_refused_hits_are_not_counted():
    """Retrying while refused does not extend the wait (hit counts only what it allows)."""
    clock = FakeClock()
    window = SlidingWindow(1, 10, clock=clock)
    window.hit("k")
    for _ in range(50):
        window.hit("k")
    clock.now += 10
    assert window.hit("k") == 0


def test_add_counts_failures_even_past_the_limit():
    """`add` records every failure (a locked-out attacker keeps extending the lockout)."""
    clock = FakeClock()
    window = SlidingWindow(2, 10, clock=clock)
    for _ in range(4):
        window.add("k")
        clock.now += 4
    assert window.retry_after("k") == pytest.approx(2)  # hits at 1008, 1012; now 1016
    window.reset("k")
    assert window.retry_after("k") == 0


def test_memory_stays_bounded():
    """Keys whose hits left the window are forgotten (random tokens cannot fill memory)."""
    clock = FakeClock()
    window = SlidingWindow(5, 10, clock=clock)
    for n in range(PRUNE_EVERY - 1):
        window.hit(f"token-{n}")
    clock.now += 11
    window.hit("late")
    assert len(window) == 1


def test_window_is_exact_under_threads():
    """Eight threads hammering one key get exactly `limit` hits through."""
    window = SlidingWindow(100, 60)
    allowed = []
    lock = threading.Lock()

    def hammer() -> None:
        mine = sum(1 for _ in range(50) if window.hit("kiosk") == 0)
        with lock:
            allowed.append(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 100


def test_bad_limits_are_refused():
    """A zero limit or window is a programming error."""
    with pytest.raises(ValueError):
        SlidingWindow(0, 10)
    with pytest.raises(ValueError):
        SlidingWindow(1, 0)


def test_try_again_in_switches_to_minutes():
    """Short waits in seconds, long ones in minutes (rounded up), in the page's language."""
    with use_locale("en"):
        assert try_again_in(0.2) == "Try again in 1 second."
        assert try_again_in(42.1) == "Try again in 43 seconds."
        assert try_again_in(899) == "Try again in 15 minutes."
    with use_locale("ja"):
        assert try_again_in(30) == "30秒後にもう一度お試しください。"


# --- Sign-in ----------------------------------------------------------------------------------


def test_throttle_stops_one_address_trying_many_accounts():
    """Two failures on each of several accounts add up per address."""
    throttle = LoginThrottle(5, 900, max_per_address=6, max_per_account=50)
    for name in ["a", "b", "c"]:
        for _ in range(2):
            throttle.record_failure(name, "10.0.0.9")
    assert throttle.is_locked("d", "10.0.0.9")  # a fourth account, never tried
    assert not throttle.is_locked("d", "10.0.0.10")
    assert 890 < throttle.retry_after("d", "10.0.0.9") <= 900


def test_throttle_stops_many_addresses_guessing_one_account():
    """Failures on one account from many machines add up per account."""
    throttle = LoginThrottle(5, 900, max_per_address=50, max_per_account=6)
    for n in range(6):
        throttle.record_failure("Admin", f"10.0.0.{n}")
    assert throttle.is_locked("admin", "10.0.1.1")
    assert not throttle.is_locked("staff", "10.0.1.1")


def test_success_resets_only_the_pair():
    """Signing in to one's own account does not wipe the address's trail."""
    throttle = LoginThrottle(3, 900, max_per_address=4, max_per_account=50)
    for name in ["a", "a", "b", "b"]:
        throttle.record_failure(name, "10.0.0.9")
    throttle.reset("b", "10.0.0.9")
    assert throttle.is_locked("c", "10.0.0.9")


def _app_with(settings: Settings, **limits: int):  # type: ignore[no-untyped-def]
    return create_app(settings.model_copy(update=limits))


def test_login_from_one_address_on_many_accounts_gets_429(settings, users):
    """The form answers 429 with Retry-After once an address failed on too many accounts,
    even for a correct password; the message is translated."""
    app = _app_with(settings, login_max_failures=5, login_max_failures_per_address=4)
    with make_client(app) as client:
        for name in ["ghost1", "ghost2", "ghost3", "ghost4"]:
            assert client.post("/login", data={"username": name, "password": "x"}
                               ).status_code == 401
        response = client.post(
            "/login", data={"username": users[Role.STAFF], "password": PASSWORDS[Role.STAFF]},
            headers={"Accept-Language": "ja"})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= settings.login_lockout_seconds
    assert "ログインの失敗が多すぎます" in response.text
    assert "分後にもう一度お試しください" in response.text


# --- Ticket issuing and status ----------------------------------------------------------------


@pytest.fixture
def kiosks(engine, world) -> list[str]:
    """Two kiosk tokens of the test office."""
    tokens = []
    with session_scope(engine) as session:
        for name in ["kiosk-a", "kiosk-b"]:
            _, token, _ = create_device(session, name, DeviceKind.KIOSK,
                                        office_id=world.office_id)
            tokens.append(token)
    return tokens


def _issue(client, token: str, locale: str = "en"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/tickets", json={"services": ["residents"]},
                       headers={"Authorization": f"Bearer {token}", "Accept-Language": locale})


def test_ticket_issuing_is_limited_per_kiosk(settings, engine, kiosks):
    """A kiosk past its limit gets a JSON 429 with Retry-After and issues nothing more;
    another kiosk is not affected."""
    app = _app_with(settings, ticket_rate_limit=3, ticket_rate_window_seconds=60)
    with make_client(app) as client:
        assert [_issue(client, kiosks[0]).status_code for _ in range(3)] == [201] * 3
        refused = _issue(client, kiosks[0])
        assert refused.status_code == 429
        assert 55 <= int(refused.headers["Retry-After"]) <= 60
        body = refused.json()
        assert body["error"] == "Too many attempts"
        assert body["detail"].startswith("This kiosk has issued many tickets in a short time.")
        assert "seconds" in body["detail"]
        japanese = _issue(client, kiosks[0], locale="ja")
        assert "この発券機" in japanese.json()["detail"]
        assert _issue(client, kiosks[1]).status_code == 201
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Visit)).one() == 4


#: Addresses of a resident's phone and of someone else who has the ticket's link.
RESIDENT, STRANGER = ("198.51.100.7", 50123), ("203.0.113.9", 40000)


def _client_at(app, address: tuple[str, int]) -> TestClient:  # type: ignore[no-untyped-def]
    """A client calling from another address (the app learns it as the connection's client)."""
    return TestClient(app, client=address,
                      headers={"Origin": TEST_ORIGIN, "Sec-Fetch-Site": "same-origin"})


def test_status_requests_are_limited_per_client_and_ticket(settings, kiosks):
    """Someone hammering a ticket's status is refused, in the ticket's language whatever
    their browser asks; the resident's own phone still reads it, and the stranger's other
    tickets still answer."""
    app = _app_with(settings, status_rate_limit=2, status_rate_window_seconds=30)
    with make_client(app) as kiosk:
        first = _issue(kiosk, kiosks[0], locale="ja").json()["status_token"]
        second = _issue(kiosk, kiosks[0]).json()["status_token"]
        stranger, resident = _client_at(app, STRANGER), _client_at(app, RESIDENT)
        codes = [stranger.get(f"/api/v1/tickets/{first}").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = stranger.get(f"/api/v1/tickets/{first}", headers={"Accept-Language": "en"})
        assert "画面は自動で更新されます" in refused.json()["detail"]  # the ticket's language
        assert 0 < int(refused.headers["Retry-After"]) <= 30
        assert [resident.get(f"/api/v1/tickets/{first}").status_code
                for _ in range(2)] == [200, 200]
        assert stranger.get(f"/api/v1/tickets/{second}").status_code == 200


def test_a_stranger_cannot_lock_the_residents_phone_out(settings, engine, office):
    """A stranger hammers the status page and its socket past the limit: both refuse the
    stranger, while the resident's phone opens the page and its live socket as usual."""
    from tests.screens_support import issue, receive

    app = _app_with(settings, status_rate_limit=3, status_rate_window_seconds=60)
    with make_client(app):
        ticket = issue(app, office, ["residents"])
        stranger, resident = _client_at(app, STRANGER), _client_at(app, RESIDENT)
        codes = [stranger.get(f"/status/{ticket.token}").status_code for _ in range(10)]
        assert codes == [200] * 3 + [429] * 7
        with stranger.websocket_connect("/ws/status") as socket:
            socket.send_json({"type": "hello", "token": ticket.token})
            assert receive(socket)["type"] == "error"
        assert resident.get(f"/status/{ticket.token}").status_code == 200
        with resident.websocket_connect("/ws/status") as socket:
            socket.send_json({"type": "hello", "token": ticket.token})
            assert receive(socket)["type"] == "state"


def test_guessing_unknown_tokens_is_throttled_per_client(settings, engine, office):
    """Past the limit of unknown tokens, a client's every status request is refused (a known
    token too, else the answers would tell which tokens exist), on the page, the API and the
    socket; another client is not affected."""
    from tests.screens_support import issue, receive

    app = _app_with(settings, status_unknown_limit=3, status_unknown_window_seconds=600)
    with make_client(app):
        ticket = issue(app, office, ["residents"])
        guesser, resident = _client_at(app, STRANGER), _client_at(app, RESIDENT)
        guesses = [f"guess{n}{'x' * 38}" for n in range(3)]
        assert [guesser.get(f"/status/{guess}").status_code for guess in guesses[:2]] == [
            404, 404]
        assert guesser.get(f"/api/v1/tickets/{guesses[2]}").status_code == 404
        page = guesser.get(f"/status/{ticket.token}", headers={"Accept-Language": "en"})
        assert page.status_code == 429 and 590 <= int(page.headers["Retry-After"]) <= 600
        assert "tickets that do not exist" in page.text
        assert guesser.get(f"/api/v1/tickets/{ticket.token}").status_code == 429
        with guesser.websocket_connect("/ws/status") as socket:
            socket.send_json({"type": "hello", "token": ticket.token, "lang": "en"})
            assert "tickets that do not exist" in receive(socket)["error"]
        assert resident.get(f"/status/{ticket.token}").status_code == 200
        assert resident.get(f"/status/{guesses[0]}").status_code == 404


def test_openapi_documents_the_429s():
    """Clients learn from the document that issuing and status may answer 429 + Retry-After."""
    from counter.api import openapi_document

    paths = openapi_document()["paths"]
    for path, method in [("/api/v1/tickets", "post"), ("/api/v1/tickets/{token}", "get")]:
        response = paths[path][method]["responses"]["429"]
        assert "Retry-After" in response["headers"]


def test_status_page_and_socket_share_the_limit(settings, engine, office):
    """The page and its websocket count together per client and token; past the limit the page
    is a 429 page in the ticket's language and the socket says why, then closes with 1013."""
    from starlette.websockets import WebSocketDisconnect

    from tests.screens_support import issue, receive

    app = _app_with(settings, status_rate_limit=2, status_rate_window_seconds=60)
    with make_client(app) as client:
        ticket = issue(app, office, ["residents"])
        assert client.get(f"/status/{ticket.token}").status_code == 200
        with client.websocket_connect("/ws/status") as socket:
            socket.send_json({"type": "hello", "token": ticket.token, "lang": "en"})
            assert receive(socket)["type"] == "state"
        page = client.get(f"/status/{ticket.token}", headers={"Accept-Language": "ja"})
        assert page.status_code == 429 and "Retry-After" in page.headers
        # The ticket's language (English), not the browser's: the resident reads it.
        assert "updates by itself" in page.text and "画面は自動で更新されます" not in page.text
        with client.websocket_connect("/ws/status") as socket:
            socket.send_json({"type": "hello", "token": ticket.token, "lang": "en"})
            refused = receive(socket)
            assert refused["type"] == "error" and "updates by itself" in refused["error"]
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(socket)
            assert closed.value.code == 1013


def test_kiosk_screens_share_the_ticket_limit(settings, engine):
    """The kiosk's own issue step counts against the same per-kiosk limit as the API; past
    it the resident sees the translated 429 page, and no visit is written."""
    from composition.demo import seed_structure
    from tests.test_kiosk_routes import answer, begin, choose

    with session_scope(engine) as session:
        office_id = seed_structure(session).id
        _, token, _ = create_device(session, "lobby-9", DeviceKind.KIOSK, office_id=office_id)
    app = _app_with(settings, ticket_rate_limit=2)
    with make_client(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert _issue(client, token).status_code == 201  # one through the API
        statuses = []
        for _ in range(2):
            begin(client, "en")
            choose(client, "certificates")
            answer(client, {"certificates": ["resident_record"]})
            statuses.append(client.post("/kiosk/ticket", data={"without_details": "1"},
                                        follow_redirects=False))
        assert statuses[0].status_code == 303
        assert statuses[1].status_code == 429
        assert "This kiosk has issued many tickets" in statuses[1].text
        assert int(statuses[1].headers["Retry-After"]) > 0
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Visit)).one() == 2
