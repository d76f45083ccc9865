"""The built-in journeys, as data: created (switched off) by migration 0002, switched on
with their coupons by the demo, edited by marketers like any other journey.

Texts: {name}, {coupon_code}, {coupon_value}, {coupon_expires}, {link} are filled by
marketing's reach; {rate}, {target}, {metal}, {purity}, {pieces}, {order} by the engine.
"""

from __future__ import annotations

from typing import Any

WELCOME = "welcome"
BIRTHDAY = "birthday"
ANNIVERSARY = "anniversary"
CARE = "care"
TRYON = "tryon-follow-up"
WINBACK = "win-back"
GOLD_PRICE = "gold-price"
BACK_IN_STOCK = "back-in-stock"


def _send(*, title: tuple[str, str], body: tuple[str, str], sms: tuple[str, str] = ("", ""),
          channels: str = "inbox,email,sms", coupon_from: str = "", link: str = "") -> dict:
    return {"kind": "send", "channels": channels, "coupon_from": coupon_from,
            "title_zh": title[0], "title_en": title[1], "body_zh": body[0], "body_en": body[1],
            "sms_zh": sms[0], "sms_en": sms[1], "link": link}


def _wait(days: int, until: str = "") -> dict:
    return {"kind": "wait", "wait_days": days, "wait_until": until}


def _branch(condition: str, value: str = "") -> dict:
    return {"kind": "branch", "condition": condition, "condition_value": value}


BUILTINS: list[dict[str, Any]] = [
    {"key": WELCOME, "name": "新会员欢迎礼 · New member welcome", "trigger": "signup",
     "coupon": "welcome", "steps": [
         _send(title=("欢迎加入金缘珠宝", "Welcome to Jinyuan Jewellery"),
               body=("{name}，欢迎成为会员！新会员礼已放入您的券包：{coupon_value}，券码 {coupon_code}，"
                     "{coupon_expires}前有效，网店与门店均可使用。",
                     "{name}, welcome! Your new member gift is in your wallet: {coupon_value}, "
                     "code {coupon_code}, valid until {coupon_expires}, online and in store."),
               sms=("欢迎加入金缘珠宝！新会员礼{coupon_value}已入券包，券码{coupon_code}。",
                    "Welcome to Jinyuan! Your gift {coupon_value} is in your wallet: {coupon_code}."),
               coupon_from="definition", link="/account/coupons/"),
     ]},
    {"key": BIRTHDAY, "name": "生日礼 · Birthday gift", "trigger": "birthday", "steps": [
        _send(title=("生日快乐", "Happy birthday"),
              body=("{name}，生日快乐！您的会员生日礼已放入券包：{coupon_value}，券码 {coupon_code}，"
                    "{coupon_expires}前有效。",
                    "Happy birthday, {name}! Your tier's birthday gift is in your wallet: "
                    "{coupon_value}, code {coupon_code}, valid until {coupon_expires}."),
              sms=("{name}生日快乐！生日礼{coupon_value}已入券包，券码{coupon_code}。",
                   "Happy birthday {name}! Your gift {coupon_value}: {coupon_code}."),
              coupon_from="tier_birthday", link="/account/coupons/"),
    ]},
    {"key": ANNIVERSARY, "name": "结婚纪念日 · Wedding anniversary", "trigger": "anniversary",
     "lead_days": 15, "steps": [
         _send(title=("纪念日将至", "Your anniversary is coming"),
               body=("{name}，再过半个月就是您的结婚纪念日。欢迎到店免费清洗婚戒，或为纪念日刻字，"
                     "预约一个您方便的时间。",
                     "{name}, your wedding anniversary is two weeks away. Visit us for a free "
                     "ring cleaning or an engraving for the day: book a time that suits you."),
               channels="inbox,email", link="/try-on/book/"),
         _wait(0, "anniversary"),
         _send(title=("纪念日快乐", "Happy anniversary"),
               body=("{name}，纪念日快乐！愿每一年都如初见。",
                     "Happy anniversary, {name}! May every year shine like the first."),
               channels="inbox"),
     ]},
    {"key": CARE, "name": "首饰保养提醒 · Care reminder", "trigger": "handed_over", "steps": [
        _wait(182),
        # One text for everyone (a daily batch is one reach); the link opens the booking
        # with the member's own piece and store chosen (journeys.views.care_booking).
        _send(title=("您的首饰该保养了", "Time for a free cleaning"),
              body=("{name}，您的首饰已佩戴半年，欢迎到店免费清洗保养。点击预约，已为您选好首饰和门店。",
                    "{name}, you have worn your piece for six months: book a free cleaning "
                    "at your store (the piece and the store are already chosen)."),
              sms=("{name}，您的首饰已佩戴半年，欢迎到店免费清洗保养：{link}",
                   "{name}, a free cleaning of your piece awaits at your store: {link}"),
              link="/account/care/"),
    ]},
    {"key": TRYON, "name": "试戴后回访 · After a try-on", "trigger": "tryon_not_bought", "steps": [
        _wait(2),
        _branch("not_bought_since"),
        _send(title=("还在想那件首饰吗？", "Still thinking of it?"),
              body=("{name}，感谢您前天到店试戴{pieces}。想再看看？点击即可预约下次试戴。",
                    "{name}, thank you for trying on {pieces}. Book another try-on whenever "
                    "you like."),
              channels="inbox,email", link="/try-on/book/"),
    ]},
    {"key": WINBACK, "name": "老客唤回 · Win-back", "trigger": "winback", "coupon": "winback",
     "steps": [
        _send(title=("好久不见", "We miss you"), coupon_from="definition",
              body=("{name}，好久不见！为您准备了一份回归礼：{coupon_value}，券码 {coupon_code}。",
                    "{name}, it has been a while! A gift for your return: {coupon_value}, "
                    "code {coupon_code}."),
              channels="inbox,email", link="/account/coupons/"),
        _wait(14),
        _branch("not_bought_since"),
        _send(title=("回归礼即将到期", "Your gift expires soon"),
              body=("{name}，您的回归礼将于{coupon_expires}到期，别错过。",
                    "{name}, your return gift expires on {coupon_expires}."),
              channels="inbox"),
    ]},
    {"key": GOLD_PRICE, "name": "金价提醒 · Gold price alert", "trigger": "gold_price", "steps": [
        _send(title=("金价到了您的目标价", "The gold price reached your target"),
              body=("{name}，今日{metal}（{purity}）每克¥{rate}，已达到您设定的目标价¥{target}。",
                    "{name}, today's {metal} ({purity}) rate is ¥{rate} a gram, at or below "
                    "your target of ¥{target}."),
              sms=("{name}，今日{metal}{purity}每克¥{rate}，已达您的目标价¥{target}。",
                   "{name}: {metal} {purity} is ¥{rate}/g today, at your target ¥{target}."),
              link="/products/"),
    ]},
    {"key": BACK_IN_STOCK, "name": "心愿单到店 · Back in stock at my store",
     "trigger": "back_in_stock", "steps": [
         _send(title=("心愿单上的首饰到店了", "A wishlist piece is at your store"),
               body=("{name}，您心愿单上的{pieces}已到您的门店，欢迎预约试戴。",
                     "{name}, {pieces} from your wishlist is now at your store: book a try-on."),
               channels="inbox,email", link="/try-on/book/"),
     ]},
]


