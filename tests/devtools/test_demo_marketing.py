"""The demo's marketing: segments, a sent campaign with a holdout and its coupon redeemed
online and at counters (the report shows it), one scheduled, a draft; a second run adds
nothing."""

import io
import json

import pytest
from django.core.management import call_command

from marketing.models import Campaign, MemberScore, MemberView, Segment, Touch
from marketing.selectors import attribution
from marketing.services.segments import segment_count
from o2o.models import OutboxMessage


@pytest.mark.django_db
def test_the_demo_has_segments_a_sent_campaign_with_redemptions_a_scheduled_one_and_a_draft():
    out = io.StringIO()
    call_command("load_demo", "--small", stdout=out)
    assert "marketing" in out.getvalue()
    assert Segment.objects.count() >= 4
    # the nightly RFM scores are there, so the RFM segment is alive too
    assert MemberScore.objects.exists()
    rfm = next(s for s in Segment.objects.all() if "rfm" in json.dumps(s.rules))
    assert segment_count(rfm) > 0, rfm.rules
    sent = Campaign.objects.get(status="sent")
    report = attribution(source="campaign", source_id=sent.pk)
    assert report.sent >= 20 and report.held_out >= 5
    assert report.redeemed_online >= 1 and sum(report.redeemed_by_store.values()) >= 1
    assert report.treated.revenue > 0 and report.opened > 0
    assert report.lift is not None
    # The sent campaign's messages are marked sent. What else waits for the outbox's worker
    # is the demo's journey tick of today (in the day; quiet hours, 21:00-09:00 in
    # Shanghai, hold those back), never another campaign's.
    def about(touches):
        return {f"marketing.touch:{pk}" for pk in touches.values_list("pk", flat=True)}

    waiting = set(OutboxMessage.objects.filter(kind__startswith="marketing.", state="pending")
                  .values_list("about", flat=True))
    assert not waiting & about(Touch.objects.filter(source="campaign", source_id=sent.pk))
    assert waiting <= about(Touch.objects.filter(source="journey")), waiting
    assert set(Campaign.objects.values_list("status", flat=True)) >= {"sent", "draft"}
    # Members viewed pieces (the segments' "viewed" rule) and a demo segment uses it.
    viewed = Segment.objects.get(name__contains="看过项链")
    assert viewed.rules["all"][0]["all"][0]["rule"] == "viewed"
    # the builder opens it as it was saved
    from marketing.forms import rules_to_initial

    initial = rules_to_initial(viewed.rules)
    assert initial["viewed_categories"] and initial["except_bought_categories"] == \
        initial["viewed_categories"]
    assert segment_count(viewed) >= 1
    views = MemberView.objects.count()
    assert views >= 20
    touches = Touch.objects.count()
    call_command("load_demo", "--small", stdout=io.StringIO())
    assert Touch.objects.count() == touches
    assert MemberView.objects.count() == views
    assert Segment.objects.filter(name=viewed.name).count() == 1
