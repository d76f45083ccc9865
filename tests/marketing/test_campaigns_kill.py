"""A campaign survives killed workers: 1,500 members, the Celery worker SIGKILLed three
times while it sends (beat keeps ticking), then started again. Counted in the database and
at the transports: one coupon, one Touch, one email row and one text row per member, and
every member's messages arrived (a repeat only under the same Message-ID / reference)."""

from collections import Counter

import pytest

from marketing.models import Campaign, CampaignRecipient, Touch
from marketing.services.campaigns import campaign_schedule
from members.models import Coupon
from o2o.models import OutboxMessage
from o2o.outbox import dedupe_digest, message_id_for
from tests.members.coupon_factories import CouponDefinitionFactory
from tests.o2o.delivery_log import delivered
from tests.o2o.test_outbox_kill import processes, wait_for  # noqa: F401 - the fixture

from .campaign_factories import campaign
from .factories import consented

COUNT = 1500


@pytest.mark.long
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_three_times_while_sending_reaches_everyone_once(processes, settings):  # noqa: F811
    settings.QUIET_HOURS = ""
    members = [consented("email", "sms") for _ in range(COUNT)]
    definition = CouponDefinitionFactory()
    c = campaign(coupon_definition=definition, send_sms=True)
    campaign_schedule(campaign=c, actor=None)

    group = processes(QUIET_HOURS="", MARKETING_BATCH_SIZE="50", MARKETING_TICK_SECONDS="1",
                      DELIVERY_DELAY="0.002")
    key = group.env["DELIVERY_LOG_KEY"]
    group.start("beat")
    done = CampaignRecipient.objects.filter(campaign=c, done_at__isnull=False)
    for threshold in (200, 600, 1000):
        group.start("worker")
        wait_for(lambda t=threshold: done.count() >= t, 120,
                 lambda t=threshold: f"{t} reached\n{group.logs()}")
        group.kill("worker")
    group.start("worker")
    wait_for(lambda: Campaign.objects.get(pk=c.pk).status == "sent", 180,
             lambda: f"the campaign sent ({done.count()} done)\n{group.logs()}")
    rows = OutboxMessage.objects.filter(kind__startswith="marketing.reach.")
    wait_for(lambda: rows.filter(state="sent").count() == 2 * COUNT, 180,
             lambda: f"every message sent: {Counter(rows.values_list('state', flat=True))}"
                     f"\n{group.logs()}")

    assert group.kills == 3
    ids = {m.pk for m in members}
    # The database: one coupon, one Touch, one email and one text per member.
    assert Counter(Coupon.objects.filter(definition=definition)
                   .values_list("member_id", flat=True)) == Counter(ids)
    touches = Touch.objects.filter(source="campaign", source_id=c.pk)
    assert Counter(touches.values_list("member_id", flat=True)) == Counter(ids)
    assert Counter(rows.values_list("channel", flat=True)) == {"email": COUNT, "sms": COUNT}
    assert Counter(rows.values_list("about", flat=True)) == Counter(
        {f"marketing.touch:{t}": 2 for t in touches.values_list("pk", flat=True)})
    # The transports: everyone's messages arrived; a repeat only under its own id.
    arrived = Counter(entry["id"] for entry in delivered(key))
    expected = {message_id_for(key_) for key_ in rows.filter(channel="email")
                .values_list("dedupe_key", flat=True)}
    expected |= {dedupe_digest(key_) for key_ in rows.filter(channel="sms")
                 .values_list("dedupe_key", flat=True)}
    assert set(arrived) == expected
    assert sum(arrived.values()) - len(arrived) <= group.kills * 2 * 20
