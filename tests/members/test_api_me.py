"""/api/v1/me/ and /api/v1/me/points/: the member's details, profile, tier, points and
consents; PATCH through the same services as the pages (400 with the fields, nothing
saved); the ledger paginated; fixed query counts; documented in the OpenAPI schema."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import Consent, MemberProfile
from members.services import consent_set, member_profile_ensure, points_adjust, points_earn
from tests.catalog.factories import CategoryFactory
from tests.stores.factories import StoreFactory

from .factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
POINTS = "/api/v1/me/points/"


@pytest.fixture
def member(db):
    user = UserFactory(name="林小姐", phone="+8613800138000", email="lin@example.com")
    member_profile_ensure(user=user)
    return user


@pytest.fixture
def api(member):
    client = APIClient()
    client.force_authenticate(member)
    return client


def test_me_needs_a_login():
    client = APIClient()
    assert client.get(ME).status_code == 403
    assert client.patch(ME, {"name": "x"}, format="json").status_code == 403
    assert client.get(POINTS).status_code == 403


def test_me_shows_details_profile_tier_points_and_consents(api, member):
    shop = StoreFactory(code="sh-nj")
    rings = CategoryFactory(slug="rings")
    profile = MemberProfile.objects.get(user=member)
    profile.gender, profile.birthday, profile.ring_size = "f", date(1994, 6, 18), "12"
    profile.home_store = shop
    profile.save()
    profile.preferred_categories.set([rings])
    points_earn(member=member, reference="O-1", spend=Decimal("12000.00"), channel="store")
    granted = consent_set(member=member, channel="email", granted=True)
    consent_set(member=member, channel="sms", granted=True)
    withdrawn = consent_set(member=member, channel="sms", granted=False)

    body = api.get(ME).json()
    assert body["name"] == "林小姐" and body["phone"] == "+8613800138000"
    assert body["email"] == "lin@example.com" and body["phone_verified"] is False
    assert body["profile"] == {"gender": "f", "birthday": "1994-06-18", "anniversary": None,
                               "ring_size": "12", "home_store": "sh-nj",
                               "preferred_categories": ["rings"]}
    assert body["tier"]["code"] == "silver" and body["tier"]["multiplier"] == "1.20"
    assert body["tier"]["name"]
    points = body["points"]
    assert points["balance"] == MemberProfile.objects.get(user=member).points_balance > 0
    assert points["spend_12m"] == "12000.00"
    assert points["next_tier"]["code"] == "gold" and points["next_tier"]["min_spend"] == "50000.00"
    assert points["spend_to_next_tier"] == "38000.00"
    email, text = body["consents"]["email"], body["consents"]["sms"]
    assert email["granted"] is True and email["withdrawn_at"] is None
    assert email["granted_at"][:19] == timezone.localtime(granted.granted_at).isoformat()[:19]
    assert text["granted"] is False and text["withdrawn_at"] is not None
    assert text["withdrawn_at"][:19] == timezone.localtime(withdrawn.withdrawn_at).isoformat()[:19]


def test_me_for_a_member_with_nothing_yet(api):
    body = api.get(ME).json()
    assert body["profile"]["home_store"] is None and body["profile"]["preferred_categories"] == []
    assert body["tier"]["code"] == "classic" and body["points"]["balance"] == 0
    assert body["points"]["next_tier"]["code"] == "silver"
    assert body["points"]["spend_to_next_tier"] == "10000.00"
    assert body["consents"] == {
        "email": {"granted": False, "granted_at": None, "withdrawn_at": None},
        "sms": {"granted": False, "granted_at": None, "withdrawn_at": None}}


def test_patch_changes_the_profile_and_consents(api, member):
    shop = StoreFactory(code="sh-nj")
    CategoryFactory(slug="rings")
    CategoryFactory(slug="necklaces", name="项链", name_en="Necklaces")
    response = api.patch(ME, {
        "name": "林晓",
        "profile": {"gender": "f", "birthday": "1994-06-18", "anniversary": "2021-05-20",
                    "ring_size": "13", "home_store": "sh-nj",
                    "preferred_categories": ["rings", "necklaces"]},
        "consents": {"email": {"granted": True}, "sms": {"granted": False}},
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "林晓"
    assert body["profile"]["ring_size"] == "13" and body["profile"]["home_store"] == "sh-nj"
    assert sorted(body["profile"]["preferred_categories"]) == ["necklaces", "rings"]
    assert body["consents"]["email"]["granted"] is True
    profile = MemberProfile.objects.get(user=member)
    assert profile.anniversary == date(2021, 5, 20) and profile.home_store == shop
    consent = Consent.objects.get(member=member, channel="email")
    assert consent.source == "online" and consent.withdrawn_at is None
    assert not Consent.objects.filter(member=member, channel="sms").exists()


def test_patch_leaves_what_is_not_given(api, member):
    api.patch(ME, {"profile": {"birthday": "1994-06-18", "ring_size": "12"}}, format="json")
    response = api.patch(ME, {"profile": {"ring_size": "14"}}, format="json")
    assert response.status_code == 200
    profile = MemberProfile.objects.get(user=member)
    assert profile.birthday == date(1994, 6, 18) and profile.ring_size == "14"
    member.refresh_from_db()
    assert member.name == "林小姐"


def test_patch_withdraws_a_consent_with_the_time(api, member):
    consent_set(member=member, channel="sms", granted=True)
    body = api.patch(ME, {"consents": {"sms": {"granted": False}}}, format="json").json()
    assert body["consents"]["sms"]["granted"] is False
    assert body["consents"]["sms"]["withdrawn_at"] is not None
    assert Consent.objects.get(member=member, channel="sms").withdrawn_at is not None


@pytest.mark.parametrize("payload, path", [
    ({"profile": {"birthday": "tomorrow"}}, ("profile", "birthday")),
    ({"profile": {"birthday": "2024-02-30"}}, ("profile", "birthday")),
    ({"profile": {"birthday": "1994-06-18", "anniversary": "1980-01-01"}},
     ("profile", "anniversary")),
    ({"profile": {"ring_size": "99"}}, ("profile", "ring_size")),
    ({"profile": {"gender": "x"}}, ("profile", "gender")),
    ({"profile": {"home_store": "nowhere"}}, ("profile", "home_store")),
    ({"profile": {"preferred_categories": ["nothing"]}}, ("profile", "preferred_categories")),
    ({"name": "林" * 101}, ("name",)),
    ({"consents": {"email": {"granted": "perhaps"}}}, ("consents", "email")),
    ({"consents": {"email": True}}, ("consents", "email")),
])
def test_bad_input_is_a_400_with_the_field_and_nothing_saved(api, member, payload, path):
    if payload.get("profile", {}).get("birthday") == "tomorrow":
        tomorrow = timezone.localdate() + timedelta(days=1)
        payload = {"profile": {"birthday": tomorrow.isoformat()}}
    full = {"name": "新名字", "consents": {"sms": {"granted": True}}}
    full.update(payload)
    if "profile" in payload:
        full["profile"] = dict({"ring_size": "15"}, **payload["profile"])
    response = api.patch(ME, full, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "profile_invalid" and body["detail"]
    problems = body["fields"]
    for key in path:
        problems = problems[key]
    assert problems
    member.refresh_from_db()
    assert member.name == "林小姐"
    profile = MemberProfile.objects.get(user=member)
    assert profile.ring_size == "" and profile.birthday is None
    assert not Consent.objects.exists()


def test_a_closed_store_is_refused(api, member):
    StoreFactory(code="shut", is_active=False)
    response = api.patch(ME, {"profile": {"home_store": "shut"}}, format="json")
    assert response.status_code == 400
    assert "shut" in response.json()["fields"]["profile"]["home_store"][0]


def test_email_and_phone_are_not_changed_through_me(api, member):
    api.patch(ME, {"email": "x@example.com", "phone": "+8613900000000",
                   "phone_verified": True}, format="json")
    member.refresh_from_db()
    assert member.email == "lin@example.com" and member.phone == "+8613800138000"
    assert not member.phone_verified


def test_me_costs_the_same_queries_whatever_the_member_holds(
        api, member, django_assert_num_queries):
    with django_assert_num_queries(4) as bare:  # profile+tier+store, next tier, categories, consents
        api.get(ME)
    for slug in ("rings", "necklaces", "bracelets"):
        CategoryFactory(slug=slug)
    MemberProfile.objects.get(user=member).preferred_categories.set(
        CategoryFactory._meta.model.objects.all())
    for _ in range(3):
        consent_set(member=member, channel="email", granted=True)
        consent_set(member=member, channel="email", granted=False)
    consent_set(member=member, channel="sms", granted=True)
    points_earn(member=member, reference="O-5", spend=Decimal("999.00"), channel="online")
    with django_assert_num_queries(len(bare.captured_queries)):
        body = api.get(ME).json()
    assert len(body["profile"]["preferred_categories"]) == 3


def test_points_ledger_is_paginated_newest_first(api, member, django_assert_num_queries):
    staff = StaffFactory()
    for i in range(45):
        points_adjust(member=member, points=i + 1, note=f"entry {i + 1}", actor=staff)
    points_adjust(member=UserFactory(), points=7, note="someone else", actor=staff)
    with django_assert_num_queries(2) as first:
        body = api.get(POINTS).json()
    assert body["count"] == 45 and len(body["results"]) == 20
    assert body["results"][0]["note"] == "entry 45" and body["results"][0]["points"] == 45
    assert body["results"][0]["kind"] == "adjust" and body["results"][0]["kind_display"]
    assert body["next"] and body["previous"] is None
    with django_assert_num_queries(len(first.captured_queries)):
        last = api.get(POINTS + "?page=3").json()
    assert [r["note"] for r in last["results"]] == [f"entry {i}" for i in range(5, 0, -1)]
    assert api.get(POINTS + "?page=9").status_code == 404


def test_the_schema_documents_me_and_points():
    schema = APIClient().get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    me = schema["paths"]["/api/v1/me/"]
    assert {"get", "patch"} <= set(me)
    assert "400" in me["patch"]["responses"]
    components = schema["components"]["schemas"]
    assert {"profile", "tier", "points", "consents"} <= set(components["Me"]["properties"])
    points = schema["paths"]["/api/v1/me/points/"]["get"]
    ok = points["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    paginated = components[ok.rsplit("/", 1)[-1]]
    assert {"count", "next", "previous", "results"} <= set(paginated["properties"])
    assert any(p["name"] == "page" for p in points["parameters"])
