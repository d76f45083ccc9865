"""`make bench`'s journey tick (issue 16): the daily tick over 100,000 members.

``journeys-tick``: 100,000 members (bench-j* accounts, written once in the bench
database): birthdays over the whole year with 2,000 on today's date, anniversaries for
half of them with 2,000 fifteen days ahead, and 2,000 care reminders due today (hand-overs
six months ago); every tier has its birthday gift; half consented to email, a third to
texts. One tick, one process: the sweeps enter who is due (set-based), then batches of
500 are claimed and sent through marketing's reach_members. Measured: the tick's time,
its queries, and the queries of each batch: they depend on the groups a batch reaches
(one per tier gift and journey step), never on the number of members in it (at most
MAX_BATCH_QUERIES for 500). The outbox's sending is not in it (its own bench). A later run clears the previous run's enrolments,
reaches and coupons first.

    BENCH_DB_NAME=o2o_h2_bench python -m devtools.benchmark_journeys
    make bench BENCH_ARGS="--only journeys-tick"
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
MEMBERS = 100_000
DUE_EACH = 2_000
LIMIT_SECONDS = 30.0
MAX_BATCH_QUERIES = 120  # for 500 members: the engine's reads, one reach per group

PREPARE = """
import json, random, time
from datetime import date, timedelta
from django.db import connection, transaction
from django.utils import timezone
from journeys.builtins import builtins_ensure, CARE
from journeys.models import Journey, JourneyEnrolment
from marketing.models import InboxItem, Touch
from members.models import Consent, Coupon, CouponDefinition, MemberProfile, Tier, User
from o2o.models import OutboxMessage

members, due = {members}, {due}
started = time.perf_counter()
tiers = list(Tier.objects.order_by("min_spend"))
for tier in tiers:
    name = f"bench 生日礼 {{tier.code}}"
    definition = CouponDefinition.objects.filter(name=name).first() or CouponDefinition.objects.create(
        name=name, kind="amount", value=100, min_spend=500, channel="both", valid_days=30)
    definition.birthday_tiers.set([tier])
builtins_ensure(enable=True)
Journey.objects.exclude(key__in=["birthday", "anniversary", "care"]).update(is_enabled=False)
today = timezone.localdate()
have = User.objects.filter(email__startswith="bench-j").count()
rng = random.Random(16)
if have < members:
    joined = timezone.now() - timedelta(days=800)
    for start in range(have, members, 10_000):
        rows = [User(email=f"bench-j{{n}}@bench.example", phone=f"+86177{{n:08d}}",
                     name=f"会员{{n}}", password="!", date_joined=joined)
                for n in range(start, min(members, start + 10_000))]
        with transaction.atomic():
            User.objects.bulk_create(rows)
            made = list(User.objects.filter(email__in=[r.email for r in rows]).values_list("pk", flat=True))
            profiles = []
            for i, pk in enumerate(made):
                n = start + i
                birthday = (date(1980 + n % 30, 1, 1) + timedelta(days=rng.randrange(365)))
                if n % 50 == 0:  # 2%: born today
                    birthday = date(1980 + n % 30, today.month, min(today.day, 28))
                anniversary = None
                if n % 2:
                    anniversary = date(2005 + n % 15, 1, 1) + timedelta(days=rng.randrange(365))
                    if n % 50 == 1:  # 2%: fifteen days ahead
                        ahead = today + timedelta(days=15)
                        anniversary = date(2005 + n % 15, ahead.month, min(ahead.day, 28))
                profiles.append(MemberProfile(user_id=pk, birthday=birthday, anniversary=anniversary,
                                              tier=tiers[n % len(tiers)]))
            MemberProfile.objects.bulk_create(profiles)
            Consent.objects.bulk_create(
                [Consent(member_id=pk, channel="email", source="online", granted_at=joined)
                 for i, pk in enumerate(made) if (start + i) % 2 == 0]
                + [Consent(member_id=pk, channel="sms", source="online", granted_at=joined)
                   for i, pk in enumerate(made) if (start + i) % 3 == 0])
# The previous run's traces.
journeys = list(Journey.objects.values_list("pk", flat=True))
touches = Touch.objects.filter(source="journey", source_id__in=journeys)
OutboxMessage.objects.filter(about__in=[f"marketing.touch:{{pk}}" for pk in touches.values_list("pk", flat=True)]).delete()
InboxItem.objects.filter(touch__in=touches).delete()
coupons = list(touches.exclude(coupon=None).values_list("coupon_id", flat=True))
touches.delete()
Coupon.objects.filter(pk__in=coupons).delete()
JourneyEnrolment.objects.filter(journey_id__in=journeys).delete()
# Care reminders due today: hand-overs six months ago, their wait over.
care = Journey.objects.get(key=CARE)
now = timezone.now()
ids = list(User.objects.filter(email__startswith="bench-j").order_by("pk").values_list("pk", flat=True)[:due])
JourneyEnrolment.objects.bulk_create([
    JourneyEnrolment(journey=care, version=care.current_version, member_id=pk,
                     occasion=f"order:bench-{{pk}}", step_index=1, due_at=now - timedelta(hours=1),
                     entered_at=now - timedelta(days=182), context={{"variant_ids": [], "store_id": None}})
    for pk in ids])
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print(json.dumps({{"members": User.objects.filter(email__startswith="bench-j").count(),
                  "seconds": round(time.perf_counter() - started, 1)}}))
