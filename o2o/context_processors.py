from django.conf import settings
from django.utils.translation import gettext as _


def shop(request):
    """Values every storefront page needs; no queries here (see catalog menu)."""
    return {"SHOP_NAME": settings.SHOP_NAME or _("Jinyuan Jewellery"), "CURRENCY": settings.CURRENCY}
