"""Writes the demo's marketing: a few segments, a campaign sent four days ago (with a
holdout, opens and clicks, and its coupon redeemed online and at two counters), one
scheduled for later in the week, and a draft.

Everything goes through marketing.services (segments saved, the campaign scheduled,
launched and sent as beat would, at noon four days ago); the redemptions are real
orders through orders.services (order_place + order_pay online, order_sell_at_counter
at the counters), placed today, within the attribution window. The campaign's messages
are marked as delivered (nobody to send them to). Runs once (found again by the sent
campaign's name); a second run adds nothing.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from catalog.models import Category
from marketing.models import Campaign, MemberView, Segment, Touch
from marketing.services.campaigns import (
    CampaignInvalid,
    campaign_create,
    campaign_finish_if_done,
    campaign_launch,
    campaign_schedule,
    campaign_send_batch,
)
from marketing.services.scores import member_scores_refresh
from marketing.services.segment_writes import segment_save
from marketing.services.tracking import touch_clicked, touch_opened
from marketing.services.views import member_views_add, views_kept_days
from members.models import Consent, Coupon, CouponDefinition, Tier, User
from o2o.models import OutboxMessage
from orders.emails import order_emails_skip
from orders.models import Fulfilment, PaymentProvider
from orders.services import order_pay, order_place
from orders.services.counter import order_sell_at_counter
from stores.models import Store, StoreKind

from .catalog import LoadedProduct
from .loyalty import _Pieces

SENT_NAME = "双十二会员专享 满3000减300"
VIA = "demo-marketing"


@dataclass(frozen=True)
class MarketingResult:
    segments: int = 0
    sent: int = 0
    held_out: int = 0
    redeemed_online: int = 0
    redeemed_counter: int = 0


def _noon(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def segments_load(*, marketer: User | None) -> dict[str, Segment]:
    tiers = {t.code: t.pk for t in Tier.objects.all()}
    rings = Category.objects.filter(slug="rings").values_list("pk", flat=True).first()
    shanghai = Store.objects.filter(code="sh-njxl").values_list("pk", flat=True).first()
    specs = {
        "birthday-rings": ("金卡会员·30天内生日·买过戒指",
                           "生日月的金卡会员，买过戒指：送生日礼券。",
                           {"all": [{"rule": "tier", "tiers": [tiers["gold"]]},
                                    {"rule": "birthday", "days": 30},
                                    {"rule": "bought", "categories": [rings]}]}
                           if "gold" in tiers and rings else {"rule": "birthday", "days": 30}),
        "email": ("同意接收邮件的会员", "所有同意营销邮件的会员。",
                  {"rule": "consent", "channel": "email"}),
        "rested": ("两周内没收到营销消息的会员", "站内信人人可收；同意邮件的也发邮件。",
                   {"rule": "not_messaged", "days": 14}),
        "near-shanghai": ("上海南京西路店周边会员", "主门店在 30 公里内，或默认地址在上海。",
                          {"rule": "near_store", "store": shanghai, "km": 30}
                          if shanghai else {"rule": "channel", "channel": "store"}),
        "dormant": ("高价值沉睡会员", "消费金额高、最近很少来的会员（RFM）。",
                    {"rule": "rfm", "recency": [1, 2], "monetary": [4, 5]}),
    }
    found: dict[str, Segment] = {}
    for key, (name, description, rules) in specs.items():
        segment = Segment.objects.filter(name=name).first() or Segment(name=name,
                                                                       description=description)
        found[key] = segment_save(segment=segment, rules=rules, actor=marketer)
    return found


def _offer(*, now: datetime, marketer: User | None) -> CouponDefinition:
    definition, _created = CouponDefinition.objects.get_or_create(
        name="双十二满3000减300", defaults={
            "description": "双十二会员专享，线上线下通用。", "kind": "threshold",
            "value": Decimal("300"), "min_spend": Decimal("3000"), "channel": "both",
            "valid_from": now - timedelta(days=10), "valid_until": now + timedelta(days=20),
            "valid_days": 14, "created_by": marketer})
    return definition


TEXTS: dict = {
    "email_subject": {"zh-hans": "{name}，双十二送您满3000减300", "en": "{name}, ¥300 off for you"},
    "email_body": {"zh-hans": "亲爱的{name}：\n双十二期间，您的专属券 {coupon_code}（{coupon_value}）"
                           "线上线下都能用，{coupon_expires}前有效。\n{link}",
                "en": "Dear {name},\nYour coupon {coupon_code} ({coupon_value}) works online "
                      "and in our stores until {coupon_expires}.\n{link}"},
    "sms_text": {"zh-hans": "【金缘珠宝】{name}，双十二专享券{coupon_code}，满3000减300"},
    "inbox_title": {"zh-hans": "双十二专享：满3000减300", "en": "¥300 off over ¥3,000"},
    "inbox_body": {"zh-hans": "券码 {coupon_code}，{coupon_expires}前有效，门店出示即可使用。",
                   "en": "Code {coupon_code}, until {coupon_expires}; show it at any counter."},
}


def marketing_load(*, now: datetime, stores: dict[str, Store], staff: dict[str, list[User]],
                   members: list[User], products: list[LoadedProduct],
                   marketer: User | None) -> MarketingResult:
    if Campaign.objects.filter(name=SENT_NAME).exists():
        return MarketingResult()
    rng = random.Random("2026:marketing")
    # The RFM scores the nightly task keeps: without them the RFM segments match nobody.
    member_scores_refresh(now=now)
    segments = segments_load(marketer=marketer)
    offer = _offer(now=now, marketer=marketer)
    sent_at = _noon(timezone.localdate(now) - timedelta(days=4))

    # Enough members who agreed to emails for a campaign worth the name.
    people = sorted(members, key=lambda m: m.pk)
    with_email = [m for m in people if m.email][:160]
    have = set(Consent.objects.filter(member__in=with_email, channel="email",
                                      withdrawn_at__isnull=True)
               .values_list("member_id", flat=True))
    Consent.objects.bulk_create([Consent(member=m, channel="email", granted_at=sent_at
                                         - timedelta(days=30), source="online")
                                 for m in with_email if m.pk not in have])

    campaign = campaign_create(actor=marketer, name=SENT_NAME, segment=segments["rested"],
                               coupon_definition=offer, send_email=True, send_inbox=True,
                               send_sms=False, link="/catalog/", holdout_percent=20,
                               capped=True, **TEXTS)
    campaign_schedule(campaign=campaign, actor=marketer, send_at=sent_at,
                      now=sent_at - timedelta(hours=1))
    campaign_launch(campaign=campaign, now=sent_at, durable=False)
    while campaign_send_batch(campaign_id=campaign.pk, now=sent_at, durable=False):
        pass
    campaign_finish_if_done(campaign_id=campaign.pk, now=sent_at + timedelta(minutes=3),
                            durable=False)
    touches = list(Touch.objects.filter(source="campaign", source_id=campaign.pk)
                   .order_by("pk"))
    OutboxMessage.objects.filter(about__in=[f"marketing.touch:{t.pk}" for t in touches],
                                 state="pending").update(
        state="sent", sent_at=sent_at + timedelta(minutes=1), attempts=1)
    sent = [t for t in touches if t.outcome == "sent"]
    for touch in sent:
        if rng.random() < 0.45:
            touch_opened(touch_id=touch.pk, now=sent_at + timedelta(hours=rng.randint(1, 30)))
        if rng.random() < 0.15:
            touch_clicked(touch_id=touch.pk, now=sent_at + timedelta(hours=rng.randint(1, 40)))

    online, counter = _redemptions(touches=sent, held=[t for t in touches
                                                       if t.outcome == "holdout"],
                                   stores=stores, staff=staff, products=products, rng=rng)

    later = campaign_create(actor=marketer, name="金卡生日月礼遇", segment=segments["birthday-rings"],
                            coupon_definition=offer, send_email=True, send_sms=True,
                            send_inbox=True, link="/catalog/", holdout_percent=10,
                            # Texts at lunch or after work only: its own send window.
                            quiet_from=time(20, 0), quiet_until=time(11, 30), **{
                                **TEXTS, "sms_text": {"zh-hans": "【金缘】{name}生日快乐，"
                                                                 "礼券{coupon_code}已到账"}})
    with transaction.atomic():
        Campaign.objects.filter(pk=later.pk).update(scheduled_at=_noon(
            timezone.localdate(now) + timedelta(days=3)))
    later.refresh_from_db()
    # The segment may be empty on a small demo: the campaign then stays a draft.
    with contextlib.suppress(CampaignInvalid):
        campaign_schedule(campaign=later, actor=marketer, send_at=later.scheduled_at, now=now)
    campaign_create(actor=marketer, name="沉睡会员唤醒（草稿）", segment=segments["dormant"],
                    coupon_definition=None, send_email=True, send_inbox=True, send_sms=False,
                    link="/catalog/new/", holdout_percent=0, **{
                        **TEXTS,
                        "email_subject": {"zh-hans": "{name}，好久不见"},
                        "email_body": {"zh-hans": "新品已上架，来店里看看吧。{link}"},
                        "inbox_title": {"zh-hans": "新品上架"},
                        "inbox_body": {"zh-hans": "秋冬新品已到店。"}})
    return MarketingResult(segments=len(segments), sent=len(sent),
                           held_out=sum(t.outcome == "holdout" for t in touches),
                           redeemed_online=online, redeemed_counter=counter)


def _redemptions(*, touches: list[Touch], held: list[Touch], stores: dict[str, Store],
                 staff: dict[str, list[User]], products: list[LoadedProduct],
                 rng: random.Random) -> tuple[int, int]:
    """Two members redeem online, two at counters (Shanghai, Beijing); a held-out member
    buys too, without a coupon (the holdout's conversion)."""
    pieces = _Pieces(products=products, rng=rng)
    shops = sorted((s for s in stores.values() if s.kind == StoreKind.STORE),
                   key=lambda s: s.code)
    depot = next((s for s in stores.values() if s.kind == StoreKind.WAREHOUSE), None)
    codes = dict(Coupon.objects.filter(pk__in=[t.coupon_id for t in touches if t.coupon_id])
                 .values_list("member_id", "code"))
    holders = [t for t in touches if t.member_id in codes]
    online = counter = 0
    members = {u.pk: u for u in User.objects.filter(pk__in=[t.member_id for t in touches]
                                                    + [t.member_id for t in held])}
    for touch in holders[:2]:
        if depot is None:
            break
        piece = pieces.find(depot, low=3200, high=20000)
        if piece is None:
            continue
        order = order_place(lines=[(piece[0], 1)], fulfilment=Fulfilment.DELIVERY, store=None,
                            stock_from=depot, member=members[touch.member_id],
                            coupon_code=codes[touch.member_id], via=VIA)
        order = order_pay(order=order, provider=PaymentProvider.TEST,
                          reference=f"DEMO-{order.number}", amount=order.total,
                          currency=order.currency, via=VIA)
        order_emails_skip(order=order, reason="demo")
        online += 1
    counters = [s for s in shops if staff.get(s.code)][:2]
    for touch, store in zip(holders[2:4], counters, strict=False):
        piece = pieces.find(store, low=3200, high=20000)
        if piece is None:
            continue
        order = order_sell_at_counter(
            store=store, staff=rng.choice(staff[store.code]), lines=[(piece[0], 1)],
            member=members[touch.member_id], payment_provider=PaymentProvider.ALIPAY,
            payment_reference=f"POS{rng.randrange(10**10):010d}",
            coupon_code=codes[touch.member_id])
        order_emails_skip(order=order, reason="demo")
        counter += 1
    if held and counters:
        store = counters[0]
        piece = pieces.find(store, low=1000, high=8000)
        if piece is not None:
            order = order_sell_at_counter(
                store=store, staff=rng.choice(staff[store.code]), lines=[(piece[0], 1)],
                member=members[held[0].member_id], payment_provider=PaymentProvider.WECHAT,
                payment_reference=f"POS{rng.randrange(10**10):010d}")
            order_emails_skip(order=order, reason="demo")
    return online, counter


VIEWED_NAME = "近30天看过项链、还没买项链的会员"


@dataclass(frozen=True)
class ViewsResult:
    pairs: int = 0
    members: int = 0
    segment_members: int = 0


def views_load(*, now: datetime, members: list[User], shopper: User | None,
               products: list[LoadedProduct], marketer: User | None) -> ViewsResult:
    """What members viewed, for the segments' "viewed" rule, and a segment that uses it.

    The full demo's visits (analytics' events of the last MARKETING_VIEWS_DAYS, a quarter
    of them by signed-in members) are rolled up through marketing's own writer, as the fold
    would have; the small demo has no visits, so some members browse a few pieces (necklaces
    more than others) over the last weeks. Written once (the roll-up is empty the first
    time); the segment is saved by name every time."""
    from analytics.models import Event

    necklaces = Category.objects.filter(slug="necklaces").values_list("pk", flat=True).first()
    segment = None
    if necklaces:
        segment = Segment.objects.filter(name=VIEWED_NAME).first() or Segment(
            name=VIEWED_NAME, description="最近一个月看过项链、却还没买过项链的会员：推荐项链新品或送一张项链券。")
        # In the builder's own shape (conditions, then "leave out"), so it opens there.
        segment = segment_save(segment=segment, rules={"all": [
            {"all": [{"rule": "viewed", "categories": [necklaces], "days": 30}]},
            {"not": {"any": [{"rule": "bought", "categories": [necklaces]}]}}]}, actor=marketer)
    if MemberView.objects.exists():
        return ViewsResult()
    since = now - timedelta(days=views_kept_days())
    pairs = (Event.objects.filter(kind="product.viewed", user__isnull=False,
                                  user__is_staff=False, product_id__isnull=False, at__gte=since,
                                  at__lte=now)
             .values("user_id", "product_id").order_by()
             .annotate(first=Min("at"), last=Max("at"), n=Count("id")))
    rows = [(p["user_id"], p["product_id"], p["first"], p["last"], p["n"]) for p in pairs]
    if not rows:
        rows = _views_made_up(now=now, members=[*members, *([shopper] if shopper else [])],
                              products=products, necklaces=necklaces)
    with transaction.atomic():
        written = member_views_add(views=rows)
    from marketing.services.segments import segment_count

    return ViewsResult(pairs=written, members=len({row[0] for row in rows}),
                       segment_members=segment_count(segment) if segment else 0)


def _views_made_up(*, now: datetime, members: list[User], products: list[LoadedProduct],
                   necklaces: int | None) -> list[tuple]:
    rng = random.Random("2026:marketing:views")
    others = [p.product.pk for p in products if p.product.category_id != necklaces]
    necklace_ids = [p.product.pk for p in products if p.product.category_id == necklaces]
    rows: dict[tuple[int, int], tuple] = {}
    for member in members:
        if rng.random() < 0.4:
            continue
        for _ in range(rng.randint(1, 5)):
            pool = necklace_ids if necklace_ids and rng.random() < 0.4 else others or necklace_ids
            if not pool:
                return []
            product = rng.choice(pool)
            last = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 600))
            first = last - timedelta(days=rng.randint(0, 10))
            views = rng.randint(1, 6)
            rows[(member.pk, product)] = (member.pk, product, first, last, views)
    return list(rows.values())
