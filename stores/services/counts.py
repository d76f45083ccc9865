"""Stock counts: a physical count replaces the books' on-hand figures, audited."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.cache import stock_changed
from catalog.floor import floor_moved
from catalog.models import Variant
from o2o.auth import User

from ..errors import BookingInvalid, StockChanged
from ..models import StockCount, StockCountLine, StockLevel, Store
from .permissions import ensure_may_act


@transaction.atomic
def stock_count_apply(*, store: Store, lines: Sequence[Sequence[int]], actor: User | None,
                      filename: str = "") -> StockCount:
    """Set on_hand to the counted quantities: ``lines`` = [variant id, counted, on hand
    when the preview was made]. All or nothing, in one transaction.

    Locks the store's stock rows of those variants by pk, then re-checks them: when
    on_hand moved since the preview (a sale, a transfer) it raises StockChanged rather
    than overwrite a movement the count did not see; a count below the reserved
    pieces is refused. Writes a StockCount with every line (before, counted, difference).
    """
    ensure_may_act(actor=actor, store=store)
    now = timezone.now()
    wanted = {int(vid): (int(counted), int(expected)) for vid, counted, expected in lines}
    if not wanted or len(wanted) != len(lines):
        raise BookingInvalid(_("The count has no lines, or a piece twice."), code="bad_count")
    if any(counted < 0 for counted, _e in wanted.values()):
        raise BookingInvalid(_("A count cannot be negative."), code="bad_count")
    variants = Variant.objects.in_bulk(list(wanted))
    if len(variants) != len(wanted):
        raise BookingInvalid(_("A piece of the count is no longer in the catalogue."),
                             code="bad_count")
    levels = {level.variant_id: level for level in StockLevel.objects.select_for_update()
              .filter(store=store, variant_id__in=list(wanted)).order_by("pk")}
    moved, below = [], []
    for vid, (counted, expected) in wanted.items():
        level = levels.get(vid)
        on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
        if on_hand != expected:
            moved.append(variants[vid].sku)
        elif counted < reserved:
            below.append(variants[vid].sku)
    if moved:
        raise StockChanged(
            _("Stock of %(skus)s changed since the preview (a sale or a transfer). Upload the "
              "count again to see the new differences.") % {"skus": ", ".join(sorted(moved))},
            extra={"skus": sorted(moved)})
    if below:
        raise StockChanged(
            _("%(skus)s: the count is below the reserved pieces.") % {"skus": ", ".join(below)},
            code="below_reserved", extra={"skus": below})

    changed = 0
    crossed: list[tuple[int, int, int]] = []  # the list's shops facet (catalog.floor)
    for level in sorted(levels.values(), key=lambda lv: lv.pk):
        counted, expected = wanted[level.variant_id]
        if counted != expected:
            StockLevel.objects.filter(pk=level.pk, on_hand=expected).update(
                on_hand=counted, updated_at=now)
            changed += 1
            was, now_there = expected > level.reserved, counted > level.reserved
            if was != now_there:
                crossed.append((store.pk, level.variant_id, 1 if now_there else -1))
    for vid, (counted, _expected) in wanted.items():
        if vid not in levels and counted > 0:
            try:
                with transaction.atomic():
                    StockLevel.objects.create(store=store, variant_id=vid, on_hand=counted)
            except IntegrityError:
                raise StockChanged(_("Stock of %(sku)s changed since the preview.")
                                   % {"sku": variants[vid].sku}) from None
            changed += 1
            crossed.append((store.pk, vid, 1))
    floor_moved(crossed)
    count = StockCount.objects.create(store=store, counted_by=actor, applied_at=now,
                                      filename=filename[:200], lines_counted=len(wanted),
                                      lines_changed=changed)
    StockCountLine.objects.bulk_create([
        StockCountLine(count=count, variant_id=vid, expected=expected, counted=counted,
                       difference=counted - expected)
        for vid, (counted, expected) in sorted(wanted.items())])
    if changed:
        stock_changed(variant_ids=list(wanted), floor=True)
    return count



