"""/api/v1/surveys/: a member's pending surveys and their answers, for a mini-program; every
refusal a 4xx with its reason, documented in the OpenAPI schema."""

from datetime import timedelta

import pytest
import yaml
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import FeedbackCase, Survey, SurveyInvitation, SurveyResponse
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory

from .factories import invite, questions, survey_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invitations_uncapped")]


@pytest.fixture
def member():
    return UserFactory(language="en")


@pytest.fixture
def api(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get("/api/v1/cart/").status_code == 200  # the CSRF cookie, as an app gets it
    return client


def post(client, path, body):
    return client.post(path, body, content_type="application/json",
                       headers={"X-CSRFToken": client.cookies["csrftoken"].value})


def answers_path(invitation):
    return reverse("api-survey-answers", args=[invitation.pk])


def test_pending_surveys_list_the_members_own_with_their_questions(api, member):
    version = survey_for()
    mine = invite(member=member, store=StoreFactory(code="sh-test", name="上海店",
                                                    name_en="Shanghai"))
    invite(member=UserFactory())  # someone else's
    done = invite(member=member)  # answered below: no longer pending
    q = questions(version)
    post(api, answers_path(done), {"answers": {str(q["recommend"].pk): 9}, "submit": True})
    later = invite(member=member)
    SurveyInvitation.objects.filter(pk=later.pk).update(
        due_at=timezone.now() + timedelta(hours=2),
        expires_at=timezone.now() + timedelta(days=3))  # not due yet

    answer = api.get(reverse("api-surveys"), headers={"Accept-Language": "en"})
    assert answer.status_code == 200
    (survey,) = answer.json()
    assert survey["id"] == mine.pk and survey["store"] == {"code": "sh-test", "name": "上海店"}
    kinds = [(x["code"], x["kind"], x["min"], x["max"]) for x in survey["questions"]]
    assert kinds == [("recommend", "nps", 0, 10), ("staff", "rating", 1, 5),
                     ("better", "multiple", None, None), ("comment", "text", None, None)]
    assert [c["value"] for c in survey["questions"][2]["choices"]] == ["wait", "packaging", "rude"]
    assert survey["answers"] == {} and survey["submitted"] is False
    assert "/survey/" in survey["link"]


def test_saving_then_submitting_through_the_api(api, member):
    version = survey_for()
    q = questions(version)
    invitation = invite(member=member, store=StoreFactory())
    saved = post(api, answers_path(invitation), {"answers": {str(q["recommend"].pk): 4}})
    assert saved.status_code == 200 and saved.json()["answers"] == {str(q["recommend"].pk): 4}
    assert saved.json()["submitted"] is False
    sent = post(api, answers_path(invitation), {"submit": True, "answers": {
        str(q["better"].pk): ["wait", "rude"], str(q["comment"].pk): "排队太久"}})
    assert sent.status_code == 200 and sent.json()["submitted"] is True
    response = SurveyResponse.objects.get()
    assert response.nps == 4 and response.tags == ["wait", "rude"] and response.detractor
    assert FeedbackCase.objects.filter(response=response).exists()
    assert api.get(reverse("api-survey", args=[invitation.pk])).json()["submitted"] is True
    again = post(api, answers_path(invitation), {"answers": {str(q["recommend"].pk): 10},
                                                 "submit": True})
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    assert SurveyResponse.objects.get().nps == 4


@pytest.mark.parametrize("body, field", [
    ({"answers": {"RECOMMEND": 11}, "submit": True}, "RECOMMEND"),
    ({"answers": {"RECOMMEND": True}}, "RECOMMEND"),
    ({"answers": {"STAFF": 0}}, "STAFF"),
    ({"answers": {"BETTER": "nope"}}, "BETTER"),
    ({"answers": {"BETTER": [1, 2]}}, "BETTER"),
    ({"answers": {"COMMENT": "字" * 2001}}, "COMMENT"),
    ({"answers": {"COMMENT": 5}}, "COMMENT"),
    ({"answers": {"424242": 5}}, "424242"),
    ({"answers": {"STAFF": 4}, "submit": True}, "RECOMMEND"),  # required, at the submit
    ({"answers": "nine"}, "answers"),
    ({"answers": {"RECOMMEND": 9}, "submit": "maybe"}, "submit"),
])
def test_bad_answers_are_a_400_naming_the_question_and_nothing_is_saved(api, member, body,
                                                                         field):
    version = survey_for()
    ids = {code.upper(): str(question.pk) for code, question in questions(version).items()}
    invitation = invite(member=member)

    def swap(value):
        return ids.get(value, value) if isinstance(value, str) else value

    if isinstance(body.get("answers"), dict):
        body = {**body, "answers": {swap(k): v for k, v in body["answers"].items()}}
    answer = post(api, answers_path(invitation), body)
    assert answer.status_code == 400, answer.content
    payload = answer.json()
    assert payload["code"] == "answers_invalid" and payload["detail"]
    assert swap(field) in payload["fields"]
    assert not SurveyResponse.objects.exists()


def test_other_refusals_have_their_status_and_reason(api, member):
    survey_for()
    theirs = invite(member=UserFactory())
    assert post(api, answers_path(theirs), {"answers": {}}).status_code == 404
    assert api.get(reverse("api-survey", args=[theirs.pk])).json()["code"] == "not_found"
    late = invite(member=member)
    SurveyInvitation.objects.filter(pk=late.pk).update(expires_at=timezone.now())
    answer = post(api, answers_path(late), {"answers": {}})
    assert answer.status_code == 410 and answer.json()["code"] == "survey_expired"
    closed = invite(member=member)
    Survey.objects.update(is_active=False)
    answer = api.get(reverse("api-survey", args=[closed.pk]))
    assert answer.status_code == 410 and answer.json()["code"] == "survey_closed"
    assert api.get(reverse("api-surveys")).json() == []
    anonymous = Client()
    assert anonymous.get(reverse("api-surveys")).status_code == 403
    no_csrf = Client(enforce_csrf_checks=True)
    no_csrf.force_login(member)
    assert no_csrf.post(answers_path(closed), {"answers": {}},
                        content_type="application/json").status_code == 403


def test_the_schema_documents_the_surveys_and_their_refusals(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)
    paths = schema["paths"]
    assert {"/api/v1/surveys/", "/api/v1/surveys/{id}/", "/api/v1/surveys/{id}/answers/"} <= set(paths)
    post_op = paths["/api/v1/surveys/{id}/answers/"]["post"]
    assert {"200", "400", "403", "404", "409", "410"} <= set(post_op["responses"])
    assert "answers_invalid" in post_op["responses"]["400"]["description"]
    assert post_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SurveyAnswers")
