"""Mobile numbers and birthdays in the members admin: full for store managers and
superusers (members.view_contact), masked for store staff and marketers in lists, change
pages, titles and form fields; staff still find a member by the whole number. The member
page's tier, points, consents and ledger; points adjusted with a note; tiers."""

import re
from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import translation

from members import roles
from members.errors import PointsInvalid
from members.models import MemberProfile, PointsEntry, Tier
from members.services import consent_set, member_profile_ensure, points_adjust
from tests.members.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PHONE, NATIONAL, MASKED = "+8613800138000", "13800138000", "138****8000"


def url(name, *args, query=""):
    with translation.override("en"):
        return reverse(name, args=args or None) + query


def role_user(group):
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def people(db):
    roles.roles_sync(apps)
    member = UserFactory(phone=PHONE, name="", email=None)  # named only by the number
    profile = member_profile_ensure(user=member)
    MemberProfile.objects.filter(pk=profile.pk).update(birthday=date(1990, 5, 17))
    return {
        "member": member, "profile": profile,
        "staff": role_user(roles.STORE_STAFF), "manager": role_user(roles.STORE_MANAGER),
        "marketer": role_user(roles.MARKETER),
        "boss": UserFactory(is_staff=True, is_superuser=True),
    }


def page(client, user, address):
    client.force_login(user)
    response = client.get(address)
    assert response.status_code == 200, address
    return response.text


def shows_number(html):
    return PHONE in html or NATIONAL in html


def shows_birthday(html):
    return bool(re.search(r"1990-05-17|May 17, 1990|1990年5月17日", html))


@pytest.mark.parametrize("who,full", [("staff", False), ("manager", True), ("boss", True)])
def test_user_list_and_page(people, client, who, full):
    member = people["member"]
    for address in (url("admin:members_user_changelist"),
                    url("admin:members_user_change", member.pk),
                    url("admin:members_user_history", member.pk)):
        html = page(client, people[who], address)
        assert shows_number(html) is full, address
        if not full:
            assert MASKED in html


