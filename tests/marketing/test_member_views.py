"""What signed-in members viewed: the segments' "viewed" rule against hand-built members,
the fold (signal -> Redis -> fold -> rows), the product page's view reaching the roll-up,
the builder and the bad input."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from catalog.models import Collection, Product
from catalog.signals import product_viewed
from marketing import buffer
from marketing.models import MemberView, Segment
from marketing.services.segments import (
    SegmentInvalid,
    segment_contains,
    segment_count,
    segment_describe,
    segment_queryset,
    segment_rules_clean,
)
from marketing.services.views import member_views_add, member_views_fold, member_views_prune
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.members.factories import StaffFactory, UserFactory

from .factories import NOON, paid_order, profile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_buffer(db):
    buffer.views_pop(100_000)
    yield
    buffer.views_pop(100_000)


def ids(rules, now=NOON):
    return set(segment_queryset(rules, now=now).values_list("pk", flat=True))


def viewed(member, product, *, days_ago=1, views=1):
    at = NOON - timedelta(days=days_ago)
    return MemberView.objects.create(member=member, product=product, first_viewed_at=at,
                                     last_viewed_at=at, views=views)


@pytest.fixture
def pieces():
    rings = CategoryFactory(slug="rings", name="戒指")
    wedding = CategoryFactory(slug="wedding-rings", name="婚戒", parent=rings)
    necklaces = CategoryFactory(slug="necklaces", name="项链")
    limited = Collection.objects.create(name="限量", slug="limited", kind="limited")
    necklace = ProductFactory(category=necklaces, material="pearl")
    necklace.collections.add(limited)
    return {"rings": rings, "wedding": wedding, "necklaces": necklaces, "limited": limited,
            "wedding_ring": ProductFactory(category=wedding, material="platinum"),
            "necklace": necklace}


# --- The rule ----------------------------------------------------------------------------


def test_viewed_a_category_with_its_children_a_collection_or_a_material(pieces):
    ring_viewer, necklace_viewer, nobody = profile(), profile(), profile()
    viewed(ring_viewer, pieces["wedding_ring"])
    viewed(necklace_viewer, pieces["necklace"])
    # the parent category takes in the wedding rings below it
    assert ids({"rule": "viewed", "categories": [pieces["rings"].pk]}) == {ring_viewer.pk}
    assert ids({"rule": "viewed", "categories": [pieces["wedding"].pk]}) == {ring_viewer.pk}
    assert ids({"rule": "viewed", "collections": [pieces["limited"].pk]}) == {
        necklace_viewer.pk}
    assert ids({"rule": "viewed", "materials": ["pearl"]}) == {necklace_viewer.pk}
    assert ids({"rule": "viewed", "materials": ["pearl", "platinum"]}) == {
        ring_viewer.pk, necklace_viewer.pk}
    assert ids({"rule": "viewed", "materials": ["gold"]}) == set()
    assert nobody.pk not in ids({"rule": "viewed", "categories": [pieces["rings"].pk,
                                                                    pieces["necklaces"].pk]})


def test_the_days_window_reads_the_last_view(pieces):
    recent, last_month, long_ago = profile(), profile(), profile()
    viewed(recent, pieces["necklace"], days_ago=2)
    viewed(last_month, pieces["necklace"], days_ago=20)
    viewed(long_ago, pieces["necklace"], days_ago=60)
    rule = {"rule": "viewed", "categories": [pieces["necklaces"].pk]}
    assert ids({**rule, "days": 7}) == {recent.pk}
    assert ids(rule) == {recent.pk, last_month.pk}  # 30 days when none is given
    assert ids({**rule, "days": 90}) == {recent.pk, last_month.pk, long_ago.pk}
    # a later view of the same piece moves the row's last view: the member is back in
    row = MemberView.objects.get(member=long_ago)
    row.last_viewed_at = NOON - timedelta(hours=3)
    row.save()
    assert long_ago.pk in ids({**rule, "days": 1})


def test_viewed_with_not_and_or_and_bought(pieces):
    ring = VariantFactory(product=pieces["wedding_ring"])
    looked_only, looked_and_bought, bought_only, necklace_viewer = (profile() for _ in range(4))
    for person in (looked_only, looked_and_bought):
        viewed(person, pieces["wedding_ring"])
    viewed(necklace_viewer, pieces["necklace"])
    paid_order(looked_and_bought, variant=ring)
    paid_order(bought_only, variant=ring)
    rings = [pieces["rings"].pk]
    # looked at rings and did not buy one: the natural campaign
    assert ids({"all": [{"rule": "viewed", "categories": rings, "days": 30},
                        {"not": {"rule": "bought", "categories": rings}}]}) == {looked_only.pk}
    assert ids({"not": {"rule": "viewed", "categories": rings}}) == {bought_only.pk,
                                                                    necklace_viewer.pk}
    assert ids({"any": [{"rule": "viewed", "materials": ["pearl"]},
                        {"rule": "bought", "categories": rings}]}) == {
        necklace_viewer.pk, looked_and_bought.pk, bought_only.pk}
    segment = Segment.objects.create(name="看过戒指没买", rules={"all": [
        {"rule": "viewed", "categories": rings}, {"not": {"rule": "bought",
                                                          "categories": rings}}]})
    assert segment_count(segment, now=NOON) == 1
    assert segment_contains(segment, looked_only.pk, now=NOON)
    assert not segment_contains(segment, looked_and_bought.pk, now=NOON)


def test_staff_and_closed_accounts_are_left_out_and_the_count_is_one_query(
        pieces, django_assert_num_queries):
    member, closed, staff = profile(), profile(UserFactory(is_active=False)), StaffFactory()
    for person in (member, closed, staff):
        viewed(person, pieces["necklace"])
    rules = {"all": [{"rule": "viewed", "materials": ["pearl"], "days": 14},
                     {"rule": "viewed", "collections": [pieces["limited"].pk]}]}
    with django_assert_num_queries(2):  # the category tree is read once, then the count
        assert segment_count({"all": [*rules["all"], {"rule": "viewed", "categories": [
            pieces["necklaces"].pk]}]}, now=NOON) == 1
    with django_assert_num_queries(1):
        assert segment_count(rules, now=NOON) == 1


def test_the_rule_in_words_in_both_languages(pieces):
    rules = {"rule": "viewed", "categories": [pieces["necklaces"].pk], "materials": ["pearl"],
             "days": 14}
    with translation.override("en"):
        assert segment_describe(rules) == "viewed 项链、pearl in the last 14 days"
        assert segment_describe({"rule": "viewed", "materials": ["gold"]}) == \
            "viewed gold in the last 30 days"
    with translation.override("zh-hans"):
        assert segment_describe(rules) == "最近 14 天内浏览过项链、珍珠"
        assert segment_describe({"all": [rules, {"not": {"rule": "bought", "categories": [
            pieces["necklaces"].pk]}}]}).startswith("最近 14 天内浏览过项链、珍珠 ")


@pytest.mark.parametrize(("rules", "words"), [
    ({"rule": "viewed"}, "Choose a category, a collection or a material."),
    ({"rule": "viewed", "categories": []}, "Choose a category, a collection or a material."),
    ({"rule": "viewed", "categories": ["rings"]}, "Choose at least one category."),
    ({"rule": "viewed", "collections": [True]}, "Choose at least one collection."),
    ({"rule": "viewed", "materials": ["wood"]}, "Unknown material."),
    ({"rule": "viewed", "materials": "gold"}, "Unknown material."),
    ({"rule": "viewed", "materials": [["gold"]]}, "Unknown material."),
    ({"rule": "viewed", "materials": ["gold"], "days": 0}, "Views are kept for 90 days"),
    ({"rule": "viewed", "materials": ["gold"], "days": 91}, "Views are kept for 90 days"),
    ({"rule": "viewed", "materials": ["gold"], "days": "30"}, "Views are kept for 90 days"),
    ({"rule": "viewed", "materials": ["gold"], "days": True}, "Views are kept for 90 days"),
])
def test_bad_viewed_rules_are_refused_in_words(rules, words):
    with translation.override("en"), pytest.raises(SegmentInvalid) as refused:
        segment_rules_clean({"all": [rules]})
    assert words in str(refused.value.message)


def test_the_window_follows_how_long_views_are_kept(settings, pieces):
    settings.MARKETING_VIEWS_DAYS = 180
    assert segment_rules_clean({"rule": "viewed", "materials": ["gold"], "days": 180})
    with translation.override("en"), pytest.raises(SegmentInvalid, match="kept for 180 days"):
        segment_rules_clean({"rule": "viewed", "materials": ["gold"], "days": 181})


# --- The fold ----------------------------------------------------------------------------


def view(product, user=None, session="s"):
    product_viewed.send(sender=Product, product_id=product.pk, user=user, session_key=session,
                        user_agent="Mozilla/5.0")


def rows():
    return {(v.member_id, v.product_id): v.views for v in MemberView.objects.all()}


def test_signal_redis_fold_rows_exact_counts_and_nothing_twice(django_assert_num_queries):
    ring, pearl = ProductFactory(), ProductFactory()
    ann, bob, clerk = UserFactory(), UserFactory(), StaffFactory()
    with django_assert_num_queries(0):  # the page pays one LPUSH, no database write
        for _ in range(3):
            view(ring, ann)
        view(pearl, ann)
        view(ring, bob)
        view(ring)                 # a guest
        view(ring, clerk)          # staff are never in a segment
    assert not MemberView.objects.exists()
    assert buffer.views_waiting() == 5
    assert member_views_fold() == 5
    assert rows() == {(ann.pk, ring.pk): 3, (ann.pk, pearl.pk): 1, (bob.pk, ring.pk): 1}
    assert member_views_fold() == 0  # nothing twice
    assert rows() == {(ann.pk, ring.pk): 3, (ann.pk, pearl.pk): 1, (bob.pk, ring.pk): 1}
    view(ring, ann)
    view(ring, bob)
    view(ring, bob)
    assert member_views_fold() == 3
    assert rows() == {(ann.pk, ring.pk): 4, (ann.pk, pearl.pk): 1, (bob.pk, ring.pk): 3}
    first = MemberView.objects.get(member=ann, product=ring)
    assert first.first_viewed_at < first.last_viewed_at <= timezone.now()


def test_the_fold_takes_batches_and_adds_up_across_them():
    ring = ProductFactory()
    ann = UserFactory()
    for _ in range(30):
        view(ring, ann)
    assert member_views_fold(max_batches=2, batch_size=7) == 14
    assert rows() == {(ann.pk, ring.pk): 14}
    assert member_views_fold(batch_size=7) == 16
    assert rows() == {(ann.pk, ring.pk): 30}


def test_views_of_erased_members_deleted_products_and_old_views_are_dropped():
    ring, gone_piece = ProductFactory(), ProductFactory()
    ann, gone = UserFactory(), UserFactory()
    view(ring, ann)
    view(ring, gone)
    view(gone_piece, ann)
    buffer.view_push(member_id=ann.pk, product_id=ring.pk,
                     at=timezone.now() - timedelta(days=91))  # older than the kept window
    gone.delete()
    gone_piece.delete()
    assert member_views_fold() == 4
    assert rows() == {(ann.pk, ring.pk): 1}


def test_views_written_twice_add_up_and_the_earliest_and_latest_stay():
    ring = ProductFactory()
    ann = UserFactory()
    early, late = NOON - timedelta(days=5), NOON - timedelta(days=1)
    member_views_add(views=[(ann.pk, ring.pk, late, late, 2)])
    member_views_add(views=[(ann.pk, ring.pk, early, early, 1)])
    row = MemberView.objects.get()
    assert (row.views, row.first_viewed_at, row.last_viewed_at) == (3, early, late)


def test_the_nightly_prune_keeps_the_window():
    ring = ProductFactory()
    fresh, stale = UserFactory(), UserFactory()
    viewed(fresh, ring, days_ago=89)
    viewed(stale, ring, days_ago=91)
    assert member_views_prune(now=NOON) == 1
    assert set(MemberView.objects.values_list("member_id", flat=True)) == {fresh.pk}
    assert member_views_prune(now=NOON) == 0


def test_a_redis_that_is_down_never_breaks_the_page(settings, client):
    """The push swallows Redis errors like analytics' does: the page still answers."""
    product = VariantFactory().product
    member = UserFactory()
    client.force_login(member)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    answer = client.post("/recently-viewed/", {"seen": product.pk},
                         HTTP_X_REQUESTED_WITH="fetch")
    assert answer.status_code == 200


