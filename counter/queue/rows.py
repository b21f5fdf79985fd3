"""Loading the rows an action works on: locked in the one lock order, fresh, or NotFound.

Separate so the lock order (counter → visit → task, see the package docstring) is written once:
every action that changes a task reads its rows through these helpers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from counter.models import Counter, CounterService, Service, Task, Visit
from frontyard.database import plain_rows
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _


def _locked(session: Session, model: type[Any], key: int, missing: Any) -> Any:
    """Load a row for update (fresh from the database); `missing` is the NotFound message."""
    row = session.exec(
        select(model).where(model.id == key).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound(missing)
    return row


def _lock_counter(session: Session, counter_id: int) -> Counter:
    return _locked(session, Counter, counter_id, _("This counter does not exist."))  # type: ignore[no-any-return]


def _lock_task(session: Session, task_id: int) -> tuple[Task, Visit]:
    """The task and its visit, both locked (visit first: one visit's changes take turns)."""
    visit_id = session.exec(select(Task.visit_id).where(Task.id == task_id)).first()
    if visit_id is None:
        raise NotFound(_("This ticket does not exist."))
    visit: Visit = _locked(session, Visit, visit_id, _("This ticket does not exist."))
    task: Task = _locked(session, Task, task_id, _("This ticket does not exist."))
    return task, visit


def _service(session: Session, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(_("This service does not exist."))
    return service


def _visit_tasks(session: Session, visit_id: int | None, *, lock: bool = False) -> list[Task]:
    statement = (select(Task).where(Task.visit_id == visit_id).order_by(col(Task.position))
                 .execution_options(populate_existing=True))
    return list(session.exec(statement.with_for_update() if lock else statement).all())


def _counter_service_ids(session: Session, counter_id: int) -> list[int]:
    return [service_id for (service_id,) in plain_rows(
        session, _COUNTER_SERVICE_IDS, {"counter_id": counter_id})]


# Prebuilt: every call reads it.
_COUNTER_SERVICE_IDS = (
    select(CounterService.service_id)
    .where(CounterService.counter_id == bindparam("counter_id"))
    .order_by(col(CounterService.service_id)))
