"""Privacy: the member's data as one JSON file (every section, theirs only), and the
deletion of the account (refused while something keeps it; orders kept with the person
removed; no personal data left anywhere in the database; once only); the member pages."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation

from analytics.models import Event
from analytics.services import event_record
from catalog.models import WishlistItem
from catalog.services import wishlist_add
from members.models import (
    Address,
    Consent,
    Coupon,
    CouponDefinition,
    CouponStatus,
    MemberProfile,
    PointsEntry,
    Redemption,
    User,
)
from members.services import (
    consent_set,
    member_data_export,
    member_erase,
    member_profile_ensure,
    points_adjust,
)
from members.services.privacy import EraseBlocked, EraseNotAllowed, MemberGone
from o2o.outbox import outbox_deliver, outbox_enqueue
from orders.models import Cart, Order, OrderEvent, OrderLine, OrderStatus, ServiceTicket
from orders.services import order_transition
from orders.services.cart import cart_add
from orders.services.tickets import ticket_move, ticket_open
from stores.models import Appointment, AppointmentEvent, StaffAssignment
from stores.services import appointment_book, stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.orders.factories import pickup_order
from tests.stores.factories import days_ahead, local, tryon_store

pytestmark = pytest.mark.django_db

S = OrderStatus
PHONE, EMAIL, NAME = "+8613712345678", "lin.erased@example.com", "林测试"
OTHER_PHONE, OTHER_EMAIL = "+8613987654321", "wang.other@example.com"


def url(name, *args):
    with translation.override("en"):
        return reverse(name, args=args or None)


def handed_over(order):
    return order_transition(order=order, to=S.COLLECTED, actor=None, via="test")


@pytest.fixture
def world(db):
    """A member with something in every section, and another member beside them."""
    store = tryon_store(code="priv-a", seats=2)
    clerk = StaffFactory()
    StaffAssignment.objects.create(user=clerk, store=store)
    member = UserFactory(phone=PHONE, email=EMAIL, name=NAME)
    other = UserFactory(phone=OTHER_PHONE, email=OTHER_EMAIL, name="王别人")
    profile = member_profile_ensure(user=member)
    MemberProfile.objects.filter(pk=profile.pk).update(birthday=date(1991, 2, 3),
                                                       ring_size="13")
    consent_set(member=member, channel="email", granted=True)
    consent_set(member=member, channel="email", granted=False)
    consent_set(member=member, channel="sms", granted=True)
    Address.objects.create(member=member, recipient=NAME, phone=PHONE, province="上海",
                           city="上海", district="静安", street="南京西路 1 号", postcode="200040",
                           is_default=True)
    points_adjust(member=member, points=300, note="welcome", actor=clerk)

    piece, other_piece = VariantFactory(), VariantFactory()
    done = handed_over(pickup_order(store=store, variants=[piece], member=member, paid=True,
                                    contact_name=NAME, contact_phone=PHONE,
                                    contact_email=EMAIL))
    unpaid = pickup_order(store=store, member=member, contact_name=NAME, contact_phone=PHONE,
                          contact_email=EMAIL)
    OrderEvent.objects.create(order=done, kind="email:collected", at=timezone.now(),
                              data={"to": EMAIL})
    theirs = pickup_order(store=store, variants=[other_piece], member=other, paid=True,
                          contact_name="王别人", contact_phone=OTHER_PHONE,
                          contact_email=OTHER_EMAIL)

    line = done.lines.get()
    ticket = ticket_open(kind="cleaning", member=member, order=done, line=line, store=store,
                         description=f"请清洗, 电话 {PHONE}", actor=member)
    ticket_move(ticket=ticket, to="refused", actor=clerk, note="not needed")

    tryon_piece = VariantFactory()
    stock_receive(store=store, variant=tryon_piece, quantity=2)
    appointment = appointment_book(
        store=store, starts_at=local(store, days_ahead(store, 3), 15),
        variant_ids=[tryon_piece.pk], contact_name=NAME, contact_phone=PHONE,
        contact_email=EMAIL, note=f"call {PHONE}", member=member)
    outbox_deliver()  # the order and try-on emails go: the outbox holds the address
    outbox_enqueue(channel="sms", kind="members.note", recipient=PHONE, dedupe_key="note:1")

    wishlist_add(user=member, product=piece.product)
    wishlist_add(user=other, product=piece.product)
    cart = Cart.objects.create(member=member)
    cart_add(cart=cart, variant=tryon_piece, quantity=1)

    definition = CouponDefinition.objects.create(name="Welcome 50", kind="amount",
                                                 value=Decimal("50"))
    unused = Coupon.objects.create(definition=definition, code="PRIV-UNUSED", member=member)
    used = Coupon.objects.create(definition=definition, code="PRIV-USED", member=member,
                                 uses=1, status=CouponStatus.REDEEMED)
    Coupon.objects.create(definition=definition, code="PRIV-THEIRS", member=other)
    redemption = Redemption.objects.create(
        coupon=used, definition=definition, member=member, reference=done.number,
        channel="online", discount=Decimal("50"), redeemed_at=timezone.now())

    event_record(kind="product.viewed", user=member, session_key="sess-priv-1",
                 product_id=piece.product_id, channel="online")
    event_record(kind="product.viewed", user=other, product_id=piece.product_id)
    LogEntry.objects.log_actions(user_id=clerk.pk, queryset=[member], action_flag=CHANGE,
                                 change_message="edited", single_object=True)
    return {"store": store, "clerk": clerk, "member": member, "other": other,
            "profile": profile, "done": done, "unpaid": unpaid, "theirs": theirs,
            "ticket": ticket, "appointment": appointment, "unused": unused, "used": used,
            "redemption": redemption}


# --- Export -------------------------------------------------------------------------------


def test_the_export_has_every_section_and_only_the_members_data(world):
    data = member_data_export(member=world["member"])
    text = json.dumps(data, ensure_ascii=False)  # JSON-serialisable as it is
    assert data["user"]["mobile"] == PHONE and data["user"]["email"] == EMAIL
    assert data["profile"]["birthday"] == "1991-02-03" and data["profile"]["ring_size"] == "13"
    assert data["profile"]["tier"] is not None
    assert [(c["channel"], c["withdrawn_at"] is None) for c in data["consents"]] == [
        ("email", False), ("sms", True)]
    assert data["addresses"][0]["street"] == "南京西路 1 号"
    ledger = data["points"]["ledger"]
    assert "welcome" in [entry["note"] for entry in ledger]
    assert data["points"]["balance"] == sum(entry["points"] for entry in ledger) >= 300
    assert {o["number"] for o in data["orders"]} == {world["done"].number,
                                                    world["unpaid"].number}
    exported = next(o for o in data["orders"] if o["number"] == world["done"].number)
    assert exported["lines"][0]["sku"] and exported["payments"][0]["status"] == "succeeded"
    assert [t["number"] for t in data["service_tickets"]] == [world["ticket"].number]
    assert [a["number"] for a in data["appointments"]] == [world["appointment"].number]
    assert len(data["wishlist"]) == 1 and len(data["cart"]["lines"]) == 1
    assert sorted(c["code"] for c in data["coupons"]) == ["PRIV-UNUSED", "PRIV-USED"]
    assert [r["order"] for r in data["redemptions"]] == [world["done"].number]
    assert [e["kind"] for e in data["analytics_events"]] == ["product.viewed"]
    for foreign in (OTHER_PHONE, OTHER_EMAIL, "王别人", world["theirs"].number, "PRIV-THEIRS"):
        assert foreign not in text


def test_the_export_costs_the_same_whatever_the_history(world, django_assert_max_num_queries):
    member = world["member"]
    with django_assert_max_num_queries(40) as first:
        member_data_export(member=member)
    for _ in range(3):
        pickup_order(store=world["store"], member=member, contact_name=NAME)
        points_adjust(member=member, points=5, note="more", actor=world["clerk"])
    with django_assert_max_num_queries(len(first.captured_queries)):
        member_data_export(member=member)


# --- Erasure -------------------------------------------------------------------------------


def personal_rows(needles):
    """Every text and JSON column of every table, searched for each needle: the rows that
    still hold one, as "app.Model#pk field"."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields
                  if isinstance(f, models.CharField | models.TextField | models.JSONField)]
        for field in fields:
            for needle in needles:
                lookup = f"{field.name}__icontains"
                if isinstance(field, models.JSONField):
                    rows = [pk for pk, value in model.objects.values_list("pk", field.name)
                            if needle in json.dumps(value, ensure_ascii=False)]
                else:
                    rows = list(model.objects.filter(**{lookup: needle})
                                .values_list("pk", flat=True))
                found += [f"{model._meta.label}#{pk} {field.name}" for pk in rows]
    return found


