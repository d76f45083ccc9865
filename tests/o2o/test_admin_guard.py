"""Every admin screen, ours and third parties', filters only by what it offers: a lookup
typed into the URL on any other field (a masked number, a birthday, a pickup code) is a
400 for every role; offered filters and the date hierarchy still work; a masked number is
found whole, never spelled out by its first digits; actions posted with rows that are
not ids are a 400, not a 500."""

from datetime import date

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from members import roles
from members.models import MemberProfile
from members.services import member_profile_ensure
from o2o.admin_kit import OfferedLookupsOnlyMixin
from orders.models import Order
from stores.models import StaffAssignment
from tests.members.factories import StaffFactory, UserFactory
from tests.orders.factories import pickup_order
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


def url(name, *args, query=""):
    with translation.override("en"):
        return reverse(name, args=args or None) + query


def role_user(group, *stores):
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=group))
    for store in stores:
        StaffAssignment.objects.create(user=user, store=store)
    return user


@pytest.fixture
def world(db):
    roles.roles_sync(apps)
    store = StoreFactory(code="guard-a")
    member = UserFactory(phone="+8613800138000", name="", email=None)
    profile = member_profile_ensure(user=member)
    MemberProfile.objects.filter(pk=profile.pk).update(birthday=date(1990, 5, 17))
    order = pickup_order(store=store, paid=True, contact_phone="+8613800138000")
    return {"store": store, "order": order, "profile": profile,
            "clerk": role_user(roles.STORE_STAFF, store),
            "marketer": role_user(roles.MARKETER),
            "boss": UserFactory(is_staff=True, is_superuser=True)}


def test_every_registered_admin_is_guarded():
    assert admin.site._registry
    unguarded = [model._meta.label for model, model_admin in admin.site._registry.items()
                 if not isinstance(model_admin, OfferedLookupsOnlyMixin)]
    assert unguarded == []


def test_no_change_list_filters_by_a_field_it_does_not_offer(client, world):
    """For every model in the admin: a lookup on one of its own text fields that no
    filter offers is refused (Django's default would apply it)."""
    client.force_login(world["boss"])
    checked = 0
    for model, model_admin in admin.site._registry.items():
        offered = model_admin._offered_lookups(_request(world["boss"]))
        field = next((f for f in model._meta.concrete_fields
                      if isinstance(f, models.CharField) and not f.choices
                      and f"{f.name}__startswith" not in offered), None)
        if field is None:
            continue
        try:
            address = url(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist",
                          query=f"?{field.name}__startswith=1")
        except NoReverseMatch:
            continue
        answer = client.get(address)
        if answer.status_code == 302 and "?" not in answer["Location"]:
            continue  # an entry that opens a staff screen, not a list
        assert answer.status_code == 400, (model._meta.label, answer.status_code)
        checked += 1
    assert checked >= 15


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.parametrize("who, name, query", [
    ("clerk", "admin:orders_order_changelist", "?pickup_code__startswith=1"),
    ("clerk", "admin:orders_order_changelist", "?contact_phone__startswith=138"),
    ("clerk", "admin:orders_order_changelist", "?member__phone__startswith=138"),
    ("clerk", "admin:stores_appointment_changelist", "?contact_phone__startswith=138"),
    ("clerk", "admin:members_memberprofile_changelist", "?user__phone__startswith=138"),
    ("marketer", "admin:members_memberprofile_changelist", "?birthday__month=5"),
    ("marketer", "admin:members_memberprofile_changelist", "?birthday__day=17"),
    ("boss", "admin:orders_order_changelist", "?pickup_code__startswith=1"),
])
def test_the_probes_of_the_attack_are_refused(client, world, who, name, query):
    client.force_login(world[who])
    assert client.get(url(name, query=query)).status_code == 400


def test_offered_filters_and_the_date_hierarchy_still_work(client, world):
    client.force_login(world["clerk"])
    for query in ("?status__exact=ready_for_pickup", "?placed_at__year=2026",
                  f"?store__id__exact={world['store'].pk}", "?q=" + world["order"].number):
        answer = client.get(url("admin:orders_order_changelist", query=query))
        assert answer.status_code == 200, query
    client.force_login(world["marketer"])
    assert client.get(url("admin:members_memberprofile_changelist",
                          query="?gender__exact=f")).status_code == 200


def test_a_masked_number_is_found_whole_never_by_its_first_digits(client, world):
    client.force_login(world["clerk"])
    number = world["order"].number
    for prefix in ("138", "1380013", "+86138001380"):
        page = client.get(url("admin:orders_order_changelist", query=f"?q={prefix}")).text
        assert number not in page, prefix
    whole = client.get(url("admin:orders_order_changelist", query="?q=138 0013 8000")).text
    assert number in whole


def test_actions_with_rows_that_are_not_ids_are_a_400(client, world):
    client.force_login(world["boss"])
    address = url("admin:orders_order_changelist")
    for rows in (["abc"], ["1.5"], ["9" * 5000], [""]):
        answer = client.post(address, {"action": "cancel_unpaid", "index": "0",
                                       "_selected_action": rows})
        assert answer.status_code == 400, rows[0][:10]
    answer = client.post(address, {"action": "cancel_unpaid", "index": "x",
                                   "_selected_action": [str(world["order"].pk)]})
    assert answer.status_code == 400
    assert Order.objects.get(pk=world["order"].pk).status == "ready_for_pickup"
