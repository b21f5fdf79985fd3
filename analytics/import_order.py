"""The order an imported visit's or counter's events are written in, and its repeated rows.

Replays order events by time, then by id (the order they were written). Other systems write
timestamps to the second, and a file sorted by `timestamp, event` puts `called` before
`queued`; so events of one instant are put in an order the queue could have produced them in,
whatever the order of the file's lines: per task, a path through the task's states that uses
every event of the instant (the first in a fixed preference when several exist, the
preference alone when none does). A row equal to an earlier one in every column is the same
event twice: it is dropped and reported.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from enum import Enum
from itertools import groupby
from operator import attrgetter

from analytics.import_rows import VISIT_KINDS, Row, task_key
from analytics.timeline import COUNTER_KINDS
from counter.models import EventKind


class _State(Enum):
    """Where a task or a counter stands, as far as the order of its events is concerned."""

    PENDING = 0
    WAITING = 1
    CALLED = 2
    SERVING = 3
    NO_SHOW = 4
    HELD = 5
    FINISHED = 6
    OPEN = 7
    CLOSED = 8


_S = _State
_UNFINISHED = frozenset({_S.PENDING, _S.WAITING, _S.CALLED, _S.SERVING, _S.NO_SHOW, _S.HELD})
#: kind → (states it may follow, state it leads to); as the queue engine's transition table.
_MOVES: dict[EventKind, tuple[frozenset[_State], _State]] = {
    EventKind.QUEUED: (frozenset({_S.PENDING}), _S.WAITING),
    EventKind.CALLED: (frozenset({_S.WAITING}), _S.CALLED),
    EventKind.RECALLED: (frozenset({_S.CALLED}), _S.CALLED),
    EventKind.STARTED: (frozenset({_S.CALLED}), _S.SERVING),
    EventKind.STEP: (frozenset({_S.SERVING}), _S.SERVING),
    EventKind.DONE: (frozenset({_S.SERVING}), _S.FINISHED),
    EventKind.NO_SHOW: (frozenset({_S.CALLED}), _S.NO_SHOW),
    EventKind.RETURNED: (frozenset({_S.NO_SHOW, _S.CALLED}), _S.WAITING),
    EventKind.HELD: (frozenset({_S.WAITING, _S.CALLED, _S.SERVING}), _S.HELD),
    EventKind.RELEASED: (frozenset({_S.HELD}), _S.WAITING),
    EventKind.TRANSFERRED: (_UNFINISHED, _S.PENDING),
    EventKind.CANCELLED: (_UNFINISHED, _S.FINISHED),
    EventKind.COUNTER_CLOSED: (frozenset({_S.OPEN}), _S.CLOSED),
    EventKind.COUNTER_OPENED: (frozenset({_S.CLOSED}), _S.OPEN),
    EventKind.COUNTER_SERVICES: (frozenset({_S.OPEN}), _S.OPEN),
}
#: The state each task event leads to.
_TASK_MOVES = {kind: after for kind, (_before, after) in _MOVES.items()
               if kind not in COUNTER_KINDS}
#: What an event no move names may follow (the visit's own: issued, visit_closed).
_ANY = frozenset(_State)
#: The preference among events of one instant: the queue's usual sequence.
_PREFERENCE = {kind: rank for rank, kind in enumerate([
    EventKind.ISSUED, EventKind.COUNTER_CLOSED, EventKind.COUNTER_OPENED,
    EventKind.COUNTER_SERVICES, EventKind.QUEUED, EventKind.CALLED, EventKind.RECALLED,
    EventKind.STARTED, EventKind.STEP, EventKind.NO_SHOW, EventKind.RETURNED, EventKind.HELD,
    EventKind.RELEASED, EventKind.TRANSFERRED, EventKind.DONE, EventKind.CANCELLED,
    EventKind.VISIT_CLOSED])}
#: Longer same-instant runs of one task are not searched (they are not real history).
_MAX_SEARCH = 24


_AT = attrgetter("at")


def _content(row: Row) -> tuple[object, ...]:
    """A total order on rows of one instant that ignores the line (None sorts first)."""
    return (_PREFERENCE[row.kind], row.ticket or "", row.service_ids, row.step or "",
            row.counter_id or 0, row.task or "", row.staff_id or 0)


def drop_repeats(rows: Iterable[Row]) -> tuple[list[Row], list[tuple[int, int]]]:
    """The rows without repeats, and (line, line it repeats) for each row dropped."""
    first: dict[tuple[object, ...], int] = {}
    kept, repeats = [], []
    for row in sorted(rows, key=attrgetter("line")):
        seen = first.setdefault(row.identity(), row.line)
        if seen == row.line:
            kept.append(row)
        else:
            repeats.append((row.line, seen))
    return kept, repeats


def visit_order(rows: Iterable[Row], repeats: list[tuple[int, int]] | None = None
                ) -> list[Row]:
    """One visit's rows in the order to write them: by time; within an instant the ticket
    first, each task's events in a causal order, the visit's closing last. Given `repeats`,
    the rows must come in line order and repeated ones are dropped and listed there, as by
    `drop_repeats` (a repeat shares its instant: only instants of several rows are looked at)."""
    states: dict[str | None, _State] = defaultdict(lambda: _S.PENDING)
    ordered: list[Row] = []
    for _at, group in groupby(sorted(rows, key=_AT), key=_AT):
        instant = list(group)
        if len(instant) == 1:  # most instants: nothing to order, only the task's state moves
            row = instant[0]
            after = _TASK_MOVES.get(row.kind)
            if after is not None:  # a task's event (`task_key`, written out: it runs often)
                states[row.task or f"service:{row.service_ids[0]}"] = after
            ordered.append(row)
            continue
        if len(instant) == 2 and (instant[0].kind in VISIT_KINDS) != (
                instant[1].kind in VISIT_KINDS):  # often: a ticket and its task's first event
            visit_row, row = instant if instant[0].kind in VISIT_KINDS else instant[::-1]
            after = _TASK_MOVES.get(row.kind)
            if after is not None:
                states[row.task or f"service:{row.service_ids[0]}"] = after
            ordered += [visit_row, row] if visit_row.kind is EventKind.ISSUED else [row,
                                                                                   visit_row]
            continue
        if repeats is not None and len({row.kind for row in instant}) < len(instant):
            instant, dropped = drop_repeats(instant)
            repeats += dropped
        tasks: dict[str | None, list[Row]] = defaultdict(list)
        for row in instant:
            tasks[task_key(row)].append(row)
        visit_rows = sorted(tasks.pop(None, []), key=_content)
        ordered += [row for row in visit_rows if row.kind is EventKind.ISSUED]
        for key in sorted(tasks):
            states[key] = _causal(tasks[key], states[key], ordered)
        ordered += [row for row in visit_rows if row.kind is not EventKind.ISSUED]
    return ordered


def counter_order(rows: Iterable[Row], state_before: bool | None) -> list[Row]:
    """One counter's rows in the order to write them; `state_before` says whether the counter
    was open before the file's first event (None: not known, taken as closed)."""
    state = _S.OPEN if state_before else _S.CLOSED
    ordered: list[Row] = []
    for _at, instant in groupby(sorted(rows, key=attrgetter("at")), key=attrgetter("at")):
        state = _causal(list(instant), state, ordered)
    return ordered