def test_erasure_keeps_the_orders_without_the_person_and_leaves_no_personal_data(world):
    member, done = world["member"], world["done"]
    lines_before = list(OrderLine.objects.filter(order=done).values_list("sku", "line_total"))
    assert personal_rows([PHONE[3:], EMAIL, NAME])  # the search finds them before

    member_erase(member=member, actor=member)

    assert not User.objects.filter(pk=member.pk).exists()
    for model in (MemberProfile, Consent, Address, PointsEntry, WishlistItem, Cart):
        field = "user" if model in (MemberProfile, WishlistItem) else "member"
        assert not model.objects.filter(**{f"{field}_id": member.pk}).exists(), model
    kept = Order.objects.get(pk=done.pk)
    assert kept.member is None and kept.total == done.total and kept.status == S.COLLECTED
    assert (kept.contact_name, kept.contact_phone, kept.contact_email, kept.address) == (
        "", "", "", {})
    assert list(OrderLine.objects.filter(order=done).values_list("sku", "line_total")) == (
        lines_before)
    assert OrderEvent.objects.filter(order=done, kind="member_erased").exists()
    assert Order.objects.get(pk=world["unpaid"].pk).status == S.CANCELLED
    appointment = Appointment.objects.get(pk=world["appointment"].pk)
    assert appointment.member is None and appointment.status == "cancelled"
    assert AppointmentEvent.objects.filter(appointment=appointment, kind="member_erased").exists()
    assert ServiceTicket.objects.get(pk=world["ticket"].pk).member is None
    unused, used = (Coupon.objects.get(pk=world[k].pk) for k in ("unused", "used"))
    assert (unused.status, unused.member) == (CouponStatus.VOID, None)
    assert (used.status, used.member) == (CouponStatus.REDEEMED, None)
    redemption = Redemption.objects.get(pk=world["redemption"].pk)
    assert redemption.member is None and redemption.discount == Decimal("50")
    assert Event.objects.filter(kind="product.viewed", user__isnull=True,
                                session_key="").count() == 1
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(User),
                                 object_id=str(member.pk))
    assert entry.object_repr == f"#{member.pk}"

    # Nothing anywhere still holds the member's number, email or name.
    assert personal_rows([PHONE[3:], EMAIL, NAME]) == []
    # The other member is untouched.
    theirs = Order.objects.get(pk=world["theirs"].pk)
    assert theirs.member == world["other"] and theirs.contact_phone == OTHER_PHONE
    assert Coupon.objects.get(code="PRIV-THEIRS").member == world["other"]
    assert WishlistItem.objects.filter(user=world["other"]).count() == 1


