"""`make bench`'s campaigns (issue 15): a campaign to 100,000 members, the segment count
over them, and a worker SIGKILLed three times while it sends.

- ``segment-count``: a four-rule segment (tier, birthday within 30 days, email consent,
  not messaged in 14 days) and a wide one (every bench member with email consent)
  counted over the 100,000 bench members (plus the demo's), five times each: the median
  and the slowest, against the issue's second.
- ``campaign-send``: a coupon campaign (email + inbox) to the 100,000: launched (the
  audience frozen), then sent in SKIP LOCKED batches by one process (one worker), the
  coupon, the outbox row, the inbox item and the Touch of each member in the batch's
  transaction. The time (at most 60 s), queries per member, and the peak RSS sampled
  every 10,000 (memory flat).
- ``campaign-kill``: the same on 20,000 members, sent by a real Celery worker (the
  campaign tick enqueued every second, as beat would; beat itself is not started: it
  would also start the shop's nightly and analytics work on the bench's chain history)
  that is SIGKILLed three times during the send and started again. The worker also
  delivers the outbox (its nudges share the queue), as it would in the shop. Counted in the database afterwards: one coupon, one Touch and one email row in
  the outbox per recipient, every recipient done.

The bench members (``bench-cmp-N@o2o.example``, tiers ``bench-cmp`` and
``bench-cmp-kill``) are made once with INSERT ... SELECT generate_series and kept; each
run makes campaigns of its own.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from .benchmark_feedback import _Group, _mb, _quiet_env, _shell, _wait

MEMBERS = 100_000
KILL_MEMBERS = 20_000
SEND_LIMIT_SECONDS = 60.0
# Sender processes (SKIP LOCKED shares the rows between them): one, as one worker
# process; CAMPAIGN_BENCH_SENDERS=2 runs a pool of two.
SENDERS = 1
COUNT_LIMIT_SECONDS = 1.0

# The bench members, made once (about 10 s): profiles with birthdays spread over the
# year, tier bench-cmp (the last KILL_MEMBERS also bench-cmp-kill: a separate segment),
# an email consent each.
PREPARE = """
import json
from decimal import Decimal
from django.db import connection, transaction
from members.models import Tier, User
count, kill = {count}, {kill}
tier, _ = Tier.objects.get_or_create(code="bench-cmp", defaults=dict(
    name="压测", name_en="Bench", min_spend=Decimal("900000001")))
kill_tier, _ = Tier.objects.get_or_create(code="bench-cmp-kill", defaults=dict(
    name="压测(中断)", name_en="Bench (kill)", min_spend=Decimal("900000002")))
