"""Survey answers as CSV or Excel, in the reader's language, inside their stores only
(the same ``store_ids`` as every figure: feedback.selectors.feedback_store_ids).

One row per answer given in the period: when, store, clerk, channel, after what, the
scores, unhappy or not, tags, the words, and the case's state. Rows are read in chunks
(``iterator``) and written as they come: a year of answers stays in bounded memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .selectors import period_bounds, responses_given

FORMATS = ("csv", "xlsx")


def export_header() -> list[str]:
    return [_("Answered"), _("Store"), _("Clerk"), _("Channel"), _("After"), _("Reference"),
            _("NPS"), _("Rating"), _("Unhappy"), _("Tags"), _("In their words"), _("Case")]


def export_rows(*, store_ids: Iterable[int] | None, start: date, end: date) -> Iterator[list]:
    since, until = period_bounds(start, end)
    queryset = (responses_given(store_ids, since, until)
                .select_related("store", "staff", "invitation", "case")
                .order_by("submitted_at", "pk"))
    for response in queryset.iterator(chunk_size=1000):
        case = getattr(response, "case", None)
        yield [
            date_format(timezone.localtime(response.submitted_at), "Y-m-d H:i"),
            response.store.title if response.store else _("online"),
            (response.staff.name or response.staff.email) if response.staff else "",
            response.get_channel_display(), response.get_trigger_display(),
            response.invitation.reference,
            "" if response.nps is None else response.nps,
            "" if response.rating is None else float(response.rating),
            _("yes") if response.detractor else _("no"),
            ", ".join(response.tags), response.comment,
            f"{case.pk} ({case.get_status_display()})" if case else "",
        ]


class _Echo:
    def write(self, value):
        return value


def export_response(*, store_ids: Iterable[int] | None, start: date, end: date,
                    fmt: str) -> HttpResponse:
    name = f"feedback-{start.isoformat()}-{end.isoformat()}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("Answers"))
        sheet.append(export_header())
        for row in export_rows(store_ids=store_ids, start=start, end=end):
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # Excel reads UTF-8 (Chinese) only with the byte-order mark
        yield writer.writerow(export_header())
        for row in export_rows(store_ids=store_ids, start=start, end=end):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
