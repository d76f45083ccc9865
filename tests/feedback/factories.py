"""Surveys, invitations and answers for the feedback tests, built through the services
(a version is published by survey_version_publish, answers go through response_save)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.utils import timezone

from feedback.models import Choice, Question, QuestionKind, Survey, SurveyVersion, Trigger
from feedback.services import survey_version_publish
from members import roles
from orders.services import order_collect
from stores.models import StaffAssignment, StaffRole
from tests.members.factories import StaffFactory, UserFactory
from tests.orders.factories import pickup_order
from tests.stores.factories import StoreFactory


def survey_for(trigger: str = Trigger.PICKUP, *, delay: int = 0, publish: bool = True,
               name: str = "取货体验") -> SurveyVersion:
    """An active survey for ``trigger`` with four questions: NPS (required), a 1-5 rating
    of the staff, what could be better (several choices; "rude" alerts the store) and a
    comment. Returns its version 1 (published unless ``publish`` is False)."""
    survey = Survey.objects.create(name=name, name_en="Pickup experience", trigger=trigger,
                                   delay_minutes=delay)
    version = SurveyVersion.objects.create(survey=survey, number=1, intro="感谢您的光临",
                                           intro_en="Thank you for visiting us")
    Question.objects.create(version=version, position=1, kind=QuestionKind.NPS,
                            code="recommend", text="您有多大可能向朋友推荐我们？",
                            text_en="How likely are you to recommend us to a friend?",
                            required=True)
    Question.objects.create(version=version, position=2, kind=QuestionKind.RATING,
                            code="staff", text="店员的服务", text_en="The staff's service")
    better = Question.objects.create(version=version, position=3, kind=QuestionKind.MULTIPLE,
                                     code="better", text="哪里可以更好？",
                                     text_en="What could be better?")
    for position, (value, label, label_en, alerts) in enumerate([
            ("wait", "等待时间", "Waiting time", False),
            ("packaging", "包装", "Packaging", False),
            ("rude", "店员态度不好", "A rude clerk", True)]):
        Choice.objects.create(question=better, position=position, value=value, label=label,
                              label_en=label_en, alerts=alerts)
    Question.objects.create(version=version, position=4, kind=QuestionKind.TEXT,
                            code="comment", text="还想告诉我们什么？",
                            text_en="Anything else you would like to tell us?")
    if publish:
        version = survey_version_publish(version=version, actor=None)
    return version


def questions(version: SurveyVersion) -> dict[str, Question]:
    return {q.code: q for q in version.questions.all()}


def manager_of(store, **fields):
    user = StaffFactory(**fields)
    user.groups.add(Group.objects.get(name=roles.STORE_MANAGER))
    StaffAssignment.objects.create(user=user, store=store, role=StaffRole.MANAGER)
    return user


def clerk_of(store, **fields):
    user = StaffFactory(**fields)
    user.groups.add(Group.objects.get(name=roles.STORE_STAFF))
    StaffAssignment.objects.create(user=user, store=store, role=StaffRole.STAFF)
    return user


def head_office(**fields):
    user = StaffFactory(**fields)
    user.groups.add(Group.objects.get(name=roles.HEAD_OFFICE))
    return user


def collected_order(*, store=None, member=None, clerk=None, **contact):
    """A paid pickup handed over at the desk by ``clerk`` (a new clerk of the store)."""
    store = store or StoreFactory()
    if member is None and "contact_email" not in contact:
        member = UserFactory()
    order = pickup_order(store=store, member=member, paid=True, **contact)
    clerk = clerk or clerk_of(store)
    return order_collect(order=order, store=store, actor=clerk), clerk


def now():
    return timezone.now()


_occasions = iter(range(1, 10**9))


def invite(*, trigger: str = Trigger.PICKUP, member=None, store=None, staff=None,
           email: str = "", phone: str = "+8613800138000", name: str = "",
           language: str = "zh-hans", at=None, notify: bool = True):
    """An invitation made as a moment would make it (invitation_schedule in a transaction),
    due now when the survey has no delay. Needs a published survey for ``trigger``."""
    from django.db import transaction

    from feedback.services import Moment, invitation_schedule

    if member is None and not email:
        member = UserFactory()
    name = name or (member.name if member is not None else "") or "林小姐"
    with transaction.atomic():
        return invitation_schedule(moment=Moment(
            trigger=trigger, occasion=f"test:{next(_occasions)}", at=at or timezone.now(),
            channel="online", language=language, member=member, contact_name=name,
            contact_email=email, contact_phone=phone, store=store,
            staff_id=staff.pk if staff else None, reference="O-TEST"), notify=notify)
