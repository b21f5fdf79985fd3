"""The no-write counter (書かない窓口): a visit's details at the staff terminal, corrected in place
and printed on every form of the visit, with every look and change in the audit log.

Pure domain: plain functions over a SQLModel session. The catalog says which forms each
procedure uses; the details are those the resident gave once at the kiosk (`VisitDetails`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from counter.models import Office, Service, Task, Visit, VisitDetails
from frontyard import audit
from frontyard.database import utcnow
from frontyard.exceptions import NotFound
from frontyard.i18n import gettext as _
from kiosk.catalog import Catalog, Form, Procedure
from kiosk.details import DETAIL_FIELDS, Details, Relationship, validate_details

#: Which kind of move (異動の種別) each registration procedure is, for the 住民異動届.
MOVE_KINDS: dict[str, str] = {
    "moving_in_notice": "moving_in",
    "moving_in_from_abroad": "from_abroad",
    "moving_within_notice": "moving_within",
    "moving_out_notice": "moving_out",
    "head_of_household_change": "household_change",
}
#: The child allowance covers children up to the March after they turn 18.
CHILD_AGE_LIMIT = 18


@dataclass(frozen=True)
class VisitStep:
    """One procedure of the visit: its task, queue and (when the catalog knows it) procedure."""

    task: Task
    service: Service
    procedure: Procedure | None


@dataclass(frozen=True)
class VisitRecord:
    """What the no-write counter shows about a visit."""

    visit: Visit
    office: Office
    steps: tuple[VisitStep, ...]
    details: Details
    given: bool  # whether the resident gave details at all
    source: str | None
    updated_at: datetime | None
    forms: tuple[Form, ...]  # the forms of the visit's procedures, in visiting order

    @property
    def detail_fields(self) -> tuple[str, ...]:
        """The fields the visit's forms use, and any other the resident gave."""
        used = {name for form in self.forms for name in form.fields}
        used |= {name for name, value in self.details.to_data().items() if value}
        return tuple(name for name in DETAIL_FIELDS if name in used) or DETAIL_FIELDS

    @property
    def move_kinds(self) -> frozenset[str]:
        """The kinds of move of this visit (転入, 転居…), from its procedures."""
        return frozenset(MOVE_KINDS[step.task.procedure_code] for step in self.steps
                         if step.task.procedure_code in MOVE_KINDS)


def visit_id_for(session: Session, public_id: str) -> int:
    """The visit whose public id staff pages' addresses carry; NotFound for any other value
    (a sequential id included: ids can be counted, public ids cannot)."""
    visit = session.exec(select(Visit).where(Visit.public_id == public_id)).first()
    if visit is None or visit.id is None:
        raise NotFound(_("This ticket does not exist."))
    return visit.id


def visit_record(session: Session, visit_id: int, catalog: Catalog | None) -> VisitRecord:
    """Everything about a visit the counter needs; NotFound when there is no such visit."""
    visit = session.get(Visit, visit_id)
    office = session.get(Office, visit.office_id) if visit is not None else None
    if visit is None or office is None:
        raise NotFound(_("This ticket does not exist."))
    tasks = session.exec(select(Task).where(Task.visit_id == visit_id)
                         .order_by(col(Task.position))).all()
    steps = []
    for task in tasks:
        service = session.get(Service, task.service_id)
        assert service is not None  # a foreign key
        procedure = None
        if catalog is not None and task.procedure_code and catalog.has("procedures",
                                                                        task.procedure_code):
            procedure = catalog.procedure(task.procedure_code)
        steps.append(VisitStep(task, service, procedure))
    forms: dict[str, Form] = {}
    for step in steps:
        for form_id in step.procedure.forms if step.procedure else ():
            forms.setdefault(form_id, catalog.form(form_id))  # type: ignore[union-attr]
    stored = session.get(VisitDetails, visit_id)
    details = Details.from_data(stored.data) if stored is not None else Details()
    return VisitRecord(visit=visit, office=office, steps=tuple(steps), details=details,
                       given=stored is not None, source=stored.source if stored else None,
                       updated_at=stored.updated_at if stored else None,
                       forms=tuple(forms.values()))


def record_view(session: Session, user_id: int | None, visit_id: int, action: str,
                **detail: Any) -> None:
    """Audit one look at a visit's details (the page, or a printed form)."""
    audit.record(session, user_id, action, visit_id, **detail)


def correct_details(session: Session, visit_id: int, raw: Mapping[str, Any], user_id: int | None,
                    today: date) -> tuple[Details, list[str]]:
    """Replace the visit's details with corrected ones; returns them and the changed fields.

    Raises ValidationFailed (nothing written) when a field is not valid. The audit entry names
    the fields that changed, never their values: the log outlives the retention rule.
    """
    visit = session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()).first()
    if visit is None:
        raise NotFound(_("This ticket does not exist."))
    corrected = validate_details(raw, today=today)
    stored = session.get(VisitDetails, visit_id)
    before = stored.data if stored is not None else {}
    after = corrected.to_data()
    changed = sorted(name for name in set(before) | set(after)
                     if before.get(name) != after.get(name))
    if not changed:
        return corrected, []
    if stored is None:
        stored = VisitDetails(visit_id=visit_id, source="counter")
    stored.data = after
    stored.updated_at = utcnow()
    session.add(stored)
    audit.record(session, user_id, "details_corrected", visit_id, fields=changed)
    session.flush()
    return corrected, changed


def age_on(birth: date | None, day: date) -> int | None:
    """Full years of age on a day."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def children(details: Details, today: date) -> list[Any]:
    """The household members a child allowance claim lists: children, or anyone under 19."""
    found = []
    for member in details.household_members:
        age = age_on(member.date_of_birth, today)
        if member.relationship == Relationship.CHILD or (age is not None
                                                          and age <= CHILD_AGE_LIMIT):
            found.append(member)
    return found
