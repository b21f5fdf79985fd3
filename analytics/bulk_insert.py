"""Inserting many rows of checked values at the database driver's speed (the import's events).

SQLAlchemy's work per row of an executemany (building and processing each row's parameters)
and the NUL guard's walk over every value cost an import more than the database's own work.
Here the caller turns values into the driver's with each column's bind processor (`processor`,
memoised where values repeat) and the rows go to the driver as they are: COPY on PostgreSQL,
one executemany on SQLite, in the connection's transaction (`Inserting` runs them in a thread,
beside the caller's next batch). The caller vouches that no text
holds a NUL character (`frontyard.database.NUL_CHECKED`: the import checks every field).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from frontyard.database import NUL_CHECKED

#: Parameters per statement: SQLite allows 32,766, PostgreSQL 65,535.
_MAX_PARAMETERS = 30_000


class BulkInsert:
    """One table's insert of these columns, rows given as tuples of driver values."""

    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        """Compile the statement once."""
        self.connection = connection
        self.columns = [table.c[name] for name in columns]
        dialect = connection.dialect
        quote = dialect.identifier_preparer
        names = ", ".join(quote.format_column(column) for column in self.columns)
        self.copy = dialect.name == "postgresql"
        self.into = f"{quote.format_table(table)} ({names})"
        self.marks = "({})".format(", ".join(
            ["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns)))
        self.processors = [column.type._cached_bind_processor(dialect) or _same
                           for column in self.columns]

    def processor(self, name: str) -> Callable[[Any], Any]:
        """What the column's type makes of a value for the driver (timestamps in UTC, enums as
        their values, JSON as the driver takes it)."""
        return self.processors[[column.name for column in self.columns].index(name)]

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """A row from its values by column name, each processed."""
        return tuple(process(values[column.name])
                     for column, process in zip(self.columns, self.processors, strict=True))

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert the rows (values in the order of the columns, processed)."""
        if not rows:
            return
        if self.copy:
            with self.connection.connection.driver_connection.cursor() as cursor, \
                    cursor.copy(f"COPY {self.into} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            self.connection.exec_driver_sql(f"INSERT INTO {self.into} VALUES {self.marks}", rows,
                                            execution_options={NUL_CHECKED: True})

    def insert_returning(self, rows: list[tuple[Any, ...]], *returning: str
                         ) -> list[tuple[Any, ...]]:
        """Insert the rows with multi-row statements; the `returning` columns of each row, in
        no particular order (SQLite does not keep it)."""
        found: list[tuple[Any, ...]] = []
        per_statement = _MAX_PARAMETERS // len(self.columns)
        names = ", ".join(map(self.connection.dialect.identifier_preparer.quote, returning))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            found += self.connection.exec_driver_sql(
                f"INSERT INTO {self.into} VALUES {', '.join([self.marks] * len(chunk))} "
                f"RETURNING {names}", tuple(value for row in chunk for value in row),
                execution_options={NUL_CHECKED: True}).all()
        return found


def _same(value: Any) -> Any:
    """A value the driver takes as it is."""
    return value


class Inserting:
    """A batch's inserts, run in a thread while the caller prepares the next batch (the
    import reads, checks and orders its rows): the database's own work (SQLite's B-trees and
    foreign keys, PostgreSQL's COPY) runs without Python's lock, beside it. One batch at a
    time, and nothing else uses the connection meanwhile: every use of it waits first."""

    def __init__(self) -> None:
        """Nothing running."""
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self, *work: Any) -> None:
        """Run (insert, rows, insert, rows…) in order, in a thread."""
        self.wait()
        self.thread = threading.Thread(target=self._run, args=work, name="import-inserts")
        self.thread.start()

    def _run(self, *work: Any) -> None:
        """The thread's body: keep the error for `wait`."""
        try:
            for insert, rows in zip(work[::2], work[1::2], strict=True):
                insert(rows)
        except BaseException as error:
            self.error = error

    def wait(self, *, quiet: bool = False) -> None:
        """Wait for the inserts running, if any; raise their error (unless `quiet`)."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        error, self.error = self.error, None
        if error is not None and not quiet:
            raise error
