"""The shop's name, as shoppers read it: SHOP_NAME, else the brand in the active language."""

from django.conf import settings
from django.utils.translation import gettext as _


def shop_name() -> str:
    return settings.SHOP_NAME or _("Jinyuan Jewellery")
