"""Which catalog a kiosk serves: the published version, or else the last good one.

A published version can stop validating after it went live (a service code changed or a
service switched off). The kiosk then keeps serving the newest version that was live and still
validates, logs an ERROR once per office and version, and the admin's pages show an alert
(`office_health`). Only when no version validates does the kiosk answer its 503 page.

Parsing and checking a catalog is slow (a 200 kB YAML), so each check is cached by the text's
hash, the live service codes and the required languages: a change of services re-checks.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from counter.models import Office
from frontyard.database import READ_ONLY
from kiosk import offer
from kiosk.catalog import (
    Catalog,
    CheckResult,
    Problem,
    check_catalog_text,
    service_codes_in_database,
)
from kiosk.catalog_versions import CatalogVersion, VersionState, seed_bundled

log = logging.getLogger("frontyard.catalog")

CACHE_SIZE = 16
_cache: OrderedDict[tuple[str, frozenset[str], tuple[str, ...]], CheckResult] = OrderedDict()
_lock = threading.Lock()
#: (office code, version sha, live services) already logged as broken: one ERROR line each,
#: not one a request.
_logged: set[tuple[str, str, frozenset[str]]] = set()


def required_locales(session: Session, office: Office) -> tuple[str, ...]:
    """The languages every catalog text of this office must have (those its kiosk offers):
    the one place the kiosk, the admin pages and the commands ask."""
    return offer.offered_languages(session, office.id)  # type: ignore[arg-type]


def office_requirements(session: Session, office: Office) -> tuple[frozenset[str],
                                                                   tuple[str, ...]]:
    """What an office's catalog is checked against: its live service codes and languages."""
    return (frozenset(service_codes_in_database(session, office.code)),
            required_locales(session, office))


def check_version_text(yaml_text: str, sha256: str, codes: frozenset[str],
                       locales: tuple[str, ...], label: str = "catalog") -> CheckResult:
    """The check of a version's text against these services and languages (cached)."""
    key = (sha256, codes, locales)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    result = check_catalog_text(yaml_text, service_codes=codes, required_locales=locales,
                                label=label)
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def check_version(session: Session, office: Office, version: CatalogVersion) -> CheckResult:
    """A stored version checked against the office's live services now."""
    codes, locales = office_requirements(session, office)
    return check_version_text(version.yaml_text, version.sha256, codes, locales,
                              label=f"version {version.number}")


def without_hidden(catalog: Catalog) -> Catalog:
    """The catalog as residents see it: hidden life events left out, hidden procedures no
    longer proposed (they stay in the catalog, so tickets issued with them keep their names)."""
    hidden = {procedure.id for procedure in catalog.procedures if procedure.hidden}
    if not hidden and not any(event.hidden for event in catalog.life_events):
        return catalog
    events = []
    for event in catalog.life_events:
        if event.hidden:
            continue
        rules = [rule.model_copy(update={"add": [pid for pid in rule.add if pid not in hidden]})
                 for rule in event.rules]
        rules = [rule for rule in rules if rule.add]
        procedures = [pid for pid in event.procedures if pid not in hidden]
        if procedures or rules:
            events.append(event.model_copy(update={"procedures": procedures, "rules": rules}))
    # A new Catalog, not a copy: its lookups are built when it is made (model_construct runs
    # model_post_init); not validated again, its parts were (and it may hide every event).
    return Catalog.model_construct(
        format=catalog.format, office=catalog.office, sections=catalog.sections,
        documents=catalog.documents, forms=catalog.forms, questions=catalog.questions,
        procedures=catalog.procedures, life_events=events)


@dataclass
class Served:
    """What an office's kiosk serves, and why."""

    catalog: Catalog | None
    #: The version served (None: nothing valid, or no version at all).
    version: CatalogVersion | None
    published: CatalogVersion | None
    #: The published version's problems when it no longer validates.
    problems: list[Problem] = field(default_factory=list)
    has_versions: bool = False

    @property
    def fallback(self) -> bool:
        """Whether the kiosk serves an older version than the published one."""
        return self.published is not None and self.version is not self.published


_served_cache: dict[tuple[str, frozenset[str], tuple[str, ...]], Catalog] = {}


def _live_history(session: Session, office: Office) -> list[CatalogVersion]:
    """The versions that were ever live, the published one first, then most recently live."""
    statement = select(CatalogVersion).where(
        CatalogVersion.office_id == office.id,
        col(CatalogVersion.state).in_([VersionState.PUBLISHED.value,
                                       VersionState.SUPERSEDED.value]))
    rows = list(session.exec(statement))
    never = datetime.min.replace(tzinfo=None)

    def order(version: CatalogVersion) -> tuple[bool, datetime, int]:
        at = version.published_at.replace(tzinfo=None) if version.published_at else never
        return (version.state == VersionState.PUBLISHED.value, at, version.number)

    return sorted(rows, key=order, reverse=True)


def served_catalog(session: Session, office: Office, *, seed: bool = True,
                   locales: tuple[str, ...] | None = None) -> Served:
    """The catalog an office's kiosk serves: the published version if it validates, else the
    most recently live one that does (logged once as an ERROR), else none. With `seed`, an
    office without any version gets its bundled catalog first (a write: read-only sessions,
    e.g. the live screens', never write). `locales` overrides the required languages."""
    codes, required = office_requirements(session, office)
    locales = locales if locales is not None else required
    history = _live_history(session, office)
    if not history and seed and not session.connection().get_execution_options().get(READ_ONLY):
        seeded = seed_bundled(session, office, set(codes), locales)
        history = [seeded] if seeded is not None else []
    if not history:
        has_any = session.exec(select(CatalogVersion.id).where(
            CatalogVersion.office_id == office.id)).first() is not None
        return Served(None, None, None, has_versions=has_any)
    published = history[0] if history[0].state == VersionState.PUBLISHED.value else None
    problems: list[Problem] = []
    for version in history:
        result = check_version_text(version.yaml_text, version.sha256, codes, locales,
                                    label=f"version {version.number}")
        if result.catalog is None:
            if version is published:
                problems = result.problems
            _log_broken(office, version, codes, result)
            continue
        key = (version.sha256, codes, locales)
        with _lock:
            catalog = _served_cache.get(key)
            if catalog is None:
                if len(_served_cache) >= CACHE_SIZE:
                    _served_cache.clear()
                catalog = _served_cache[key] = without_hidden(result.catalog)
        return Served(catalog, version, published, problems, has_versions=True)
    return Served(None, None, published, problems, has_versions=True)


def _log_broken(office: Office, version: CatalogVersion, codes: frozenset[str],
                result: CheckResult) -> None:
    """One ERROR line per office, broken live version and set of services, with its first
    problems."""
    key = (office.code, version.sha256, codes)
    with _lock:
        if key in _logged:
            return
        _logged.add(key)
    shown = "; ".join(str(problem) for problem in result.problems[:5])
    more = f" (and {len(result.problems) - 5} more)" if len(result.problems) > 5 else ""
    log.error("catalog of office %s, version %d (%s) does not validate against the live "
              "services: %s%s", office.code, version.number, version.state, shown, more)


def office_health(session: Session, offices: list[Office]) -> list[tuple[Office, Served]]:
    """Offices whose kiosk does not serve their published catalog (for the admin's alert)."""
    unhealthy = []
    for office in offices:
        served = served_catalog(session, office)
        if served.published is not None and served.version is not served.published:
            unhealthy.append((office, served))
    return unhealthy
