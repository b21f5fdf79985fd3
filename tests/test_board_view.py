"""The board's read model on both databases: recent calls are today's only, each ticket once
(a visit is called once per procedure), and not those being called now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from counter import queue
from counter.board_view import board_view, start_of_day
from frontyard.database import session_scope, utcnow

TOKYO = ZoneInfo("Asia/Tokyo")


def test_start_of_day_is_the_citys_midnight():
    """00:30 in Tokyo is 15:30 UTC the day before; its day began at 15:00 UTC."""
    now = datetime(2026, 4, 1, 15, 30, tzinfo=UTC)
    assert start_of_day(now, TOKYO) == datetime(2026, 4, 1, 15, 0, tzinfo=UTC)
    assert start_of_day(now, UTC) == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def _served(session, world, counter: int, codes: list[str], at) -> None:  # type: ignore[no-untyped-def]
    """Counter `counter` (0-based) calls, serves and completes its next ticket."""
    counter_id, user_id = world.counters[counter], world.staff[counter]
    queue.open_counter(session, counter_id, user_id, [world.services[c] for c in codes], now=at)
    task = queue.call_next(session, counter_id, user_id, now=at)
    assert task is not None
    queue.start(session, task.id, user_id, now=at)  # type: ignore[arg-type]
    queue.complete(session, task.id, user_id, now=at)  # type: ignore[arg-type]


def test_recent_calls_are_todays_each_ticket_once(engine, world):
    """Yesterday's call is gone; a two-procedure visit is listed once; the number being called
    now is under "Now calling" only."""
    now = utcnow()
    yesterday = now - timedelta(days=1)
    with session_scope(engine) as session:
        queue.issue_ticket(session, office_id=world.office_id, service_codes=["childcare"],
                           now=yesterday)
        _served(session, world, 0, ["childcare"], yesterday)
        two = queue.issue_ticket(session, office_id=world.office_id,
                                 service_codes=["insurance", "childcare"])
        _served(session, world, 0, ["insurance"], None)
        _served(session, world, 1, ["childcare"], None)
        calling = queue.issue_ticket(session, office_id=world.office_id,
                                     service_codes=["insurance"])
        queue.call_next(session, world.counters[0], world.staff[0])
        two_number, calling_number = two.ticket_number, calling.ticket_number
    with session_scope(engine) as session:
        view = board_view(session, world.office_id, utcnow(), UTC)
        assert [call.ticket_number for call in view.calling] == [calling_number]
        assert [record.ticket_number for record in view.recent] == [two_number]
        assert view.recent[0].counter.number == "2"  # its latest call
        assert view.waiting[world.services["insurance"]] == 0
