"""The rollup changes of an import's visits, computed beside the writes (the second core).

An import writes each visit of the file as soon as its last row has been read. The visits'
facts and their rollup changes depend on the rows only, not on what is written: a worker
process reads the file once more, groups and orders the rows as the writer does and replays
them, while the importer writes, and hands back the changes at the end (a few thousand
counters, not the rows). Where a worker cannot help (one core, a small file) or fails, the
importer computes them itself; either way they are the same numbers.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from analytics.import_order import visit_order
from analytics.import_rows import Catalog, Row, read_rows, task_key, visit_groups
from analytics.models import ROLLUP_TABLES
from analytics.rollups import Deltas, fact_deltas, with_months, zone_of
from analytics.timeline import COUNTER_KINDS, visit_facts
from counter.models import EventKind

#: A worker is started for files at least this large (starting one costs about a second).
WORKER_BYTES = 4 * 1024 * 1024
#: The data of every imported event (a counter's opening adds its services).
IMPORTED: dict[str, Any] = {"imported": True}


class ImportedEvent(NamedTuple):
    """An event as the replay reads it, before it is in the database."""

    id: int
    at: datetime
    kind: EventKind
    office_id: int
    visit_id: int | None
    task_id: int | None
    service_id: int | None
    step: str | None
    counter_id: int | None
    staff_user_id: int | None
    data: dict[str, Any]


def visit_events(rows: list[Row]) -> list[ImportedEvent]:
    """One visit's rows, in the order they are written, as the replay reads events (each task
    numbered within the visit: facts are counted, not traced to a task)."""
    tasks: dict[str, int] = {}
    events = []
    for index, row in enumerate(rows):
        key = task_key(row)
        task = None if key is None else tasks.setdefault(key, len(tasks) + 1)
        service = row.service_ids[0] if row.service_ids and row.kind not in COUNTER_KINDS \
            else None
        events.append(ImportedEvent(index, row.at, row.kind, row.office_id, None, task,
                                    service, row.step, row.counter_id, row.staff_id, IMPORTED))
    return events


def ordered_visit(rows: list[Row]) -> tuple[list[Row], list[tuple[int, int]]]:
    """A visit's rows (in line order) without repeats, in the order to write them; the
    repeats dropped."""
    repeats: list[tuple[int, int]] = []
    return visit_order(rows, repeats), repeats


def visit_deltas(stream: BinaryIO, catalog: Catalog, counts: dict[tuple[int | None, str], int],
                 tz: str, into: Deltas) -> Deltas:
    """The rollup changes of every visit of the file (read from its start), added to `into`."""
    zone = zone_of(tz)
    for rows in visit_groups(read_rows(stream), catalog, counts):
        fact_deltas(visit_facts(visit_events(ordered_visit(rows)[0])), zone, 1, into)
    return into


class Worker:
    """`visit_deltas` in a process of its own: this module run by the same Python, given its
    arguments and returning the changes pickled through pipes (not `multiprocessing`, whose
    children import the parent's main script, and which must not fork a threaded server)."""

    def __init__(self, path: Path, catalog: Catalog,
                 counts: dict[tuple[int | None, str], int], tz: str) -> None:
        """Start it."""
        plain = Catalog(catalog.offices, catalog.services, catalog.counters, catalog.staff)
        task = pickle.dumps((str(path), plain, counts, tz), pickle.HIGHEST_PROTOCOL)
        self.process = subprocess.Popen(  # the same interpreter, nothing from the user
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                entry for entry in sys.path if entry)})
        # Sent from a thread: the child reads only after its imports, and the pipe is small.
        self.sender = threading.Thread(target=self._send, args=(task,), daemon=True)
        self.sender.start()

    def _send(self, task: bytes) -> None:
        """Hand the worker its task."""
        assert self.process.stdin is not None
        with contextlib.suppress(OSError), self.process.stdin:
            self.process.stdin.write(task)

    def deltas(self) -> Deltas | None:
        """Its rollup changes (with the months'), once it is done; None if it failed."""
        assert self.process.stdout is not None
        try:
            found: list[tuple[str, tuple[Any, ...], dict[str, int]]] = pickle.loads(
                self.process.stdout.read())
        except (OSError, EOFError, pickle.UnpicklingError):
            return None
        finally:
            self.stop()
        if self.process.returncode:
            return None
        tables = {table.name: table for table in ROLLUP_TABLES}
        deltas: Deltas = defaultdict(Counter)
        for name, key, changes in found:
            deltas[(tables[name], key)] = Counter(changes)
        return deltas

    def stop(self) -> None:
        """End it (done, or no longer needed)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.sender.join()
        assert self.process.stdout is not None
        self.process.stdout.close()


def can_start_worker(size: int) -> bool:
    """Whether a worker would help: a large file and a second core."""
    return size >= WORKER_BYTES and (os.cpu_count() or 1) > 1


def _work() -> None:
    """The worker's body: its task from stdin, the changes with the months' by table name
    (tables do not cross processes) to stdout."""
    gc.disable()  # a short-lived process of its own, whose objects form no cycles
    path, catalog, counts, tz = pickle.loads(sys.stdin.buffer.read())
    with open(path, "rb") as stream:
        deltas = with_months(visit_deltas(stream, catalog, counts, tz, defaultdict(Counter)))
    sys.stdout.buffer.write(pickle.dumps(
        [(table.name, key, dict(changes)) for (table, key), changes in deltas.items()],
        pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _work()