def test_staff_cannot_read_the_number_in_a_form_field(people, client):
    """Even staff allowed to change users (no role has it; a custom grant) get the number
    masked and read-only, and their saves leave it as it was."""
    editor = role_user(roles.STORE_STAFF)
    editor.user_permissions.add(Permission.objects.get(
        content_type__app_label="members", codename="change_user"))
    member = people["member"]
    address = url("admin:members_user_change", member.pk)
    html = page(client, editor, address)
    assert 'name="phone"' not in html and 'name="name"' in html and not shows_number(html)
    response = client.post(address, {
        "email": "", "name": "林小姐", "language": "zh-hans", "is_active": "on",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00", "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "10:00:00"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.name == "林小姐" and member.phone == PHONE
    boss_html = page(client, people["boss"], address)
    assert f'value="{PHONE}"' in boss_html


@pytest.mark.parametrize("who,full", [("staff", False), ("marketer", False),
                                      ("manager", True), ("boss", True)])
def test_member_profile_list_and_page(people, client, who, full):
    for address in (url("admin:members_memberprofile_changelist"),
                    url("admin:members_memberprofile_change", people["profile"].pk),
                    url("admin:members_memberprofile_history", people["profile"].pk)):
        html = page(client, people[who], address)
        assert shows_number(html) is full, address
        if "history" not in address:
            assert shows_birthday(html) is full, address
            assert ("1990-**-**" in html) is (not full), address


def test_staff_edit_a_profile_without_seeing_or_clearing_the_birthday(people, client):
    profile = people["profile"]
    client.force_login(people["staff"])
    html = client.get(url("admin:members_memberprofile_change", profile.pk)).text
    assert 'name="birthday"' not in html and 'name="ring_size"' in html
    response = client.post(url("admin:members_memberprofile_change", profile.pk), {
        "gender": "f", "birthday": "2001-01-01", "anniversary": "", "ring_size": "12",
        "home_store": "", "preferred_categories": []})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.ring_size == "12" and profile.birthday == date(1990, 5, 17)


def test_staff_find_a_member_by_the_whole_number_only(people, client):
    client.force_login(people["staff"])
    listing = url("admin:members_user_changelist")
    for typed in ("138 0013 8000", NATIONAL, "+86 138-0013-8000"):
        html = client.get(listing, {"q": typed}).text
        assert MASKED in html, typed
    partial = client.get(listing, {"q": "1380013"}).text
    assert MASKED not in partial  # a part of a number finds no one: no guessing digit by digit
    profiles = client.get(url("admin:members_memberprofile_changelist"), {"q": NATIONAL}).text
    assert MASKED in profiles


def test_managers_search_by_part_of_a_number(people, client):
    client.force_login(people["manager"])
    html = client.get(url("admin:members_user_changelist"), {"q": "1380013"}).text
    assert PHONE in html


def test_the_profile_list_costs_the_same_for_many_members(people, client,
                                                          django_assert_max_num_queries):
    client.force_login(people["staff"])
    client.get(url("admin:members_memberprofile_changelist"))  # warm the session and perms
    for _ in range(15):
        member_profile_ensure(user=UserFactory())
    with django_assert_max_num_queries(12):
        response = client.get(url("admin:members_memberprofile_changelist"))
    assert response.status_code == 200 and response.text.count("****") >= 16


def test_the_member_page_shows_tier_points_consents_and_ledger(people, client):
    member, profile = people["member"], people["profile"]
    consent_set(member=member, channel="sms", granted=True)
    consent_set(member=member, channel="sms", granted=False)
    points_adjust(member=member, points=120, note="welcome gift", actor=people["boss"])
    html = page(client, people["staff"], url("admin:members_memberprofile_change", profile.pk))
    assert html.count("data-consent=") == 1 and "data-ledger-entry" in html
    assert "welcome gift" in html and "+120" in html
    assert 'data-adjust-points' not in html  # staff cannot change points


def test_points_are_adjusted_with_a_note(people, client):
    profile, boss = people["profile"], people["boss"]
    client.force_login(boss)
    address = url("admin:members_memberprofile_points", profile.pk)
    assert "data-adjust-points" in page(client, boss,
                                        url("admin:members_memberprofile_change", profile.pk))
    missing = client.post(address, {"points": "50", "note": ""})
    assert missing.status_code == 400 and not PointsEntry.objects.exists()
    zero = client.post(address, {"points": "0", "note": "nothing"})
    assert zero.status_code == 400 and not PointsEntry.objects.exists()
    done = client.post(address, {"points": "-30", "note": "goodwill mistake"})
    assert done.status_code == 302
    entry = PointsEntry.objects.get()
    assert (entry.points, entry.kind, entry.note, entry.actor) == (-30, "adjust",
                                                                   "goodwill mistake", boss)
    profile.refresh_from_db()
    assert profile.points_balance == -30


def test_store_staff_cannot_adjust_points_and_managers_can(people, client):
    address = url("admin:members_memberprofile_points", people["profile"].pk)
    client.force_login(people["staff"])
    assert client.post(address, {"points": "1000", "note": "for me"}).status_code == 403
    assert not PointsEntry.objects.exists()
    client.force_login(people["manager"])
    assert client.post(address, {"points": "200", "note": "goodwill"}).status_code == 302
    assert PointsEntry.objects.get().actor == people["manager"]


def test_nobody_adjusts_their_own_points(people):
    manager = people["manager"]
    with pytest.raises(PointsInvalid) as refused:
        points_adjust(member=manager, points=1000, note="for me", actor=manager)
    assert refused.value.code == "own_points" and not PointsEntry.objects.exists()


def test_tiers_are_listed_with_their_members_and_edited_by_superusers(people, client):
    tier = Tier.objects.order_by("min_spend").first()
    html = page(client, people["boss"], url("admin:members_tier_changelist"))
    assert tier.code in html
    response = client.post(url("admin:members_tier_change", tier.pk), {
        "code": tier.code, "name": tier.name, "name_en": tier.name_en,
        "min_spend": str(tier.min_spend), "points_multiplier": "1.25"})
    assert response.status_code == 302
    tier.refresh_from_db()
    assert str(tier.points_multiplier) == "1.25"
    client.force_login(people["staff"])
    assert client.get(url("admin:members_tier_changelist")).status_code == 200  # view only
    refused = client.post(url("admin:members_tier_change", tier.pk), {
        "code": tier.code, "name": tier.name, "name_en": tier.name_en,
        "min_spend": "0", "points_multiplier": "9"})
    assert refused.status_code == 403
    tier.refresh_from_db()
    assert str(tier.points_multiplier) == "1.25"


def test_marketers_see_no_ledger_and_no_link_to_a_user_page_they_cannot_open(people, client):
    profile = people["profile"]
    html = page(client, people["marketer"],
                url("admin:members_memberprofile_change", profile.pk))
    assert url("admin:members_user_change", people["member"].pk) not in html
    assert "ledger-group" not in html and "consents-group" in html
    staff_html = page(client, people["staff"],
                      url("admin:members_memberprofile_change", profile.pk))
    assert url("admin:members_user_change", people["member"].pk) in staff_html
