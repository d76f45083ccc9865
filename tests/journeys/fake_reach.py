"""A stand-in for marketing.services.reach (issue 15) while that pipeline is not merged:
the same signature and outcome, idempotent per (source, source_id, occasion, member) by
an outbox row's UNIQUE dedupe key, the coupon through the members' engine. Used only when
the real module is missing (tests/journeys/conftest.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from members.models import CouponDefinition, User
from members.services import coupon_issue
from o2o.models import OutboxMessage
from o2o.outbox import outbox_enqueue

KIND = "journeys.fake"


@dataclass(frozen=True)
class Content:
    email_subject: Mapping[str, str] = field(default_factory=dict)
    email_body: Mapping[str, str] = field(default_factory=dict)
    sms: Mapping[str, str] = field(default_factory=dict)
    inbox_title: Mapping[str, str] = field(default_factory=dict)
    inbox_body: Mapping[str, str] = field(default_factory=dict)
    link: str = ""


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reason: str
    not_before: datetime | None
    coupon_id: int | None
    touch_id: int | None


def reach_member(*, member_id: int, source: str, source_id: int, occasion: str,
                 content: Content, channels: Sequence[str],
                 coupon_definition_id: int | None = None, capped: bool = True,
                 holdout: bool = False, now: datetime | None = None) -> Outcome:
    if holdout:
        return Outcome(False, "holdout", None, None, None)
    member = User.objects.get(pk=member_id)
    key = f"{source}:{source_id}:{occasion}:{member_id}"
    existing = OutboxMessage.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return Outcome(True, "", None, existing.payload.get("coupon_id"), existing.pk)
    coupon_id = None
    if coupon_definition_id:
        definition = CouponDefinition.objects.get(pk=coupon_definition_id)
        coupon_id = coupon_issue(definition=definition, member=member,
                                 occasion=f"j{source_id}:{occasion}"[:40], now=now).pk
    outbox_enqueue(channel=OutboxMessage.Channel.EMAIL, kind=KIND,
                   recipient=member.email or member.phone or "nobody", dedupe_key=key,
                   payload={"coupon_id": coupon_id, "subject": dict(content.email_subject),
                            "body": dict(content.email_body), "link": content.link,
                            "channels": list(channels)})
    row = OutboxMessage.objects.get(dedupe_key=key)
    return Outcome(True, "", None, coupon_id, row.pk)


def install(monkeypatch=None) -> None:
    """Point the engine at the stand-in (monkeypatch in tests; plain assignment in a
    subprocess)."""
    from journeys.services import engine

    def content(**kwargs):
        return Content(**kwargs)

    if monkeypatch is not None:
        monkeypatch.setattr(engine, "reach_member", reach_member)
        monkeypatch.setattr(engine, "reach_content", content)
    else:
        engine.reach_member = reach_member
        engine.reach_content = content
