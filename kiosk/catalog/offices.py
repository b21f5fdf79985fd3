"""The catalog and its office: where the file is kept, and how it meets the office's services.

The only part of the catalog that reads or writes the database (services and their names), so
checking and reading a file stay free of sessions.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from counter.models import Office, Service
from kiosk.catalog.schema import Catalog

#: The bundled catalogs, one YAML file per office, beside this package (`kiosk/catalogs/`).
CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalogs"


def catalog_path(office_code: str) -> Path:
    """Where the catalog of an office is kept."""
    return CATALOG_DIR / f"{office_code}.yaml"


def apply_section_names(session: Session, office_code: str, catalog: Catalog) -> list[str]:
    """Give the office's services the names and step names of the catalog's sections in the
    languages they lack (names the city already set are kept): residents' phones, boards and
    terminals then name them in every kiosk language. Returns the codes of the services
    changed; steps a service does not have are ignored."""
    services = {service.code: service for service in session.exec(
        select(Service).join(Office, Office.id == Service.office_id)
        .where(Office.code == office_code))}
    changed = []
    for section in catalog.sections:
        service = services.get(section.service)
        if service is None:
            continue
        names = {**section.name, **service.names}
        step_names = {**service.step_names, **{
            step.step: {**step.name, **service.step_names.get(step.step, {})}
            for step in section.steps if step.step in service.steps}}
        if names != service.names or step_names != service.step_names:
            service.names, service.step_names = names, step_names
            session.add(service)
            changed.append(service.code)
    return changed


def service_codes_in_database(session: Session, office_code: str) -> set[str]:
    """The codes of the active services (queues) of an office, for checking a catalog."""
    statement = (select(Service.code).join(Office, Office.id == Service.office_id)
                 .where(Office.code == office_code, Service.active))
    return set(session.exec(statement).all())
