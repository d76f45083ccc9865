"""The back office: cases scoped to the viewer's stores (head office sees all), worked from
the case page; surveys versioned (a published version read-only, and frozen in the
database); the report's panels and exports inside the same scope."""

import csv
import io

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from openpyxl import load_workbook

from feedback.models import Choice, FeedbackCase, Question, Survey, SurveyVersion
from feedback.services import response_save, survey_version_draft
from members.models import Coupon, CouponDefinition
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory

from .factories import clerk_of, head_office, invite, manager_of, questions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invitations_uncapped")]


@pytest.fixture
def shops(version):
    """Two stores, each with a manager, a clerk and one unhappy shopper's case."""
    q = questions(version)
    stores = [StoreFactory(name="南京西路店"), StoreFactory(name="国贸店")]
    people = []
    for store, words in zip(stores, ["南京路等太久", "国贸店员冷淡"], strict=True):
        manager, clerk = manager_of(store), clerk_of(store)
        member = UserFactory(phone=f"+861391234{len(people):04d}")
        invitation = invite(store=store, staff=clerk, member=member,
                            phone=member.phone)
        response_save(invitation=invitation, submit=True, answers={
            q["recommend"].pk: 3, q["staff"].pk: 2, q["better"].pk: ["wait"],
            q["comment"].pk: words})
        people.append((store, manager, clerk, FeedbackCase.objects.get(store=store)))
    return people


def test_managers_see_their_stores_cases_and_head_office_sees_all(client, shops):
    (_a, manager_a, _c, case_a), (_b, _m, _c2, case_b) = shops
    client.force_login(manager_a)
    listing = client.get(reverse("admin:feedback_feedbackcase_changelist")).content.decode()
    assert "南京路等太久" in listing and "国贸店员冷淡" not in listing
    assert client.get(reverse("admin:feedback_feedbackcase_change",
                              args=[case_b.pk])).status_code == 302  # not theirs: gone
    client.force_login(head_office())
    listing = client.get(reverse("admin:feedback_feedbackcase_changelist")).content.decode()
    assert "南京路等太久" in listing and "国贸店员冷淡" in listing


