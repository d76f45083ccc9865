"""Admin pieces every app's admin.py shares (the apps' admin modules import from here)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReadOnlyInline(admin.TabularInline):
    """Rows written only by services (lines, audit trails, emails sent): shown, never edited
    here. Subclasses name ``model`` and ``fields``."""

    extra = 0
    can_delete = False
    select: tuple[str, ...] = ()  # select_related for what the rows show (no query per row)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select) if self.select else queryset

    def get_readonly_fields(self, request, obj=None):
        return self.fields or self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class AuditEventInline(ReadOnlyInline):
    """A record's audit trail (o2o.audit.AuditEvent rows): when, who, and what happened in
    a sentence of the reader's language; never the code or the JSON."""

    select = ("actor",)
    fields = ["at", "actor", "what"]

    @admin.display(description=_("what happened"))
    def what(self, event) -> str:
        return event.describe()


class ReadOnlyAdminMixin:
    """For records only services write (redemptions, batches, price history): listed and
    read in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScreenEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """An entry on the admin index (registered on a proxy model with no table of its own)
    that opens a staff screen: ``target`` names its URL, ``needs`` the permissions that
    show the entry. Nothing is added, changed or deleted through it."""

    target = ""
    needs: tuple[str, ...] = ()

    def has_view_permission(self, request, obj=None):
        return all(request.user.has_perm(p) for p in self.needs)

    def changelist_view(self, request, extra_context=None):
        return redirect(self.target)


def outbox_summary(messages, *, kinds: dict[str, str], prefix: str) -> str:
    """The outbox rows about one record as a short table for its staff screen: when,
    which message (``kinds`` names them, by kind less ``prefix``), to whom, and what
    became of it, in words."""
    if not messages:
        return gettext("None yet")

    def when(message):
        at = message.sent_at or message.due_at
        return date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")

    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((when(m), kinds.get(m.kind.removeprefix(prefix), m.kind), m.recipient,
          m.get_state_display()) for m in messages))
    return format_html('<table class="outbox-summary"><thead><tr><th>{}</th><th>{}</th>'
                       "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
                       gettext("when"), gettext("message"), gettext("to"), gettext("state"), rows)