"""

TICK = """
import json, time
from django.db import connection
from django.utils import timezone
from journeys.services import engine, tick
from journeys.models import JourneyEnrolment
from marketing.models import Touch

counted = [0]
per_batch = []
real = engine.enrolments_run_batch


def tally(execute, sql, params, many, context):
    counted[0] += 1
    return execute(sql, params, many, context)


def measured(**kwargs):
    before, began = counted[0], time.perf_counter()
    result = real(**kwargs)
    per_batch.append((result.claimed, counted[0] - before, result.sent,
                      round((time.perf_counter() - began) * 1000, 1)))
    return result


tick.enrolments_run_batch = measured
# The outbox's worker sends the messages (its own bench); no nudge runs them in here.
import o2o.outbox
o2o.outbox._nudge = lambda: None
with connection.execute_wrapper(tally):
    started, cpu = time.perf_counter(), time.process_time()
    result = tick.journeys_tick(batch_size=500)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
sweep_queries = counted[0] - sum(row[1] for row in per_batch)
full = [q for c, q, _s, _ms in per_batch if c == 500]
print(json.dumps({{
    "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "queries": counted[0], "sweep_queries": sweep_queries,
    "entered": result.entered, "claimed": result.run.claimed, "sent": result.run.sent,
    "skipped": result.run.skipped, "batches": len(per_batch),
    "queries_per_full_batch": sorted(set(full)),
    "per_batch": per_batch,
    "touches": Touch.objects.filter(source="journey").count(),
    "left_due": JourneyEnrolment.objects.filter(status="active", due_at__lte=timezone.now()).count(),
}}))
"""


def _shell(env: dict[str, str], code: str) -> dict:
    out = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "shell", "-v", "0",
                          "-c", code], env=env, cwd=BASE_DIR, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def journeys_tick_bench(env: dict[str, str], log) -> dict:
    env = {**env, "QUIET_HOURS": "", "LOG_LEVEL": "WARNING", "MARKETING_CAP_MESSAGES": "100"}
    log(f"journeys-tick: {MEMBERS:,} members, {DUE_EACH:,} birthdays today, {DUE_EACH:,} "
        f"anniversaries in 15 days, {DUE_EACH:,} care reminders due (setting up)")
    prepared = _shell(env, PREPARE.format(members=MEMBERS, due=DUE_EACH))
    log(f"  {prepared['members']:,} members ready ({prepared['seconds']} s)")
    figures = _shell(env, TICK.format())
    log(f"  tick: {figures['seconds']} s ({figures['cpu_seconds']} s of CPU in the process), "
        f"{figures['claimed']:,} enrolments run, "
        f"{figures['sent']:,} sent, skipped {figures['skipped']}, {figures['batches']} "
        f"batches; {figures['queries']:,} queries ({figures['sweep_queries']} in the sweeps), "
        f"per full batch of 500: {figures['queries_per_full_batch']}")
    # Fixed: a batch's queries depend on how many groups it reaches (a tier's gift, a
    # journey's step), never on how many members are in it.
    figures["ok"] = (figures["seconds"] <= LIMIT_SECONDS and figures["left_due"] == 0
                     and max(figures["queries_per_full_batch"] or [0]) <= MAX_BATCH_QUERIES)
    return figures


def run_journeys_flow(env: dict[str, str], flows: list[str], *, log,
                      row) -> tuple[list[dict], list[str]]:
    if "journeys-tick" not in flows:
        return [], []
    figures = journeys_tick_bench(env, log)
    # One "request" per batch of 500: its time is the batch's (claim, reach, write).
    batches_ms = [ms for _c, _q, _s, ms in figures["per_batch"] if _c]
    entry = row("journeys-tick (100k, batches)", batches_ms, figures["seconds"],
                {"ok": figures["sent"]}, [], 1,
                path="(the daily journey tick; see devtools/benchmark_journeys.py)")
    entry["journeys"] = figures
    failed = [] if figures["ok"] else ["journeys-tick"]
    if failed:
        log(f"  FAILED: journeys-tick over {LIMIT_SECONDS} s, enrolments left due, or "
            "queries per batch not fixed")
    return [entry], failed


def main() -> int:
    from devtools.benchmark import BenchError, manage, server_env

    try:
        env = server_env()
    except BenchError as exc:
        print(exc)
        return 2
    manage(env, "migrate", "--noinput", "-v", "0")
    figures = journeys_tick_bench(env, log=print)
    print(json.dumps({k: v for k, v in figures.items() if k != "per_batch"}, indent=1))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
