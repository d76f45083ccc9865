"""Who may act on which store: staff only on the stores they are assigned to."""

from __future__ import annotations

from django.utils.translation import gettext as _

from o2o.auth import User

from ..errors import NotYourStore
from ..models import Store
from ..selectors import staff_work_store_ids


def may_act(*, actor: User | None, store: Store) -> bool:
    """None is the system (tasks, the demo); superusers act everywhere."""
    if actor is None:
        return True
    if not actor.is_active or not actor.is_staff:
        return False
    ids = staff_work_store_ids(user=actor)
    return ids is None or store.pk in ids


def ensure_may_act(*, actor: User | None, store: Store) -> None:
    """Raise NotYourStore (403) unless ``actor`` works at ``store``."""
    if not may_act(actor=actor, store=store):
        raise NotYourStore(_("You can act only on the stores you work at."),
                           extra={"store": store.code})
