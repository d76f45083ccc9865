"""A panel's tables as a file: CSV (UTF-8 with a byte-order mark, so spreadsheet programs
read the Chinese right) or XLSX (one sheet per table, numbers as numbers)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from o2o.dashboard import Table

from .panels.base import Cell, Column

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
NUMBER_FORMATS = {"money": "#,##0.00", "int": "#,##0", "weight": "#,##0.0", "pct": "0.0%",
                  "change": "+0.0%;-0.0%;0.0%", "ratio": "0.00", "date": "yyyy-mm-dd"}


def _plain(value):
    if isinstance(value, Cell):
        value = value.value
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float | date):
        return value
    return str(value)


def _csv_value(value):
    value = _plain(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def tables_csv(tables: Sequence[Table]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([str(table.title)])
        writer.writerow([str(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_title(title: str, taken: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    name, n = clean, 2
    while name in taken:
        name, n = f"{clean[:26]} {n}", n + 1
    taken.add(name)
    return name


def tables_xlsx(tables: Sequence[Table]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(_sheet_title(str(table.title), taken))
        sheet.append([str(c) for c in table.columns])
        for row in table.rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v
                          for v in (_plain(x) for x in row)])
        for col, column in enumerate(table.columns, start=1):
            kind = column.kind if isinstance(column, Column) else "text"
            letter = get_column_letter(col)
            sheet.column_dimensions[letter].width = 16 if col > 1 else 28
            if kind in NUMBER_FORMATS:
                for cell in sheet[letter][1:]:
                    cell.number_format = NUMBER_FORMATS[kind]
        sheet.freeze_panes = "B2"
    if not tables:  # a workbook needs a sheet: say there was nothing, rather than fail
        book.create_sheet("-").append([gettext("Nothing to download here.")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