STEP_DEFAULTS: dict[str, Any] = {
    "wait_days": 0, "wait_until": "", "channels": "", "coupon_from": "", "title_zh": "",
    "title_en": "", "body_zh": "", "body_en": "", "sms_zh": "", "sms_en": "", "link": "",
    "condition": "", "condition_value": ""}


def builtins_ensure(*, apps: Any = None, enable: bool = False,
                    coupons: dict[str, int] | None = None) -> int:
    """Create the missing built-in journeys (with their steps and a first version);
    ``enable`` switches them on; ``coupons`` maps a built-in's coupon slot ("welcome",
    "winback") to a CouponDefinition id, put on its coupon-giving steps (a new version
    when that changes them). Works on a migration's historical models (``apps``) or the
    real ones. Idempotent; never touches a journey's steps a marketer has edited except
    to fill an empty coupon. Returns how many journeys it created."""
    from django.db.models import Max

    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Journey = apps.get_model("journeys", "Journey")
    JourneyStep = apps.get_model("journeys", "JourneyStep")
    JourneyVersion = apps.get_model("journeys", "JourneyVersion")
    coupons = coupons or {}
    created = 0
    for spec in BUILTINS:
        journey, made = Journey.objects.get_or_create(key=spec["key"], defaults={
            "name": spec["name"], "trigger": spec["trigger"],
            "lead_days": spec.get("lead_days", 0)})
        created += int(made)
        if made:
            for position, step in enumerate(spec["steps"], start=1):
                JourneyStep.objects.create(journey=journey, position=position,
                                           **{**STEP_DEFAULTS, **step})
        definition_id = coupons.get(spec.get("coupon", ""))
        filled = 0
        if definition_id:
            filled = JourneyStep.objects.filter(
                journey=journey, kind="send", coupon_from="definition",
                coupon_definition__isnull=True).update(coupon_definition_id=definition_id)
        missing = JourneyStep.objects.filter(journey=journey, kind="send",
                                             coupon_from="definition",
                                             coupon_definition__isnull=True).exists()
        if (made or filled) and not missing:
            # A coupon step without its coupon stays a draft (no version) until one is chosen.
            data = [_as_data(step) for step in
                    JourneyStep.objects.filter(journey=journey).order_by("position")]
            number = (JourneyVersion.objects.filter(journey=journey)
                      .aggregate(n=Max("number"))["n"] or 0) + 1
            journey.current_version = JourneyVersion.objects.create(
                journey=journey, number=number, steps=data)
            journey.paused_reason = ""
        if enable and journey.current_version_id:
            journey.is_enabled = True
        journey.save()
    return created


def _as_data(step: Any) -> dict[str, Any]:
    """journeys.services.versions.step_as_data, for historical models too."""
    return {
        "kind": step.kind, "wait_days": step.wait_days, "wait_until": step.wait_until,
        "channels": [c.strip() for c in step.channels.split(",") if c.strip()],
        "coupon_from": step.coupon_from, "coupon_definition_id": step.coupon_definition_id,
        "title": {"zh-hans": step.title_zh, "en": step.title_en},
        "body": {"zh-hans": step.body_zh, "en": step.body_en},
        "sms": {"zh-hans": step.sms_zh, "en": step.sms_en},
        "link": step.link, "condition": step.condition,
        "condition_value": step.condition_value,
    }
