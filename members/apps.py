from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _roles_sync(sender, **kwargs):
    from django.apps import apps

    from .roles import roles_sync

    roles_sync(apps)


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        # Migration members/0003 makes the roles; this keeps them after a database flush
        # (transactional tests) and on every migrate. Idempotent.
        post_migrate.connect(_roles_sync, sender=self, dispatch_uid="members-roles-sync")
        # The coupons' part of a member's data; the outbox renderer of allauth's emails.
        from . import emails, privacy  # noqa: F401