# --- From the product page to the roll-up ------------------------------------------------


def visit(client, product):
    """What a browser does on a product page: load it, then (catalog.js) say it was seen."""
    page = client.get(reverse("catalog:product", kwargs={"slug": product.slug}))
    assert page.status_code == 200
    return client.post("/recently-viewed/", {"seen": product.pk}, HTTP_X_REQUESTED_WITH="fetch")


def test_a_member_viewing_a_product_page_is_in_the_segment_after_the_fold(client):
    necklaces = CategoryFactory(slug="necklaces", name="项链")
    necklace = VariantFactory(product=ProductFactory(category=necklaces)).product
    member = profile()
    rules = {"rule": "viewed", "categories": [necklaces.pk], "days": 1}
    assert visit(client, necklace).status_code == 200  # a guest: not kept here
    client.force_login(member)
    assert visit(client, necklace).status_code == 200
    assert visit(client, necklace).status_code == 200
    assert segment_count(rules) == 0  # not before the fold
    assert member_views_fold() == 2
    assert rows() == {(member.pk, necklace.pk): 2}
    assert set(segment_queryset(rules).values_list("pk", flat=True)) == {member.pk}


def test_a_members_views_are_in_their_data_and_go_with_them():
    from members.services.privacy import member_data_export, member_erase

    ring = ProductFactory()
    member = UserFactory()
    view(ring, member)
    member_views_fold()
    exported = member_data_export(member=member)
    assert [(v["product_id"], v["views"]) for v in exported["viewed_products"]] == [(ring.pk, 1)]
    member_erase(member=member, actor=member)
    assert not MemberView.objects.exists()


