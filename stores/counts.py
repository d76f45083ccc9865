"""Stock count files: read a CSV (sku, quantity counted) and compare it with the books.

Read-only: the preview says, line by line, what applying the count would change and
what is wrong with the file; stores.services.stock_count_apply applies it.
Spreadsheets saved in China are often GB18030, not UTF-8: both are read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from catalog.models import Variant
from o2o.parsing import whole_number

from .models import StockLevel, Store

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
MAX_QUANTITY = 100_000
SKU_HEADERS = {"sku", "货号", "编码", "商品编码", "sku code"}
QUANTITY_HEADERS = {"quantity", "qty", "counted", "count", "quantity counted", "数量", "盘点数量",
                    "实盘数量"}


@dataclass
class CountRow:
    line: int
    sku: str
    raw_quantity: str
    variant: Variant | None = None
    counted: int | None = None
    on_hand: int = 0
    reserved: int = 0
    error: str = ""

    @property
    def difference(self) -> int | None:
        return None if self.counted is None else self.counted - self.on_hand


@dataclass
class CountPreview:
    store: Store
    filename: str
    rows: list[CountRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the whole file

    @property
    def bad_rows(self) -> list[CountRow]:
        return [row for row in self.rows if row.error]

    @property
    def changes(self) -> list[CountRow]:
        return [row for row in self.rows if not row.error and row.difference]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors and not self.bad_rows

    def lines(self) -> list[list[int]]:
        """[variant id, counted, on hand at preview] for every row: what apply checks."""
        return [[row.variant.pk, row.counted, row.on_hand] for row in self.rows]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError


def _columns(header: list[str]) -> tuple[int, int] | None:
    names = [cell.strip().lower() for cell in header]
    sku = next((i for i, n in enumerate(names) if n in SKU_HEADERS), None)
    qty = next((i for i, n in enumerate(names) if n in QUANTITY_HEADERS), None)
    return (sku, qty) if sku is not None and qty is not None else None


def stock_count_preview(*, store: Store, data: bytes, filename: str = "") -> CountPreview:
    """Parse and check a count file against ``store``'s stock (two queries)."""
    preview = CountPreview(store=store, filename=filename[:200])
    if len(data) > MAX_BYTES:
        preview.errors.append(_("The file is larger than 2 MB; split it in parts."))
        return preview
    try:
        text = _decode(data)
    except ValueError:
        preview.errors.append(_("The file is neither UTF-8 nor GB18030 text; save it as CSV."))
        return preview
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    records = [(n, rec) for n, rec in enumerate(csv.reader(io.StringIO(text), dialect), start=1)
               if any(cell.strip() for cell in rec)]
    if not records:
        preview.errors.append(_("The file is empty."))
        return preview
    sku_col, qty_col = 0, 1
    first = records[0][1]
    if len(first) < 2 or not first[1].strip().isdecimal():  # a header row
        found = _columns(first)
        if found is None:
            preview.errors.append(_("The first line must name the columns “sku” and "
                                    "“quantity” (or start with the first count)."))
            return preview
        sku_col, qty_col = found
        records = records[1:]
    if len(records) > MAX_ROWS:
        preview.errors.append(_("The file has more than %(max)s lines.") % {"max": MAX_ROWS})
        return preview

    seen: dict[str, int] = {}
    for line, record in records:
        cells = record + [""] * (max(sku_col, qty_col) + 1 - len(record))
        row = CountRow(line=line, sku=cells[sku_col].strip(), raw_quantity=cells[qty_col].strip())
        preview.rows.append(row)
        if not row.sku:
            row.error = _("No SKU.")
            continue
        if row.sku.upper() in seen:
            row.error = _("%(sku)s was already counted on line %(line)s.") % {
                "sku": row.sku, "line": seen[row.sku.upper()]}
            continue
        seen[row.sku.upper()] = line
        raw = row.raw_quantity
        if whole_number(raw) is None or whole_number(raw) > MAX_QUANTITY:
            row.error = _("“%(value)s” is not a number of pieces (a whole number, 0 or "
                          "more).") % {"value": raw}
            continue
        row.counted = int(raw)

    # SKUs match whatever their case (counts are typed by hand): one query.
    variants = {v.sku.upper(): v for v in Variant.objects.annotate(sku_upper=Upper("sku")).filter(
        sku_upper__in={row.sku.upper() for row in preview.rows if row.sku}
    ).select_related("product")}
    levels = {level.variant_id: level for level in StockLevel.objects.filter(
        store=store, variant__in=list(variants.values()))}
    for row in preview.rows:
        if not row.sku:
            continue
        variant = variants.get(row.sku.upper())
        if variant is None:
            if not row.error:
                row.error = _("There is no SKU %(sku)s in the catalogue.") % {"sku": row.sku}
            continue
        row.variant = variant
        level = levels.get(variant.pk)
        row.on_hand, row.reserved = (level.on_hand, level.reserved) if level else (0, 0)
        if not row.error and row.counted is not None and row.counted < row.reserved:
            row.error = _("Counted %(counted)s, but %(reserved)s are reserved (appointments, "
                          "orders, transfers): find them or release the reservations first.") % {
                "counted": row.counted, "reserved": row.reserved}
    return preview
