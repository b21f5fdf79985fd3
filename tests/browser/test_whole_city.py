"""Issue 12's "done when": a city unlike the demo, set up from an empty database only through
the pages (office, services with their own prefixes, counters on two floors, hours, a closure
day, a catalog, four kiosk languages, two staff members allowed one service each, a kiosk and
two boards paired through the pairing pages, one board limited to two services, the other to
the 2nd floor), then used: a ticket from the kiosk, called at the terminal of the staff member
allowed its service, shown on the right board only; the other staff member cannot call it;
outside hours the kiosk refuses with the next opening time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from composition.cli import main
from composition.factory import create_app
from counter.models import Service
from frontyard import database, i18n
from frontyard.settings import Settings
from tests.browser.conftest import _free_port, serving

pytestmark = pytest.mark.browser

TERMINAL = {"width": 1366, "height": 768}
KIOSK = {"width": 1080, "height": 1920}
TV = {"width": 1920, "height": 1080}
OFFICE = "kita-branch"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SERVICES = [("juminhyo", "J", "住民票", "Resident records"), ("zeimu", "Z", "税務", "Taxes"),
            ("fukushi", "F", "福祉", "Welfare")]
COUNTERS = [("1", "1F", ["juminhyo", "zeimu"]), ("5", "2F", ["fukushi"])]
LANGUAGES = ["ja", "en", "vi", "pt_BR"]


def _text(ja: str, easy: str, en: str, vi: str, pt: str) -> str:
    return f"{{ja: {ja}, ja_easy: {easy}, en: {en}, vi: {vi}, pt_BR: {pt}}}"


CATALOG = f"""format: 1
office: {OFFICE}
sections:
  - service: juminhyo
    name: {_text("住民票係", "住民票《じゅうみんひょう》", "Resident records", "Hồ sơ cư trú",
                 "Registro de residentes")}
  - service: zeimu
    name: {_text("税務係", "税金《ぜいきん》", "Taxes", "Thuế", "Impostos")}
  - service: fukushi
    name: {_text("福祉係", "福祉《ふくし》", "Welfare", "Phúc lợi", "Bem-estar")}
documents:
  - id: card
    name: {_text("本人確認書類", "カード", "Photo ID", "Giấy tờ tùy thân", "Documento com foto")}
procedures:
  - id: certificate
    service: juminhyo
    name: {_text("住民票の写し", "住民票《じゅうみんひょう》", "Residence certificate",
                 "Giấy xác nhận cư trú", "Certidão de residência")}
    documents: [card]
    duration_minutes: 10
  - id: tax_proof
    service: zeimu
    name: {_text("課税証明書", "税金《ぜいきん》の 証明《しょうめい》", "Tax certificate",
                 "Giấy chứng nhận thuế", "Certidão de impostos")}
    documents: [card]
    duration_minutes: 10
  - id: allowance
    service: fukushi
    name: {_text("福祉の相談", "福祉《ふくし》", "Welfare advice", "Tư vấn phúc lợi",
                 "Assistência social")}
    documents: [card]
    duration_minutes: 20
life_events:
  - id: certificate
    title: {_text("証明書がほしい", "証明書《しょうめいしょ》", "I need a certificate",
                  "Tôi cần giấy chứng nhận", "Preciso de uma certidão")}
    procedures: [certificate]
  - id: welfare
    title: {_text("福祉の相談", "福祉《ふくし》", "Welfare", "Phúc lợi", "Bem-estar")}
    procedures: [allowance]
"""


def _submit(page, selector: str = "form.admin-form button[type=submit]") -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.click(selector)


def _first_sign_in(page, url: str, username: str, temporary: str,  # type: ignore[no-untyped-def]
                   then: str) -> None:
    """Sign in with a temporary password and choose one's own, as the page forces."""
    page.goto(f"{url}/login?next={then}")
    page.fill("#username", username)
    page.fill("#password", temporary)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/account/password" in page.url, (page.url, page.locator("main").inner_text())
    page.fill("#current_password", temporary)
    page.fill("#new_password", f"{username} own password")
    page.fill("#confirmation", f"{username} own password")
    with page.expect_navigation():
        page.click("form[action='/account/password'] button[type=submit]")
    assert page.url == f"{url}{then}", page.url


