"""The survey page: a signed link, no sign-in; partial answers kept; one response whatever
is clicked (parallel submits on real connections); bad links, late answers and bad
answers get a clear page and a 4xx, and nothing is written."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import Answer, FeedbackCase, Survey, SurveyInvitation, SurveyResponse
from feedback.selectors import invitation_token
from feedback.services import response_save, responses_finalize_stale
from tests.concurrency import race
from tests.stores.factories import StoreFactory

from .factories import invite, manager_of, questions, survey_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invitations_uncapped")]


@pytest.fixture
def q(version):
    return questions(version)


def url(invitation, language=""):
    path = reverse("feedback:survey", kwargs={"token": invitation_token(invitation)})
    return f"/{language}{path}" if language else path


def form(q, *, nps="9", staff="5", better=(), comment="", action="submit"):
    data = {f"q{q['recommend'].pk}": nps, f"q{q['staff'].pk}": staff,
            f"q{q['better'].pk}": list(better), f"q{q['comment'].pk}": comment}
    if action:
        data["action"] = action
    return data


def test_the_link_opens_the_questions_without_signing_in(client, version, q):
    invitation = invite(store=StoreFactory(name="南京西路店"))
    page = client.get(url(invitation))
    assert page.status_code == 200
    text = page.content.decode()
    assert "您有多大可能向朋友推荐我们？" in text and "店员态度不好" in text
    assert "南京西路店" in text and 'name="robots" content="noindex"' in text
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    invitation.refresh_from_db()
    assert invitation.opened_at is not None
    english = client.get(url(invitation, "en"))
    assert "How likely are you to recommend us to a friend?" in english.content.decode()


def test_a_score_clicked_in_the_email_is_preselected_only_when_valid(client, version, q):
    invitation = invite()
    nps = q["recommend"].pk
    page = client.get(url(invitation) + f"?q{nps}=8").content.decode()
    assert f'name="q{nps}" value="8" checked' in page
    page = client.get(url(invitation) + f"?q{nps}=11").content.decode()
    assert "checked" not in page
    assert not SurveyResponse.objects.exists()  # a click in the email answers nothing yet


def test_submitting_answers_once_then_the_thank_you_page(client, version, q):
    invitation = invite()
    page = url(invitation)  # (a token made a second later differs: it is timestamped)
    answer = client.post(page, form(q, nps="10", better=["packaging"], comment=" 很好 "))
    assert answer.status_code == 302 and answer["Location"] == page
    response = SurveyResponse.objects.get()
    assert response.submitted_at is not None and response.nps == 10
    assert response.rating == 5 and response.tags == ["packaging"] and response.comment == "很好"
    assert not response.detractor and not FeedbackCase.objects.exists()
    assert Answer.objects.filter(response=response).count() == 4
    thanks = client.get(page)
    assert thanks.status_code == 200 and "fb-card--done" in thanks.content.decode()


def test_a_promoter_is_offered_the_public_review_link_and_nobody_else(client, settings,
                                                                       version, q):
    settings.FEEDBACK_REVIEW_URL = "https://reviews.example.com/jinyuan"
    happy, unhappy = invite(), invite()
    client.post(url(happy), form(q, nps="9"))
    assert settings.FEEDBACK_REVIEW_URL in client.get(url(happy)).content.decode()
    client.post(url(unhappy), form(q, nps="7"))
    assert settings.FEEDBACK_REVIEW_URL not in client.get(url(unhappy)).content.decode()


def test_partial_answers_are_saved_and_merged_at_the_submit(client, version, q):
    invitation = invite()
    saved = client.post(url(invitation), {f"q{q['recommend'].pk}": "4"},
                        HTTP_X_AUTOSAVE="1")
    assert saved.status_code == 200 and saved.json() == {"saved": True, "submitted": False}
    response = SurveyResponse.objects.get()
    assert response.submitted_at is None and response.nps == 4
    assert not FeedbackCase.objects.exists()  # not an answer until sent
    page = client.get(url(invitation)).content.decode()
    assert f'name="q{q["recommend"].pk}" value="4" checked' in page  # back later: still there
    # Without the script: "Save and finish later".
    later = client.post(url(invitation), form(q, nps="4", staff="", comment="等了很久",
                                              action="save"))
    assert later.status_code == 200 and "message--success" in later.content.decode()
    response.refresh_from_db()
    assert response.submitted_at is None and response.comment == "等了很久"
    client.post(url(invitation), form(q, nps="4", staff="2", comment="等了很久"))
    response.refresh_from_db()
    assert response.submitted_at is not None and response.rating == 2 and response.detractor
    assert FeedbackCase.objects.get().response == response


@pytest.mark.parametrize("bad, problem", [
    ({"nps": "11"}, "0"), ({"nps": "-1"}, "0"), ({"nps": "seven"}, "0"),
    ({"staff": "0"}, "1"), ({"staff": "6"}, "1"),
    ({"better": ["free-gifts"]}, "answers offered"),
    ({"comment": "字" * 2001}, "2000"),
    ({"nps": ""}, "answer this question"),  # required, at the submit
])
def test_bad_answers_are_refused_whole_with_the_reason(client, version, q, bad, problem):
    invitation = invite()
    values = {"nps": "8", "staff": "4", "better": (), "comment": "ok", **bad}
    page = client.post(url(invitation, "en"), form(q, **values))
    assert page.status_code == 400
    text = page.content.decode()
    assert problem in text and "fb-q--error" in text
    assert not SurveyResponse.objects.filter(submitted_at__isnull=False).exists()
    assert not Answer.objects.exists()


def test_answers_to_unknown_questions_are_refused_by_the_service(version, q):
    invitation = invite()
    from feedback.errors import AnswersInvalid

    with pytest.raises(AnswersInvalid) as refused:
        response_save(invitation=invitation, answers={"999999": 5}, submit=True)
    assert "999999" in refused.value.extra["fields"]
    with pytest.raises(AnswersInvalid):
        response_save(invitation=invitation, answers={}, submit=True)  # nothing at all
    assert not SurveyResponse.objects.exists()


def test_a_second_submit_changes_nothing(client, version, q):
    invitation = invite()
    client.post(url(invitation), form(q, nps="3"))
    again = client.post(url(invitation), form(q, nps="10"))
    assert again.status_code == 409 and "data-already" in again.content.decode()
    assert SurveyResponse.objects.get().nps == 3
    autosave = client.post(url(invitation), form(q, nps="10", action=""), HTTP_X_AUTOSAVE="1")
    assert autosave.status_code == 409 and autosave.json()["code"] == "already_answered"


def test_altered_and_unknown_links_say_so(client, version):
    invitation = invite()
    token = invitation_token(invitation)
    for bad in (token[:-2] + "xx", "123:abc:def", "nonsense"):
        page = client.get(reverse("feedback:survey", kwargs={"token": bad}))
        assert page.status_code == 404 and 'data-code="bad_link"' in page.content.decode()
    forged = token.replace(f"{invitation.pk}:", f"{invitation.pk + 1}:", 1)
    assert client.get(reverse("feedback:survey", kwargs={"token": forged})).status_code == 404


def test_expired_and_closed_surveys_take_no_answers(client, version, q):
    late = invite()
    SurveyInvitation.objects.filter(pk=late.pk).update(expires_at=timezone.now())
    page = client.get(url(late))
    assert page.status_code == 410 and 'data-code="survey_expired"' in page.content.decode()
    assert client.post(url(late), form(q)).status_code == 410
    closed = invite()
    Survey.objects.update(is_active=False)
    assert client.post(url(closed), form(q)).status_code == 410
    assert 'data-code="survey_closed"' in client.get(url(closed)).content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_detractor_opens_a_case_and_alerts_the_managers(version, q):
    store = StoreFactory()
    managers = [manager_of(store), manager_of(store)]
    invitation = invite(store=store)
    response = response_save(invitation=invitation, submit=True, answers={
        q["recommend"].pk: 9, q["better"].pk: ["rude"], q["comment"].pk: "店员很不耐烦"})
    case = FeedbackCase.objects.get()
    assert case.response == response and case.store == store and case.status == "open"
    assert case.due_at == case.opened_at + timedelta(hours=48)
    from o2o.models import OutboxMessage

    alerts = OutboxMessage.objects.filter(kind="feedback.case.alert")
    assert {m.recipient for m in alerts} == {m.email for m in managers}
    assert all(m.due_at <= timezone.now() for m in alerts)  # due now: within the minute
    trail = [e.describe() for e in case.events.all()]
    assert "店员态度不好" in trail[0] and len(trail) == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_submits_make_one_response_and_one_case():
    """Eight submits of one invitation at the same moment, each a real request on its own
    database connection (two tabs, a double click): one response, one case, one alert
    each; the others hear 409."""
    version = survey_for()
    q = questions(version)
    store = StoreFactory()
    manager_of(store)
    invitation = invite(store=store)
    target = url(invitation)
    data = form(q, nps="2", comment="太慢了")

    def submit(i):
        return Client().post(target, data).status_code

    statuses, errors = race(8, submit)
    assert errors == []
    assert sorted(statuses) == [302] + [409] * 7
    assert SurveyResponse.objects.count() == 1 and FeedbackCase.objects.count() == 1
    from o2o.models import OutboxMessage

    assert OutboxMessage.objects.filter(kind="feedback.case.alert").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_first_saves_make_one_response():
    """Autosaves of six tabs arriving together, before any response exists: one row."""
    version = survey_for()
    q = questions(version)
    invitation = invite()

    def save(i):
        return response_save(invitation=invitation, answers={q["recommend"].pk: i}).pk

    ids, errors = race(6, save)
    assert errors == [] and len(set(ids)) == 1
    assert SurveyResponse.objects.count() == 1 and Answer.objects.count() == 1


def test_half_answered_surveys_count_once_left_alone(settings, version, q):
    settings.FEEDBACK_PARTIAL_FINAL_MINUTES = 60
    store = StoreFactory()
    manager_of(store)
    left = invite(store=store)
    response_save(invitation=left, answers={q["recommend"].pk: 1})
    opened_only = invite(store=store)
    response_save(invitation=opened_only, answers={})
    assert responses_finalize_stale() == 0  # not idle long enough
    later = timezone.now() + timedelta(minutes=61)
    assert responses_finalize_stale(now=later) == 1
    assert responses_finalize_stale(now=later) == 0  # idempotent
    done = SurveyResponse.objects.get(invitation=left)
    assert done.submitted_at == later and FeedbackCase.objects.get().response == done
    assert SurveyResponse.objects.get(invitation=opened_only).submitted_at is None


def test_sending_an_empty_form_says_so_as_an_error(client, version, q):
    invitation = invite()
    page = client.post(url(invitation, "en"), form(q, nps="", staff=""))
    text = page.content.decode()
    assert page.status_code == 400 and "message--error" in text
    assert "message--success" not in text
    assert not SurveyResponse.objects.filter(submitted_at__isnull=False).exists()
