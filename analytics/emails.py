"""The weekly report's email (analytics.services.reports queues it through the outbox):
rendered when it is sent, in the manager's language, from the rollups as they are then."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from members.models import User
from o2o.models import OutboxMessage
from o2o.outbox import outbox_renderer
from stores.models import StaffAssignment, StaffRole, Store

from .panels.base import change
from .services.reports import KIND, weekly_figures
from .services.rollups import shop_today


@outbox_renderer(KIND)
def render_weekly_report(message: OutboxMessage) -> EmailMultiAlternatives | None:
    """None (moot) when the manager is gone or manages no store any more."""
    payload = message.payload
    user = User.objects.filter(pk=payload.get("user_id"), is_active=True).first()
    if user is None:
        return None
    store_ids = list(StaffAssignment.objects.filter(user=user, role=StaffRole.MANAGER)
                     .order_by("store_id").values_list("store_id", flat=True))
    if not store_ids:
        return None
    monday = date.fromisoformat(payload["week"])
    with translation.override(user.language or settings.LANGUAGE_CODE):
        stores = Store.objects.in_bulk(store_ids)
        rows = []
        for figures in weekly_figures(store_ids=store_ids, monday=monday, today=shop_today()):
            sales = figures["sales"]
            rows.append({**figures, "store": stores[figures["store_id"]],
                         "week": sales["week"], "before": sales["before"], "year": sales["year"],
                         "vs_before": change(sales["week"]["revenue"], sales["before"]["revenue"]),
                         "vs_year": change(sales["week"]["revenue"], sales["year"]["revenue"])})
        path = reverse("admin:analytics_dashboard_changelist")
        context = {"user": user, "rows": rows, "monday": monday,
                   "sunday": monday + timedelta(days=6),
                   "url": settings.SHOP_BASE_URL.rstrip("/") + path
                   + f"?section=sales&start={monday}&end={monday + timedelta(days=6)}",
                   "shop_name": settings.SHOP_NAME or _("Jinyuan Jewellery")}
        subject = _("Your stores last week: %(start)s – %(end)s") % {
            "start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()}
        text = render_to_string("analytics/email/weekly.txt", context)
        html = render_to_string("analytics/email/weekly.html", context)
    email = EmailMultiAlternatives(subject=subject, body=text,
                                   from_email=settings.DEFAULT_FROM_EMAIL, to=[message.recipient])
    email.attach_alternative(html, "text/html")
    return email
