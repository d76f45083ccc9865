"""The slow mover's one click: the transfer that moves a store's idle pieces to the
warehouse (the online shelf) or to a store where the piece sells."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from o2o.auth import User
from o2o.errors import ApplicationError
from stores.models import StockLevel, Store, StoreKind, Transfer
from stores.services import transfer_create

from ..selectors import slow_movers_changed


def slow_mover_transfer(*, stock_level_id: int, destination: Store, actor: User,
                        store_ids: frozenset[int] | set[int] | None) -> Transfer:
    """Request the transfer of every free piece of one stock row (a slow mover) to
    ``destination``. ``store_ids``: the stores the actor may see (the row must be at one
    of them); stores.services.transfer_create checks they may act there, reserves the
    pieces at the source (SoldOut when they went meanwhile) and writes the audit row."""
    level = (StockLevel.objects.select_related("store", "variant__product")
             .filter(pk=stock_level_id).first())
    if level is None or (store_ids is not None and level.store_id not in store_ids):
        raise ApplicationError(_("This stock is not at one of your stores."),
                               code="not_your_stock")
    if level.store.kind != StoreKind.STORE:
        raise ApplicationError(_("Only a store's pieces are moved from here."),
                               code="not_a_store")
    if not destination.is_active or destination.pk == level.store_id:
        raise ApplicationError(_("Pick another open place to send the pieces to."),
                               code="bad_destination")
    free = level.available
    if free < 1:
        raise ApplicationError(_("No piece of %(sku)s is free at %(store)s any more.") % {
            "sku": level.variant.sku, "store": level.store.title}, code="nothing_free")
    if destination.kind == StoreKind.WAREHOUSE:
        note = _("Slow mover: back to the online shelf")
    else:
        note = _("Slow mover: to a store where it sells")
    transfer = transfer_create(source=level.store, destination=destination,
                               lines=[(level.variant, free)], actor=actor, note=note)
    transaction.on_commit(slow_movers_changed)
    return transfer
