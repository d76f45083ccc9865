from django.db.models import QuerySet

from .models import StaffAssignment, User


def staff_store_ids(*, user: User) -> set[int] | None:
    """Stores a staff user may see; ``None`` means every store (superusers)."""
    if user.is_superuser:
        return None
    return set(StaffAssignment.objects.filter(user=user).values_list("store_id", flat=True))


def users_with_phone(*, phone: str) -> QuerySet[User]:
    return User.objects.filter(phone=phone)


def open_shops() -> QuerySet:
    """Open shops (no warehouses), by city: a member's home store, a counter registration."""
    from stores.models import Store  # stores imports members: not at load time

    return Store.objects.shops().order_by("city", "code")


def profile_categories() -> QuerySet:
    """The categories a member may prefer: active top-level ones."""
    from catalog.models import Category

    return Category.objects.filter(parent__isnull=True, is_active=True).order_by("position", "pk")


def members_reachable(*, channel: str) -> QuerySet[User]:
    """Active members with an open marketing consent on ``channel``: the only people a
    campaign or journey may message there."""
    return User.objects.filter(is_active=True, consents__channel=channel,
                               consents__withdrawn_at__isnull=True).distinct()
