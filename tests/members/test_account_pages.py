"""The member's own pages: overview, profile, address book, points, consents. Signed in
they show and change the member's own data through members.services; anonymous visitors
are sent to sign in; another member's address is a 404; bad input a 400 with nothing
saved; the points page costs the same queries on every page."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from members.models import Address, Consent, MemberProfile, PointsEntry, Tier
from members.services import (
    address_make_default,
    address_save,
    consent_set,
    member_profile_ensure,
    points_adjust,
    points_earn,
)
from tests.catalog.factories import CategoryFactory
from tests.concurrency import race
from tests.stores.factories import StoreFactory, warehouse

from .factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(name, *args, **kwargs):
    """The page's English address (/en/...): tests read its English text."""
    with translation.override("en"):
        return reverse(name, args=args or None, kwargs=kwargs or None)


@pytest.fixture
def member(db):
    user = UserFactory(name="林小姐", phone="+8613800138000")
    member_profile_ensure(user=user)
    return user


ADDRESS = {"recipient": "林小姐", "phone": "138 0013 8000", "province": "上海市",
           "city": "上海市", "district": "静安区", "street": "南京西路 1266 号 8 楼",
           "postcode": "200040"}


# --- Every page: signed in only ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["members:account", "members:profile", "members:addresses",
                                  "members:address_add", "members:points",
                                  "members:consents"])
def test_pages_send_anonymous_visitors_to_sign_in(client, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", ["members:account", "members:profile", "members:addresses",
                                  "members:address_add", "members:points",
                                  "members:consents"])