# --- The builder -------------------------------------------------------------------------


def test_the_builder_offers_viewed_and_saves_it_as_data(marketer_client, pieces):
    member = profile()
    viewed(member, pieces["necklace"], days_ago=0)
    preview = marketer_client.post(reverse("admin:marketing_segment_preview"), {
        "match": "all", "viewed_categories": [pieces["necklaces"].pk], "viewed_days": "7"})
    assert preview.status_code == 200, preview.content
    assert preview.json()["count"] == 1
    response = marketer_client.post(reverse("admin:marketing_segment_add"), {
        "name": "看过项链", "description": "", "match": "all",
        "viewed_categories": [pieces["necklaces"].pk], "viewed_materials": ["pearl"],
        "viewed_days": "7", "spend_days": "365"})
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Segment.objects.get()
    assert saved.rules == {"all": [{"rule": "viewed", "categories": [pieces["necklaces"].pk],
                                    "materials": ["pearl"], "days": 7}]}
    page = marketer_client.get(reverse("admin:marketing_segment_change", args=[saved.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="viewed_days" value="7" min="1" max="90"' in html
    assert f'<option value="{pieces["necklaces"].pk}" selected>' in html
    # a window left empty is 30 days
    marketer_client.post(reverse("admin:marketing_segment_add"), {
        "name": "看过珍珠", "description": "", "match": "all", "viewed_materials": ["pearl"],
        "spend_days": "365"})
    assert Segment.objects.get(name="看过珍珠").rules == {
        "all": [{"rule": "viewed", "materials": ["pearl"], "days": 30}]}


def test_the_builder_refuses_a_window_longer_than_views_are_kept(marketer_client, pieces):
    translation.activate("en")
    preview = marketer_client.post(reverse("admin:marketing_segment_preview"), {
        "match": "all", "viewed_materials": ["pearl"], "viewed_days": "365"})
    assert preview.status_code == 400
    assert "kept for 90 days" in preview.json()["fields"]["viewed_days"][0]
    # the live panel shows the detail only: it names the condition and the reason
    assert preview.json()["detail"].startswith("Viewed in the last ... days: Views are kept for 90")
    response = marketer_client.post(reverse("admin:marketing_segment_add"), {
        "name": "太久", "description": "", "match": "all", "viewed_materials": ["pearl"],
        "viewed_days": "365", "spend_days": "365"})
    assert response.status_code == 400
    assert "90" in response.content.decode()
    assert not Segment.objects.exists()


def test_a_journey_condition_on_a_saved_viewed_segment():
    from journeys.services.engine import segment_has

    necklace = ProductFactory(material="pearl")
    looked, other = profile(), profile()
    MemberView.objects.create(member=looked, product=necklace, first_viewed_at=timezone.now(),
                              last_viewed_at=timezone.now())
    segment = Segment.objects.create(name="看过珍珠", rules={"rule": "viewed",
                                                            "materials": ["pearl"]})
    assert segment_has(segment_id=segment.pk, member_id=looked.pk)
    assert not segment_has(segment_id=segment.pk, member_id=other.pk)


# --- Beat's task and a failed write ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_folds_the_buffer(celery_worker_real):
    import time

    from marketing.tasks import member_views_fold_task

    ring = ProductFactory()
    ann = UserFactory()
    view(ring, ann)
    view(ring, ann)
    member_views_fold_task.delay()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not MemberView.objects.exists():
        time.sleep(0.1)
    assert rows() == {(ann.pk, ring.pk): 2}


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_write_fails_goes_back_and_is_counted_once():
    """A real failure: another connection holds the table, the fold's lock wait times out;
    the batch is back in Redis and the next fold counts it exactly once."""
    import psycopg
    from django.db import OperationalError, connection

    ring = ProductFactory()
    ann, bob = UserFactory(), UserFactory()
    for _ in range(3):
        view(ring, ann)
    view(ring, bob)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params) as other:
        other.execute(f"LOCK TABLE {MemberView._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        try:
            with pytest.raises(OperationalError):
                member_views_fold()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        other.rollback()
    assert buffer.views_waiting() == 4
    assert not MemberView.objects.exists()
    assert member_views_fold() == 4
    assert rows() == {(ann.pk, ring.pk): 3, (bob.pk, ring.pk): 1}
