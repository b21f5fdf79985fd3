"""HTTP tests of the shared pages: sign-in, roles, language choice, errors, CSRF, headers."""

from __future__ import annotations

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from frontyard import i18n
from frontyard.auth import Role
from tests.conftest import PASSWORDS, TEST_ORIGIN, log_in, make_client


def test_home_page_links_every_area(client):
    """The start page is public and leads to every area."""
    response = client.get("/")
    assert response.status_code == 200
    for path in ["/kiosk", "/crowding", "/counter", "/board", "/analytics"]:
        assert f'href="{path}"' in response.text


def test_default_language_is_japanese(client):
    """With no choice and no Accept-Language, pages are Japanese."""
    response = client.get("/", headers={"Accept-Language": ""})
    assert '<html lang="ja">' in response.text
    assert "職員ログイン" in response.text


def test_accept_language_picks_english(client):
    """The browser's language decides when nothing was chosen."""
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in response.text
    assert "Staff sign-in" in response.text


def test_language_switcher_sets_cookie_and_wins_over_browser(client):
    """An explicit choice is remembered and beats Accept-Language."""
    response = client.get("/locale/en?next=/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "fy_locale=en" in response.headers["set-cookie"]
    page = client.get("/login", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in page.text


def test_unknown_locale_is_a_translated_404(client):
    """A locale we do not have is a 404 page in the current language."""
    response = client.get("/locale/xx", headers={"Accept-Language": "ja"})
    assert response.status_code == 404
    assert "ページが見つかりません" in response.text


def test_switcher_refuses_foreign_redirects(client):
    """The `next` parameter cannot send users to another site."""
    response = client.get("/locale/en?next=https://evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"
    response = client.get("/locale/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_can_sign_in(client, users, role):
    """Every role signs in through the form and sees its name."""
    log_in(client, users[role], PASSWORDS[role])
    assert f"Test {role}" in client.get("/").text


def test_wrong_password_is_refused_with_message(client, users):
    """A wrong password gives 401 and a message in the page's language."""
    response = client.post("/login", data={"username": users[Role.STAFF], "password": "nope"},
                           headers={"Accept-Language": "ja"})
    assert response.status_code == 401
    assert "ユーザー名またはパスワードが正しくありません" in response.text


def test_unknown_user_gets_the_same_message(client, users):
    """An unknown account is indistinguishable from a wrong password."""
    response = client.post("/login", data={"username": "ghost", "password": "whatever"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert "The user name or password is not correct." in response.text


def test_empty_login_form_is_refused(client):
    """Missing fields are a 401 with the message, not a 500."""
    response = client.post("/login", data={}, headers={"Accept-Language": "en"})
    assert response.status_code == 401


def test_login_is_throttled_after_repeated_failures(client, users, settings):
    """After too many failures the account is locked here, even for the right password."""
    for _ in range(settings.login_max_failures):
        client.post("/login", data={"username": users[Role.STAFF], "password": "wrong"})
    response = client.post(
        "/login", data={"username": users[Role.STAFF], "password": PASSWORDS[Role.STAFF]},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text


def test_logout_ends_the_session(staff_client):
    """After signing out, staff pages ask for a login again."""
    assert staff_client.get("/counter").status_code == 200
    staff_client.post("/logout")
    response = staff_client.get("/counter", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_anonymous_is_sent_to_login_with_return_path(client):
    """A protected page redirects to the login form, which then returns to it."""
    response = client.get("/analytics", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/analytics"


def test_staff_cannot_open_manager_pages(staff_client):
    """Roles are ordered: staff < manager."""
    response = staff_client.get("/analytics", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert "You do not have access to this page" in response.text


def test_manager_and_admin_can_open_analytics(manager_client, admin_client):
    """Manager and admin both include the manager role."""
    assert manager_client.get("/analytics").status_code == 200
    assert admin_client.get("/analytics").status_code == 200


def test_session_cookie_flags(client, users):
    """The session cookie is HttpOnly and SameSite=Lax (Secure is set behind HTTPS)."""
    response = client.post("/login", data={"username": users[Role.STAFF],
                                           "password": PASSWORDS[Role.STAFF]},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "fy_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie


def test_tampered_session_cookie_is_ignored(app, users):
    """A cookie with a broken signature is treated as no session, never as an error."""
    with make_client(app) as client:
        log_in(client, users[Role.ADMIN], PASSWORDS[Role.ADMIN])
        value = client.cookies.get("fy_session")
        client.cookies.clear()
        client.cookies.set("fy_session", value[:-6] + "AAAAAA")
        response = client.get("/analytics", follow_redirects=False)
        assert response.status_code == 303


def test_cross_site_post_is_refused(staff_client):
    """A state-changing request labelled cross-site by the browser is a 403 with a message."""
    response = staff_client.post("/logout", headers={"Sec-Fetch-Site": "cross-site",
                                                     "Accept-Language": "en"})
    assert response.status_code == 403
    assert "could not be verified" in response.text


def test_foreign_origin_post_is_refused(staff_client):
    """An Origin other than ours is refused."""
    del staff_client.headers["Sec-Fetch-Site"]  # an older browser: Origin is all we have
    response = staff_client.post("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_cookie_post_without_origin_headers_is_refused(app, users):
    """With cookies but neither Origin nor Sec-Fetch-Site, the request cannot be verified."""
    with make_client(app) as client:
        log_in(client, users[Role.STAFF], PASSWORDS[Role.STAFF])
        del client.headers["Origin"]
        del client.headers["Sec-Fetch-Site"]
        response = client.post("/logout")
        assert response.status_code == 403
        assert client.get("/counter", follow_redirects=False).status_code == 200


def test_security_headers_on_every_response(client):
    """CSP without inline script, nosniff, frame-ancestors and a referrer policy."""
    for path in ["/", "/login", "/no-such-page", "/static/css/frontyard.css"]:
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_not_found_page_is_translated(client):
    """404 pages speak the user's language."""
    response = client.get("/nowhere", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_api_errors_are_json(client):
    """Under /api/ errors come back as JSON."""
    response = client.get("/api/nowhere")
    assert response.status_code == 404
    assert response.json()["error"] == "ページが見つかりません"


def test_easy_japanese_error_page_has_readings_and_json_has_none(client):
    """The page's heading carries <ruby>, its <title> and an API's JSON the plain text."""
    client.cookies.set(i18n.LOCALE_COOKIE, "ja_easy")
    page = client.get("/nowhere").text
    assert "<h1>ページが <ruby>見<rp>(</rp><rt>み</rt><rp>)</rp></ruby>つかりません</h1>" in page
    assert "<title>ページが 見つかりません · Frontyard</title>" in page
    assert client.get("/api/nowhere").json()["error"] == "ページが 見つかりません"


def test_unexpected_error_is_a_500_page_without_traceback(app):
    """A crash shows a translated page and no internals."""

    async def boom(request):
        raise RuntimeError("secret internal detail")

    app.router.routes.insert(0, Route("/boom", boom))
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Origin": TEST_ORIGIN}) as client:
        response = client.get("/boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_healthz_reports_database(client):
    """/healthz answers 200 while the database is reachable."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_device_pairing_link_sets_cookie_once(app, engine):
    """A pairing link only asks (a link preview's GET uses nothing up); its POST pairs once and
    sets a long-lived HttpOnly device cookie."""
    from frontyard.auth import DeviceKind, create_device
    from frontyard.database import session_scope

    with session_scope(engine) as session:
        _, _, code = create_device(session, "lobby-kiosk", DeviceKind.KIOSK)
    with make_client(app) as client:
        for _ in range(2):  # a chat's link preview, then the person
            asked = client.get(f"/device/pair/{code}", headers={"Accept-Language": "en"})
            assert asked.status_code == 200 and "lobby-kiosk" in asked.text
            assert "set-cookie" not in asked.headers
        response = client.post("/device/pair", data={"code": code}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/kiosk"
        cookie = response.headers["set-cookie"].lower()
        assert "fy_device=" in cookie and "httponly" in cookie
        assert client.get("/kiosk", follow_redirects=False).status_code == 200
        assert client.get(f"/device/pair/{code}", follow_redirects=False).status_code == 404
        again = client.post("/device/pair", data={"code": code},
                            headers={"Accept-Language": "en"}, follow_redirects=False)
        assert again.status_code == 422 and "not valid or was used already" in again.text


def test_pairing_code_typed_in_any_case_with_spaces(app, engine):
    """The code from the admin page may be typed in lower case, with spaces for dashes."""
    from frontyard.auth import DeviceKind, create_device
    from frontyard.database import session_scope

    with session_scope(engine) as session:
        _, _, code = create_device(session, "hall-board", DeviceKind.BOARD)
    typed = code.lower().replace("-", " ")
    with make_client(app) as client:
        assert client.get("/device/pair").status_code == 200
        empty = client.post("/device/pair", data={"code": " "}, headers={"Accept-Language": "en"})
        assert empty.status_code == 422 and "Enter the pairing code." in empty.text
        response = client.post("/device/pair", data={"code": typed}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/board"


def test_device_token_header_opens_kiosk_but_not_board(app, engine):
    """A kiosk token opens the kiosk, not the board; a bad token opens nothing."""
    from frontyard.auth import DeviceKind, create_device
    from frontyard.database import session_scope

    with session_scope(engine) as session:
        _, token, _ = create_device(session, "kiosk-2", DeviceKind.KIOSK)
    with make_client(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/kiosk", headers=auth, follow_redirects=False).status_code == 200
        assert client.get("/board", headers=auth, follow_redirects=False).status_code == 403
        bad = {"Authorization": "Bearer not-a-token"}
        assert client.get("/kiosk", headers=bad, follow_redirects=False).status_code == 403


def test_serving_process_collects_garbage_rarely_and_never_walks_start_up_objects():
    """`composition.asgi` tunes the collector: start-up objects frozen, higher thresholds."""
    import gc

    from composition.factory import GC_THRESHOLDS, tune_garbage_collector

    before = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert GC_THRESHOLDS[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_static_urls_carry_the_version_of_their_content(client):
    """Every page links static files as /static/…?v=<first 12 hex of the content's SHA-256>."""
    import hashlib
    import re

    from frontyard import PROJECT_ROOT

    page = client.get("/").text
    linked = re.findall(r'"/static/([^"?]+)\?v=([0-9a-f]{12})"', page)
    assert linked and not re.search(r'"/static/[^"?]+"', page)
    for path, version in linked:
        content = (PROJECT_ROOT / "static" / path).read_bytes()
        assert hashlib.sha256(content).hexdigest()[:12] == version
        assert client.get(f"/static/{path}?v={version}").status_code == 200


@pytest.mark.parametrize("digits", [10, 20, 5000])
def test_an_id_too_long_for_the_database_is_a_404(admin_client, digits):
    """`{id:int}` takes at most 9 digits: longer ones failed int() past 4,300 digits, or
    overflowed PostgreSQL's INTEGER or SQLite's 64 bits (500s); now no route matches."""
    number = "9" * digits
    assert admin_client.get(f"/admin/users/{number}").status_code == 404
    assert admin_client.post(f"/admin/devices/{number}/revoke").status_code == 404
    assert admin_client.post(f"/api/v1/tasks/{number}/call").status_code == 404
    assert admin_client.get("/admin/users/" + "9" * 9).status_code == 404  # matched, no row