def test_a_second_erasure_is_impossible(world):
    member = world["member"]
    stale = User.objects.get(pk=member.pk)
    member_erase(member=member, actor=member)
    with pytest.raises(MemberGone) as caught:
        member_erase(member=stale, actor=stale)
    assert caught.value.status == 404


def test_a_paid_order_not_yet_handed_over_blocks_and_nothing_changes(world):
    member = world["member"]
    waiting = pickup_order(store=world["store"], member=member, paid=True, contact_name=NAME)
    with pytest.raises(EraseBlocked) as caught:
        member_erase(member=member, actor=member)
    assert caught.value.code == "erase_blocked" and caught.value.status == 409
    assert waiting.number in caught.value.message
    assert User.objects.filter(pk=member.pk).exists()
    assert Order.objects.get(pk=world["unpaid"].pk).status == S.PENDING_PAYMENT
    assert Order.objects.get(pk=world["done"].pk).contact_phone == PHONE
    assert Coupon.objects.get(pk=world["unused"].pk).status == CouponStatus.ISSUED


def test_an_open_service_ticket_blocks(world):
    member, done = world["member"], world["done"]
    ticket = ticket_open(kind="repair", member=member, order=done, line=done.lines.get(),
                         store=world["store"], actor=member)
    with pytest.raises(EraseBlocked) as caught:
        member_erase(member=member, actor=member)
    assert ticket.number in caught.value.message
    assert User.objects.filter(pk=member.pk).exists()


def test_a_try_on_in_progress_blocks(world):
    Appointment.objects.filter(pk=world["appointment"].pk).update(status="checked_in")
    with pytest.raises(EraseBlocked):
        member_erase(member=world["member"], actor=world["member"])


def test_staff_accounts_are_not_erased_here(world):
    clerk = world["clerk"]
    with pytest.raises(EraseBlocked):
        member_erase(member=clerk, actor=clerk)
    boss = UserFactory(is_staff=True, is_superuser=True)
    with pytest.raises(EraseBlocked):
        member_erase(member=boss, actor=boss)
    assert User.objects.filter(pk__in=[clerk.pk, boss.pk]).count() == 2


