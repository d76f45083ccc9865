"""The member's coupon wallet.

    marketing:wallet   /account/coupons/   my coupons: usable, used, expired or void

Thin: the wallet comes from marketing.selectors (a fixed number of queries whatever the
number of coupons); each usable code is shown large and as a QR image (segno) so a clerk
can scan or type it at the counter. Private: never cached.
"""

import segno
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .selectors import wallet_for_member


def coupon_qr_svg(code: str) -> str:
    """An inline SVG holding the code only (the counter's scanner types what a clerk
    would); a viewBox and no fixed size, so CSS sizes it."""
    return segno.make(code, error="m", micro=False).svg_inline(scale=4, border=2, omitsize=True)


@never_cache
@login_required
def wallet(request):
    coupons = wallet_for_member(member=request.user)
    return render(request, "marketing/wallet.html", {
        "wallet": coupons,
        "usable": [(entry, coupon_qr_svg(entry.code)) for entry in coupons.usable],
    })
