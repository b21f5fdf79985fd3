"""No over-booking, ever: 50 residents booking the last places of one slot at once."""

from __future__ import annotations

from sqlmodel import func, select

from counter.appointments import booking as bookings
from counter.appointments.models import Booking, SlotTally
from frontyard.database import session_scope
from frontyard.i18n import use_locale
from tests.appointments_helpers import NOW, RULES, at, make_bookable
from tests.conftest import seed_queue_world
from tests.test_queue_concurrency import _in_threads

RESIDENTS = 50
CAPACITY = 3


def test_fifty_concurrent_bookings_never_exceed_the_capacity(engine):
    world = seed_queue_world(engine, counters=1)
    make_bookable(engine, world.services["insurance"], f"wed 09:00-10:00 30 {CAPACITY}")

    def resident(index: int) -> str:
        with use_locale("en"):
            try:
                with session_scope(engine) as session:
                    service = bookings.bookable_service(session, world.office_id, "insurance")
                    bookings.book(session, service=service, start=at(9), name=f"R{index}",
                                  contact=f"r{index}@example.org", locale="en", rules=RULES,
                                  now=NOW)
                return "booked"
            except bookings.SlotFull as full:
                assert "full" in str(full)
                return "full"

    outcomes = _in_threads(RESIDENTS, resident)
    assert outcomes.count("booked") == CAPACITY
    assert outcomes.count("full") == RESIDENTS - CAPACITY
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Booking)).one() == CAPACITY
        assert session.exec(select(SlotTally.taken)).one() == CAPACITY
