"""The member's gold price alerts page (thin: journeys.services.alerts)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from catalog.models import Metal
from o2o.errors import reported

from .selectors import gold_alerts_of
from .services.alerts import gold_alert_remove, gold_alert_set, metals_on_offer


@never_cache
@login_required
def gold_alerts(request):
    status = 200
    offer = [{"value": f"{metal}:{purity}", "metal": Metal(metal).label, "purity": purity,
              "rate": rate} for metal, purity, rate in metals_on_offer()]
    chosen = ""
    target = ""
    if request.method == "POST":
        if request.POST.get("remove"):
            try:
                alert_id = int(request.POST["remove"])
            except ValueError:
                alert_id = 0
            if gold_alert_remove(member=request.user, alert_id=alert_id):
                messages.success(request, _("The alert is removed."))
            return redirect("journeys:gold_alerts")
        chosen = request.POST.get("metal", "")
        target = request.POST.get("target", "")[:20]
        metal, _sep, purity = chosen.partition(":")
        with reported(request) as outcome:
            alert = gold_alert_set(member=request.user, metal=metal, purity=purity[:10],
                                   target=target)
        if outcome.ok:
            messages.success(request, _("We will tell you once when the rate falls to "
                                        "¥%(target)s a gram.") % {"target": alert.target_per_gram})
            return redirect("journeys:gold_alerts")
        status = outcome.status
    return render(request, "journeys/gold_alerts.html", {
        "offer": offer, "alerts": list(gold_alerts_of(member=request.user)),
        "chosen": chosen, "target": target}, status=status)


@never_cache
@login_required
def care_booking(request):
    """The care reminder's link: the try-on/service booking with the member's last
    handed-over piece and its store chosen (the same link for every member)."""
    from .selectors import care_booking_path

    return redirect(care_booking_path(member=request.user))
