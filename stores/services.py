"""Every write to stores and stock. Callers: admin, views, API, tasks, the demo loader."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.cache import catalog_changed
from catalog.models import Variant
from o2o.errors import ApplicationError

from .models import StockLevel, Store


@transaction.atomic
def stock_receive(*, store: Store, variant: Variant, quantity: int) -> StockLevel:
    """Add ``quantity`` pieces of ``variant`` to ``store``'s stock; return the row as it is now.

    Creates the StockLevel row on the first receipt. Otherwise on_hand grows in
    one ``UPDATE ... SET on_hand = on_hand + n``, so concurrent receipts add up
    instead of overwriting each other. Raises ApplicationError if ``quantity`` is
    not positive (taking stock out is a different operation).
    """
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ApplicationError(_("Receive at least one piece."), code="quantity_not_positive",
                               extra={"quantity": str(quantity)})

    rows = StockLevel.objects.filter(store=store, variant=variant)
    catalog_changed()  # availability shows on catalog pages
    # update() skips auto_now, so the timestamp is set by hand.
    if not rows.update(on_hand=F("on_hand") + quantity, updated_at=timezone.now()):
        try:
            # A savepoint: a concurrent first receipt may win the unique constraint.
            with transaction.atomic():
                return StockLevel.objects.create(store=store, variant=variant, on_hand=quantity)
        except IntegrityError:
            rows.update(on_hand=F("on_hand") + quantity, updated_at=timezone.now())
    return rows.get()
