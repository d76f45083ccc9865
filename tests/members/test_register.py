"""A member registered at the counter: new or found by phone, consents as stated with the
store and the clerk, bad numbers and foreign stores refused with nothing written, two
clerks registering one number at once make one member; the admin screen."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connections
from django.urls import reverse
from django.utils import translation

from members import roles
from members.models import Consent, MemberProfile, Tier, User
from members.services import consent_set, member_register
from members.services.register import NotYourStore, RegistrationInvalid
from tests.concurrency import race
from tests.fixtures import staff_of
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory


def url(name, *args):
    with translation.override("en"):
        return reverse(name, args=args or None)


@pytest.fixture
def shop(db):
    roles.roles_sync(apps)
    store, other = StoreFactory(code="reg-a"), StoreFactory(code="reg-b")
    return {"store": store, "other": other, "clerk": staff_of(store),
            "clerk_b": staff_of(other), "lowest": Tier.objects.order_by("min_spend").first()}


def test_a_new_member_is_registered_in_store_by_the_clerk(shop):
    member, created = member_register(phone="138 0013 8000", name=" 林小姐 ",
                                      consents={"sms": True, "email": False},
                                      store=shop["store"], actor=shop["clerk"])
    assert created is True
    member.refresh_from_db()
    assert member.phone == "+8613800138000" and member.name == "林小姐"
    assert member.email is None and not member.has_usable_password()
    profile = MemberProfile.objects.get(user=member)
    assert profile.registered_channel == "store"
    assert profile.registered_store == shop["store"] and profile.registered_by == shop["clerk"]
    assert shop["lowest"] is not None and profile.tier == shop["lowest"]
    sms = Consent.objects.get(member=member)  # "no" to email records nothing for a new member
    assert (sms.channel, sms.source, sms.store, sms.recorded_by, sms.withdrawn_at) == (
        "sms", "store", shop["store"], shop["clerk"], None)


def test_an_existing_member_is_found_and_only_the_stated_consents_change(shop):
    member = UserFactory(phone="+8613800138000", name="王女士")
    consent_set(member=member, channel="email", granted=True)
    consent_set(member=member, channel="sms", granted=True)
    again, created = member_register(phone="+86 138-0013-8000", name="Someone else",
                                     consents={"sms": False}, store=shop["store"],
                                     actor=shop["clerk"])
    assert again.pk == member.pk and created is False
    assert User.objects.filter(phone="+8613800138000").count() == 1
    member.refresh_from_db()
    assert member.name == "王女士"  # an existing name is never replaced
    email = Consent.objects.get(member=member, channel="email")
    assert email.withdrawn_at is None and email.source == "online"  # not stated: untouched
    sms = Consent.objects.get(member=member, channel="sms")
    assert sms.withdrawn_at is not None
    assert MemberProfile.objects.filter(user=member).count() == 1


def test_a_name_fills_an_existing_member_without_one(shop):
    member = UserFactory(phone="+8613800138001", name="")
    _same, created = member_register(phone="13800138001", name="赵先生", store=shop["store"],
                                     actor=shop["clerk"])
    member.refresh_from_db()
    assert created is False and member.name == "赵先生"


@pytest.mark.parametrize("phone", ["12345", "", "not a number", "+86 000 0000 0000"])
def test_a_bad_phone_is_refused_and_nothing_is_written(shop, phone):
    users, consents = User.objects.count(), Consent.objects.count()
    with pytest.raises(RegistrationInvalid) as caught:
        member_register(phone=phone, consents={"sms": True}, store=shop["store"],
                        actor=shop["clerk"])
    assert caught.value.code == "bad_phone" and caught.value.status == 400
    assert User.objects.count() == users and Consent.objects.count() == consents


def test_an_unknown_consent_channel_is_refused(shop):
    with pytest.raises(RegistrationInvalid) as caught:
        member_register(phone="13800138000", consents={"fax": True}, store=shop["store"],
                        actor=shop["clerk"])
    assert caught.value.code == "bad_consent"
    assert not User.objects.filter(phone="+8613800138000").exists()


def test_a_clerk_of_another_store_is_refused(shop):
    with pytest.raises(NotYourStore) as caught:
        member_register(phone="13800138000", store=shop["store"], actor=shop["clerk_b"])
    assert caught.value.status == 403 and caught.value.code == "not_your_store"
    assert not User.objects.filter(phone="+8613800138000").exists()


def test_a_shopper_is_no_clerk(shop):
    shopper = UserFactory()
    with pytest.raises(NotYourStore):
        member_register(phone="13800138000", store=shop["store"], actor=shopper)


def test_a_superuser_registers_at_any_store(shop):
    boss = UserFactory(is_staff=True, is_superuser=True)
    member, created = member_register(phone="13800138000", store=shop["other"], actor=boss)
    assert created and member.profile.registered_store == shop["other"]


@pytest.mark.django_db(transaction=True)
def test_two_clerks_registering_one_number_at_once_make_one_member():
    roles.roles_sync(apps)
    store = StoreFactory(code="reg-race")
    clerks = [staff_of(store) for _ in range(4)]

    def work(i):
        try:
            member, created = member_register(
                phone="13900139000", name=f"Clerk {i}'s shopper",
                consents={"sms": True}, store=store, actor=User.objects.get(pk=clerks[i].pk))
            return member.pk, created
        finally:
            connections.close_all()

    results, errors = race(4, work)
    assert errors == []
    assert len({pk for pk, _created in results}) == 1
    assert sorted(created for _pk, created in results) == [False, False, False, True]
    member = User.objects.get(phone="+8613900139000")
    assert MemberProfile.objects.filter(user=member).count() == 1
    assert Consent.objects.filter(member=member, channel="sms", withdrawn_at__isnull=True
                                  ).count() == 1


# --- The admin screen -------------------------------------------------------------------


def test_the_register_screen_is_on_the_admin_index_for_store_staff(shop, client):
    client.force_login(shop["clerk"])
    index = client.get(url("admin:index"))
    assert url("admin:members_memberregistration_changelist") in index.text
    entry = client.get(url("admin:members_memberregistration_changelist"))
    assert entry.status_code == 302 and entry["Location"] == url(
        "admin:members_memberprofile_register")


def test_a_clerk_registers_a_member_on_the_screen(shop, client):
    client.force_login(shop["clerk"])
    page = client.get(url("admin:members_memberprofile_register"))
    assert page.status_code == 200
    assert f'<option value="{shop["store"].pk}"' in page.text
    assert f'<option value="{shop["other"].pk}"' not in page.text  # only the clerk's stores
    response = client.post(url("admin:members_memberprofile_register"), {
        "store": shop["store"].pk, "phone": "138 0013 8000", "name": "林小姐",
        "email_consent": "no", "sms_consent": "yes"})
    assert response.status_code == 200
    member = User.objects.get(phone="+8613800138000")
    assert "138****8000" in response.text and "13800138000" not in response.text
    assert 'data-created="1"' in response.text
    assert url("admin:orders_order_counter") in response.text
    assert list(Consent.objects.filter(member=member).values_list(
        "channel", "store", "recorded_by")) == [("sms", shop["store"].pk, shop["clerk"].pk)]
    again = client.post(url("admin:members_memberprofile_register"), {
        "store": shop["store"].pk, "phone": "13800138000", "name": ""})
    assert again.status_code == 200 and 'data-created="0"' in again.text
    assert User.objects.filter(phone="+8613800138000").count() == 1


def test_the_screen_refuses_a_bad_phone_and_another_store(shop, client):
    client.force_login(shop["clerk"])
    bad = client.post(url("admin:members_memberprofile_register"), {
        "store": shop["store"].pk, "phone": "12345"})
    assert bad.status_code == 400
    assert "Enter a valid mobile number" in bad.text
    foreign = client.post(url("admin:members_memberprofile_register"), {
        "store": shop["other"].pk, "phone": "13800138000"})
    assert foreign.status_code == 400  # not one of the choices
    assert not User.objects.filter(phone="+8613800138000").exists()


def test_the_screen_needs_add_user(shop, client):
    marketer = StaffFactory()
    marketer.groups.add(Group.objects.get(name=roles.MARKETER))
    client.force_login(marketer)
    assert client.get(url("admin:members_memberprofile_register")).status_code == 403
    index = client.get(url("admin:index"))
    assert url("admin:members_memberregistration_changelist") not in index.text
