"""The realtime topic of an office: every change to its queue is announced there.

One topic per office (`office:<id>`): the staff terminals, the call boards, the crowding page
and the residents' status pages of the office all watch it, and every endpoint that changes the
queue (the terminal, the JSON API, the kiosk's ticket issue) announces on it in the same
transaction (`frontyard.realtime.announce`; docs/realtime.md).
"""

from __future__ import annotations


def topic_of(office_id: int) -> str:
    """The realtime topic of everything that happens in one office."""
    return f"office:{office_id}"
