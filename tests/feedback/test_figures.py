"""The figures behind the report: NPS, promoters/passives/detractors, ratings, response rate
per store and per clerk, the weekly trend and the verbatims; each inside the scope, in a
fixed number of queries; and a member's feedback in their data export and erasure."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from feedback.models import FeedbackCase, SurveyInvitation, SurveyResponse
from feedback.selectors import feedback_store_ids, figures_by, nps_weekly, verbatims
from feedback.services import response_save
from members.services import member_data_export, member_erase
from o2o.models import OutboxMessage
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory

from .factories import clerk_of, head_office, invite, manager_of, questions, survey_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invitations_uncapped")]


def answer(q, store, clerk, nps, rating=None, comment="", tags=(), submit=True):
    invitation = invite(store=store, staff=clerk)
    answers = {q["recommend"].pk: nps, q["comment"].pk: comment, q["better"].pk: list(tags)}
    if rating is not None:
        answers[q["staff"].pk] = rating
    return response_save(invitation=invitation, answers=answers, submit=submit)


def test_nps_rating_and_response_rate_per_store_and_clerk(django_assert_max_num_queries):
    q = questions(survey_for())
    north, south = StoreFactory(name="北店"), StoreFactory(name="南店")
    anna, bo = clerk_of(north, name="安娜"), clerk_of(south, name="博文")
    for nps, rating in ((10, 5), (9, 5), (8, 4), (3, 2)):
        answer(q, north, anna, nps, rating)
    answer(q, south, bo, 6, 3)
    invite(store=north, staff=anna)  # invited, not answered
    invite(store=south, staff=bo)
    today = timezone.localdate()
    with django_assert_max_num_queries(4):
        rows, total = figures_by(by="store", store_ids=None, start=today, end=today)
    by_name = {row.label: row for row in rows}
    north_row = by_name["北店"]
    assert (north_row.promoters, north_row.passives, north_row.detractors) == (2, 1, 1)
    assert north_row.nps == 25  # (2 - 1) / 4
    assert north_row.rating == Decimal("4.00")
    assert (north_row.invited, north_row.answered, north_row.response_rate) == (5, 4, 80)
    assert north_row.cases_open == 1  # the 3
    assert by_name["南店"].nps == -100 and by_name["南店"].response_rate == 50
    assert (total.answered, total.invited, total.nps) == (5, 7, 0)
    assert total.rating == Decimal("3.80")
    staff_rows, _total = figures_by(by="staff", store_ids={south.pk}, start=today, end=today)
    assert [(r.label, r.answered) for r in staff_rows] == [("博文", 1)]


def test_the_weekly_trend_and_the_verbatims_by_score_and_tag():
    q = questions(survey_for())
    store = StoreFactory()
    clerk = clerk_of(store)
    now = timezone.now()
    old = answer(q, store, clerk, 2, comment="上个月很糟", tags=["wait"])
    SurveyResponse.objects.filter(pk=old.pk).update(started_at=now - timedelta(days=14),
                                                    submitted_at=now - timedelta(days=14))
    answer(q, store, clerk, 10, comment="非常满意", tags=["packaging"])
    answer(q, store, clerk, 9)
    today = timezone.localdate()
    weeks = nps_weekly(store_ids=None, start=today - timedelta(days=20), end=today)
    assert [w.nps for w in weeks] == [-100, 100]
    words = verbatims(store_ids=None, start=today - timedelta(days=20), end=today)
    assert [r.comment for r in words] == ["非常满意", "上个月很糟"]
    unhappy = verbatims(store_ids=None, start=today - timedelta(days=20), end=today,
                        group="detractor")
    assert [r.comment for r in unhappy] == ["上个月很糟"]
    tagged = verbatims(store_ids=None, start=today - timedelta(days=20), end=today, tag="wait")
    assert [r.comment for r in tagged] == ["上个月很糟"]
    assert verbatims(store_ids={StoreFactory().pk}, start=today - timedelta(days=20),
                     end=today) == []


def test_partial_answers_are_not_counted_until_final():
    q = questions(survey_for())
    store = StoreFactory()
    answer(q, store, None, 0, submit=False)
    today = timezone.localdate()
    _rows, total = figures_by(by="store", store_ids=None, start=today, end=today)
    assert (total.answered, total.invited, total.nps) == (0, 1, None)


def test_who_sees_which_stores():
    north, south = StoreFactory(), StoreFactory()
    assert feedback_store_ids(user=manager_of(north)) == {north.pk}
    assert feedback_store_ids(user=clerk_of(south)) == {south.pk}
    assert feedback_store_ids(user=head_office()) is None
    assert feedback_store_ids(user=StaffFactory(is_superuser=True)) is None
    assert feedback_store_ids(user=StaffFactory()) == set()  # no store, no role: nothing


def test_a_members_feedback_is_exported_and_erased():
    q = questions(survey_for())
    member = UserFactory(name="林小姐")
    store = StoreFactory()
    manager_of(store)
    invitation = invite(store=store, member=member)
    response_save(invitation=invitation, submit=True,
                  answers={q["recommend"].pk: 2, q["comment"].pk: "我的手机号13800138000"})
    data = member_data_export(member=member)
    (given,) = data["feedback"]
    assert given["answers"]["given"][1]["answer"] == "我的手机号13800138000"
    member_erase(member=member, actor=member)
    invitation.refresh_from_db()
    response = SurveyResponse.objects.get()
    assert (invitation.member, invitation.contact_email, invitation.contact_phone,
            invitation.contact_name) == (None, "", "", "")
    assert response.member is None and response.comment == "" and response.nps == 2
    assert not response.answers.exclude(text="").exists()
    case = FeedbackCase.objects.get()
    assert case.member is None and case.events.filter(kind="member_erased").exists()
    assert not OutboxMessage.objects.filter(about=f"feedback.invitation:{invitation.pk}") \
        .exclude(recipient="").exists()
    assert SurveyInvitation.objects.count() == 1  # the figures keep the answer


def test_periods_are_shop_days():
    from feedback.selectors import period_bounds

    start, end = period_bounds(date(2026, 12, 1), date(2026, 12, 7))
    assert (end - start) == timedelta(days=7) and start.utcoffset() == timedelta(hours=8)
