"""Showing figures: numbers in the reader's language (grouped thousands, yuan, grams,
percentages, Chinese dates in Chinese), and the admin home's panels."""

from __future__ import annotations

import logging

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from o2o.dashboard import HOME, Scope, panels_for
from stores.selectors import staff_store_ids

from ..formatting import show
from ..panels.base import Cell, Column
from ..routers import reporting_reads
from ..services.rollups import shop_today

register = template.Library()
log = logging.getLogger(__name__)


@register.filter
def figure(value, kind="text"):
    return show(value, kind)


@register.filter
def cell(value, column):
    if isinstance(value, Cell):
        return show(value.value, value.kind)
    return show(value, column.kind if isinstance(column, Column) else "text")


@register.filter
def numeric(column) -> bool:
    return isinstance(column, Column) and column.kind not in ("text", "date")


@register.filter
def trend(value) -> str:
    """up / down / flat, for a change's colour."""
    if isinstance(value, Cell):
        value = value.value
    if value is None:
        return "flat"
    return "up" if value > 0 else "down" if value < 0 else "flat"


@register.filter
def at(sequence, index):
    try:
        return sequence[index]
    except (IndexError, KeyError, TypeError):
        return ""


@register.simple_tag(takes_context=True)
def home_panels(context):
    """The panels of the viewer's home (o2o.dashboard, place HOME), each rendered with
    its app's template; one that fails says so and is logged, the home stays up."""
    request = context["request"]
    ids = staff_store_ids(user=request.user)
    today = shop_today()
    scope = Scope(store_ids=None if ids is None else frozenset(ids), start=today, end=today)
    parts = []
    with reporting_reads():
        for panel in panels_for(request.user, HOME):
            try:
                html = render_to_string(panel.template, {
                    "panel": panel, "scope": scope, **panel.context(request, scope)},
                    request=request)
            except Exception:
                log.exception("home panel %s failed", panel.key)
                html = format_html('<p class="an-error">{}</p>',
                                   _("This panel could not be shown just now."))
            parts.append(format_html('<section class="an-panel an-home-panel" id="panel-{}" '
                                     'aria-labelledby="panel-{}-title"><h2 id="panel-{}-title">'
                                     '{}</h2>{}</section>', panel.key, panel.key, panel.key,
                                     panel.title, html))
    # Each part is format_html's (escaped) output around a rendered template.
    return mark_safe("".join(parts))


def _cell_class(column, value) -> str:
    classes = []
    if numeric(column):
        classes.append("an-num")
    if isinstance(column, Column) and column.kind == "change":
        classes.append(f"an-change an-change--{trend(value)}")
    return " ".join(classes)


@register.simple_tag
def table_html(table, drill=None):
    """A panel's table as HTML: the caption, headings, a row each (the first cell a row
    heading, linked when ``drill`` has a link for the row). Built here rather than by
    template loops: a chain's tables hold thousands of cells."""
    columns = table.columns
    head = format_html_join("", '<th scope="col"{}>{}</th>', (
        (mark_safe(' class="an-num"') if numeric(c) else "", c) for c in columns))
    rows = []
    for index, row in enumerate(table.rows):
        link = drill[index] if drill and index < len(drill) else ""
        first = cell(row[0], columns[0]) if row else ""
        first_html = format_html('<a href="{}">{}</a>', link, first) if link else first
        rest = format_html_join("", '<td class="{}">{}</td>', (
            (_cell_class(c, v), cell(v, c)) for c, v in zip(columns[1:], row[1:], strict=False)))
        rows.append(format_html('<tr><th scope="row">{}</th>{}</tr>', first_html, rest))
    if not rows:
        rows.append(format_html('<tr><td colspan="{}" class="an-empty">{}</td></tr>',
                                len(columns), _("No figures for this choice.")))
    return format_html('<div class="an-table-wrap"><table class="an-table"><caption>{}'
                       '</caption><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>',
                       table.title, head, mark_safe("".join(rows)))
