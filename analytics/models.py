from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One thing that happened in the O2O loop (a view, a booking, a pickup...).

    Written through ``analytics.services.event_record`` only; append-only.
    """

    kind = models.CharField(_("kind"), max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", verbose_name=_("member"))
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    product_id = models.BigIntegerField(_("product"), null=True, blank=True)
    store_id = models.BigIntegerField(_("store"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["kind", "at"], name="event_kind_at")]

    def __str__(self):
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"