have = User.objects.filter(email__startswith="bench-cmp-").count()
if have < count:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(\"\"\"
            INSERT INTO members_user (password, is_superuser, email, phone, phone_verified,
                name, language, is_staff, is_active, date_joined)
            SELECT '', false, 'bench-cmp-' || n || '@o2o.example',
                   '+86170' || lpad(n::text, 8, '0'), false, '压测会员' || n, 'zh-hans',
                   false, true, now()
            FROM generate_series(%s, %s) AS n
            ON CONFLICT DO NOTHING\"\"\", [have + 1, count])
        cursor.execute(\"\"\"
            INSERT INTO members_memberprofile (user_id, gender, birthday, ring_size,
                registered_channel, spend_12m, points_balance, created_at, tier_id)
            SELECT u.id, CASE WHEN u.id %% 2 = 0 THEN 'f' ELSE 'm' END,
                   date '1970-01-01' + ((u.id * 7919) %% 12000)::int,
                   '', 'online', 0, 0, now(),
                   CASE WHEN u.id %% %s < %s THEN %s ELSE %s END
            FROM members_user u
            WHERE u.email LIKE 'bench-cmp-%%'
              AND NOT EXISTS (SELECT 1 FROM members_memberprofile p WHERE p.user_id = u.id)
            \"\"\", [count // kill, 1, kill_tier.pk, tier.pk])
        cursor.execute(\"\"\"
            INSERT INTO members_consent (member_id, channel, granted_at, source)
            SELECT u.id, 'email', now(), 'online' FROM members_user u
            WHERE u.email LIKE 'bench-cmp-%%' AND NOT EXISTS (
                SELECT 1 FROM members_consent c WHERE c.member_id = u.id
                  AND c.channel = 'email' AND c.withdrawn_at IS NULL)\"\"\")
# Messages of earlier runs to the bench members are not sent (they would keep a worker
# busy for an hour): withdrawn.
from o2o.models import OutboxMessage
OutboxMessage.objects.filter(kind__startswith="marketing.", state__in=["pending", "sending"],
                             recipient__startswith="bench-cmp-").update(
    state="cancelled", last_error="bench leftovers")
print(json.dumps({{"members": User.objects.filter(email__startswith="bench-cmp-").count(),
                  "tier": tier.pk, "kill_tier": kill_tier.pk,
                  "kill_members": User.objects.filter(profile__tier=kill_tier).count()}}))
"""

COUNT = """
import json, statistics, time
from marketing.services.segments import segment_count
tier = {tier}
rules = {{
    "narrow": {{"all": [{{"rule": "tier", "tiers": [tier]}}, {{"rule": "birthday", "days": 30}},
                       {{"rule": "consent", "channel": "email"}},
                       {{"rule": "not_messaged", "days": 14}}]}},
    "wide": {{"all": [{{"rule": "tier", "tiers": [tier, {kill_tier}]}},
                     {{"rule": "consent", "channel": "email"}}]}},
}}
out = {{}}
for name, tree in rules.items():
    took, count = [], 0
    for _ in range(5):
        started = time.perf_counter()
        count = segment_count(tree)
        took.append((time.perf_counter() - started) * 1000)
    out[name] = {{"count": count, "median_ms": round(statistics.median(took), 1),
                 "max_ms": round(max(took), 1), "ms": [round(t, 1) for t in took]}}
print(json.dumps(out))
"""

# Make, schedule and launch a campaign to the tier's members; print its id and the launch.
MAKE = """
import json, time
from django.utils import timezone
import marketing.services.campaigns
# "Send now" asks beat's tick at once; with the bench's eager tasks that would send the
# whole campaign here: the senders below (or the kill run's worker) do it instead.
marketing.services.campaigns._tick_soon = lambda: None
from marketing.models import Segment
from marketing.services.campaigns import campaign_create, campaign_launch, campaign_schedule
from members.models import CouponDefinition
tag, tiers = "{tag}", {tiers}
segment = Segment.objects.create(name=f"bench {{tag}}", rules={{"all": [
    {{"rule": "tier", "tiers": tiers}}, {{"rule": "consent", "channel": "email"}}]}})
definition = CouponDefinition.objects.create(name=f"bench {{tag}}", kind="amount", value=50,
                                             valid_days=30)
campaign = campaign_create(actor=None, name=f"bench {{tag}}", segment=segment,
                           coupon_definition=definition, send_email=True, send_inbox=True,
                           send_sms=False, capped=True, holdout_percent=10,
                           email_subject={{"zh-hans": "{{name}}，送您一张券"}},
                           email_body={{"zh-hans": "券码 {{coupon_code}}：{{coupon_value}}。{{link}}"}},
                           inbox_title={{"zh-hans": "专属优惠"}}, inbox_body={{"zh-hans": "{{coupon_value}}"}},
                           link="/")
campaign_schedule(campaign=campaign, actor=None)
launched = 0.0
if {launch}:
    started = time.perf_counter()
    campaign_launch(campaign=campaign)
    launched = time.perf_counter() - started
campaign.refresh_from_db()
print(json.dumps({{"campaign": campaign.pk, "definition": definition.pk,
                  "audience": campaign.audience_size, "held": campaign.holdout_size,
                  "launch_seconds": launched}}))
"""

SEND = """
import json, resource, time
from django.db import connection
import o2o.outbox
# The outbox's "deliver now" nudge is another worker's job (the bench's server settings
# run tasks eagerly, which would send every email inside this loop): off here.
o2o.outbox._nudge = lambda: None
from marketing.models import Campaign
from marketing.services.campaigns import campaign_finish_if_done, campaign_send_batch
campaign_id = {campaign}
rss, done, marks, counted = [], 0, 10000, [0]


def tally(execute, sql, params, many, context):
    counted[0] += 1
    return execute(sql, params, many, context)


with connection.execute_wrapper(tally):
    started = time.perf_counter()
    while True:
        n = campaign_send_batch(campaign_id=campaign_id)
        done += n
        while done >= marks:
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            marks += 10000
        if not n:
            break
    campaign_finish_if_done(campaign_id=campaign_id)
    seconds = time.perf_counter() - started
print(json.dumps({{"done": done, "seconds": seconds, "queries": counted[0], "rss_kb": rss,
                  "status": Campaign.objects.get(pk=campaign_id).status}}))
"""

# What beat's marketing-campaigns-tick does, once.
TICK = """
from marketing.tasks import campaigns_tick_task
campaigns_tick_task.delay()
print("{}")
"""

# Exactly once, counted in the database and the outbox.
TALLY = """
import json
from collections import Counter
from marketing.models import Campaign, CampaignRecipient, Touch
from members.models import Coupon
from o2o.models import OutboxMessage
campaign = Campaign.objects.get(pk={campaign})
recipients = CampaignRecipient.objects.filter(campaign=campaign)
touches = Touch.objects.filter(source="campaign", source_id=campaign.pk)
coupons = Counter(Coupon.objects.filter(definition_id={definition})
                  .values_list("member_id", flat=True))
touch_ids = list(touches.filter(outcome="sent").values_list("pk", flat=True))
emails = Counter(OutboxMessage.objects.filter(
    kind="marketing.reach.email",
    about__in=[f"marketing.touch:{{pk}}" for pk in touch_ids]).values_list("about", flat=True))
per_member = Counter(touches.values_list("member_id", flat=True))
print(json.dumps({{
    "status": campaign.status, "recipients": recipients.count(),
    "pending": recipients.filter(done_at__isnull=True).count(),
    "held": recipients.filter(holdout=True).count(),
    "touches": touches.count(), "touches_per_member": sorted(set(per_member.values())),
    "sent": len(touch_ids), "coupons": sum(coupons.values()),
    "coupons_per_member": sorted(set(coupons.values())),
    "emails": sum(emails.values()), "emails_per_touch": sorted(set(emails.values())),
    "touches_without_email": len(touch_ids) - len(emails)}}))
"""


def _flat(rss_kb: list[int], *, slack_mb: float = 48) -> bool:
    return len(rss_kb) >= 2 and (rss_kb[-1] - rss_kb[1]) / 1024 <= slack_mb


def exact(t: dict) -> bool:
    """One Touch per recipient, one coupon and one email per member sent, none pending."""
    return (t["status"] == "sent" and t["pending"] == 0 and t["touches"] == t["recipients"]
            and t["touches_per_member"] == [1] and t["coupons"] == t["sent"]
            and t["coupons_per_member"] == [1] and t["emails"] == t["sent"]
            and t["emails_per_touch"] == [1] and t["touches_without_email"] == 0)


def prepare(env: dict[str, str], log) -> dict:
    started = time.monotonic()
    made = _shell(env, PREPARE.format(count=MEMBERS, kill=KILL_MEMBERS))
    log(f"campaigns: {made['members']:,} bench members ({made['kill_members']:,} of them in "
        f"the kill run's tier), ready in {time.monotonic() - started:.1f} s")
    return made


def segment_bench(env: dict[str, str], made: dict, log) -> dict:
    result = _shell(env, COUNT.format(tier=made["tier"], kill_tier=made["kill_tier"]))
    for name, figures in result.items():
        log(f"segment-count ({name}): {figures['count']:,} members, median "
            f"{figures['median_ms']} ms, slowest {figures['max_ms']} ms")
    return result


def send_bench(env: dict[str, str], made: dict, log) -> dict:
    # The campaign respects the frequency cap, as a marketer's does by default: every
    # batch reads its members' recent reaches. The cap itself is lifted, or the bench
    # members, reached by every earlier run, would all be skipped "capped" after two.
    env = {**env, "MARKETING_CAP_MESSAGES": "1000"}
    tag = uuid.uuid4().hex[:6]
    campaign = _shell(env, MAKE.format(tag=tag, tiers=[made["tier"], made["kill_tier"]],
                                       launch=True))
    log(f"campaign-send: {campaign['audience']:,} members frozen at launch "
        f"({campaign['held']:,} held out) in {campaign['launch_seconds']:.1f} s")
    senders = int(os.environ.get("CAMPAIGN_BENCH_SENDERS", SENDERS))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        parts = list(pool.map(lambda _n: _shell(env, SEND.format(campaign=campaign["campaign"])),
                              range(senders)))
    seconds = time.monotonic() - started
    done = sum(p["done"] for p in parts)
    queries = sum(p["queries"] for p in parts)
    rss = max((p["rss_kb"] for p in parts), key=lambda r: r[-1] if r else 0)
    sent = {"done": done, "seconds": seconds, "queries": queries, "rss_kb": rss,
            "senders": senders, "per_sender": [p["done"] for p in parts],
            "status": parts[-1]["status"]}
    total = campaign["launch_seconds"] + seconds
    log(f"  sent to {done:,} by {senders} sender processes (one worker's pool) in "
        f"{seconds:.1f} s ({done / max(0.001, seconds):.0f}/s; "
        f"{queries / max(1, done):.2f} queries each); launch + send {total:.1f} s; peak RSS "
        f"{_mb(rss)} MB per process at each 10,000 it sent; {sent['status']}")
    tally = _shell(env, TALLY.format(campaign=campaign["campaign"],
                                     definition=campaign["definition"]))
    log(f"  counted: {tally['touches']:,} reaches, {tally['coupons']:,} coupons, "
        f"{tally['emails']:,} emails in the outbox, exactly once: {exact(tally)}")
    return {"launch": campaign, "send": sent, "total_seconds": round(total, 1),
            "tally": tally}


def kill_bench(env: dict[str, str], made: dict, log) -> dict:
    tag = uuid.uuid4().hex[:6]
    campaign = _shell(env, MAKE.format(tag=tag, tiers=[made["kill_tier"]], launch=False))
    log(f"campaign-kill: a campaign to {made['kill_members']:,} members scheduled; a Celery "
        "worker (ticked each second as beat would) killed three times while it sends")
    group = _Group({**env, "MARKETING_TICK_SECONDS": "1", "MARKETING_BATCH_SIZE": "200"},
                   f"o2o-bench-mail-{tag}")
    done_sql = f"""
import json
from marketing.models import CampaignRecipient
print(json.dumps({{"done": CampaignRecipient.objects.filter(campaign_id={campaign['campaign']},
                                                            done_at__isnull=False).count()}}))
"""
    status_sql = f"""
import json
from marketing.models import Campaign
print(json.dumps({{"status": Campaign.objects.get(pk={campaign['campaign']}).status}}))
"""
    tick_env = {**group.env, "CELERY_TASK_ALWAYS_EAGER": "false"}
    stop = threading.Event()

    def ticking() -> None:
        # Beat's tick, every second or so. (Beat itself would also start the shop's
        # nightly and analytics work on the bench's chain history, which keeps the
        # worker's two processes busy for minutes: not what this run measures.)
        while not stop.is_set():
            with contextlib.suppress(Exception):
                _shell(tick_env, TICK)
            stop.wait(1.0)

    started = time.monotonic()
    kills_at = []
    ticker = threading.Thread(target=ticking, daemon=True)
    try:
        ticker.start()
        for share in (0.2, 0.45, 0.7):
            group.start("worker")
            _wait(lambda s=share: _shell(env, done_sql)["done"] >= s * made["kill_members"],
                  300, poll=0.5)
            group.kill("worker")
            kills_at.append(_shell(env, done_sql)["done"])
            log(f"  worker killed with {kills_at[-1]:,} recipients done")
        group.start("worker")
        _wait(lambda: _shell(env, status_sql)["status"] == "sent", 600, poll=1.0)
        seconds = time.monotonic() - started
    finally:
        stop.set()
        ticker.join(timeout=30)
        group.stop()
    tally = _shell(env, TALLY.format(campaign=campaign["campaign"],
                                     definition=campaign["definition"]))
    log(f"  counted: {tally['recipients']:,} recipients, {tally['touches']:,} reaches, "
        f"{tally['coupons']:,} coupons, {tally['emails']:,} emails in the outbox; per member "
        f"{tally['coupons_per_member']} coupons, {tally['emails_per_touch']} emails; exactly "
        f"once: {exact(tally)}; {seconds:.0f} s")
    return {"tally": tally, "kills": group.kills, "kills_at": kills_at,
            "seconds": round(seconds, 1)}


FLOWS = ("segment-count", "campaign-send", "campaign-kill")


def run_campaign_flows(env: dict[str, str], flows: list[str], *, log,
                       row) -> tuple[list[dict], list[str]]:
    env = _quiet_env(env)
    rows, failed = [], []
    made = prepare(env, log)
    if "segment-count" in flows:
        result = segment_bench(env, made, log)
        slowest = max(f["max_ms"] for f in result.values())
        entry = row("segment-count (100k)", [t for f in result.values() for t in f["ms"]],
                    slowest / 1000, {"ok": len(result)}, [], 1,
                    path="(segment counts; see devtools/benchmark_campaigns.py)")
        entry["campaigns"] = result
        rows.append(entry)
        if any(f["median_ms"] > COUNT_LIMIT_SECONDS * 1000 for f in result.values()):
            failed.append("segment-count")
    if "campaign-send" in flows:
        result = send_bench(env, made, log)
        entry = row("campaign-send (100k)", [], result["total_seconds"],
                    {"ok": result["send"]["done"]}, [], 1,
                    path="(a campaign to 100,000; see devtools/benchmark_campaigns.py)")
        entry["campaigns"] = {**result, "peak_rss_mb": _mb(result["send"]["rss_kb"]),
                              "memory_flat": _flat(result["send"]["rss_kb"])}
        rows.append(entry)
        if (result["total_seconds"] > SEND_LIMIT_SECONDS or not exact(result["tally"])
                or not entry["campaigns"]["memory_flat"]):
            failed.append("campaign-send")
    if "campaign-kill" in flows:
        result = kill_bench(env, made, log)
        entry = row("campaign-kill (20k, 3 kills)", [], result["seconds"],
                    {"ok": result["tally"]["recipients"]}, [], 1,
                    path="(a worker SIGKILLed three times; see devtools/benchmark_campaigns.py)")
        entry["campaigns"] = result
        rows.append(entry)
        if not exact(result["tally"]) or result["kills"] != 3:
            failed.append("campaign-kill")
    return rows, failed
