"""Invitations are written in the moment's own transaction: once per occasion, at most one
per member every N days (also when moments race), to whoever can be reached, due after the
survey's delay and never in the quiet hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from feedback.models import ContactCap, SurveyInvitation, Trigger
from feedback.services import Moment, invitation_schedule
from feedback.services.invitations import KIND_EMAIL, KIND_SMS, about_invitation
from members.models import ConsentChannel
from members.services import consent_set
from o2o.models import OutboxMessage
from orders.services import order_collect, order_deliver, order_pay, order_place, order_ship
from orders.services.counter import order_sell_at_counter
from orders.services.tickets import ticket_move, ticket_open
from stores.services import (
    appointment_book,
    appointment_check_in,
    appointment_complete,
    stock_receive,
)
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.members.factories import UserFactory
from tests.orders.factories import pickup_order
from tests.stores.factories import StoreFactory, days_ahead, local, tryon_store

from .factories import clerk_of, collected_order, survey_for

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    settings.QUIET_HOURS = ""
    settings.FEEDBACK_MEMBER_CAP_DAYS = 30


def messages_of(invitation):
    return {m.channel: m for m in OutboxMessage.objects.filter(
        about=about_invitation(invitation.pk))}


def test_a_collected_pickup_invites_its_member_once_with_the_clerk_and_store():
    survey_for(Trigger.PICKUP, delay=120)
    member = UserFactory(language="en")
    store = StoreFactory()
    clerk = clerk_of(store)
    order = pickup_order(store=store, member=member, paid=True, language="en")
    before = timezone.now()
    order_collect(order=order, store=store, actor=clerk)
    order_collect(order=order, store=store, actor=clerk)  # a second click: nothing more

    invitation = SurveyInvitation.objects.get()
    assert invitation.occasion == f"order:{order.pk}" and invitation.trigger == Trigger.PICKUP
    assert (invitation.member, invitation.store, invitation.staff_id) == (member, store, clerk.pk)
    assert (invitation.channel, invitation.language, invitation.reference) == (
        "online", "en", order.number)
    assert invitation.contact_email == member.email
    assert before + timedelta(minutes=120) <= invitation.due_at <= (
        timezone.now() + timedelta(minutes=120))
    assert invitation.expires_at == invitation.due_at + timedelta(days=14)
    sent = messages_of(invitation)
    assert set(sent) == {"email"}  # no SMS consent: no text
    assert sent["email"].kind == KIND_EMAIL and sent["email"].due_at == invitation.due_at
    assert sent["email"].recipient == member.email


def test_the_invitation_rolls_back_with_the_hand_over():
    survey_for(Trigger.PICKUP)
    order = pickup_order(member=UserFactory(), paid=True)
    clerk = clerk_of(order.store)
    with pytest.raises(RuntimeError), transaction.atomic():
        order_collect(order=order, store=order.store, actor=clerk)
        assert SurveyInvitation.objects.count() == 1  # written inside the hand-over
        raise RuntimeError("the hand-over fails after the signal")
    assert not SurveyInvitation.objects.exists()
    assert not OutboxMessage.objects.filter(kind=KIND_EMAIL).exists()
    assert not ContactCap.objects.exists()


def test_a_moment_in_the_quiet_hours_is_sent_the_next_morning(settings):
    settings.QUIET_HOURS = "21:00-09:00"
    survey_for(Trigger.PICKUP, delay=60)
    evening = datetime(2026, 12, 8, 20, 30, tzinfo=SHANGHAI)
    with time_machine.travel(evening, tick=False):
        order, _clerk = collected_order()
    invitation = SurveyInvitation.objects.get()
    assert invitation.occurred_at == evening
    # 21:30 is quiet: it waits until 09:00 the next day.
    assert invitation.due_at == datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI)
    assert messages_of(invitation)["email"].due_at == invitation.due_at


def test_a_text_only_with_the_members_sms_consent():
    survey_for(Trigger.PICKUP)
    texted = UserFactory()
    consent_set(member=texted, channel=ConsentChannel.SMS, granted=True)
    no_email = UserFactory(email=None)
    consent_set(member=no_email, channel=ConsentChannel.SMS, granted=True)
    silent = UserFactory(email=None)  # no email, no consent: nobody to reach
    store = StoreFactory()
    for member in (texted, no_email, silent):
        collected_order(store=store, member=member)
    by_member = {i.member_id: set(messages_of(i)) for i in SurveyInvitation.objects.all()}
    assert by_member == {texted.pk: {"email", "sms"}, no_email.pk: {"sms"}}
    sms = OutboxMessage.objects.get(kind=KIND_SMS, recipient=texted.phone)
    assert sms.channel == "sms"


def test_guests_with_an_email_are_invited_too_but_not_by_text():
    survey_for(Trigger.PICKUP)
    store = StoreFactory()
    collected_order(store=store, contact_name="王先生", contact_phone="+8613700000001",
                    contact_email="Guest@Example.com")
    collected_order(store=store, contact_name="李女士", contact_phone="+8613700000002",
                    contact_email="")  # a mobile only: no consent to text a guest
    invitation = SurveyInvitation.objects.get()
    assert invitation.member is None and invitation.contact_email == "guest@example.com"
    assert invitation.contact_phone == "+8613700000001"  # for the store to call back
    assert set(messages_of(invitation)) == {"email"}
    assert ContactCap.objects.get().who == "email:guest@example.com"


def test_at_most_one_survey_per_member_every_n_days():
    survey_for(Trigger.PICKUP)
    member = UserFactory()
    store = StoreFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first, _c = collected_order(store=store, member=member)
    with time_machine.travel(start + timedelta(days=29), tick=False):
        collected_order(store=store, member=member)
    assert list(SurveyInvitation.objects.values_list("occasion", flat=True)) == [
        f"order:{first.pk}"]
    with time_machine.travel(start + timedelta(days=30, minutes=1), tick=False):
        third, _c = collected_order(store=store, member=member)
    assert SurveyInvitation.objects.filter(occasion=f"order:{third.pk}").exists()
    assert SurveyInvitation.objects.count() == 2


def test_no_cap_when_the_setting_is_zero(settings):
    settings.FEEDBACK_MEMBER_CAP_DAYS = 0
    survey_for(Trigger.PICKUP)
    member = UserFactory()
    store = StoreFactory()
    for _ in range(3):
        collected_order(store=store, member=member)
    assert SurveyInvitation.objects.count() == 3


def test_nothing_without_a_published_active_survey():
    survey_for(Trigger.PICKUP, publish=False)
    collected_order()
    assert not SurveyInvitation.objects.exists()


def test_a_counter_sale_to_a_member_names_its_clerk():
    survey_for(Trigger.COUNTER, name="到店购物")
    store = StoreFactory()
    clerk = clerk_of(store)
    member = UserFactory()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    order = order_sell_at_counter(store=store, staff=clerk, lines=[(variant, 1)], member=member,
                                  payment_provider="cash")
    invitation = SurveyInvitation.objects.get()
    assert (invitation.trigger, invitation.store, invitation.staff, invitation.channel) == (
        Trigger.COUNTER, store, clerk, "store")
    assert invitation.occasion == f"order:{order.pk}"


def test_a_delivery_is_invited_when_delivered_with_no_store():
    survey_for(Trigger.DELIVERY, name="配送")
    member = UserFactory()
    store = StoreFactory(kind="warehouse")
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    order = order_place(lines=[(variant, 1)], fulfilment="delivery", stock_from=store,
                        member=member)
    order = order_pay(order=order, provider="test", reference="t-delivery", amount=order.total,
                      currency=order.currency, via="test gateway")
    order_ship(order=order, actor=None)
    assert not SurveyInvitation.objects.exists()  # shipped is not delivered
    order_deliver(order=order, actor=None)
    invitation = SurveyInvitation.objects.get()
    assert (invitation.trigger, invitation.store, invitation.staff) == (Trigger.DELIVERY, None, None)


def test_a_completed_try_on_invites_with_its_staff():
    survey_for(Trigger.TRYON, name="试戴")
    store = tryon_store()
    clerk = clerk_of(store)
    piece = VariantFactory()
    stock_receive(store=store, variant=piece, quantity=1)
    appointment = appointment_book(store=store, starts_at=local(store, days_ahead(store, 2), 15),
                                   variant_ids=[piece.pk], contact_name="林小姐",
                                   contact_phone="138 0013 8000",
                                   contact_email="lin@example.com", notify=False)
    appointment_check_in(appointment=appointment, actor=clerk)
    appointment_complete(appointment=appointment, actor=clerk, outcome="not_bought",
                         reason="想再看看")
    invitation = SurveyInvitation.objects.get()
    assert (invitation.trigger, invitation.store, invitation.staff) == (Trigger.TRYON, store, clerk)
    assert invitation.occasion == f"appointment:{appointment.pk}"
    assert invitation.contact_phone == "+8613800138000"


def test_a_closed_ticket_invites_the_member():
    survey_for(Trigger.TICKET, name="售后")
    store = StoreFactory()
    clerk = clerk_of(store)
    member = UserFactory()
    ticket = ticket_open(kind="cleaning", member=member, store=store, actor=clerk,
                         contact_name="林小姐", contact_phone="+8613800138000")
    for status in ("received", "in_progress", "ready", "closed"):
        ticket_move(ticket=ticket, to=status, actor=clerk)
    invitation = SurveyInvitation.objects.get()
    assert (invitation.trigger, invitation.store, invitation.staff, invitation.member) == (
        Trigger.TICKET, store, clerk, member)


def test_scheduling_one_invitation_takes_a_handful_of_queries(django_assert_max_num_queries):
    version = survey_for(Trigger.PICKUP)
    member = UserFactory()
    store = StoreFactory()
    moment = Moment(trigger=Trigger.PICKUP, occasion="order:test-1", at=timezone.now(),
                    channel="online", language="zh-hans", member=member, store=store)
    # The survey, the SMS consent, the cap, the invitation, its messages, one savepoint.
    with transaction.atomic(), django_assert_max_num_queries(7):
        assert invitation_schedule(moment=moment) is not None
    assert version.invitations.count() == 1
    with transaction.atomic():  # told again: nothing new, the cap untouched
        assert invitation_schedule(moment=moment) is None
    assert version.invitations.count() == 1


@pytest.mark.django_db(transaction=True)
def test_moments_racing_for_one_member_invite_once():
    """Ten different hand-overs of one member commit at the same moment, each in its own
    transaction on its own connection: the cap row lets exactly one through."""
    survey_for(Trigger.PICKUP)
    member = UserFactory()
    store = StoreFactory()
    at = timezone.now()

    def moment(i):
        with transaction.atomic():
            return invitation_schedule(moment=Moment(
                trigger=Trigger.PICKUP, occasion=f"order:race-{i}", at=at, channel="online",
                language="zh-hans", member=member, store=store))

    results, errors = race(10, moment)
    assert errors == []
    assert sum(1 for r in results if r is not None) == 1
    assert SurveyInvitation.objects.filter(member=member).count() == 1
    assert OutboxMessage.objects.filter(kind=KIND_EMAIL).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_occasion_raced_is_invited_once(settings):
    """The same occasion told ten times at once (no cap in the way): the UNIQUE occasion
    keeps one, and the losers leave no trace."""
    settings.FEEDBACK_MEMBER_CAP_DAYS = 0
    survey_for(Trigger.PICKUP)
    store = StoreFactory()
    members = [UserFactory() for _ in range(10)]
    at = timezone.now()

    def moment(i):
        with transaction.atomic():
            return invitation_schedule(moment=Moment(
                trigger=Trigger.PICKUP, occasion="order:the-same", at=at, channel="online",
                language="zh-hans", member=members[i], store=store))

    results, errors = race(10, moment)
    assert errors == []
    assert sum(1 for r in results if r is not None) == 1
    assert SurveyInvitation.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=KIND_EMAIL).count() == 1


def test_the_email_asks_in_the_shoppers_language_and_is_moot_once_answered():
    from django.core import mail

    from feedback.services import response_save
    from o2o.outbox import outbox_deliver

    version = survey_for(Trigger.PICKUP)
    store = StoreFactory(name="南京西路店", name_en="Nanjing Road West")
    english = UserFactory(language="en")
    collected_order(store=store, member=english, language="en")  # ordered in English
    chinese, _c = collected_order(store=store, member=UserFactory())
    answered = SurveyInvitation.objects.get(order=chinese)
    first = version.questions.order_by("position").first()
    response_save(invitation=answered, answers={first.pk: 9}, submit=True)
    mail.outbox.clear()
    outbox_deliver()
    (email,) = [m for m in mail.outbox if "/survey/" in m.body]
    assert email.to == [english.email]
    assert email.subject == "How was collecting your order at Nanjing Road West?"
    html = email.alternatives[0][0]
    assert "/en/survey/" in email.body and f"?q{first.pk}=10" in html
    assert "How likely are you to recommend us to a friend?" in html
    assert OutboxMessage.objects.get(about=about_invitation(answered.pk)).state == "cancelled"