def _causal(rows: list[Row], state: _State, into: list[Row]) -> _State:
    """Append one instant's rows of one task (or counter) in a causal order; the state after."""
    rows.sort(key=_content)
    if len(rows) > 1 and not _follows(rows, state):  # else the search finds this order first
        path = _path(state, Counter(row.kind for row in rows), set()) \
            if len(rows) <= _MAX_SEARCH else None
        if path is not None:  # rows of one kind keep their content order
            by_kind: dict[EventKind, list[Row]] = defaultdict(list)
            for row in rows:
                by_kind[row.kind].append(row)
            rows = [by_kind[kind].pop(0) for kind in path]
    for row in rows:
        move = _MOVES.get(row.kind)
        state = move[1] if move else state
    into += rows
    return state


def _follows(rows: list[Row], state: _State) -> bool:
    """Whether each row can follow the state the ones before it lead to."""
    for row in rows:
        allowed, after = _MOVES.get(row.kind, (_ANY, state))
        if state not in allowed:
            return False
        state = after
    return True


def _path(state: _State, left: Counter[EventKind], failed: set[tuple[object, ...]]
          ) -> list[EventKind] | None:
    """An order of the kinds in `left` that each follow from the state before, if any."""
    if not left:
        return []
    key = (state, tuple(sorted((kind.value, n) for kind, n in left.items() if n)))
    if key in failed:
        return None
    for kind in sorted((kind for kind, n in left.items() if n), key=_PREFERENCE.__getitem__):
        allowed, after = _MOVES.get(kind, (_ANY, state))
        if state not in allowed:
            continue
        left[kind] -= 1
        rest = _path(after, +left, failed)
        left[kind] += 1
        if rest is not None:
            return [kind, *rest]
    failed.add(key)
    return None


def is_counter_row(row: Row) -> bool:
    """Counter events are ordered per counter, not per visit."""
    return row.kind in COUNTER_KINDS
