"""Demo data: one city hall with its sections, counters, staff and devices."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from counter import queue
from counter.models import Counter, CounterService, Office, Service, Task, Visit
from frontyard import i18n
from frontyard.auth import Device, DeviceKind, Role, User, create_device, create_user
from frontyard.database import session_scope, utcnow
from frontyard.settings import Settings

DEMO_PASSWORDS = {"admin": "admin-demo-pass", "manager": "manager-demo-pass",
                  "staff": "staff-demo-pass"}
DEMO_ROLES = {"admin": Role.ADMIN, "manager": Role.MANAGER, "staff": Role.STAFF}

#: The office's name in every language a resident may choose (the crowding page and phones
#: name it; a missing language would fall back to English).
OFFICE = {"code": "main", "names": {
    "ja": "本庁舎", "ja_easy": "本庁舎《ほんちょうしゃ》", "en": "City Hall (main building)",
    "zh_Hans": "市政府本厅舍", "zh_Hant": "市政府本廳舍", "ko": "시청 본청사",
    "vi": "Tòa thị chính (tòa nhà chính)", "pt_BR": "Prefeitura (prédio principal)",
    "es": "Ayuntamiento (edificio principal)", "tl": "City Hall (pangunahing gusali)",
    "ne": "नगरपालिका (मुख्य भवन)", "id": "Balai Kota (gedung utama)"}}

# code, prefix, Japanese name, English name, steps
SERVICES: list[tuple[str, str, str, str, list[str]]] = [
    ("residents", "A", "市民課（住民異動・証明書）", "Resident Registration",
     ["受付", "確認", "交付"]),
    ("insurance", "B", "保険年金課", "Health Insurance and Pension", []),
    ("childcare", "C", "子育て支援課", "Child and Family Support", []),
    ("longterm_care", "D", "介護保険課", "Long-term Care Insurance", []),
    ("tax", "E", "税務課", "Taxation", []),
    ("nursery", "F", "保育課", "Daycare and Nursery", []),
    ("school", "G", "学校教育課", "School Education", []),
    ("environment", "H", "環境課", "Environment (dog registration)", []),
    ("health_center", "K", "保健センター", "Health Center", []),
]

# counter number → service codes it serves
COUNTERS: dict[str, list[str]] = {
    "1": ["residents"], "2": ["residents"], "3": ["residents"],
    "4": ["insurance"], "5": ["insurance", "longterm_care"],
    "6": ["childcare", "nursery"], "7": ["tax"],
    "8": ["school", "environment", "health_center"],
}


def not_the_demo(session: Session) -> list[str]:
    """What in the database is not the demo's: offices other than its office, accounts other
    than its three and its history's clerks (a demo name with another role or display name
    counts too). Empty for a fresh database or one only the demo has seeded."""
    found = []
    offices = sorted(code for code in session.exec(select(Office.code))
                     if code != OFFICE["code"])
    if offices:
        found.append("offices " + ", ".join(offices[:5]) + (" …" if len(offices) > 5 else ""))
    demo_accounts = {name: (role, f"Demo {role.value}") for name, role in DEMO_ROLES.items()}
    accounts = sorted(user.username for user in session.exec(select(User))
                      if demo_accounts.get(user.username) != (user.role, user.display_name)
                      and not _history_clerk(user))
    if accounts:
        found.append("accounts " + ", ".join(accounts[:5]) + (" …" if len(accounts) > 5 else ""))
    return found


def _history_clerk(user: User) -> bool:
    """Whether the account is one of the demo history's clerks (they cannot sign in)."""
    return user.username.startswith("demo-clerk-") and user.password_hash == "!"


def _get_or_create(session: Session, model: type[Any], defaults: dict[str, Any],
                   **keys: Any) -> tuple[Any, bool]:
    found = session.exec(select(model).filter_by(**keys)).first()
    if found is not None:
        return found, False
    created = model(**keys, **defaults)
    session.add(created)
    session.flush()
    return created, True


@functools.cache
def _seed_catalog(office_code: str) -> Any:
    """The office's procedure catalog (None if it has none or it does not load)."""
    from kiosk.catalog import CatalogError, catalog_path, load_catalog

    try:
        return load_catalog(catalog_path(office_code),
                            service_codes=[code for code, *_ in SERVICES])
    except (CatalogError, OSError):
        return None


def counter_names(number: str) -> dict[str, str]:
    """A counter's name in every language ("3番窓口", "Counter 3", "Quầy 3"…): the board shows
    it in Japanese and its second language."""
    names = {code: f"{i18n.translations(code).gettext('Counter')} {number}"
             for code in i18n.COMPLETE_LOCALES}
    return {**names, "ja": f"{number}番窓口", "ja_easy": f"{number}番《ばん》の まどぐち",
            "en": f"Counter {number}"}


