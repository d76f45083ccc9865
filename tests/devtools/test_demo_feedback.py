"""The demo's feedback: a survey for every moment, answers across stores and clerks with
the scores the report needs, cases closed with outcomes and some open (one overdue), a
head-office login, the shopper's own survey waiting; a second run adds nothing."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from feedback.models import FeedbackCase, Survey, SurveyInvitation, SurveyResponse, Trigger
from feedback.selectors import invitations_pending_for
from members.models import User
from o2o.models import OutboxMessage


@pytest.mark.django_db
def test_the_demo_has_answers_cases_and_a_survey_waiting_for_the_shopper(settings):
    # No frequency cap: whether a live sale's shopper was invited lately in the history
    # depends on the day the demo runs, and must not hide a live invitation (CI once saw
    # the marketing demo's counter redemptions invite, after the surveys were published).
    settings.FEEDBACK_MEMBER_CAP_DAYS = 0
    out = io.StringIO()
    call_command("load_demo", "--small", stdout=out)
    assert "feedback" in out.getvalue()

    assert set(Survey.objects.filter(is_active=True).values_list("trigger", flat=True)) == set(
        Trigger.values)
    assert Survey.objects.get(trigger=Trigger.PICKUP).versions.filter(
        published_at__isnull=False).count() == 2
    answered = SurveyResponse.objects.filter(submitted_at__isnull=False)
    assert answered.count() >= 20
    assert answered.values("store").distinct().count() >= 3
    assert answered.exclude(staff=None).values("staff").distinct().count() >= 3
    assert answered.filter(nps__gte=9).exists() and answered.filter(nps__lte=6).exists()
    assert answered.exclude(comment="").exists()

    assert FeedbackCase.objects.filter(status="closed").exists()
    still_open = FeedbackCase.objects.exclude(status="closed")
    assert still_open.count() >= 1
    assert still_open.filter(due_at__lte=timezone.now()).exists()  # for the escalation
    # Nothing of the history is mailed: invitations were written without messages, and
    # the alerts of the cases closed long ago are withdrawn.
    assert not OutboxMessage.objects.filter(kind__startswith="feedback.invitation").exists()
    closed = FeedbackCase.objects.filter(status="closed").values_list("pk", flat=True)
    assert not OutboxMessage.objects.filter(
        about__in=[f"feedback.case:{pk}" for pk in closed], state="pending").exists()

    hq = User.objects.get(email="hq@o2o.example")
    assert hq.has_perm("stores.view_all_stores") and hq.has_perm("feedback.change_feedbackcase")
    shopper = User.objects.get(email="member@o2o.example")
    assert invitations_pending_for(member=shopper).exists()

    counts = (SurveyInvitation.objects.count(), SurveyResponse.objects.count(),
              FeedbackCase.objects.count(), Survey.objects.count())
    again = io.StringIO()
    call_command("load_demo", "--small", stdout=again)
    assert (SurveyInvitation.objects.count(), SurveyResponse.objects.count(),
            FeedbackCase.objects.count(), Survey.objects.count()) == counts