def test_the_case_page_shows_the_words_and_the_number_to_call(client, shops):
    (_store, manager, clerk, case), _other = shops
    client.force_login(manager)
    page = client.get(reverse("admin:feedback_feedbackcase_change", args=[case.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "南京路等太久" in text
    assert "tel:+8613912340000" in text and "fb-steps" in text
    client.force_login(clerk)  # store staff: read only, the number masked
    text = client.get(reverse("admin:feedback_feedbackcase_change", args=[case.pk])).content.decode()
    assert "南京路等太久" in text and "+8613912340000" not in text and "fb-steps" not in text
    refused = client.post(reverse("admin:feedback_feedbackcase_close", args=[case.pk]),
                          {"outcome": "resolved"})
    assert refused.status_code == 403
    assert FeedbackCase.objects.get(pk=case.pk).status == "open"


def test_a_manager_closes_the_case_with_a_coupon_from_the_page(client, shops):
    (_store, manager, _clerk, case), _other = shops
    offer = CouponDefinition.objects.create(name="致歉礼券", kind="amount", value=200,
                                            valid_days=90)
    client.force_login(manager)
    base = reverse("admin:feedback_feedbackcase_change", args=[case.pk])
    assert client.post(reverse("admin:feedback_feedbackcase_take", args=[case.pk])).status_code == 302
    client.post(reverse("admin:feedback_feedbackcase_note", args=[case.pk]),
                {"text": "已电话联系，顾客同意接受礼券"})
    missing = client.post(reverse("admin:feedback_feedbackcase_close", args=[case.pk]),
                          {"outcome": "compensated"}, follow=True)
    assert "fb-steps" in missing.content.decode()  # refused with the reason, still open
    assert FeedbackCase.objects.get(pk=case.pk).status == "in_progress"
    done = client.post(reverse("admin:feedback_feedbackcase_close", args=[case.pk]),
                       {"outcome": "compensated", "coupon": offer.pk, "resolution": "赠券致歉"},
                       follow=True)
    assert done.redirect_chain[-1][0] == base
    case.refresh_from_db()
    coupon = Coupon.objects.get(definition=offer)
    assert (case.status, case.outcome, case.coupon) == ("closed", "compensated", coupon)
    assert coupon.member == case.member and coupon.code in done.content.decode()
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["opened", "alerted", "assigned", "note", "compensated", "closed"]


def test_the_case_list_has_a_fixed_number_of_queries(client, shops, version,
                                                     django_assert_max_num_queries):
    q = questions(version)
    store = shops[0][0]
    for n in range(5):
        invitation = invite(store=store)
        response_save(invitation=invitation, submit=True, answers={q["recommend"].pk: n})
    client.force_login(head_office())
    with django_assert_max_num_queries(14):
        page = client.get(reverse("admin:feedback_feedbackcase_changelist"))
    assert page.status_code == 200 and page.content.decode().count('class="field-why"') == 7


def test_a_published_version_is_read_only_and_a_new_draft_copies_it(client, version):
    marketer = StaffFactory()
    from django.contrib.auth.models import Group

    from members import roles

    marketer.groups.add(Group.objects.get(name=roles.MARKETER))
    client.force_login(marketer)
    published = reverse("admin:feedback_surveyversion_change", args=[version.pk])
    page = client.get(published).content.decode()
    assert 'name="intro"' not in page and "fb-note" in page  # shown, not editable
    refused = client.post(published, {"intro": "改过"})
    assert refused.status_code == 403
    survey_page = reverse("admin:feedback_survey_change", args=[version.survey_id])
    assert client.get(survey_page).status_code == 200
    made = client.post(reverse("admin:feedback_survey_draft", args=[version.survey_id]))
    draft = SurveyVersion.objects.get(survey=version.survey, number=2)
    assert made["Location"] == reverse("admin:feedback_surveyversion_change", args=[draft.pk])
    assert draft.published_at is None
    assert [q.code for q in draft.questions.all()] == ["recommend", "staff", "better", "comment"]
    assert Choice.objects.filter(question__version=draft).count() == 3
    assert 'name="intro"' in client.get(made["Location"]).content.decode()
    # A second click finds the same draft.
    client.post(reverse("admin:feedback_survey_draft", args=[version.survey_id]))
    assert SurveyVersion.objects.filter(survey=version.survey).count() == 2
    publish = client.post(reverse("admin:feedback_surveyversion_publish", args=[draft.pk]))
    assert publish.status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.published_by == marketer


def test_the_database_refuses_changes_to_a_published_version(version):
    question = version.questions.first()
    for change in (
        lambda: Question.objects.filter(pk=question.pk).update(text="改了意思"),
        lambda: Question.objects.create(version=version, kind="text", code="new", text="新"),
        lambda: Choice.objects.filter(question__version=version).update(label="改"),
        lambda: Choice.objects.filter(question__version=version).delete(),
        lambda: SurveyVersion.objects.filter(pk=version.pk).update(intro="改"),
        lambda: SurveyVersion.objects.filter(pk=version.pk).update(published_at=None),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()
    draft = survey_version_draft(survey=version.survey, actor=None)
    Question.objects.filter(version=draft, code="recommend").update(text="改了意思")  # fine
    SurveyVersion.objects.filter(pk=version.pk).update(published_by=None)  # not content


def test_a_survey_per_moment_at_a_time(client, version):
    client.force_login(StaffFactory(is_superuser=True))
    page = client.post(reverse("admin:feedback_survey_add"), {
        "name": "第二份取货问卷", "trigger": "pickup", "delay_minutes": 60, "is_active": "on",
        "versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0})
    assert page.status_code == 200 and "errornote" in page.content.decode()
    assert Survey.objects.count() == 1


def test_the_report_shows_the_panels_inside_the_viewers_stores(client, shops):
    (_a, manager_a, _c, _case_a), (store_b, _m, _c2, _case_b) = shops
    client.force_login(manager_a)
    page = client.get(reverse("admin:feedback_report"))
    text = page.content.decode()
    assert page.status_code == 200
    for key in ("feedback.open_cases", "feedback.nps_stores", "feedback.nps_staff",
                "feedback.nps_trend", "feedback.verbatims"):
        assert f'data-panel="{key}"' in text
    assert "南京西路店" in text and "南京路等太久" in text
    assert "国贸店" not in text and "国贸店员冷淡" not in text
    # Asking for another store's figures shows none of them.
    text = client.get(reverse("admin:feedback_report"), {"store": store_b.pk}).content.decode()
    assert "国贸店员冷淡" not in text
    client.force_login(head_office())
    text = client.get(reverse("admin:feedback_report")).content.decode()
    assert "国贸店员冷淡" in text and "南京路等太久" in text


def test_exports_are_scoped_like_the_report(client, shops):
    (_a, manager_a, _c, _case_a), _b = shops
    client.force_login(manager_a)
    answer = client.get(reverse("admin:feedback_report"), {"export": "csv"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and "南京路等太久" in rows[1] and "南京西路店" in rows[1]
    answer = client.get(reverse("admin:feedback_report"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(answer.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][6] == 3 and values[1][10] == "南京路等太久"
    assert client.get(reverse("admin:feedback_report"), {"export": "pdf"}).status_code == 403
    client.force_login(shops[0][2])  # a clerk: sees the report, may not download
    assert client.get(reverse("admin:feedback_report")).status_code == 200
    assert client.get(reverse("admin:feedback_report"), {"export": "csv"}).status_code == 403


def test_the_report_has_a_fixed_number_of_queries(client, shops, django_assert_max_num_queries):
    client.force_login(head_office())
    with django_assert_max_num_queries(30):
        assert client.get(reverse("admin:feedback_report")).status_code == 200


def test_the_admin_index_lists_the_report_for_staff(client, shops):
    client.force_login(shops[0][2])
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:feedback_feedbackreport_changelist") in page
    assert client.get(reverse("admin:feedback_feedbackreport_changelist"))["Location"] == reverse(
        "admin:feedback_report")
    shopper = UserFactory()
    client.force_login(shopper)
    assert client.get(reverse("admin:feedback_report")).status_code == 302  # to the login


def test_the_answer_and_invitation_lists_are_scoped_and_read_only(client, shops):
    (_a, manager_a, _c, case_a), (_b, _m, _c2, case_b) = shops
    client.force_login(manager_a)
    answers = client.get(reverse("admin:feedback_surveyresponse_changelist"))
    text = answers.content.decode()
    assert answers.status_code == 200 and "南京路等太久" in text and "国贸店员冷淡" not in text
    page = client.get(reverse("admin:feedback_surveyresponse_change",
                              args=[case_a.response_id])).content.decode()
    assert "南京路等太久" in page and 'name="comment"' not in page  # read, not edited
    assert client.get(reverse("admin:feedback_surveyresponse_change",
                              args=[case_b.response_id])).status_code == 302
    invitations = client.get(reverse("admin:feedback_surveyinvitation_changelist"))
    assert invitations.status_code == 200
    invitation = case_a.response.invitation
    page = client.get(reverse("admin:feedback_surveyinvitation_change", args=[invitation.pk]))
    assert page.status_code == 200 and invitation.contact_email in page.content.decode()
    assert client.get(reverse("admin:feedback_surveyinvitation_change",
                              args=[case_b.response.invitation_id])).status_code == 302