def test_pages_open_for_a_member_and_are_never_cached(signed_in, name):
    response = signed_in.get(url(name))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_a_post_without_a_login_changes_nothing(client, member):
    response = client.post(url("members:consents"), {"channel": "email", "granted": "1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Consent.objects.exists()


# --- Overview ------------------------------------------------------------------------------------

def test_overview_shows_tier_points_spend_and_what_reaches_the_next_tier(signed_in, member):
    points_earn(member=member, reference="O-1", spend=Decimal("12000.00"), channel="store")
    profile = MemberProfile.objects.get(user=member)
    assert profile.tier.code == "silver"  # 10,000 reached, 50,000 not
    body = signed_in.get(url("members:account")).content.decode()
    assert 'data-tier="silver"' in body and "Silver" in body
    assert f'data-points="{profile.points_balance}"' in body and profile.points_balance > 0
    assert 'data-spend="12000.00"' in body
    assert 'data-next-tier="gold"' in body
    assert "Spend ¥38,000 more within 12 months to reach Gold." in body


def test_overview_in_the_highest_tier_says_so(signed_in, member):
    points_earn(member=member, reference="O-2", spend=Decimal("250000.00"), channel="online")
    body = signed_in.get(url("members:account")).content.decode()
    assert 'data-tier="diamond"' in body and 'data-next-tier=""' in body
    assert "You are in our highest tier." in body


def test_overview_creates_a_missing_profile_in_the_lowest_tier(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(url("members:account")).status_code == 200
    assert MemberProfile.objects.get(user=user).tier == Tier.objects.order_by("min_spend")[0]


def test_overview_offers_to_verify_an_unverified_number_and_not_a_verified_one(
        signed_in, member):
    verify = reverse("account_change_phone")
    body = signed_in.get(url("members:account")).content.decode()
    assert 'data-phone-verified="no"' in body and "data-verify-phone" in body
    assert re.search(rf'href="[^"]*{re.escape(verify.removeprefix("/"))}"', body)
    member.phone_verified = True
    member.save(update_fields=["phone_verified"])
    body = signed_in.get(url("members:account")).content.decode()
    assert 'data-phone-verified="yes"' in body and "data-verify-phone" not in body


def test_account_menu_links_every_member_page(signed_in):
    body = signed_in.get(url("members:account")).content.decode()
    nav = body[body.index('class="manage__nav"'):]
    nav = nav[:nav.index("</nav>")]
    for name in ("members:profile", "members:addresses", "members:points",
                 "members:consents"):
        assert f'href="{url(name)}"' in nav


# --- Profile -------------------------------------------------------------------------------------

def in_days(value):
    """"in 2 days" -> that date (ISO), in the shop's time zone; other values as they are."""
    match = re.fullmatch(r"in (\d+) days", value) if isinstance(value, str) else None
    if match is None:
        return value
    return (timezone.localdate() + timedelta(days=int(match.group(1)))).isoformat()


def profile_data(**overrides):
    data = {"name": "林晓", "gender": "f", "birthday": "1994-06-18",
            "anniversary": "2021-05-20", "ring_size": "12", "home_store": "",
            "preferred_categories": []}
    data.update(overrides)
    return data


def test_profile_saves_every_field(signed_in, member):
    shop = StoreFactory(code="sh-1")
    rings = CategoryFactory(slug="rings", name="戒指", name_en="Rings")
    response = signed_in.post(url("members:profile"), profile_data(
        home_store=shop.pk, preferred_categories=[rings.pk]))
    assert response.status_code == 302
    member.refresh_from_db()
    profile = MemberProfile.objects.get(user=member)
    assert member.name == "林晓"
    assert (profile.gender, profile.birthday, profile.anniversary, profile.ring_size) == (
        "f", date(1994, 6, 18), date(2021, 5, 20), "12")
    assert profile.home_store == shop
    assert list(profile.preferred_categories.all()) == [rings]
    page = signed_in.get(url("members:profile")).content.decode()
    assert 'value="1994-06-18"' in page and 'value="林晓"' in page


def test_profile_offers_only_open_shops_and_top_level_active_categories(signed_in):
    StoreFactory(code="open", name_en="Open shop")
    StoreFactory(code="shut", name_en="Shut shop", is_active=False)
    warehouse(code="wh", name_en="Warehouse")
    top = CategoryFactory(slug="rings", name_en="Rings")
    CategoryFactory(slug="engagement", name_en="Engagement rings", parent=top)
    CategoryFactory(slug="old", name_en="Old things", is_active=False)
    form = signed_in.get(url("members:profile")).context["form"]
    assert [s.code for s in form.fields["home_store"].queryset] == ["open"]
    assert [c.slug for c in form.fields["preferred_categories"].queryset] == ["rings"]


@pytest.mark.parametrize("overrides, field", [
    ({"birthday": "in 2 days"}, "birthday"),
    ({"birthday": "1850-01-01"}, "birthday"),
    ({"birthday": "2024-02-30"}, "birthday"),
    ({"birthday": "next tuesday"}, "birthday"),
    ({"anniversary": "in 30 days"}, "anniversary"),
    ({"birthday": "1994-06-18", "anniversary": "1990-01-01"}, "anniversary"),
    ({"ring_size": "99"}, "ring_size"),
    ({"gender": "x"}, "gender"),
    ({"name": "林" * 101}, "name"),
])
def test_bad_profile_input_is_a_400_and_nothing_is_saved(signed_in, member, overrides, field):
    overrides = {name: in_days(value) for name, value in overrides.items()}
    before = MemberProfile.objects.get(user=member)
    response = signed_in.post(url("members:profile"), profile_data(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    member.refresh_from_db()
    after = MemberProfile.objects.get(user=member)
    assert member.name == "林小姐"  # the valid fields of the same post were not saved either
    assert (after.gender, after.birthday, after.anniversary, after.ring_size) == (
        before.gender, before.birthday, before.anniversary, before.ring_size)


def test_a_closed_store_or_a_subcategory_is_refused(signed_in, member):
    shut = StoreFactory(code="shut", is_active=False)
    top = CategoryFactory(slug="rings")
    sub = CategoryFactory(slug="engagement", parent=top)
    response = signed_in.post(url("members:profile"), profile_data(
        home_store=shut.pk, preferred_categories=[sub.pk]))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "home_store" in errors and "preferred_categories" in errors
    profile = MemberProfile.objects.get(user=member)
    assert profile.home_store is None and not profile.preferred_categories.exists()
    assert profile.birthday is None


def test_an_error_message_says_what_is_wrong(signed_in):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    body = signed_in.post(url("members:profile"),
                          profile_data(birthday=tomorrow)).content.decode()
    assert "This date is in the future." in body


# --- Address book --------------------------------------------------------------------------------

def test_the_first_address_becomes_the_default_and_the_next_does_not(signed_in, member):
    assert signed_in.post(url("members:address_add"), ADDRESS).status_code == 302
    second = dict(ADDRESS, recipient="林先生", street="淮海中路 99 号")
    assert signed_in.post(url("members:address_add"), second).status_code == 302
    book = {a.recipient: a for a in Address.objects.filter(member=member)}
    assert book["林小姐"].is_default and not book["林先生"].is_default
    assert book["林小姐"].phone == "+8613800138000"  # normalised like at checkout
    body = signed_in.get(url("members:addresses")).content.decode()
    assert "南京西路 1266 号 8 楼" in body and "淮海中路 99 号" in body


def test_make_default_moves_the_one_default(signed_in, member):
    first = address_save(member=member, data=ADDRESS)
    second = address_save(member=member, data=dict(ADDRESS, recipient="林先生"))
    response = signed_in.post(url("members:address_default", second.pk))
    assert response.status_code == 302
    assert list(Address.objects.filter(member=member, is_default=True)) == [second]
    first.refresh_from_db()
    assert not first.is_default


def test_saving_with_make_default_takes_the_default(signed_in, member):
    first = address_save(member=member, data=ADDRESS)
    response = signed_in.post(url("members:address_add"),
                              dict(ADDRESS, recipient="林先生", make_default="on"))
    assert response.status_code == 302
    default = Address.objects.get(member=member, is_default=True)
    assert default.recipient == "林先生" and default.pk != first.pk


def test_editing_changes_the_address_and_keeps_the_default(signed_in, member):
    address = address_save(member=member, data=ADDRESS)
    response = signed_in.post(url("members:address_edit", address.pk),
                              dict(ADDRESS, street="南京西路 1 号"))
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.street == "南京西路 1 号" and address.is_default
    assert Address.objects.filter(member=member).count() == 1


def test_deleting_the_default_hands_it_to_the_newest_other(signed_in, member):
    first = address_save(member=member, data=ADDRESS)
    address_save(member=member, data=dict(ADDRESS, recipient="旧"))
    newest = address_save(member=member, data=dict(ADDRESS, recipient="新"))
    assert signed_in.post(url("members:address_delete", first.pk)).status_code == 302
    assert not Address.objects.filter(pk=first.pk).exists()
    assert list(Address.objects.filter(member=member, is_default=True)) == [newest]


@pytest.mark.parametrize("overrides, field", [
    ({"postcode": "2000"}, "postcode"),
    ({"phone": "12345"}, "phone"),
    ({"recipient": ""}, "recipient"),
    ({"street": "x" * 201}, "street"),
])
def test_a_bad_address_is_a_400_with_the_checkout_rules_and_nothing_saved(
        signed_in, member, overrides, field):
    response = signed_in.post(url("members:address_add"), dict(ADDRESS, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Address.objects.exists()


def test_a_bad_edit_leaves_the_address_as_it_was(signed_in, member):
    address = address_save(member=member, data=ADDRESS)
    response = signed_in.post(url("members:address_edit", address.pk),
                              dict(ADDRESS, street="新地址", postcode="abc"))
    assert response.status_code == 400
    address.refresh_from_db()
    assert address.street == ADDRESS["street"]


def test_another_members_address_is_a_404_everywhere(signed_in, member):
    other = UserFactory()
    theirs = address_save(member=other, data=dict(ADDRESS, recipient="别人"))
    assert signed_in.get(url("members:address_edit", theirs.pk)).status_code == 404
    assert signed_in.post(url("members:address_edit", theirs.pk),
                          dict(ADDRESS, street="改了")).status_code == 404
    assert signed_in.post(url("members:address_delete", theirs.pk)).status_code == 404
    assert signed_in.post(url("members:address_default", theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.recipient == "别人" and theirs.street == ADDRESS["street"]
    assert theirs.is_default
    assert "别人" not in signed_in.get(url("members:addresses")).content.decode()


def test_delete_and_default_are_posts_only(signed_in, member):
    address = address_save(member=member, data=ADDRESS)
    assert signed_in.get(url("members:address_delete", address.pk)).status_code == 405
    assert signed_in.get(url("members:address_default", address.pk)).status_code == 405
    assert Address.objects.filter(pk=address.pk).exists()


# --- Points --------------------------------------------------------------------------------------

def test_points_page_lists_the_ledger_newest_first_twenty_a_page(signed_in, member):
    staff = StaffFactory()
    for i in range(45):
        points_adjust(member=member, points=i + 1, note=f"entry {i + 1}", actor=staff)
    page1 = signed_in.get(url("members:points"))
    entries = list(page1.context["entries"])
    assert len(entries) == 20
    assert [e.note for e in entries[:2]] == ["entry 45", "entry 44"]
    body = page1.content.decode()
    assert 'data-points="1035"' in body  # 1 + 2 + ... + 45
    assert "Page 1 of 3" in body
    page3 = signed_in.get(url("members:points") + "?page=3")
    assert [e.note for e in page3.context["entries"]] == [f"entry {i}" for i in range(5, 0, -1)]
    # A page beyond the last, or not a number: the last / first page, not an error.
    assert signed_in.get(url("members:points") + "?page=99").status_code == 200
    assert signed_in.get(url("members:points") + "?page=x").status_code == 200


def test_points_page_shows_only_the_members_own_entries(signed_in, member):
    staff = StaffFactory()
    other = UserFactory()
    points_adjust(member=other, points=500, note="someone else's", actor=staff)
    points_earn(member=member, reference="O-77", spend=Decimal("300.00"), channel="online")
    body = signed_in.get(url("members:points")).content.decode()
    assert "someone else&#x27;s" not in body and "someone else's" not in body
    assert "Order O-77" in body and "+300" in body


def test_points_page_costs_the_same_queries_on_every_page(
        signed_in, member, django_assert_num_queries):
    staff = StaffFactory()
    for i in range(45):
        points_adjust(member=member, points=1, note=f"n{i}", actor=staff)
    signed_in.get(url("members:points"))  # the session is warm
    with django_assert_num_queries(6) as first:
        signed_in.get(url("members:points"))
    with django_assert_num_queries(len(first.captured_queries)):
        signed_in.get(url("members:points") + "?page=3")
    assert PointsEntry.objects.filter(member=member).count() == 45


# --- Consents ------------------------------------------------------------------------------------

def test_consents_page_grants_and_withdraws_with_the_history(signed_in, member):
    body = signed_in.get(url("members:consents")).content.decode()
    assert 'data-consent="email" data-granted="no"' in body
    assert "Without your yes we send you no offers at all" in body
    assert signed_in.post(url("members:consents"),
                          {"channel": "email", "granted": "1"}).status_code == 302
    consent = Consent.objects.get(member=member, channel="email")
    assert consent.withdrawn_at is None and consent.source == "online"
    assert consent.recorded_by == member
    body = signed_in.get(url("members:consents")).content.decode()
    assert 'data-consent="email" data-granted="yes"' in body
    assert 'data-consent="sms" data-granted="no"' in body

    assert signed_in.post(url("members:consents"),
                          {"channel": "email", "granted": "0"}).status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    signed_in.post(url("members:consents"), {"channel": "email", "granted": "1"})
    rows = list(Consent.objects.filter(member=member, channel="email").order_by("granted_at"))
    assert len(rows) == 2 and rows[0].withdrawn_at and rows[1].withdrawn_at is None
    history = signed_in.get(url("members:consents")).context["channels"][0]["history"]
    assert [r.pk for r in history] == [rows[1].pk, rows[0].pk]


def test_a_consent_given_in_store_shows_the_store(signed_in, member):
    shop = StoreFactory(code="sh-9", name_en="Nanjing Road")
    consent_set(member=member, channel="sms", granted=True, source="store", store=shop,
                actor=StaffFactory())
    body = signed_in.get(url("members:consents")).content.decode()
    assert 'data-consent="sms" data-granted="yes"' in body and "Nanjing Road" in body


@pytest.mark.parametrize("data", [{"channel": "fax", "granted": "1"},
                                  {"channel": "email", "granted": "maybe"}, {}])
def test_bad_consent_input_is_a_400_and_changes_nothing(signed_in, member, data):
    assert signed_in.post(url("members:consents"), data).status_code == 400
    assert not Consent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_first_addresses_and_default_changes_leave_exactly_one_default():
    """Eight racers add addresses to an empty book and make them the default at once: the
    book's lock serialises them, every write lands, one default remains."""
    member = UserFactory()

    def add(i):
        return address_save(member=member, data=dict(ADDRESS, recipient=f"收件人{i}"),
                            make_default=i % 2 == 0)

    saved, errors = race(8, add)
    assert errors == [] and len(saved) == 8
    assert Address.objects.filter(member=member).count() == 8
    assert Address.objects.filter(member=member, is_default=True).count() == 1

    book = list(Address.objects.filter(member=member))
    done, errors = race(8, lambda i: address_make_default(member=member, address=book[i]))
    assert errors == [] and len(done) == 8
    assert Address.objects.filter(member=member, is_default=True).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/en/accounts/signup/", "/en/accounts/login/"])
def test_the_sign_up_page_promises_only_what_the_shop_does(client, path):
    # No birthday or anniversary gift for every member until the journeys send them.
    page = client.get(path).content.decode().lower()
    assert "anniversary" not in page and "birthday" not in page
    assert "coupons in one wallet" in page
