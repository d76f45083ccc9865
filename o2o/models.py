"""The kernel's one table: the transactional outbox (o2o.outbox writes and sends it)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OutboxMessage(models.Model):
    """A message to send: written in the transaction of the change that causes it, claimed
    by a worker with a lease, sent outside any transaction, then marked sent. The
    ``dedupe_key`` says what the message is (an order's "ready" email): a second enqueue
    of the same key does nothing, and the email's Message-ID is made from it."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("text message")

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("outbox state", "waiting")
        SENDING = "sending", pgettext_lazy("outbox state", "being sent")
        SENT = "sent", pgettext_lazy("outbox state", "sent")
        FAILED = "failed", pgettext_lazy("outbox state", "failed")
        CANCELLED = "cancelled", pgettext_lazy("outbox state", "not sent")

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # A dotted name, "<app>.<message>" ("orders.ready_for_pickup"): the app registers the
    # renderer of its kinds (o2o.outbox.outbox_renderer).
    kind = models.CharField(_("kind"), max_length=100)
    recipient = models.CharField(_("recipient"), max_length=254)
    # What the renderer needs (ids, the language...), never a model instance.
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    # What the message is about ("orders.order:12"): the record's screens list its
    # messages, erasure finds them.
    about = models.CharField(_("about"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Not before: delays, reminders and quiet hours are the caller's due_at.
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=80, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    sent_at = models.DateTimeField(pgettext_lazy("outbox", "sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [
            # The sender's question, "which pending rows are due?", reads only these.
            models.Index(fields=["due_at", "id"], condition=Q(state="pending"),
                         name="outbox_due_pending"),
            models.Index(fields=["lease_until"], condition=Q(state="sending"),
                         name="outbox_sending_lease"),
            models.Index(fields=["about"], condition=~Q(about=""), name="outbox_about"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sending", "sent", "failed", "cancelled"]),
                name="outbox_state_known"),
            models.CheckConstraint(
                condition=~Q(state="sending") | (Q(lease_until__isnull=False)
                                                 & ~Q(claimed_by="")),
                name="outbox_sending_has_a_lease"),
            models.CheckConstraint(condition=~Q(state="sent") | Q(sent_at__isnull=False),
                                   name="outbox_sent_has_sent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.get_state_display()})"
