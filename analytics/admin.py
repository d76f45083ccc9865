"""The dashboards in the admin: one page per section (sales, members, funnels, staff,
stock, places, and each other app's panels), a filter bar (period, comparison, stores,
channel), downloads of every panel's figures, and the slow movers' transfer button.
Thin: the scope comes from analytics.scope, the figures from the panels, the transfer
from analytics.services.transfers."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from o2o.admin_kit import ScreenEntryAdmin
from o2o.dashboard import DASHBOARD, HOME, panels_for
from o2o.errors import reported
from stores.models import Store
from stores.selectors import staff_store_ids

from .exports import FORMATS, tables_csv, tables_xlsx
from .models import Dashboard, Event, SalesChannel
from .panels.base import SECTIONS, AnalyticsPanel
from .routers import reporting_reads
from .scope import ScopeInvalid, drill_from_request, scope_from_request
from .services.rollups import shop_today
from .services.transfers import slow_mover_transfer

log = logging.getLogger(__name__)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["kind", "at", "user", "product_id", "store_id", "channel"]
    list_filter = ["kind", "channel"]
    date_hierarchy = "at"
    raw_id_fields = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


ALL = "all"  # every section on one page


def section_of(panel) -> str:
    """A panel's tab: analytics' own say; another app's panels go under its name."""
    return getattr(panel, "section", "") or panel.key.split(".", 1)[0]


def section_label(key: str):
    if key in SECTIONS:
        return SECTIONS[key]
    try:
        return apps.get_app_config(key).verbose_name
    except LookupError:
        return key


def quick_ranges(today):
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    return [
        (_("Last 7 days"), today - timedelta(days=6), today),
        (_("Last 30 days"), today - timedelta(days=29), today),
        (_("This month"), month, today),
        (_("Last month"), last_month_end.replace(day=1), last_month_end),
        (_("Last 12 months"), today - timedelta(days=364), today),
        (_("This year"), today.replace(month=1, day=1), today),
    ]


@admin.register(Dashboard)
class DashboardAdmin(ScreenEntryAdmin):
    """The admin index's entry for the dashboards; the list page is the dashboard."""

    needs = ("analytics.view_dashboard",)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/<str:key>/", wrap(self.export_view), name="analytics_dashboard_export"),
            path("slow-mover/", wrap(self.slow_mover_view), name="analytics_dashboard_slow_mover"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        panels = panels_for(request.user, DASHBOARD)
        order = list(SECTIONS)
        keys = sorted({section_of(p) for p in panels},
                      key=lambda k: (order.index(k) if k in order else len(order), k))
        sections = [(k, section_label(k)) for k in keys]
        if len(keys) > 1:
            sections.append((ALL, _("Everything")))
        section = request.GET.get("section") or (keys[0] if keys else "")
        today = shop_today()
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": gettext("Dashboards"), "sections": sections, "section": section,
                   "ranges": quick_ranges(today), "today": today,
                   "channels": [("", _("Every channel")), ("online", _("Online")),
                                *SalesChannel.choices],
                   "compares": [("previous", _("the period before")),
                                ("year", _("the same days a year before")),
                                ("none", _("nothing"))],
                   "rendered": [], "error": None}
        status = 200
        try:
            if section not in keys and not (section == ALL and len(keys) > 1):
                raise ScopeInvalid(gettext("There is no such dashboard: pick one of the tabs."),
                                   code="bad_section")
            choice = scope_from_request(request, today=today)
            drill_from_request(request)
        except ScopeInvalid as error:
            context["error"] = error.message
            context["stores"] = list(Store.objects.none())
            status = 400
            return TemplateResponse(request, "analytics/dashboard.html", context, status=status)
        scope = choice.scope
        context.update(choice=choice, scope=scope, stores=choice.stores,
                       chosen=[s.code for s in choice.chosen])
        timings = []
        with reporting_reads():
            for panel in panels:
                if section != ALL and section_of(panel) != section:
                    continue
                if isinstance(panel, AnalyticsPanel) and not panel.shows(scope):
                    continue
                started = time.perf_counter()
                html = render_to_string(panel.template, {
                    "panel": panel, "scope": scope, **panel.context(request, scope)},
                    request=request)
                timings.append((panel.key, time.perf_counter() - started))
                context["rendered"].append({
                    "panel": panel, "html": html,
                    "downloads": bool(panel.tables(request, scope)),
                    "description": getattr(panel, "description", "")})
        response = TemplateResponse(request, "analytics/dashboard.html", context, status=status)
        # Each panel's server time, for the browser's developer tools and the bench.
        response["Server-Timing"] = ", ".join(
            f"{key.replace('.', '-')};dur={seconds * 1000:.1f}" for key, seconds in timings)
        return response

    def export_view(self, request, key):
        """A panel's figures as CSV or XLSX, computed in the same scope as the page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        panel = next((p for p in panels_for(request.user, DASHBOARD) + panels_for(
            request.user, HOME) if p.key == key), None)
        if panel is None:
            raise Http404(gettext("There is no such panel."))
        fmt = request.GET.get("format", "csv")
        if fmt not in FORMATS:
            return HttpResponse(gettext("Download as csv or xlsx."), status=400,
                                content_type="text/plain; charset=utf-8")
        try:
            choice = scope_from_request(request)
            drill_from_request(request)
        except ScopeInvalid as error:
            return HttpResponse(error.message, status=400,
                                content_type="text/plain; charset=utf-8")
        scope = choice.scope
        with reporting_reads():
            tables = panel.tables(request, scope)
        body = tables_csv(tables) if fmt == "csv" else tables_xlsx(tables)
        response = HttpResponse(body, content_type=FORMATS[fmt])
        name = f"{key.split('.')[-1]}-{scope.start.isoformat()}-{scope.end.isoformat()}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response

    def slow_mover_view(self, request):
        """POST: request the transfer of a slow mover's free pieces, then back."""
        if request.method != "POST" or not request.user.has_perm("stores.add_transfer"):
            raise PermissionDenied
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:analytics_dashboard_changelist") + "?section=stock"
        raw_stock, raw_to = request.POST.get("stock", ""), request.POST.get("destination", "")
        destination = (Store.objects.filter(pk=int(raw_to)).first()
                       if raw_to.isdecimal() and len(raw_to) < 19 else None)
        if destination is None or not raw_stock.isdecimal() or len(raw_stock) >= 19:
            messages.error(request, gettext("Pick a piece and a place to send it to."))
            return HttpResponseRedirect(back)
        with reported(request) as outcome:
            transfer = slow_mover_transfer(stock_level_id=int(raw_stock), destination=destination,
                                           actor=request.user,
                                           store_ids=staff_store_ids(user=request.user))
        if not outcome.ok:
            return HttpResponseRedirect(back)
        url = reverse("admin:stores_transfer_change", args=[transfer.pk])
        messages.success(request, format_html(
            gettext("Transfer {number} requested: {pieces} to {destination}."),
            number=format_html('<a href="{}">{}</a>', url, transfer.number),
            pieces=", ".join(f"{line.variant.sku} ×{line.quantity}"
                             for line in transfer.lines.select_related("variant")),
            destination=destination.title))
        return HttpResponseRedirect(back)
