"""Inserting many rows of checked values at the database driver's speed (the import's events).

SQLAlchemy's work per row of an executemany (building and processing each row's parameters)
and the NUL guard's walk over every value cost an import more than the database's own work.
Here the caller turns values into the driver's with each column's bind processor (`processor`,
memoised where values repeat) and the rows go to the driver as they are: COPY on PostgreSQL,
one executemany on SQLite, in the connection's transaction. The caller vouches that no text
holds a NUL character (`frontyard.database.NUL_CHECKED`: the import checks every field).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from frontyard.database import NUL_CHECKED


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
        if self.copy:
            self.statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
        else:
            marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns))
            self.statement = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({marks})"

    def processor(self, name: str) -> Callable[[Any], Any]:
        """What the column's type makes of a value for the driver (timestamps in UTC, enums as
        their values, JSON as text)."""
        column = next(column for column in self.columns if column.name == name)
        process = column.type._cached_bind_processor(self.connection.dialect)
        return _same if process is None else process

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert the rows (values in the order of the columns, processed)."""
        if not rows:
            return
        if self.copy:
            with self.connection.connection.driver_connection.cursor() as cursor, \
                    cursor.copy(self.statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            self.connection.exec_driver_sql(self.statement, rows,
                                            execution_options={NUL_CHECKED: True})


def _same(value: Any) -> Any:
    """A value the driver takes as it is."""
    return value

