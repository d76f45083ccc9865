"""Closing the loop: a case has an owner, notes and an outcome (a coupon in the shopper's
wallet when compensated), every step audited; only the store's people (and head office)
act on it; overdue cases are escalated to head office, once; and the alert reaches the
store's manager within a minute through a real worker."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from feedback.errors import CaseInvalid, CaseTransitionNotAllowed, NotYourCase
from feedback.models import CaseStatus, FeedbackCase, SurveyInvitation, SurveyVersion
from feedback.services import (
    case_assign,
    case_close,
    case_note,
    cases_escalate_overdue,
    response_save,
)
from members.models import Coupon, CouponDefinition
from members.selectors import wallet_for_member
from o2o.models import OutboxMessage
from o2o.outbox import outbox_deliver
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory

from .factories import (
    clerk_of,
    collected_order,
    head_office,
    invite,
    manager_of,
    questions,
    survey_for,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invitations_uncapped")]


@pytest.fixture(autouse=True)
def version():
    return survey_for(delay=0)


@pytest.fixture
def offer():
    return CouponDefinition.objects.create(name="致歉礼券", kind="amount", value=200,
                                           valid_days=90)


def unhappy_case(store, *, member=None, email=""):
    q = questions(SurveyVersion.objects.get())
    invitation = invite(store=store, member=member, email=email)
    response_save(invitation=invitation, submit=True,
                  answers={q["recommend"].pk: 2, q["comment"].pk: "等了四十分钟"})
    return FeedbackCase.objects.get(response__invitation=invitation)


def test_an_owner_notes_and_an_outcome_every_step_audited():
    store = StoreFactory()
    manager = manager_of(store, name="王静")
    case = unhappy_case(store)
    case = case_assign(case=case, owner=manager, actor=manager)
    assert (case.status, case.owner) == (CaseStatus.IN_PROGRESS, manager)
    case_note(case=case, actor=manager, text="已致电，顾客接受道歉")
    case = case_close(case=case, actor=manager, outcome="resolved", resolution="当面致歉")
    assert (case.status, case.outcome, case.resolution) == ("closed", "resolved", "当面致歉")
    assert case.closed_at is not None
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["opened", "alerted", "assigned", "note", "closed"]
    sentences = [e.describe() for e in case.events.all()]
    assert "已致电，顾客接受道歉" in sentences[3] and "当面致歉" in sentences[4]
    # A second click on "close" changes nothing; closed is final.
    again = case_close(case=case, actor=manager, outcome="unreachable")
    assert again.outcome == "resolved" and case.events.count() == 5
    with pytest.raises(CaseTransitionNotAllowed):
        case_assign(case=case, owner=manager, actor=manager)


def test_a_note_on_an_open_case_makes_its_writer_the_owner():
    store = StoreFactory()
    manager = manager_of(store)
    case = case_note(case=unhappy_case(store), actor=manager, text="打过电话，无人接听")
    assert (case.status, case.owner) == (CaseStatus.IN_PROGRESS, manager)
    with pytest.raises(CaseInvalid):
        case_note(case=case, actor=manager, text="   ")
    with pytest.raises(CaseInvalid):
        case_note(case=case, actor=manager, text="长" * 2001)


def test_compensation_puts_a_coupon_in_the_shoppers_wallet_once(offer):
    store = StoreFactory()
    manager = manager_of(store)
    member = UserFactory()
    case = unhappy_case(store, member=member)
    case = case_close(case=case, actor=manager, outcome="compensated",
                      resolution="赠送 200 元礼券", coupon_definition=offer)
    coupon = Coupon.objects.get(member=member)
    assert case.coupon == coupon and coupon.definition == offer
    assert coupon.occasion == f"feedback-case-{case.pk}" and coupon.issued_by == manager
    assert [w.code for w in wallet_for_member(member=member).usable] == [coupon.code]
    trail = [e.describe() for e in case.events.all()]
    assert any(coupon.code in sentence for sentence in trail)
    case_close(case=case, actor=manager, outcome="compensated", coupon_definition=offer)
    assert Coupon.objects.filter(member=member).count() == 1


def test_compensation_needs_an_offer_and_a_member(offer):
    store = StoreFactory()
    manager = manager_of(store)
    case = unhappy_case(store, member=UserFactory())
    with pytest.raises(CaseInvalid) as refused:
        case_close(case=case, actor=manager, outcome="compensated")
    assert refused.value.code == "coupon_required"
    guest = unhappy_case(store, email="guest@example.com")
    with pytest.raises(CaseInvalid) as refused:
        case_close(case=guest, actor=manager, outcome="compensated", coupon_definition=offer)
    assert refused.value.code == "guest_no_wallet"
    with pytest.raises(CaseInvalid):
        case_close(case=guest, actor=manager, outcome="sorry")
    assert not Coupon.objects.exists()
    assert FeedbackCase.objects.filter(status="closed").count() == 0


def test_only_the_stores_people_and_head_office_act():
    store, elsewhere = StoreFactory(), StoreFactory()
    case = unhappy_case(store)
    other_manager = manager_of(elsewhere)
    clerk = clerk_of(store)  # sees the case, may not change it
    with pytest.raises(NotYourCase):
        case_close(case=case, actor=other_manager, outcome="resolved")
    with pytest.raises(NotYourCase):
        case_note(case=case, actor=clerk, text="我来处理")
    with pytest.raises(CaseInvalid):
        case_assign(case=case, owner=other_manager, actor=head_office())
    hq = head_office()
    case = case_close(case=case, actor=hq, outcome="contacted")
    assert case.status == "closed" and case.owner == hq


def test_overdue_cases_are_escalated_to_head_office_once():
    store = StoreFactory()
    manager_of(store)
    hq = [head_office(), head_office()]
    late = unhappy_case(store)
    fresh = unhappy_case(store)
    handled = unhappy_case(store)
    case_close(case=handled, actor=None, outcome="contacted")
    FeedbackCase.objects.filter(pk__in=[late.pk, handled.pk]).update(
        opened_at=timezone.now() - timedelta(hours=49), due_at=timezone.now() - timedelta(hours=1))
    assert cases_escalate_overdue() == 1
    assert cases_escalate_overdue() == 0  # once
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.escalated_at is not None and fresh.escalated_at is None
    emails = OutboxMessage.objects.filter(kind="feedback.case.escalated")
    assert {m.recipient for m in emails} == {u.email for u in hq}
    assert late.events.filter(kind="escalated").count() == 1


def test_a_store_without_a_manager_alerts_head_office():
    hq = head_office()
    unhappy_case(StoreFactory())
    assert list(OutboxMessage.objects.filter(kind="feedback.case.alert")
                .values_list("recipient", flat=True)) == [hq.email]


def test_the_alert_email_names_the_reasons_words_and_contact_and_goes_moot_when_closed():
    store = StoreFactory(name="南京西路店")
    manager = manager_of(store, language="zh-hans")
    case = unhappy_case(store, member=UserFactory(name="周女士"))
    mail.outbox.clear()
    outbox_deliver()
    (alert,) = [m for m in mail.outbox if m.to == [manager.email]]
    assert "南京西路店" in alert.subject and str(case.pk) in alert.subject
    assert "等了四十分钟" in alert.body and "+8613800138000" in alert.body  # how to call back
    assert "周女士" in alert.body and f"/admin/feedback/feedbackcase/{case.pk}/" in alert.body
    # A case closed before its alert goes: the alert is cancelled, not sent.
    second = unhappy_case(store)
    case_close(case=second, actor=manager, outcome="contacted")
    mail.outbox.clear()
    outbox_deliver()
    assert mail.outbox == []
    assert OutboxMessage.objects.get(about=f"feedback.case:{second.pk}").state == "cancelled"


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_the_survey_goes_and_the_alert_follows_within_a_minute(
        celery_worker_real):
    """The send path end to end through a real Celery worker on the real broker: the
    hand-over commits its invitation (due now here), the outbox's nudge has the worker
    send it; the unhappy answer's alert reaches the manager well inside a minute."""
    store = StoreFactory(name="南京西路店")
    manager = manager_of(store)
    mail.outbox.clear()
    member = UserFactory()
    order, _clerk = collected_order(store=store, member=member)

    def survey_email():
        return next((m for m in mail.outbox if m.to == [member.email] and "/survey/" in m.body),
                    None)

    assert wait_for(survey_email, 30), [m.subject for m in mail.outbox]
    invitation = SurveyInvitation.objects.get(order=order)
    assert "南京西路店" in survey_email().subject

    q = questions(invitation.version)
    started = time.monotonic()
    with transaction.atomic():
        response_save(invitation=invitation, submit=True, answers={q["recommend"].pk: 1})
    assert wait_for(lambda: any(m.to == [manager.email] for m in mail.outbox), 60)
    assert time.monotonic() - started < 60
    assert OutboxMessage.objects.get(kind="feedback.case.alert").state == "sent"
