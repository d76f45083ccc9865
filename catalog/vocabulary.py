"""The words the catalog stores as values (a product's style, a certificate's cut grade),
shown in the shopper's language. Data entry keeps the stable English value
("solitaire", "Excellent"); pages show its label (单钻, 极好). A value not listed here is
shown as entered, so a merchandiser's new style still appears, untranslated, until it
is added to the list.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

STYLES = {
    "band": _("plain band"), "bangle": _("bangle"), "bead": _("beads"), "carved": _("carved"),
    "chain": _("chain"), "cluster": _("cluster"), "drops": _("drops"),
    "fashion": _("fashion"), "halo": _("halo"), "heart": _("heart"),
    "heritage": _("heritage gold"), "hoops": _("hoops"), "initial": _("initial"),
    "oval": _("oval"), "pave": _("pavé"), "pendant": _("pendant"),
    "pendant-necklace": _("pendant necklace"), "princess": _("princess cut"),
    "signet": _("signet"), "solitaire": _("solitaire"), "strand": _("strand"),
    "studs": _("studs"), "tennis": _("tennis"), "zodiac": _("zodiac"),
}

# Cut grades as GIA, IGI and NGTC write them (colour and clarity grades are letters).
CUT_GRADES = {
    "excellent": pgettext_lazy("cut grade", "Excellent"),
    "very good": pgettext_lazy("cut grade", "Very Good"),
    "good": pgettext_lazy("cut grade", "Good"),
    "fair": pgettext_lazy("cut grade", "Fair"),
    "poor": pgettext_lazy("cut grade", "Poor"),
    "ideal": pgettext_lazy("cut grade", "Ideal"),
}


def style_label(value: str) -> str:
    return str(STYLES.get((value or "").strip().lower(), value or ""))


def cut_label(value: str) -> str:
    return str(CUT_GRADES.get((value or "").strip().lower(), value or ""))
