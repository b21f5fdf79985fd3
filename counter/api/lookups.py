"""The rows an API request names, looked up or refused (an office by its code, services by
their codes, the office of a task), and the staff view of a task that several resources answer
with. Apart from the HTTP plumbing because these read the database.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from counter import queue
from counter.api.schemas import TaskOut
from counter.models import Counter, Office, Service, Task, Visit
from frontyard.errors import NotFound, ValidationFailed
from frontyard.i18n import gettext as _


def _office_by_code(session: Session, code: str) -> Office:
    office = session.exec(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFound(_("This office does not exist."))
    return office


def _service_ids(session: Session, office_id: int, codes: list[str], field_name: str) -> list[int]:
    found: dict[str, int] = {code: service_id for code, service_id in session.exec(
        select(Service.code, Service.id).where(
            Service.office_id == office_id, col(Service.code).in_(codes))).all()
        if service_id is not None}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        message = _("Unknown service: %(codes)s") % {"codes": ", ".join(unknown)}
        raise ValidationFailed(message, **{field_name: message})
    return [found[code] for code in codes]


def task_out(session: Session, task: Task) -> TaskOut:
    """The staff view of a task."""
    visit = session.get(Visit, task.visit_id)
    service = session.get(Service, task.service_id)
    assert visit is not None and service is not None
    counter = session.get(Counter, task.counter_id) if task.counter_id else None
    tasks = queue.visit_tasks(session, visit)
    return TaskOut(
        id=task.id, visit_id=visit.id, ticket_number=visit.ticket_number,  # type: ignore[arg-type]
        priority=visit.priority, service=service.code, state=task.state,
        step_name=queue.step_name(service, task.step_index),
        step_number=task.step_index + 1 if service.steps else 0, step_count=len(service.steps),
        task_number=task.position + 1, task_count=len(tasks),
        counter_id=task.counter_id, counter_number=counter.number if counter else None,
        call_count=task.call_count, queued_at=task.queued_at, called_at=task.called_at,
    )


def _office_of_task(session: Session, task: Task) -> int:
    visit = session.get(Visit, task.visit_id)
    assert visit is not None
    return visit.office_id