def test_only_the_member_or_a_superuser_erases(world):
    with pytest.raises(EraseNotAllowed):
        member_erase(member=world["member"], actor=world["other"])
    with pytest.raises(EraseNotAllowed):
        member_erase(member=world["member"], actor=world["clerk"])
    boss = UserFactory(is_staff=True, is_superuser=True)
    member_erase(member=world["member"], actor=boss)
    assert not User.objects.filter(pk=world["member"].pk).exists()


# --- The member pages ------------------------------------------------------------------------


def test_the_privacy_page_is_for_signed_in_members(client):
    response = client.get(url("members:privacy"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.get(url("members:privacy_export")).status_code == 302


def test_a_member_downloads_their_data(world, client):
    client.force_login(world["member"])
    assert client.get(url("members:privacy")).status_code == 200
    response = client.get(url("members:privacy_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["user"]["mobile"] == PHONE
    assert OTHER_PHONE not in response.content.decode()


def test_a_member_deletes_their_account_with_their_password(world, client):
    member = world["member"]
    client.force_login(member)
    wrong = client.post(url("members:privacy_delete"), {"confirm": "not it"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.text
    assert User.objects.filter(pk=member.pk).exists()
    done = client.post(url("members:privacy_delete"), {"confirm": "correct horse 42"})
    assert done.status_code == 200 and "Your account is deleted" in done.text
    assert not User.objects.filter(pk=member.pk).exists()
    assert "_auth_user_id" not in client.session
    assert client.get(url("members:privacy")).status_code == 302  # signed out


def test_a_member_without_a_password_confirms_with_the_phone_tail(db, client):
    member = UserFactory(phone="+8613811112222", email=None, name="")
    member.set_unusable_password()
    member.save()
    client.force_login(member)
    page = client.get(url("members:privacy"))
    assert "The last 4 digits of your mobile number" in page.text
    wrong = client.post(url("members:privacy_delete"), {"confirm": "1111"})
    assert wrong.status_code == 400 and User.objects.filter(pk=member.pk).exists()
    done = client.post(url("members:privacy_delete"), {"confirm": "2222"})
    assert done.status_code == 200 and not User.objects.filter(pk=member.pk).exists()


def test_a_blocked_deletion_says_why(world, client):
    member = world["member"]
    waiting = pickup_order(store=world["store"], member=member, paid=True, contact_name=NAME)
    client.force_login(member)
    page = client.get(url("members:privacy"))
    assert waiting.number in page.text and "data-erase-blocked" in page.text
    response = client.post(url("members:privacy_delete"), {"confirm": "correct horse 42"})
    assert response.status_code == 409 and waiting.number in response.text
    assert User.objects.filter(pk=member.pk).exists()


def test_wrong_confirmations_are_rate_limited(world, client):
    member = world["member"]
    client.force_login(member)
    statuses = [client.post(url("members:privacy_delete"), {"confirm": f"guess {i}"}).status_code
                for i in range(7)]
    assert statuses[:6] == [400] * 6 and statuses[6] == 429
    response = client.post(url("members:privacy_delete"), {"confirm": "correct horse 42"})
    assert response.status_code == 429 and User.objects.filter(pk=member.pk).exists()


def test_the_unpaid_wind_up_does_not_touch_orders_that_are_not_the_members(world):
    member_erase(member=world["member"], actor=world["member"])
    assert Order.objects.get(pk=world["theirs"].pk).status == S.READY_FOR_PICKUP


def test_the_ledger_goes_by_delete_which_the_append_only_trigger_allows(world):
    member = world["member"]
    assert PointsEntry.objects.filter(member=member).exists()
    member_erase(member=member, actor=member)
    assert not PointsEntry.objects.filter(member_id=member.pk).exists()


def test_export_dates_and_amounts_are_strings(world):
    data = member_data_export(member=world["member"])
    joined = datetime.fromisoformat(data["user"]["joined"])
    stored = User.objects.get(pk=world["member"].pk).date_joined
    assert abs(joined - stored) < timedelta(milliseconds=1)  # ISO 8601, to the millisecond
    assert isinstance(data["profile"]["spend_12m"], str)
    assert abs(timezone.now() - datetime.fromisoformat(data["generated_at"])) < timedelta(
        minutes=1)
