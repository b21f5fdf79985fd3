"""The API's queue resource: an office's waiting counts, estimated waits and current calls,
public: anyone may read it (no personal data).
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter import queue
from counter.api.lookups import _office_by_code
from counter.api.plumbing import _minutes, operation, respond
from counter.api.schemas import CallOut, QueueState, ServiceState
from frontyard import i18n
from frontyard.database import utcnow
from frontyard.transactions import in_transaction


@operation("GET", "/offices/{office}/queue", summary="An office's queues and calls (public)",
           response=QueueState, errors=(404,), tag="queue")
async def queue_state(request: Request) -> Response:
    """Waiting counts, estimated waits and current calls of every service of an office."""
    code = request.path_params["office"]

    def work(session: Session) -> QueueState:
        office = _office_by_code(session, code)
        now = utcnow()
        overview = queue.queue_overview(session, office.id, now)  # type: ignore[arg-type]
        codes = {item.service.id: item.service.code for item in overview}
        calls = queue.current_calls(session, office.id)  # type: ignore[arg-type]
        return QueueState(
            office=office.code, at=now,
            services=[ServiceState(
                code=item.service.code, name=i18n.translate_map(item.service.names),
                prefix=item.service.prefix, waiting=item.waiting, on_hold=item.on_hold,
                counters_open=item.counters_open,
                estimated_wait_minutes=_minutes(item.estimated_wait) or 0,
                longest_wait_minutes=_minutes(item.longest_wait) or 0) for item in overview],
            calls=[CallOut(ticket_number=call.ticket_number, counter_number=call.counter_number,
                           service=codes.get(call.service_id, ""), called_at=call.called_at,
                           call_count=call.call_count) for call in calls],
        )

    return respond(await in_transaction(request, work))
