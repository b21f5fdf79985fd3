"""Who hears of the queue's events: listeners handed every event the engine records.

The event log (`counter.models.Event`) is the single source of truth of what happened at the
counters. Other parts of Frontyard follow it without the queue knowing them: the composition
layer registers a listener (analytics counts each event in its rollups), and the engine calls
`recorded` for every event it appends, inside the transaction that appends it, so a listener
can write in the same transaction and its writes commit, or roll back, with the event.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from counter.models import Event

#: A listener: called with the recording session and the event just added to it.
Listener = Callable[[Session, Event], None]

_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Hand every recorded event to `listener` from now on (registering twice is harmless)."""
    if listener not in _listeners:
        _listeners.append(listener)


def forget(listener: Listener) -> None:
    """Stop handing events to `listener`."""
    if listener in _listeners:
        _listeners.remove(listener)


def recorded(session: Session, event: Event) -> None:
    """Tell every listener of an event the engine has just added to `session`."""
    for listener in _listeners:
        listener(session, event)
