"""Every table of the managers' page as CSV or XLSX.

Exports are for other tools, so they do not change with the reader's language: the header
holds each column's key, services are written by code, counters by number, staff by account
name, weekdays as 0 (Monday) … 6, times in seconds and shares as fractions; "*" stands for
"all" (a service's or the period's total row). CSV is UTF-8 with a byte order mark (Excel
then reads Japanese correctly).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from analytics.report import Kind, Names, Table

ALL = "*"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_value(kind: Kind, value: Any, names: Names) -> Any:
    """A raw value as written to a file."""
    if kind is Kind.SERVICE:
        if value is None:
            return ALL
        service = names.services.get(value)
        return service.code if service else ""
    if kind is Kind.COUNTER:
        counter = names.counters.get(value)
        return counter.number if counter else value
    if kind is Kind.STAFF:
        user = names.staff.get(value)
        return user.username if user else value
    if kind is Kind.TEXT and value is None:
        return ALL
    return value


def _rows(table: Table, names: Names) -> list[list[Any]]:
    """The header (column keys) and the converted rows."""
    return [[column.key for column in table.columns]] + [
        [export_value(column.kind, value, names) for column, value in zip(
            table.columns, row, strict=True)] for row in table.rows]


def to_csv(table: Table, names: Names) -> bytes:
    """The table as CSV (UTF-8 with BOM; empty cells for values not measured)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in _rows(table, names):
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, names: Names) -> bytes:
    """The table as a one-sheet workbook (numbers stay numbers)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.name)
    for row in _rows(table, names):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