def _set_up_structure(page, url: str) -> None:  # type: ignore[no-untyped-def]
    """Office, services, counters, kiosk languages and the catalog, page by page."""
    page.goto(f"{url}/admin/offices")
    page.fill("#f-code", OFFICE)
    page.fill("#f-name_ja", "北支所")
    page.fill("#f-name_en", "North branch")
    _submit(page)
    assert page.url == f"{url}/admin/offices/{OFFICE}"
    for code, prefix, ja, en in SERVICES:
        page.goto(f"{url}/admin/offices/{OFFICE}/services/new")
        page.fill("#f-code", code)
        page.fill("#f-prefix", prefix)
        page.fill("#f-name_ja", ja)
        page.fill("#f-name_en", en)
        _submit(page)
        assert page.url == f"{url}/admin/offices/{OFFICE}", page.url
    for number, zone, served in COUNTERS:
        page.goto(f"{url}/admin/offices/{OFFICE}/counters/new")
        page.fill("#f-number", number)
        page.fill("#f-zone", zone)
        page.fill("#f-name_ja", f"{number}番窓口")
        page.fill("#f-name_en", f"Counter {number}")
        for code in served:
            page.check(f"#f-service-{code}")
        _submit(page)
        assert page.url == f"{url}/admin/offices/{OFFICE}", page.url
    page.goto(f"{url}/admin/offices/{OFFICE}/kiosk")
    for code in page.locator("input[id^=f-offer_]:not([disabled])").evaluate_all(
            "nodes => nodes.map((node) => node.id.slice('f-offer_'.length))"):
        if code not in LANGUAGES:
            page.uncheck(f"#f-offer_{code}")
    for position, code in enumerate(LANGUAGES, start=1):
        if page.locator(f"#f-offer_{code}").is_enabled():
            page.check(f"#f-offer_{code}")
        page.fill(f"#f-order_{code}", str(position))
    _submit(page, "form.admin-form button[type=submit] >> nth=0")
    page.goto(f"{url}/admin/offices/{OFFICE}/catalog")
    page.set_input_files("#f-file", files=[{"name": "kita.yaml", "mimeType": "application/yaml",
                                           "buffer": CATALOG.encode()}])
    page.check("#f-publish")
    _submit(page, f"form[action='/admin/offices/{OFFICE}/catalog'] button[type=submit]")
    assert page.locator("[aria-invalid=true], .field-error").count() == 0, \
        page.locator("main").inner_text()


