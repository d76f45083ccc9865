"""The catalog part of a member's data: their wishlist (registered with
members.services.privacy; deleted on erasure)."""

from __future__ import annotations

from o2o.auth import User
from o2o.privacy import privacy_section_register

from .models import WishlistItem


def wishlist_export(member: User) -> list[dict]:
    return [{"product": item.product.name, "slug": item.product.slug, "added_at": item.created_at}
            for item in WishlistItem.objects.filter(user=member).select_related("product")
            .order_by("created_at", "id")]


def wishlist_erase(member: User) -> None:
    WishlistItem.objects.filter(user=member).delete()


privacy_section_register("wishlist", export=wishlist_export, erase=wishlist_erase)
