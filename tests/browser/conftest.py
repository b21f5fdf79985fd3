"""Browser fixtures: one headless Chromium per test session, a live server, axe-core checks."""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from composition.demo import DEMO_PASSWORDS, seed_demo
from composition.factory import create_app
from frontyard import database
from frontyard.settings import Settings
from tests.conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
AXE_SCRIPT = Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.browser


@dataclass
class LiveServer:
    """A running Frontyard: its URL, settings and the demo passwords."""

    url: str
    settings: Settings
    passwords: dict[str, str]
    pairing_links: dict[str, str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Frontyard with demo data on SQLite, served by uvicorn in a thread."""
    data_dir = tmp_path_factory.mktemp("live")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=data_dir, secret_key="live-server-secret", base_url=url)
    database.upgrade(settings.resolved_database_url())
    engine = database.make_engine(settings.resolved_database_url())
    pairing_links = {}
    for line in seed_demo(engine, settings):
        if "pairing link for" in line:
            name, link = line.split("pairing link for ", 1)[1].split(" (one use): ")
            pairing_links[name] = link
    engine.dispose()
    with serving(create_app(settings), port):
        yield LiveServer(url, settings, dict(DEMO_PASSWORDS), pairing_links)


@contextlib.contextmanager
def serving(app: object, port: int) -> Iterator[None]:
    """Serve an app with uvicorn in a thread on a local port while the block runs."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                            log_level="warning", ws_per_message_deflate=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium shared by the whole test session (per xdist worker)."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        skip_or_fail(f"browser tests skipped: {CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright gives every launch a fresh temporary profile (the --user-data-dir of the notes).
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    """A fresh browser profile (cookies, storage) for one test."""
    context = browser.new_context(bypass_csp=False, locale="en-US")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):  # type: ignore[no-untyped-def]
    """A page in a fresh context."""
    return context.new_page()


def sign_in(page, live_server: LiveServer, username: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form."""
    page.goto(f"{live_server.url}/login")
    page.fill("#username", username)
    page.fill("#password", live_server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def assert_accessible(page) -> None:  # type: ignore[no-untyped-def]
    """Run axe-core (WCAG 2.2 A/AA) on the page and fail on any violation, listing them."""
    # Evaluated through the DevTools protocol, so the page's CSP does not apply.
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(_axe_source())
    # Only the violations come back: serialising axe's full result (every pass) is what
    # makes a check slow, not the checking.
    violations = page.evaluate(
        """async (tags) => {
             const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                                     resultTypes: ["violations"]});
             return result.violations.map((v) => ({
               id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map((node) => node.target)}));
           }""",
        WCAG_TAGS,
    )
    assert not violations, f"axe found violations on {page.url}:\n" + json.dumps(
        violations, indent=1, ensure_ascii=False)
