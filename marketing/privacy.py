"""Marketing's part of a member's data: the products they viewed while signed in (kept for
the segments' "viewed" rule). Registered with the kernel's privacy registry; erased with
the member."""

from __future__ import annotations

from typing import Any

from o2o.privacy import privacy_section_register

from .models import MemberView


def viewed_export(member: Any) -> list[dict[str, Any]]:
    rows = (MemberView.objects.filter(member=member).order_by("-last_viewed_at", "pk")
            .values("product_id", "first_viewed_at", "last_viewed_at", "views"))
    return [dict(row) for row in rows]


def viewed_erase(member: Any) -> None:
    MemberView.objects.filter(member=member).delete()


privacy_section_register("viewed_products", export=viewed_export, erase=viewed_erase)
