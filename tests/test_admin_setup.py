"""The first-run walkthrough on the admin's home: each step's state in words, a link to the
page that does it, the next step marked, a summary once the city is set up; only admins."""

from __future__ import annotations

import re

import pytest

from frontyard import database
from frontyard.auth import DeviceKind, create_device


@pytest.fixture(autouse=True)
def english(admin_client) -> None:  # type: ignore[no-untyped-def]
    """The admin reads the pages in English."""
    admin_client.headers["Accept-Language"] = "en"


def _steps(client) -> list[tuple[str, str, str, bool]]:  # type: ignore[no-untyped-def]
    """(title, state text, link, whether it is the next step) of each step shown."""
    page = client.get("/admin")
    assert page.status_code == 200
    steps = []
    for item in re.findall(r'<li class="setup-step[^"]*"[^>]*>.*?</li>', page.text, re.S):
        title = re.search(r'class="setup-title">([^<]*)<', item)[1]  # type: ignore[index]
        state = " ".join(re.sub(r"<[^>]+>", "", re.search(
            r'class="setup-state">(.*?)</span>\s*<a', item, re.S)[1]).split())  # type: ignore[index]
        link = re.search(r'<a href="([^"]*)"', item)[1]  # type: ignore[index]
        steps.append((title, state, link, 'aria-current="step"' in item))
    return steps


def _post(client, url: str, data: dict) -> None:  # type: ignore[no-untyped-def]
    response = client.post(url, data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_the_checklist_follows_the_set_up(admin_client, engine):
    """Office → services → counters → devices → users: states in text, the next step linked
    to its page; when every step is done only a summary remains."""
    steps = _steps(admin_client)
    assert [title for title, *_ in steps] == [
        "Register your office", "Add the services residents queue for",
        "Add the counters and the services each serves", "Pair the kiosks and call boards",
        "Create the staff accounts"]
    assert steps[0] == ("Register your office", "Do this next · Not yet",
                        "/admin/offices#new-office", True)
    assert steps[1][1] == "Not yet" and not steps[1][3]
    # The test database has a staff and a manager account already: that step is done.
    assert steps[4][1] == "✓ Completed: 2 staff accounts"
    _post(admin_client, "/admin/offices", {"code": "kita", "name_ja": "北支所"})
    steps = _steps(admin_client)
    assert steps[0][1] == "✓ Completed: 1 office"
    assert steps[1] == ("Add the services residents queue for", "Do this next · Not yet",
                        "/admin/offices/kita/services/new", True)
    for code, prefix in (("zei", "Z"), ("nenkin", "N")):
        _post(admin_client, "/admin/offices/kita/services/new", {
            "code": code, "prefix": prefix, "name_ja": code, "sort_order": "0",
            "kind": "queue", "active": "on"})
    steps = _steps(admin_client)
    assert steps[1][1] == "✓ Completed: 2 services"
    assert steps[2][2:] == ("/admin/offices/kita/counters/new", True)
    _post(admin_client, "/admin/offices/kita/counters/new", {"number": "3", "name_ja": "3番"})
    assert _steps(admin_client)[3] == ("Pair the kiosks and call boards",
                                       "Do this next · Not yet", "/admin/devices", True)
    with database.session_scope(engine) as session:
        create_device(session, "lobby", DeviceKind.BOARD)
    assert _steps(admin_client) == []
    page = admin_client.get("/admin").text
    assert 'id="setup"' in page
    assert re.sub(r"\s+", " ", page.split('class="setup-summary"')[1].split("</p>")[0]).endswith(
        "Your city is set up: 1 office, 2 services, 1 counter, 1 device, 2 staff accounts.")


def test_the_checklist_is_in_japanese_and_every_step_page_links_back(admin_client):
    """The steps read in Japanese; each page a step opens links back to the checklist."""
    admin_client.headers["Accept-Language"] = "ja"
    page = admin_client.get("/admin").text
    assert "初期設定" in page and "まだです" in page and "次はこれ" in page
    _post(admin_client, "/admin/offices", {"code": "kita", "name_ja": "北支所"})
    for url in ("/admin/offices", "/admin/offices/kita", "/admin/offices/kita/services/new",
                "/admin/offices/kita/counters/new", "/admin/devices", "/admin/users"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert 'href="/admin#setup"' in response.text, url


def test_only_admins_see_the_checklist(client, staff_client, manager_client):
    """Anonymous people are sent to sign in; staff and managers are refused."""
    anonymous = client.get("/admin", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    for other in (staff_client, manager_client):
        response = other.get("/admin", follow_redirects=False)
        assert response.status_code == 403 and "setup-step" not in response.text
