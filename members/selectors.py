from django.db.models import QuerySet

from .models import StaffAssignment, User


def staff_store_ids(*, user: User) -> set[int] | None:
    """Stores a staff user may see; ``None`` means every store (superusers)."""
    if user.is_superuser:
        return None
    return set(StaffAssignment.objects.filter(user=user).values_list("store_id", flat=True))


def users_with_phone(*, phone: str) -> QuerySet[User]:
    return User.objects.filter(phone=phone)
