"""The outbox in the admin: what left, what waits, what failed and why (superusers; no
role is given these permissions). Failed messages can be sent again."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .admin_kit import ReadOnlyAdminMixin
from .models import OutboxMessage
from .outbox import outbox_kind_label, outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "message", "recipient", "state", "attempts", "due_at",
                    "sent_at"]
    list_filter = ["state", "channel"]
    search_fields = ["dedupe_key", "about", "recipient"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["send_again"]

    @admin.display(description=_("message"), ordering="kind")
    def message(self, row):
        return f"{outbox_kind_label(row.kind)} ({row.get_channel_display()})"

    def has_change_permission(self, request, obj=None):
        # The action needs it; the form stays read-only (every field is).
        return request.user.is_superuser

    @admin.action(description=_("Send the failed messages again"))
    def send_again(self, request, queryset):
        count = outbox_retry(ids=list(queryset.values_list("pk", flat=True)))
        messages.success(request, ngettext("%(count)d message will be sent again.",
                                           "%(count)d messages will be sent again.",
                                           count) % {"count": count})
