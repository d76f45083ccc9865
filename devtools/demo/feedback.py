"""Writes the demo's feedback: a survey for every moment of the loop, and four months of
answers to the past hand-overs, so the report and the cases are alive on first start.

- Surveys (one per trigger) published through feedback.services; the pickup survey has
  a second version (a question added), so the history's answers keep the first's.
- Invitations for the completed sales of the history and the try-ons done, made as the
  hand-over makes them (feedback.services.invitation_schedule, its frequency cap
  included, a week for the history), with no message (nobody to send to); three in
  four are answered through response_save, with scores that differ by store and clerk
  and words from a list, so NPS, trend and verbatims read like a chain's. (Most demo
  members registered at a counter with a mobile only and no consent to texts: nobody
  can invite them, as in a real shop.) Unhappy answers open their cases: the older ones
  were closed by the store with an outcome (their alerts withdrawn), the newest four
  stay open, one of them past its due time.
- A head-office login (hq@o2o.example) who sees every store and hears of overdue cases,
  and the demo shopper's own survey waiting for her.

Seeded: the same answers on every fresh database. Runs once (found again by the
surveys' answers); a second run adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group

from feedback.models import (
    Choice,
    ContactCap,
    FeedbackCase,
    Question,
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyResponse,
    SurveyVersion,
    Trigger,
)
from feedback.selectors import invitation_token
from feedback.services import (
    Moment,
    case_close,
    case_may_act,
    case_note,
    invitation_schedule,
    response_save,
    survey_version_draft,
    survey_version_publish,
)
from feedback.services.cases import about_case
from members import roles
from members.models import CouponDefinition, User
from o2o.outbox import outbox_cancel
from orders.models import Fulfilment, Order, OrderStatus
from stores.models import Appointment, AppointmentStatus, Store

HQ_EMAIL = "hq@o2o.example"
HISTORY_WEEKS = 18  # the orders' history (devtools.demo.catalog.HISTORY_DAYS) and more
ANSWER_SHARE = 0.75
# The history was written under a one-week frequency cap (the shop's setting applies
# from now on), so four months hold a few hundred answers.
HISTORY_CAP_DAYS = 7
OPEN_AT_LEAST = 4  # cases left open for the stores (the newest; at most half of them)

# (trigger, name, English name, delay in minutes, intro)
SURVEYS = [
    (Trigger.PICKUP, "门店取货体验", "Collecting in store", 120,
     "感谢您到店取货。能花两分钟告诉我们取货的体验吗？"),
    (Trigger.COUNTER, "门店购物体验", "Shopping in store", 120,
     "感谢您的光临。您的意见会直接送到门店。"),
    (Trigger.DELIVERY, "配送体验", "Delivery", 1440, "您的首饰已送达，配送体验如何？"),
    (Trigger.TRYON, "试戴体验", "Try-on", 120, "感谢您到店试戴，请告诉我们这次的体验。"),
    (Trigger.TICKET, "售后服务体验", "After-sales service", 1440,
     "您的售后服务已完成，请告诉我们服务如何。"),
]
# What could be better: (key, Chinese, English, alerts the store)
BETTER = [
    ("wait", "等待时间", "Waiting time", False),
    ("explain", "讲解与建议", "Advice and explanations", False),
    ("packaging", "包装", "Packaging", False),
    ("price", "价格", "Price", False),
    ("rude", "店员态度不好", "A rude clerk", True),
]
# Each store's usual mood (the share of 9-10s, of 0-6s) and each clerk's nudge.
STORE_MOOD = {"sh-njxl": (0.66, 0.08), "bj-guomao": (0.5, 0.16), "sz-mixc": (0.36, 0.3),
              "cd-taikooli": (0.56, 0.12)}
PRAISE = [
    "店员非常专业，耐心帮我挑了合适的戒圈。", "取货很快，包装也很精致。",
    "讲解很细致，证书一并给我看了，放心。", "试戴了好几款，一点也不催，体验很好。",
    "线上下单到店取，很方便，会推荐给朋友。", "金价和网上一样，价格透明。",
]
NEUTRAL = ["整体还可以，就是周末人有点多。", "款式不错，希望多一些小码。", "还行，包装可以再好一点。"]
COMPLAINTS = {
    "wait": ["到店取货等了二十多分钟，前面只有两位顾客。", "预约了时间还是等了很久。"],
    "rude": ["店员态度冷淡，问了两遍才理我。", "感觉店员不太耐烦，没怎么介绍。"],
    "packaging": ["礼盒有压痕，送人有点尴尬。"],
    "price": ["工费比预想的高，没有事先说清楚。"],
    "explain": ["证书的内容没有讲清楚，回家才发现。"],
}


@dataclass(frozen=True)
class FeedbackResult:
    surveys: int
    invited: int
    answered: int
    cases_open: int
    shopper_link: str


def _survey(trigger: str, name: str, name_en: str, delay: int, intro: str, *,
            at: datetime) -> Survey:
    survey = Survey.objects.filter(trigger=trigger, name=name).first()
    if survey is not None:
        return survey
    survey = Survey.objects.create(trigger=trigger, name=name, name_en=name_en,
                                   delay_minutes=delay)
    version = SurveyVersion.objects.create(
        survey=survey, number=1, intro=intro, thanks="谢谢您！您的每一句话门店都会看到。",
        thanks_en="Thank you! The store reads every word.")
    what = {Trigger.PICKUP: "取货", Trigger.COUNTER: "购物", Trigger.DELIVERY: "配送",
            Trigger.TRYON: "试戴", Trigger.TICKET: "售后服务"}[trigger]
    Question.objects.create(version=version, position=1, kind=QuestionKind.NPS,
                            code="recommend", required=True,
                            text="您有多大可能向亲友推荐金缘珠宝？",
                            text_en="How likely are you to recommend Jinyuan to a friend?")
    Question.objects.create(version=version, position=2, kind=QuestionKind.RATING,
                            code="service", text=f"您对这次{what}的服务打几分？",
                            text_en="How would you rate the service this time?")
    better = Question.objects.create(version=version, position=3, kind=QuestionKind.MULTIPLE,
                                     code="better", text="哪些方面可以做得更好？",
                                     text_en="What could we do better?")
    Choice.objects.bulk_create([
        Choice(question=better, position=i, value=value, label=label, label_en=label_en,
               alerts=alerts) for i, (value, label, label_en, alerts) in enumerate(BETTER)])
    Question.objects.create(version=version, position=4, kind=QuestionKind.TEXT, code="comment",
                            text="还有什么想告诉我们的吗？",
                            text_en="Anything else you would like to tell us?")
    survey_version_publish(version=version, actor=None, now=at)
    return survey


def surveys_load(*, now: datetime) -> dict[str, Survey]:
    """One published survey per trigger; the pickup survey with a second version."""
    started = now - timedelta(weeks=HISTORY_WEEKS + 1)
    surveys = {trigger: _survey(trigger, name, name_en, delay, intro, at=started)
               for trigger, name, name_en, delay, intro in SURVEYS}
    pickup = surveys[Trigger.PICKUP]
    if not pickup.versions.filter(number=2).exists():
        draft = survey_version_draft(survey=pickup, actor=None)
        Question.objects.create(version=draft, position=5, kind=QuestionKind.SINGLE,
                                code="ready", text="到店时您的首饰是否已准备好？",
                                text_en="Was your piece ready when you arrived?")
        yes_no = Question.objects.get(version=draft, code="ready")
        Choice.objects.bulk_create([
            Choice(question=yes_no, position=0, value="ready", label="已准备好",
                   label_en="Yes, ready"),
            Choice(question=yes_no, position=1, value="not-ready", label="需要等待",
                   label_en="No, I had to wait")])
        survey_version_publish(version=draft, actor=None,
                               now=now - timedelta(weeks=HISTORY_WEEKS // 2))
    return surveys


def head_office_load() -> User:
    user = User.objects.filter(email=HQ_EMAIL).first()
    if user is None:
        user = User.objects.create_user(HQ_EMAIL, settings.DEMO_PASSWORD, name="总部客服 孙琳",
                                        is_staff=True)
    user.groups.add(Group.objects.get(name=roles.HEAD_OFFICE))
    return user


CARE_OFFER = "顾客关怀礼券"


def care_offer_load() -> CouponDefinition:
    """The offer stores give an unhappy shopper to make it good (¥200 off ¥1,000)."""
    offer = CouponDefinition.objects.filter(name=CARE_OFFER).first()
    if offer is None:
        offer = CouponDefinition.objects.create(
            name=CARE_OFFER, kind="threshold", value=200, min_spend=1000, valid_days=90,
            description="门店致歉礼券：满 1000 元减 200 元，90 天内有效。")
    return offer


def _trigger(order: Order) -> str:
    return {Fulfilment.PICKUP: Trigger.PICKUP, Fulfilment.COUNTER: Trigger.COUNTER,
            Fulfilment.DELIVERY: Trigger.DELIVERY}[order.fulfilment]


def _scores(rng: random.Random, store: Store | None, clerk_nudge: float) -> int:
    happy, unhappy = STORE_MOOD.get(store.code if store else "", (0.5, 0.15))
    happy, unhappy = min(0.95, happy + clerk_nudge), max(0.02, unhappy - clerk_nudge / 2)
    roll = rng.random()
    if roll < happy:
        return rng.choice([9, 10, 10])
    if roll < happy + unhappy:
        return rng.choice([0, 2, 3, 4, 5, 6, 6])
    return rng.choice([7, 8, 8])


def _answers(rng: random.Random, questions: dict[str, Question], nps: int) -> dict:
    answers: dict = {questions["recommend"].pk: nps}
    if rng.random() < 0.85:
        answers[questions["service"].pk] = (5 if nps >= 9 else 4 if nps >= 7
                                            else rng.choice([1, 2, 2, 3]))
    if nps <= 6:
        tags = rng.sample([b[0] for b in BETTER], k=rng.choice([1, 1, 2]))
        answers[questions["better"].pk] = tags
        answers[questions["comment"].pk] = rng.choice(COMPLAINTS[tags[0]])
    elif nps <= 8:
        if rng.random() < 0.5:
            answers[questions["better"].pk] = [rng.choice(["wait", "packaging", "price"])]
        if rng.random() < 0.5:
            answers[questions["comment"].pk] = rng.choice(NEUTRAL)
    elif rng.random() < 0.6:
        answers[questions["comment"].pk] = rng.choice(PRAISE)
    if "ready" in questions:
        answers[questions["ready"].pk] = "ready" if nps >= 7 else rng.choice(["ready",
                                                                              "not-ready"])
    return answers


def _questions(version: SurveyVersion) -> dict[str, Question]:
    return {q.code: q for q in version.questions.all()}


def feedback_load(*, now: datetime, stores: dict[str, Store], staff: dict[str, list[User]],
                  shopper: User) -> FeedbackResult:
    """The surveys, head office, and (once) the history of invitations, answers and cases."""
    surveys = surveys_load(now=now)
    hq = head_office_load()
    if SurveyResponse.objects.exists():
        return FeedbackResult(len(surveys), 0, 0, 0, "")
    rng = random.Random("2026:feedback")
    nudges = {user.pk: rng.uniform(-0.15, 0.15) for users in staff.values() for user in users}
    versions = {trigger: list(survey.versions.filter(published_at__isnull=False)
                              .order_by("number")) for trigger, survey in surveys.items()}
    questions = {v.pk: _questions(v) for vs in versions.values() for v in vs}
    offer = care_offer_load()
    invited = answered = 0
    for moment in _moments(rng=rng, now=now, staff=staff):
        version = [v for v in versions[moment.trigger] if v.published_at <= moment.at][-1]
        invitation = invitation_schedule(version=version, notify=False, moment=moment,
                                         cap_days=HISTORY_CAP_DAYS)
        if invitation is None:
            continue
        invited += 1
        if rng.random() > ANSWER_SHARE:
            continue
        answer_at = min(invitation.due_at + timedelta(minutes=rng.randint(5, 2 * 24 * 60)),
                        now - timedelta(minutes=20))
        if answer_at <= invitation.due_at:
            continue
        nps = _scores(rng, moment.store, nudges.get(moment.staff_id or 0, 0.0))
        response_save(invitation=invitation, submit=True, now=answer_at,
                      answers=_answers(rng, questions[version.pk], nps))
        answered += 1
    open_cases = _cases_settle(rng=rng, now=now, offer=offer, staff=staff, hq=hq)
    link = _shopper_survey(now=now, shopper=shopper, version=versions[Trigger.PICKUP][-1],
                           store=stores.get("sh-njxl"))
    return FeedbackResult(len(surveys), invited, answered, open_cases, link)


def _moments(*, rng: random.Random, now: datetime,
             staff: dict[str, list[User]]) -> list[Moment]:
    """The hand-overs of the history (completed sales) and the try-ons done, in time
    order, as the signals would have told them."""
    moments = []
    # The surveys were published HISTORY_WEEKS + 1 weeks ago: the dashboards' two years of
    # older sales and visits happened before there was anything to ask.
    since = now - timedelta(weeks=HISTORY_WEEKS)
    orders = (Order.objects.filter(status=OrderStatus.COMPLETED, completed_at__gte=since,
                                   completed_at__lt=now - timedelta(hours=3))
              .select_related("member", "store").order_by("completed_at", "pk"))
    for order in orders:
        trigger = _trigger(order)
        store = order.store if trigger != Trigger.DELIVERY else None
        clerks = staff.get(store.code, []) if store else []
        clerk_id = order.staff_id or (rng.choice(clerks).pk if clerks else None)
        moments.append(Moment(
            trigger=trigger, occasion=f"order:{order.pk}", at=order.completed_at,
            channel=order.channel, language=order.language, member=order.member,
            contact_name=order.contact_name, contact_email=order.contact_email,
            contact_phone=order.contact_phone, store=store,
            staff_id=clerk_id if store else None, order_id=order.pk, reference=order.number))
    tryons = (Appointment.objects.filter(status=AppointmentStatus.COMPLETED,
                                         completed_at__gte=since,
                                         completed_at__lt=now - timedelta(hours=3))
              .select_related("member", "store"))
    for appointment in tryons:
        moments.append(Moment(
            trigger=Trigger.TRYON, occasion=f"appointment:{appointment.pk}",
            at=appointment.completed_at, channel="store", language=appointment.language,
            member=appointment.member, contact_name=appointment.contact_name,
            contact_email=appointment.contact_email, contact_phone=appointment.contact_phone,
            store=appointment.store, staff_id=appointment.staff_id,
            appointment_id=appointment.pk, reference=appointment.number))
    return sorted(moments, key=lambda m: (m.at, m.occasion))


def _cases_settle(*, rng: random.Random, now: datetime, offer: CouponDefinition,
                  staff: dict[str, list[User]], hq: User) -> int:
    """The older cases were handled by their store: closed with an outcome, the alerts of
    their time withdrawn (nobody to send them to now). The newest few stay open for the
    store's manager; the oldest of those is past its due time."""
    cases = list(FeedbackCase.objects.select_related("store", "member").order_by("opened_at"))
    keep = max(1, min(OPEN_AT_LEAST, len(cases) // 2)) if cases else 0
    still_open = 0
    for index, case in enumerate(cases):
        outbox_cancel(about=about_case(case.pk), reason="skipped: demo history")
        if index >= len(cases) - keep:
            still_open += 1
            continue
        people = [u for u in (staff.get(case.store.code, []) if case.store else [])
                  if case_may_act(actor=u, case=case)]
        actor = rng.choice(people) if people else hq
        done_at = case.opened_at + timedelta(hours=rng.randint(2, 40))
        case_note(case=case, actor=actor, now=done_at - timedelta(hours=1),
                  text=rng.choice(["已致电顾客致歉，了解了具体情况。", "电话联系顾客，约好再次到店。",
                                   "与顾客沟通后，顾客表示理解。"]))
        outcome = rng.choice(["contacted", "resolved", "resolved", "unreachable"]
                             + (["compensated"] if case.member_id else []))
        case_close(case=case, actor=actor, outcome=outcome, now=done_at,
                   coupon_definition=offer if outcome == "compensated" else None,
                   resolution={"contacted": "已联系，顾客接受道歉。",
                               "resolved": "问题已解决，顾客满意。",
                               "unreachable": "三次致电未接通，已发短信。",
                               "compensated": "赠送礼券表示歉意。"}[outcome])
    late = FeedbackCase.objects.filter(status="open").order_by("opened_at").first()
    if late is not None and late.due_at > now:  # one past its due time: head office hears
        FeedbackCase.objects.filter(pk=late.pk).update(
            opened_at=now - timedelta(hours=50), due_at=now - timedelta(hours=2))
    return still_open


def _shopper_survey(*, now: datetime, shopper: User, version: SurveyVersion,
                    store: Store | None) -> str:
    """The demo shopper's own survey, waiting (her last collected pickup, or a moment of
    today): its link, for a look at the page."""
    order = (Order.objects.filter(member=shopper, fulfilment=Fulfilment.PICKUP,
                                  status=OrderStatus.COMPLETED)
             .exclude(pk__in=SurveyInvitation.objects.filter(order__isnull=False)
                      .values("order_id")).order_by("-completed_at").first())
    ContactCap.objects.filter(who=f"member:{shopper.pk}").delete()  # her turn now
    invitation = invitation_schedule(version=version, notify=False, moment=Moment(
        trigger=Trigger.PICKUP, occasion=f"order:{order.pk}" if order else "demo:shopper",
        at=now - timedelta(hours=3), channel="online", language=shopper.language,
        member=shopper, contact_name=shopper.name, contact_email=shopper.email or "",
        contact_phone=shopper.phone or "", store=order.store if order else store,
        order_id=order.pk if order else None, reference=order.number if order else ""))
    if invitation is None:
        return ""
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        due_at=now - timedelta(hours=1), expires_at=now + timedelta(days=14))
    invitation.refresh_from_db()
    return f"/survey/{invitation_token(invitation)}/"
