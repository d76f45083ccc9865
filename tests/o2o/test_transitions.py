"""The transition kit (o2o.transitions) that every life cycle moves through."""

import pytest
from django.db import transaction

from o2o.transitions import TransitionNotAllowed
from orders.errors import OrderTransitionNotAllowed
from orders.models import OrderEvent, OrderStatus
from orders.services import ORDER, TRANSITIONS
from orders.services.tickets import TICKET
from stores.services.appointments import APPOINTMENT
from stores.services.transfers import TRANSFER
from tests.orders.factories import pickup_order

S = OrderStatus
pytestmark = pytest.mark.django_db


def test_the_lifecycle_reads_the_table_and_the_extra_rule():
    order = pickup_order()
    assert ORDER.allows(S.PENDING_PAYMENT, S.PAID)
    assert not ORDER.allows(S.PENDING_PAYMENT, S.COMPLETED)
    # The table allows paid -> shipped, but not for a pickup (the fulfilment's rule).
    assert ORDER.allows(S.PAID, S.SHIPPED)
    order.status = S.PAID
    assert not ORDER.allows(S.PAID, S.SHIPPED, order)
    assert S.SHIPPED not in ORDER.next_statuses(order)
    assert ORDER.next_statuses(order) == [
        s for s in TRANSITIONS if s in TRANSITIONS[S.PAID] and s != S.SHIPPED]


def test_a_move_saves_the_status_and_fields_audits_and_runs_side_effects_after_commit(
        django_capture_on_commit_callbacks):
    order = pickup_order()
    seen = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        locked = ORDER.lock(order)
        moved = ORDER.move(locked, S.CANCELLED, fields={"expires_at": None},
                           audit=lambda previous: OrderEvent.objects.create(
                               order=locked, kind="status", at=locked.placed_at,
                               data={"from": previous, "to": "cancelled"}),
                           on_commit=[lambda: seen.append("after commit")])
        assert moved and seen == []  # not before the commit
    assert seen == ["after commit"] and len(callbacks) == 1
    order.refresh_from_db()
    assert order.status == S.CANCELLED and order.expires_at is None
    assert order.events.filter(kind="status", data__from=S.PENDING_PAYMENT).count() == 1


def test_a_refused_move_raises_the_apps_own_error_and_writes_nothing():
    order = pickup_order()
    with pytest.raises(OrderTransitionNotAllowed) as refused, transaction.atomic():
        ORDER.move(ORDER.lock(order), S.COMPLETED)
    assert isinstance(refused.value, TransitionNotAllowed)
    assert refused.value.code == "order_transition_not_allowed" and refused.value.status == 409
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT


def test_a_move_to_where_the_record_is_is_refused_unless_idempotent():
    order = pickup_order()
    with transaction.atomic():
        locked = ORDER.lock(order)
        assert ORDER.move(locked, S.PENDING_PAYMENT, idempotent=True) is False
        with pytest.raises(OrderTransitionNotAllowed):
            ORDER.move(locked, S.PENDING_PAYMENT)


@pytest.mark.django_db(transaction=True)
def test_a_move_outside_the_locking_transaction_is_a_programming_error():
    order = pickup_order()
    with pytest.raises(RuntimeError):
        ORDER.move(order, S.CANCELLED)


def test_every_life_cycle_uses_the_kit():
    for lifecycle in (ORDER, APPOINTMENT, TRANSFER, TICKET):
        first, last = list(lifecycle.table)[0], list(lifecycle.table)[-1]
        assert not lifecycle.allows(last, first)  # a final status goes nowhere
        error = lifecycle.refused(lifecycle.model(status=last), first)
        assert isinstance(error, TransitionNotAllowed) and error.status == 409