def seed_structure(session: Session) -> Office:
    """The office, its services and counters (idempotent)."""
    office, _ = _get_or_create(session, Office, {"names": OFFICE["names"]}, code=OFFICE["code"])
    services: dict[str, Service] = {}
    for order, (code, prefix, name_ja, name_en, steps) in enumerate(SERVICES):
        services[code], _ = _get_or_create(
            session, Service,
            {"prefix": prefix, "names": {"ja": name_ja, "en": name_en},
             "section": {"ja": name_ja.split("（")[0], "en": name_en}, "steps": steps,
             "sort_order": order},
            office_id=office.id, code=code,
        )
    for number, codes in COUNTERS.items():
        counter, created = _get_or_create(
            session, Counter, {"names": counter_names(number)},
            office_id=office.id, number=number,
        )
        if created:
            for code in codes:
                session.add(CounterService(counter_id=counter.id, service_id=services[code].id))
    catalog = _seed_catalog(OFFICE["code"])  # type: ignore[arg-type]
    if catalog is not None:  # service and step names in every kiosk language
        from kiosk.catalog import apply_section_names

        apply_section_names(session, office.code, catalog)
    return office


# minutes ago, service codes in visiting order, locale, priority
DEMO_TICKETS: list[tuple[int, list[str], str, bool]] = [
    (28, ["residents", "insurance", "childcare"], "ja", False),  # moving in with a child
    (22, ["residents"], "en", False),
    (17, ["insurance"], "ja", True),
    (12, ["residents", "tax"], "vi", False),
    (8, ["childcare", "nursery"], "pt_BR", False),
    (3, ["residents"], "ja", False),
]


def queue_is_empty(session: Session, office: Office) -> bool:
    """Whether no ticket of the office is waiting, on hold, called or being served."""
    active = session.exec(
        select(Task.id).join(Visit, Visit.id == Task.visit_id)  # type: ignore[arg-type]
        .where(Visit.office_id == office.id,
               Task.state.in_(queue.ACTIVE_STATES))  # type: ignore[attr-defined]
    ).first()
    return active is None


def seed_demo_queue(session: Session, office: Office, staff: User,
                    rules: queue.QueueRules) -> list[str]:
    """A live-looking queue through the real engine: tickets issued over the last half hour,
    counter 1 open with the demo staff member and the first ticket called. Returns lines."""
    now = utcnow()
    numbers = [
        queue.issue_ticket(session, office_id=office.id, service_codes=codes,  # type: ignore[arg-type]
                           locale=locale, priority=priority,
                           now=now - timedelta(minutes=minutes), rules=rules).ticket_number
        for minutes, codes, locale, priority in DEMO_TICKETS
    ]
    counter = session.exec(select(Counter).where(Counter.office_id == office.id,
                                                 Counter.number == "1")).one()
    residents = session.exec(select(Service).where(Service.office_id == office.id,
                                                   Service.code == "residents")).one()
    lines = [f"Demo queue: tickets {', '.join(numbers)} issued."]
    if not counter.is_open:
        try:
            queue.open_counter(session, counter.id, staff.id, [residents.id],  # type: ignore[arg-type]
                               now - timedelta(minutes=30))
        except queue.QueueConflict:  # the demo staff member is at another counter
            return lines
    if counter.staff_user_id != staff.id:  # someone else works at counter 1
        return lines
    called = queue.call_next(session, counter.id, staff.id,  # type: ignore[arg-type]
                             now - timedelta(minutes=1), rules=rules)
    if called is not None:
        visit = session.get(Visit, called.visit_id)
        lines.append(f"  {visit.ticket_number if visit else '?'} is called to counter 1 "
                     "(signed in as 'staff').")
    return lines


def seed_demo(engine: Engine, settings: Settings, days: int = 0,
              seed: int = 2026) -> Iterator[str]:
    """Seed everything a demo needs; yields lines to print (logins, pairing links).

    With `days`, the working days among the last `days` days before today are played through
    the queue engine first (`composition.demo_history`), so the analytics have a history."""
    from analytics.rollups import claim_timezone
    from composition.demo_history import generate_history

    rules = queue.QueueRules.from_settings(settings)
    with session_scope(engine) as session:
        office = seed_structure(session)
        office_code = office.code
        claim_timezone(session, settings.tz)
        for name, role in DEMO_ROLES.items():
            if session.exec(select(User).where(User.username == name)).first() is None:
                create_user(session, name, DEMO_PASSWORDS[name], role,
                            display_name=f"Demo {role.value}")
        links = []
        for name, kind in [("demo-kiosk", DeviceKind.KIOSK), ("demo-board", DeviceKind.BOARD)]:
            if session.exec(select(Device).where(Device.name == name)).first() is None:
                _, _, code = create_device(session, name, kind, office_id=office.id)
                links.append((name, f"{settings.base_url}/device/pair/{code}"))
    history = list(generate_history(engine, office_code, days, end=utcnow().astimezone(
        settings.tz).date(), seed=seed, rules=rules)) if days else []
    with session_scope(engine) as session:
        office = session.exec(select(Office).where(Office.code == office_code)).one()
        queue_lines: list[str] = []
        if queue_is_empty(session, office):
            staff = session.exec(select(User).where(User.username == "staff")).one()
            queue_lines = seed_demo_queue(session, office, staff, rules)
    yield "Demo data is ready. Demo logins (user / password):"
    for name, password in DEMO_PASSWORDS.items():
        yield f"  {name:<8} {password}"
    for name, link in links:
        yield f"  pairing link for {name} (one use): {link}"
    yield from history
    yield from queue_lines
