"""The audit trail's one shape (Saleor's order events, Zulip's RealmAuditLog).

Every record that staff or money act on keeps rows of ``AuditEvent``: what happened
(``kind``, from the app's vocabulary: a ``TextChoices`` of its own), who did it
(``actor``, None for the system), when (``at``) and the details (``data``). Rows are
written inside the service's transaction by the app's ``events.py``. Staff screens show
``describe()``, a sentence in the reader's language, never the code or the JSON.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Abstract: subclasses add the foreign key to their record, give ``kind`` their
    vocabulary (``kind = models.CharField(..., choices=TheirKinds.choices)``) and say each
    kind in words (``describe``)."""

    kind = models.CharField(_("event"), max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def describe(self) -> str:
        """What happened, as a sentence for staff (subclasses add the details)."""
        display = getattr(self, "get_kind_display", None)
        return str(display()) if display else self.kind
