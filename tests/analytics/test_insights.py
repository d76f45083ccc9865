"""Product views flow through the Redis buffer into events; insights come from the loop."""

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import buffer
from analytics.models import Event
from analytics.services import events_flush, product_insights_refresh
from analytics.tasks import events_flush_task
from catalog.models import AffinityKind, Product, ProductAffinity
from catalog.signals import product_viewed
from orders.services import order_create_historical
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory


@pytest.fixture(autouse=True)
def _empty_buffer(db):
    buffer.events_pop(100_000)
    yield
    buffer.events_pop(100_000)


def view(product, *, session="s1", user=None):
    product_viewed.send(sender=Product, product_id=product.id, user=user, session_key=session)


@pytest.mark.django_db
def test_a_view_costs_a_push_and_lands_in_the_table_on_flush(django_assert_num_queries):
    product = ProductFactory()
    with django_assert_num_queries(0):
        view(product)
    assert not Event.objects.exists()
    assert events_flush() == 1
    event = Event.objects.get()
    assert (event.kind, event.product_id, event.session_key) == ("product.viewed", product.id, "s1")
    assert events_flush() == 0  # nothing twice


@pytest.mark.django_db
def test_a_failed_insert_puts_the_batch_back(monkeypatch):
    product = ProductFactory()
    view(product)
    monkeypatch.setattr(Event.objects, "bulk_create",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db down")))
    with pytest.raises(RuntimeError):
        events_flush()
    monkeypatch.undo()
    assert events_flush() == 1


@pytest.mark.django_db
def test_viewed_and_bought_together_and_popularity():
    ring, chain, pearl, lonely = (ProductFactory() for _ in range(4))
    for product in (ring, chain, pearl, lonely):
        VariantFactory(product=product, list_price=Decimal("1000"))
    for session in ("a", "b", "c"):
        view(ring, session=session)
        view(chain, session=session)
    view(pearl, session="a")
    events_flush()
    store = StoreFactory()
    member = UserFactory()
    for _ in range(2):
        order_create_historical(
            channel="store", fulfilment="counter", status="completed", member=member,
            store=store, staff=None, payment_provider="cash", placed_at=timezone.now(),
            lines=[(ring.variants.get(), 1), (pearl.variants.get(), 1)])

    result = product_insights_refresh()

    viewed = {(a.product_id, a.other_id): a.score
              for a in ProductAffinity.objects.filter(kind=AffinityKind.VIEWED)}
    assert viewed[(ring.id, chain.id)] == 3
    assert viewed[(chain.id, ring.id)] == 3
    assert viewed[(ring.id, pearl.id)] == 1
    assert not any(lonely.id in pair for pair in viewed)
    bought = {(a.product_id, a.other_id): a.score
              for a in ProductAffinity.objects.filter(kind=AffinityKind.BOUGHT)}
    assert bought == {(ring.id, pearl.id): 2, (pearl.id, ring.id): 2}
    popularity = dict(Product.objects.values_list("id", "popularity"))
    # ring: 3 views + 5 x 2 sold; chain: 3 views; pearl: 1 view + 5 x 2 sold
    assert popularity == {ring.id: 13, chain.id: 3, pearl.id: 11, lonely.id: 0}
    assert result == {"viewed_pairs": 6, "bought_pairs": 2, "popular": 3}
    product_insights_refresh()  # twice: same answer, no duplicates
    assert ProductAffinity.objects.count() == 8


def test_views_of_a_deleted_product_do_not_stop_the_nightly_job():
    ring, gone = ProductFactory(), ProductFactory()
    for session in ("a", "b"):
        view(ring, session=session)
        view(gone, session=session)
    events_flush()
    gone.delete()  # the events keep its id; it has no row any more
    result = product_insights_refresh()
    assert result["viewed_pairs"] == 0
    assert not ProductAffinity.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_flushes_the_buffer(celery_worker_real):
    product = ProductFactory()
    view(product)
    events_flush_task.delay()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not Event.objects.exists():
        time.sleep(0.1)
    assert Event.objects.filter(kind="product.viewed", product_id=product.id).count() == 1


@pytest.mark.django_db
def test_events_of_a_member_who_erased_their_account_still_flush():
    from tests.members.factories import UserFactory

    product = ProductFactory()
    member = UserFactory()
    view(product, user=member)
    member.delete()  # erased while the event waited in Redis
    assert events_flush() == 1
    event = Event.objects.get()
    # Kept without the person: no member, and no session key that ties their rows together.
    assert (event.user_id, event.session_key, event.product_id) == (None, "", product.id)