def _set_hours(page, url: str, days: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/admin/offices/{OFFICE}/hours")
    for key in WEEKDAYS:
        page.fill(f"#f-day_{key}", days.get(key, ""))
    page.uncheck("#f-holidays")  # a national holiday tomorrow must not move the opening
    _submit(page)
    assert page.locator(".field-error").count() == 0, page.locator("main").inner_text()


def _add_user(page, url: str, username: str, service: str) -> str:  # type: ignore[no-untyped-def]
    """A staff account (its temporary password returned) allowed one service."""
    page.goto(f"{url}/admin/users")
    page.fill("#username", username)
    page.select_option("#role", "staff")
    _submit(page, "form[action='/admin/users'] button[type=submit]")
    temporary = page.locator("#temporary-password").inner_text().strip()
    page.goto(f"{url}/admin/staff/{username}")
    page.check(f"#f-{OFFICE}-{service}")
    _submit(page, f"form[action='/admin/staff/{username}'] button[type=submit]")
    return temporary  # type: ignore[no-any-return]


def _add_device(page, url: str, name: str, kind: str) -> str:  # type: ignore[no-untyped-def]
    """A device of the office; its one-time pairing code."""
    page.goto(f"{url}/admin/devices")
    page.fill("#name", name)
    page.select_option("#kind", kind)
    page.select_option("#office", OFFICE)
    _submit(page, "form[action='/admin/devices'] button[type=submit]")
    return page.locator("#pairing-code").inner_text().strip()  # type: ignore[no-any-return]


def _limit_board(page, url: str, name: str, *, services=(), zone: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/admin/devices")
    page.locator("tr", has_text=name).locator("a[href$='/board']").click()
    page.wait_for_url("**/board")
    if services:
        page.check("#f-scope-services")
        for code in services:
            page.check(f"#f-service-{code}")
    else:
        page.check("#f-scope-zone")
        page.select_option("#f-zone", zone)
    _submit(page)
    assert page.locator("#notice").count() == 1, page.locator("main").inner_text()


def _paired(browser, url: str, code: str, viewport: dict[str, int], landing: str):  # type: ignore[no-untyped-def]
    """A screen's own browser, paired by typing its code on the pairing page."""
    context = browser.new_context(locale="ja-JP", viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{url}/device/pair")
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{landing}")
    return context, page


def _service_id(settings: Settings, code: str) -> int:
    engine = database.make_engine(settings.resolved_database_url())
    try:
        with database.session_scope(engine) as session:
            return session.exec(select(Service.id).where(Service.code == code)).one()  # type: ignore[return-value]
    finally:
        engine.dispose()


def test_a_city_set_up_only_through_the_pages_serves_its_residents(browser, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": "",
           "FRONTYARD_BASE_URL": url, "FRONTYARD_SECRET_KEY": "whole-city-secret"}
    result = CliRunner().invoke(main, ["init", "--admin", "kanri"], env=env)
    assert result.exit_code == 0, result.output
    temporary = result.output.split("sign-in): ")[1].split()[0]
    settings = Settings(data_dir=tmp_path, secret_key="whole-city-secret", base_url=url)
    tz = settings.tz
    today = datetime.now(tz).date()
    contexts = []

    def new_context(viewport: dict[str, int], locale: str = "en-US"):  # type: ignore[no-untyped-def]
        context = browser.new_context(locale=locale, viewport=viewport)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    with serving(create_app(settings), port):
        try:
            admin = new_context(TERMINAL)
            _first_sign_in(admin, url, "kanri", temporary, "/admin")
            _set_up_structure(admin, url)
            # Open every day all day (so now is open), closed on a day next month.
            _set_hours(admin, url, {key: "00:00-24:00" for key in WEEKDAYS})
            closure = today + timedelta(days=30)
            admin.goto(f"{url}/admin/offices/{OFFICE}/closures")
            admin.fill("#f-name", "Office move")
            admin.fill("#f-first_day", closure.isoformat())
            _submit(admin, f"form[action='/admin/offices/{OFFICE}/closures'] "
                           "button[type=submit]")
            assert "Office move" in admin.locator("table").inner_text()
            passwords = {name: _add_user(admin, url, name, service)
                         for name, service in (("sato", "juminhyo"), ("suzuki", "fukushi"))}
            codes = {name: _add_device(admin, url, name, kind)
                     for name, kind in (("kita-kiosk", "kiosk"), ("board-1f", "board"),
                                        ("board-2f", "board"))}
            _limit_board(admin, url, "board-1f", services=("juminhyo", "zeimu"))
            _limit_board(admin, url, "board-2f", zone="2F")

            boards = {}
            for name in ("board-1f", "board-2f"):
                _context, board = _paired(browser, url, codes[name], TV, "/board")
                contexts.append(_context)
                board.click("[data-board-start]")
                boards[name] = board
            kiosk_context, kiosk = _paired(browser, url, codes["kita-kiosk"], KIOSK, "/kiosk")
            contexts.append(kiosk_context)

            # The kiosk: exactly the four languages, then a ticket for a certificate.
            offered = kiosk.locator("button[name=locale]").evaluate_all(
                "nodes => nodes.map((node) => node.value)")
            assert sorted(offered) == sorted(LANGUAGES)
            with kiosk.expect_navigation():
                kiosk.click("button[name=locale][value=pt_BR]")
            kiosk.click("label[for=event-certificate]")
            with kiosk.expect_navigation():
                kiosk.click("form[action='/kiosk/events'] button[type=submit]")
            assert kiosk.url.endswith("/kiosk/guide"), kiosk.url
            with kiosk.expect_navigation():
                kiosk.click("form[action='/kiosk/ticket'] button[type=submit] >> nth=0")
            assert kiosk.url.endswith("/kiosk/ticket"), kiosk.url
            number = kiosk.locator("[data-ticket-number]").inner_text().strip()
            assert number.startswith("J"), number

            # Suzuki (welfare only) is offered nothing at counter 1, and a forged request
            # for the certificates' service is refused.
            other = new_context(TERMINAL)
            _first_sign_in(other, url, "suzuki", passwords["suzuki"], "/counter")
            other.goto(f"{url}/counter")
            other.get_by_role("link", name="Counter 1").click()
            other.wait_for_url("**counter=*")
            assert other.locator("input[name=service_id]").count() == 0
            other.evaluate("""(id) => {
              const box = document.createElement('input');
              box.type = 'checkbox'; box.name = 'service_id'; box.value = id; box.checked = true;
              document.querySelector("form[action='/counter/open'] fieldset").append(box);
            }""", str(_service_id(settings, "juminhyo")))
            with other.expect_response(f"{url}/counter/open") as forged:
                other.click("form[action='/counter/open'] button[type=submit]")
            assert forged.value.status == 403, forged.value.status
            other.goto(f"{url}/counter")
            assert other.locator("form[action='/counter/call-next']").count() == 0
            assert "Closed" in other.get_by_role("link", name="Counter 1").inner_text()

            # Sato (certificates only) opens counter 1 for them and calls the ticket.
            desk = new_context(TERMINAL)
            _first_sign_in(desk, url, "sato", passwords["sato"], "/counter")
            desk.goto(f"{url}/counter")
            desk.get_by_role("link", name="Counter 1").click()
            desk.wait_for_url("**counter=*")
            assert desk.locator("input[name=service_id]").count() == 1
            desk.check("input[name=service_id]")
            with desk.expect_navigation():
                desk.get_by_role("button", name="Sign in to Counter 1").click()
            assert number in desk.locator(".waiting-list").inner_text()
            desk.click("form[action='/counter/call-next'] button[type=submit]")
            desk.wait_for_selector(f'.current-ticket [data-ticket="{number}"]')

            boards["board-1f"].wait_for_selector(f'.board-calling [data-ticket="{number}"]')
            assert boards["board-1f"].locator(".board-waiting [data-service]").count() == 2
            # The 2nd floor's board got the same broadcast and left it out, live and reloaded.
            for reload in (False, True):
                if reload:
                    boards["board-2f"].reload()
                    boards["board-2f"].click("[data-board-start]")
                live = boards["board-2f"].locator("#board-live")
                live.wait_for()
                assert number not in live.inner_text()

            # Outside hours: closed today, 09:00-17:00 the other days → opens tomorrow 09:00.
            today = datetime.now(tz).date()
            weekday = WEEKDAYS[today.weekday()]
            _set_hours(admin, url, {key: "09:00-17:00" for key in WEEKDAYS if key != weekday})
            opening = datetime.combine(today + timedelta(days=1), time(9), tzinfo=tz)
            kiosk.goto(f"{url}/kiosk")
            with kiosk.expect_navigation():
                kiosk.click("button[name=locale][value=en]")
            assert kiosk.url == f"{url}/kiosk/closed"
            with i18n.use_locale("en"):
                when = i18n.fmt_when(opening, tz)
            notice = kiosk.locator("[data-office-closed] [role=status]").inner_text()
            assert "The office is closed now. It opens again on" in notice and when in notice
        finally:
            for context in contexts:
                context.close()
